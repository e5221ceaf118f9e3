"""--mixed_precision: session rewrites, float32 checkpoints, accuracy, float16 loss scaling."""

import logging

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from absl import flags
from absl import logging as absl_logging
from support import digits_train_options, train_digits_lenet
from tensorflow.core.protobuf import rewriter_config_pb2

import flag_options
import mixed_precision
from benchmarks import network_timing
from common import devices
from common import session as sessions
from evaluation import evaluator
from evaluation.eval_options import EvalOptions
from inference import classifier
from inference.classify_options import ClassifyOptions
from nets import nets_factory
from training import loss_scaling, train_graph, trainer
from training.train_options import TrainOptions

ON = rewriter_config_pb2.RewriterConfig.ON


def test_float32_leaves_the_session_config_as_it_was():
    assert sessions.session_config().SerializeToString() == tf.ConfigProto(
        allow_soft_placement=True).SerializeToString()
    assert sessions.session_config('float32') == sessions.session_config()


def test_bfloat16_and_float16_turn_on_their_graph_rewrite():
    bfloat16 = sessions.session_config('bfloat16').graph_options.rewrite_options
    assert bfloat16.auto_mixed_precision_onednn_bfloat16 == ON
    assert bfloat16.auto_mixed_precision != ON
    float16 = sessions.session_config('float16').graph_options.rewrite_options
    assert float16.auto_mixed_precision == ON
    assert float16.auto_mixed_precision_onednn_bfloat16 != ON
    # A cluster's config keeps its own settings.
    config = tf.ConfigProto(device_filters=['/job:ps'])
    assert sessions.configure_session(config, 'bfloat16').device_filters == ['/job:ps']


def test_an_unknown_precision_lists_the_valid_ones(tmp_path):
    valid = 'valid values: float32, bfloat16, float16'
    with pytest.raises(ValueError, match="'float64' is not a precision; " + valid):
        sessions.check_precision('float64')
    # Options built in code: the choices are checked with the ranges.
    choices = '--mixed_precision=half is not a valid value: it must be one of ' + valid[14:]
    with pytest.raises(ValueError, match=choices):
        trainer.check_options(TrainOptions(train_dir=str(tmp_path), mixed_precision='half'))
    with pytest.raises(ValueError, match=choices):
        evaluator.check_options(EvalOptions(mixed_precision='half'))
    with pytest.raises(ValueError, match=choices):
        classifier.check_options(ClassifyOptions(saved_model_dir='x', mixed_precision='half'))
    # On the command line absl rejects the value while parsing the flags.
    flag_values = flags.FlagValues()
    flag_options.define_flags(mixed_precision.PrecisionOptions, flag_values)
    with pytest.raises(flags.IllegalFlagValueError, match='<float32|bfloat16|float16>'):
        flag_values(['train', '--mixed_precision=half'])
    flag_values(['train', '--mixed_precision=bfloat16'])
    assert flag_options.options_from_flags(
        mixed_precision.PrecisionOptions, flag_values).mixed_precision == 'bfloat16'


def test_float16_settings_that_cannot_work_fail_before_the_graph(tmp_path):
    with pytest.raises(ValueError, match='float16 cannot be combined with --sync_replicas'):
        trainer.check_options(TrainOptions(train_dir=str(tmp_path), mixed_precision='float16',
                                           sync_replicas=True, worker_replicas=2))
    with pytest.raises(ValueError,
                       match=r'--initial_loss_scale=0.5 is out of range: it must be at least 1'):
        trainer.check_options(TrainOptions(train_dir=str(tmp_path), mixed_precision='float16',
                                           initial_loss_scale=0.5))


def test_start_up_note_tells_what_the_precision_does_on_this_machine(tmp_path):
    note = sessions.hardware_note
    assert note('float32') is None
    level, message = note('bfloat16', gpu=False, flags={'avx512f', 'avx2'})
    assert level == absl_logging.WARNING
    assert message.startswith('This CPU has no native bfloat16 instructions (avx512_bf16 or '
                              'amx_bf16): oneDNN emulates them')
    level, message = note('bfloat16', gpu=False, flags={'avx512f', 'avx512_bf16'})
    assert level == absl_logging.INFO and 'natively on this CPU (avx512_bf16)' in message
    level, message = note('bfloat16', gpu=True)
    assert level == absl_logging.WARNING and 'On GPUs use --mixed_precision=float16' in message
    level, message = note('float16', gpu=False)
    assert level == absl_logging.WARNING and message.startswith(
        '--mixed_precision=float16 needs a GPU')
    assert note('float16', gpu=True)[0] == absl_logging.INFO
    cpuinfo = tmp_path / 'cpuinfo'
    cpuinfo.write_text('processor\t: 0\nflags\t\t: fpu avx512f amx_bf16\n\n')
    assert sessions.cpu_flags(str(cpuinfo)) == {'fpu', 'avx512f', 'amx_bf16'}
    assert sessions.cpu_flags(str(tmp_path / 'missing')) is None


def _bfloat16_train_config(model_name, train_dir, monkeypatch):
    """The tf.ConfigProto that training `model_name` with --mixed_precision=bfloat16 would
    run its session with (the training loop itself is left out)."""
    configs = []
    monkeypatch.setattr(trainer, '_train_worker', lambda options, config: configs.append(config))
    trainer.train(TrainOptions(train_dir=str(train_dir), model_name=model_name,
                               mixed_precision='bfloat16'))
    return configs[0]


def test_a_network_slower_in_bfloat16_trains_in_float32_and_the_start_up_line_says_why(
        tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.INFO)
    config = _bfloat16_train_config('mobilenet_v2', tmp_path / 'slower', monkeypatch)
    assert config.graph_options.rewrite_options.auto_mixed_precision_onednn_bfloat16 != ON
    slower = nets_factory.network_spec('mobilenet_v2').slower_in_bfloat16
    assert slower.train_step < 1
    assert ('mobilenet_v2 trains in float32: with bfloat16 it ran at %.2f× float32\'s speed '
            'in a train step on a CPU with native bfloat16 (%s); --mixed_precision=bfloat16 is '
            'ignored for it.' % (slower.train_step, slower.measured)) in caplog.text
    # float16 is for GPUs: a measurement on the CPU leaves it alone.
    assert sessions.effective_precision('float16', slower) == 'float16'
    # A network faster in bfloat16 in both modes (the README's table) keeps it.
    caplog.clear()
    config = _bfloat16_train_config('mobilenet_edgetpu', tmp_path / 'faster', monkeypatch)
    assert config.graph_options.rewrite_options.auto_mixed_precision_onednn_bfloat16 == ON
    assert nets_factory.network_spec('mobilenet_edgetpu').slower_in_bfloat16 is None
    assert 'in float32' not in caplog.text
    # LeNet's train step is faster in bfloat16 (its forward pass alone is not).
    config = _bfloat16_train_config('lenet', tmp_path / 'lenet', monkeypatch)
    assert config.graph_options.rewrite_options.auto_mixed_precision_onednn_bfloat16 == ON


def test_classification_computes_in_float32_where_the_forward_pass_is_slower_in_bfloat16(
        monkeypatch, caplog):
    precisions = []
    monkeypatch.setattr(classifier, 'read_images', lambda image_paths: [])
    monkeypatch.setattr(classifier, 'classify_with_checkpoint',
                        lambda options, encoded_images: precisions.append(options.mixed_precision))
    # Measured forward / train step in bfloat16: 0.69 / 0.74, 0.92 / 1.13, 1.27 / 0.98, faster.
    models = ['mobilenet_v2', 'lenet', 'mobilenet_edgetpu_075', 'mobilenet_edgetpu']
    for model_name in models:
        classifier.classify(ClassifyOptions(checkpoint_path='model.ckpt', model_name=model_name,
                                            mixed_precision='bfloat16'), [])
    assert precisions == ['float32', 'float32', 'bfloat16', 'bfloat16']
    lenet = nets_factory.network_spec('lenet').slower_in_bfloat16
    assert ('lenet computes its forward pass in float32: with bfloat16 it ran at 0.92× float32\'s '
            'speed in the forward pass on a CPU with native bfloat16 (%s)' % lenet.measured
            ) in caplog.text


def _op_dtypes(model_name, precision):
    """{op type: set of dtype names of its T attribute} of one train step as the session ran it
    (after the precision's graph rewrite)."""
    with tf.Graph().as_default():
        options = TrainOptions(model_name=model_name, batch_size=2, mixed_precision=precision,
                               optimizer='momentum')
        train_op = train_graph.build_train_graph(
            options, network_timing.synthetic_input(options, 10)).train_tensor
        with tf.Session(config=sessions.session_config(precision)) as session:
            session.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
            run_metadata = tf.RunMetadata()
            session.run(train_op, options=tf.RunOptions(output_partition_graphs=True),
                        run_metadata=run_metadata)
    dtypes = {}
    for graph_def in run_metadata.partition_graphs:
        for node in graph_def.node:
            if 'T' in node.attr and node.attr['T'].type:  # one type, not a list
                dtypes.setdefault(node.op, set()).add(tf.as_dtype(node.attr['T'].type).name)
    return dtypes


def test_the_total_loss_summary_is_tagged_total_loss():
    with tf.Graph().as_default():
        options = TrainOptions(model_name='lenet', batch_size=2)
        train_graph.build_train_graph(options, network_timing.synthetic_input(options, 10))
        with tf.Session(config=sessions.session_config()) as session:
            session.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
            summary = tf.Summary.FromString(session.run(tf.summary.merge_all()))
    tags = {value.tag for value in summary.value}
    assert 'total_loss' in tags and 'total_loss_1' not in tags


def test_bfloat16_runs_convolutions_in_bfloat16_and_keeps_loss_and_update_in_float32():
    dtypes = _op_dtypes('lenet', 'bfloat16')
    convolutions = {op for op in dtypes if 'Conv2D' in op}
    matmuls = {op for op in dtypes if 'MatMul' in op}
    assert convolutions and matmuls
    assert all('bfloat16' in dtypes[op] for op in convolutions | matmuls)
    assert dtypes['SoftmaxCrossEntropyWithLogits'] == {'float32'}
    assert dtypes['ApplyMomentum'] == {'float32'}
    assert not any('bfloat16' in types for types in _op_dtypes('lenet', 'float32').values())


def _gradient_step(initial_scale, growth_steps=2):
    """A one-variable model w [2] with loss sum(w * x) trained by plain SGD (rate 1) under
    a LossScaleOptimizer. Returns (x placeholder, train op, w, global step, the optimizer)."""
    global_step = tf.train.get_or_create_global_step()
    x = tf.placeholder(tf.float32, [2])
    w = tf.get_variable('w', initializer=[1.0, 2.0])
    optimizer = loss_scaling.LossScaleOptimizer(
        tf.train.GradientDescentOptimizer(1.0), initial_scale, growth_steps=growth_steps)
    grads_and_vars = optimizer.compute_gradients(tf.reduce_sum(w * x))
    train_op = optimizer.apply_gradients(grads_and_vars, global_step)
    return x, train_op, w, global_step, optimizer


def test_loss_scale_skips_overflowing_steps_halves_and_grows_again():
    with tf.Graph().as_default():
        x, train_op, w, global_step, optimizer = _gradient_step(initial_scale=4.0)
        # The scale is no checkpoint variable.
        assert optimizer.loss_scale not in tf.global_variables()
        with tf.Session() as session:
            session.run([tf.global_variables_initializer(), tf.local_variables_initializer()])

            def step(values):
                _, scale, finite = session.run(
                    [train_op, optimizer.new_scale, optimizer.gradients_finite], {x: values})
                return scale, finite, session.run(w).tolist(), session.run(global_step)

            # Gradients are unscaled: w moves by exactly -x.
            assert step([0.5, 0.25]) == (4.0, True, [0.5, 1.75], 1)
            # An overflow skips the update, still counts the step and halves the scale.
            assert step([np.inf, 1.0]) == (2.0, False, [0.5, 1.75], 2)
            assert step([np.nan, 1.0]) == (1.0, False, [0.5, 1.75], 3)
            # Never below 1.
            assert step([np.inf, 1.0]) == (1.0, False, [0.5, 1.75], 4)
            # Two clean steps in a row double it.
            assert step([0.5, 0.5]) == (1.0, True, [0.0, 1.25], 5)
            assert step([0.5, 0.5]) == (2.0, True, [-0.5, 0.75], 6)


@pytest.mark.parametrize('scale, fails', [(2.0, False), (1.0, True)])
def test_overflow_at_the_minimum_loss_scale_is_divergence(scale, fails):
    with tf.Graph().as_default():
        x, _, w, _, optimizer = _gradient_step(initial_scale=scale)
        loss = tf.reduce_sum(w)
        guarded, _ = train_graph._guard_finite(loss, [(x, w)], optimizer)
        with tf.Session() as session:
            session.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
            if fails:
                with pytest.raises(tf.errors.InvalidArgumentError,
                                   match=train_graph.NON_FINITE_MESSAGE):
                    session.run(guarded[0][0], {x: [np.inf, 1.0]})
            else:
                assert session.run(guarded[0][0], {x: [np.inf, 1.0]})[1] == 1.0


@pytest.fixture(scope='module')
def float32_train_dir(digits_dir, tmp_path_factory):
    """LeNet trained 2 steps in float32, with moving averages."""
    return train_digits_lenet(digits_dir, tmp_path_factory, 'float32', max_number_of_steps=2,
                              moving_average_decay=0.999)


def _checkpoint_variables(train_dir):
    """{name: (shape, dtype name)} of the latest checkpoint in train_dir."""
    reader = tf.train.load_checkpoint(train_dir)
    dtypes = reader.get_variable_to_dtype_map()
    return {name: (tuple(shape), dtypes[name].name)
            for name, shape in reader.get_variable_to_shape_map().items()}


def _evaluate(digits_dir, train_dir, precision):
    return evaluator.evaluate(EvalOptions(
        dataset_name='digits', dataset_split_name='validation', dataset_dir=digits_dir,
        model_name='lenet', checkpoint_path=train_dir, eval_dir=train_dir + '/eval_' + precision,
        mixed_precision=precision))


def test_bfloat16_fine_tunes_a_float32_checkpoint_learns_and_evaluates_in_either_precision(
        digits_dir, float32_train_dir, tmp_path, caplog, lenet_forward_in_bfloat16):
    train_dir = str(tmp_path / 'bfloat16')
    caplog.set_level(logging.INFO)
    trainer.train(digits_train_options(digits_dir, train_dir, mixed_precision='bfloat16',
                                       checkpoint_path=float32_train_dir,
                                       moving_average_decay=0.999))
    assert 'Fine-tuning from %s/model.ckpt-2: restoring 8 variables' % float32_train_dir \
        in caplog.text
    # Same names, shapes and float32 dtypes as the float32 run's checkpoint.
    variables = _checkpoint_variables(train_dir)
    assert variables == _checkpoint_variables(float32_train_dir)
    assert {dtype for name, (_, dtype) in variables.items() if name != 'global_step'} == {
        'float32'}
    in_bfloat16 = _evaluate(digits_dir, train_dir, 'bfloat16')
    in_float32 = _evaluate(digits_dir, train_dir, 'float32')
    assert in_bfloat16['global_step'] == 250
    assert in_bfloat16['eval/Accuracy'] >= 0.95
    assert abs(in_float32['eval/Accuracy'] - in_bfloat16['eval/Accuracy']) <= 0.01


def test_float16_skips_overflowing_steps_logs_the_scale_and_keeps_float32_checkpoints(
        digits_dir, float32_train_dir, tmp_path, caplog):
    train_dir = str(tmp_path / 'float16')
    caplog.set_level(logging.INFO)
    # A scale near float32's largest value overflows the first steps' gradients.
    options = digits_train_options(digits_dir, train_dir, mixed_precision='float16',
                                   initial_loss_scale=2.0 ** 127, max_number_of_steps=8,
                                   log_every_n_steps=1, moving_average_decay=0.999)
    assert trainer.train(options) == 8
    assert 'needs a GPU' in caplog.text
    assert devices.description() in caplog.text
    assert 'step 1 skipped: its float16 gradients overflowed; loss scale lowered to 8.50706e+37' \
        in caplog.text
    losses = [float(line.split('loss = ')[1].split(',')[0])
              for line in caplog.text.splitlines() if 'loss = ' in line]
    assert len(losses) == 8 and np.isfinite(losses).all()
    assert _checkpoint_variables(train_dir) == _checkpoint_variables(float32_train_dir)
