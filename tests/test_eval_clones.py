"""Evaluation with --num_clones: each batch is split across devices, every example is counted
once, the results are those of one device, and the variables keep their one-device names."""

import json

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from support import digits_eval_options as eval_options, train_digits_lenet

from common import devices
from common.errors import ConfigurationError
from common.session import session_config
from evaluation import evaluator, results

VALIDATION_EXAMPLES = 364
TRAINED_STEPS = 20


@pytest.fixture(scope='module')
def trained_dir(digits_dir, tmp_path_factory):
    """A lenet trained briefly with moving averages, so both restore paths can be checked."""
    return train_digits_lenet(digits_dir, tmp_path_factory, 'lenet',
                              max_number_of_steps=TRAINED_STEPS, moving_average_decay=0.9)


def _confusion(eval_dir):
    with open(results.confusion_matrix_path(str(eval_dir), TRAINED_STEPS, 'json')) as f:
        return json.load(f)['matrix']


# 181: full batches split 61/60/60, and a last batch of 2, fewer than the clones.
# 50: full batches split 17/17/16, and a last batch of 14, split 5/5/4.
@pytest.mark.parametrize('batch_size, settings', [
    (181, {}), (50, {'eval_flip': True, 'moving_average_decay': 0.9})])
def test_three_clones_count_each_example_once_with_one_device_results(
        digits_dir, trained_dir, tmp_path, batch_size, settings):
    outcomes = {}
    for num_clones in (1, 3):
        eval_dir = tmp_path / ('clones_%d' % num_clones)
        outcomes[num_clones] = evaluator.evaluate(eval_options(
            digits_dir, trained_dir, eval_dir, batch_size=batch_size, num_clones=num_clones,
            **settings))
        outcomes[num_clones]['confusion'] = _confusion(eval_dir)
    one, three = outcomes[1], outcomes[3]
    assert one['num_examples'] == three['num_examples'] == VALIDATION_EXAMPLES
    assert np.sum(three['confusion']) == VALIDATION_EXAMPLES
    assert three['confusion'] == one['confusion']
    for name in ('eval/Accuracy', 'eval/Recall_5', 'per_class_accuracy'):
        assert three[name] == one[name], name
    assert three['eval/mean_loss'] == pytest.approx(one['eval/mean_loss'], rel=1e-5)
    assert one['eval/Accuracy'] > 0.3  # a trained model, so equal results mean something


def _network_op_devices(graph):
    """{clone name scope, or '' outside clones: the devices of its convolutions}."""
    found = {}
    for op in graph.get_operations():
        if op.type == 'Conv2D':
            scope = op.name.split('/')[0] if op.name.startswith('clone_') else ''
            found.setdefault(scope, set()).add(op.device)
    return found


def test_each_clone_computes_on_its_own_cpu_device_with_one_shared_set_of_variables(
        digits_dir, trained_dir, tmp_path):
    variable_names = {}
    for num_clones in (1, 3):
        with tf.Graph().as_default() as graph:
            eval_graph = evaluator.build_eval_graph(eval_options(
                digits_dir, trained_dir, tmp_path, batch_size=7, num_clones=num_clones,
                moving_average_decay=0.9))
            variable_names[num_clones] = {
                name: variable.shape.as_list()
                for name, variable in eval_graph.variables_to_restore.items()}
            if num_clones == 1:
                assert _network_op_devices(graph) == {'': {''}}
                assert not [op for op in graph.get_operations()
                            if op.name.startswith(('split_batch', 'join_clones'))]
                assert eval_graph.cpu_devices == 1
                continue
            assert _network_op_devices(graph) == {
                'clone_%d' % index: {'/device:CPU:%d' % index} for index in range(3)}
            assert {variable.device for variable in tf.global_variables()
                    if variable.op.name.startswith('LeNet/')} == {'/device:CPU:0'}
            assert eval_graph.cpu_devices == 3
            metadata = tf.RunMetadata()
            with tf.Session(config=session_config(cpu_devices=3)) as session:
                session.run(tf.global_variables_initializer())
                session.run(eval_graph.start_reading)
                batch = session.run(eval_graph.batch, run_metadata=metadata,
                                    options=tf.RunOptions(output_partition_graphs=True))
    assert batch['logits'].shape == (7, 10)
    # The session really ran convolutions (oneDNN's fused ones on this CPU) on each device.
    conv_devices = {node.device.rsplit('/', 1)[-1] for partition in metadata.partition_graphs
                    for node in partition.node if 'Conv2D' in node.op}
    assert len(metadata.partition_graphs) == 3
    assert conv_devices == {'device:CPU:0', 'device:CPU:1', 'device:CPU:2'}
    # Checkpoints restore unchanged: the same names and shapes as on one device.
    assert variable_names[3] == variable_names[1]


def test_clones_take_one_gpu_each_and_refuse_more_clones_than_gpus(
        digits_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(devices, 'gpu_names', lambda: ['/physical_device:GPU:0',
                                                       '/physical_device:GPU:1'])
    deployment = evaluator.clone_deployment(2)
    assert [deployment.clone_device(index) for index in range(2)] == [
        '/device:GPU:0', '/device:GPU:1']
    assert deployment.cpu_devices() == 1
    with pytest.raises(ConfigurationError, match=r'--num_clones=3 .* 2 GPU\(s\).* 2 or less'):
        evaluator.check_options(eval_options(digits_dir, tmp_path, tmp_path, num_clones=3))
