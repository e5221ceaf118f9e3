"""--variable_update=replicated: a copy of the weights per clone, gradients all-reduced.

Several devices come from splitting the CPU into logical devices; several workers are local
processes on 127.0.0.1.
"""

import functools
import json
import os
import signal
import sys
import time

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from common import devices, errors
from common.session import session_config
from datasets import dataset_factory
from deployment import model_deploy, replication
from evaluation import evaluator
from nets import lenet, nets_factory
from support import (ROOT, checkpoint_step, digits_eval_options, digits_train_options, free_ports,
                     start_logged)
from training import cluster, train_graph, trainer
from training.train_options import TrainOptions

BATCH = 4
STEPS = 20
IMAGE_SIZE = 28


def relative_difference(expected, actual):
    return float(np.max(np.abs(expected - actual)) / (np.max(np.abs(expected)) + 1e-12))


@pytest.fixture
def lenet_without_dropout(monkeypatch):
    """LeNet with dropout off: the clones' random masks would differ between two graphs."""
    monkeypatch.setitem(nets_factory.networks_map, 'lenet', functools.wraps(lenet.lenet)(
        functools.partial(lenet.lenet, dropout_keep_prob=1.0)))


def fixed_batches(num_clones):
    """A `TrainInput` whose clone i gets, at step s, the same batch in every graph."""
    rng = np.random.RandomState(0)
    images = rng.uniform(-1, 1, [STEPS, num_clones, BATCH, IMAGE_SIZE, IMAGE_SIZE, 3])
    labels = rng.randint(0, 10, [STEPS, num_clones, BATCH])

    def make_batches(unused_image_size, unused_deploy_config):
        next_clone = iter(range(num_clones))

        def next_batch():
            step = tf.mod(tf.train.get_global_step(), STEPS)
            clone = next(next_clone)
            return {'images': tf.gather(tf.constant(images, tf.float32), step)[clone],
                    'labels': tf.gather(tf.constant(labels, tf.int64), step)[clone],
                    'skipped': tf.constant(0, tf.int64)}
        return next_batch

    split = dataset_factory.get_dataset('mnist', 'train', os.curdir)
    return train_graph.TrainInput(split, 10, make_batches)


def train_in_process(variable_update, initial_weights, num_clones=2, **overrides):
    """Trains LeNet STEPS steps on `fixed_batches` from `initial_weights` ({name: array});
    returns ({global variable: value}, {replica copy: value})."""
    settings = dict(model_name='lenet', dataset_name='mnist', batch_size=BATCH,
                    train_image_size=IMAGE_SIZE, num_clones=num_clones, clone_on_cpu=True,
                    variable_update=variable_update, optimizer='momentum', learning_rate=0.01,
                    weight_decay=0.001)
    settings.update(overrides)
    with tf.Graph().as_default() as graph:
        built = train_graph.build_train_graph(TrainOptions(**settings), fixed_batches(num_clones),
                                              split_cpu=True)
        assign_initial = [v.assign(initial_weights[v.op.name]) for v in tf.trainable_variables()]
        local_init = built.sync_replicas_op or tf.local_variables_initializer()
        copies = tf.get_collection(replication.REPLICA_COPIES)
        config = session_config(cpu_devices=built.deploy_config.cpu_devices())
        with tf.Session(graph=graph, config=config) as session:
            session.run(tf.global_variables_initializer())
            session.run(assign_initial)
            session.run(local_init)
            for _ in range(STEPS):
                session.run(built.train_tensor)
            return ({v.op.name: session.run(v) for v in tf.global_variables()},
                    {v.op.name: session.run(v) for v in copies})


def lenet_initial_weights():
    """{name: float32 array}: small random values for LeNet's weights."""
    rng = np.random.RandomState(1)
    with tf.Graph().as_default():
        lenet.lenet(tf.zeros([1, IMAGE_SIZE, IMAGE_SIZE, 3]), is_training=True)
        return {v.op.name: rng.normal(0, 0.02, v.shape.as_list()).astype(np.float32)
                for v in tf.trainable_variables()}


@pytest.mark.parametrize('optimizer_settings', [
    dict(optimizer='momentum'),
    # Adam's state beyond slots (its beta powers), moving averages and gradient clipping.
    dict(optimizer='adam', learning_rate=0.01, moving_average_decay=0.99,
         clip_gradient_norm=1.0),
    # One loss scale per clone (float16's rewrite itself is for GPUs).
    dict(mixed_precision='float16'),
], ids=['momentum', 'adam_ema_clip', 'float16_loss_scale'])
def test_two_replicated_clones_train_like_two_parameter_server_clones(
        lenet_without_dropout, optimizer_settings):
    initial = lenet_initial_weights()
    shared, _ = train_in_process('parameter_server', initial, **optimizer_settings)
    replicated, copies = train_in_process('replicated', initial, **optimizer_settings)

    # The checkpointed state (weights, optimizer state, global step, averages) is the same.
    assert sorted(replicated) == sorted(shared)
    assert replicated['global_step'] == shared['global_step'] == STEPS
    for name, value in shared.items():
        assert relative_difference(value, replicated[name]) <= 1e-5, name
    weights = list(initial)
    # The weights moved, well beyond the tolerance.
    assert max(relative_difference(initial[name], replicated[name]) for name in weights) > 1e-3
    # Clone 1's copies of the weights and of their optimizer state equal clone 0's, bit for bit.
    assert all(name.startswith('replica_1/') for name in copies)
    of_checkpointed = {name: name.split('/', 1)[1] for name in copies
                       if name.split('/', 1)[1] in replicated}
    assert set(of_checkpointed.values()) >= set(weights)
    assert len(of_checkpointed) >= 2 * len(weights)  # With the optimizer's state.
    for name, original in of_checkpointed.items():
        np.testing.assert_array_equal(copies[name], replicated[original], err_msg=name)


def test_replicas_live_on_their_clone_devices_and_share_batch_norm_statistics():
    options = TrainOptions(model_name='mobilenet_v1', dataset_name='flowers',
                           batch_size=2, train_image_size=32, num_clones=3, clone_on_cpu=True,
                           variable_update='replicated', moving_average_decay=0.9999)
    with tf.Graph().as_default():
        train_input = fixed_batches(3)
        built = train_graph.build_train_graph(
            options, train_graph.TrainInput(train_input.dataset_split, 5,
                                            lambda size, config: _random_batches(size)))
        trainable = {v.op.name for v in tf.trainable_variables()}
        moving = [v for v in tf.global_variables() if 'moving_mean' in v.op.name]
        copies = tf.get_collection(replication.REPLICA_COPIES)
        assert built.deploy_config.cpu_devices() == 3
        assert moving and not any(v.op.name.startswith('replica_') for v in moving)
        assert not any(v.op.name.startswith('replica_') for v in tf.global_variables())
        assert set(tf.local_variables()) >= set(copies)
        for clone in (1, 2):
            clone_weights = {v.op.name.split('/', 1)[1]: v for v in copies
                             if v.op.name.startswith('replica_%d/' % clone)
                             and v.op.name.split('/', 1)[1] in trainable}
            assert set(clone_weights) == trainable
            assert {v.device for v in clone_weights.values()} == {'/device:CPU:%d' % clone}
        # Weight decay is counted once, on clone 0's weights.
        assert not any('replica_' in loss.op.name
                       for loss in tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES))
        reduces = [op for op in tf.get_default_graph().get_operations()
                   if op.type == 'CollectiveReduce']
        assert len(reduces) == 3 * len(trainable)
        assert {op.device for op in reduces} == {'/device:CPU:%d' % i for i in range(3)}


def _random_batches(image_size):
    def next_batch():
        return {'images': tf.random.uniform([2, image_size, image_size, 3]),
                'labels': tf.zeros([2], tf.int64), 'skipped': tf.constant(0, tf.int64)}
    return next_batch


@pytest.fixture(scope='module')
def replicated_run(digits_dir, tmp_path_factory):
    """A replicated two-clone LeNet run on the digits: (train_dir, options)."""
    train_dir = str(tmp_path_factory.mktemp('replicated'))
    options = digits_train_options(digits_dir, train_dir, num_clones=2, clone_on_cpu=True,
                                   variable_update='replicated', batch_size=25,
                                   max_number_of_steps=120, moving_average_decay=0.99)
    assert trainer.train(options) == 120
    return train_dir, options


def test_a_replicated_checkpoint_is_a_single_clone_checkpoint(replicated_run):
    train_dir, options = replicated_run
    with tf.Graph().as_default():
        single = train_graph.build_train_graph(
            digits_train_options(options.dataset_dir, train_dir, moving_average_decay=0.99))
        assert single.sync_replicas_op is None
        expected = {v.op.name: v.shape.as_list() for v in tf.global_variables()}
    saved = dict(tf.train.list_variables(train_dir))
    assert saved == expected


def test_a_resumed_replicated_run_restores_every_replica(replicated_run):
    train_dir, options = replicated_run
    reader = tf.train.load_checkpoint(train_dir)
    with tf.Graph().as_default():
        built = train_graph.build_train_graph(options)
        copies = tf.get_collection(replication.REPLICA_COPIES)
        scaffold = tf.train.Scaffold(local_init_op=built.sync_replicas_op)
        creator = tf.train.ChiefSessionCreator(
            scaffold, checkpoint_dir=train_dir,
            config=session_config(cpu_devices=built.deploy_config.cpu_devices()))
        session = creator.create_session()
        values = session.run({v.op.name: v for v in copies})
        session.close()
    slots = [name for name in values if name.endswith('/Momentum')]
    assert slots and len(values) == 2 * len(slots)
    for name, value in values.items():
        np.testing.assert_array_equal(value, reader.get_tensor(name.split('/', 1)[1]))


def test_a_replicated_checkpoint_evaluates_and_fine_tunes(replicated_run, tmp_path):
    train_dir, options = replicated_run
    eval_options = digits_eval_options(options.dataset_dir, train_dir, tmp_path / 'eval',
                                       num_clones=2)
    assert evaluator.evaluate(eval_options)['eval/Accuracy'] >= 0.8

    fine_tuned = digits_train_options(
        options.dataset_dir, str(tmp_path / 'fine_tuned'), num_clones=2, clone_on_cpu=True,
        variable_update='replicated', checkpoint_path=train_dir,
        checkpoint_exclude_scopes='LeNet/fc4', max_number_of_steps=2)
    assert trainer.train(fine_tuned) == 2
    tuned = tf.train.load_checkpoint(fine_tuned.train_dir)
    original = tf.train.load_checkpoint(train_dir)
    # Two small steps from the restored weights: close to them, unlike a fresh start.
    assert relative_difference(original.get_tensor('LeNet/conv1/weights'),
                               tuned.get_tensor('LeNet/conv1/weights')) < 0.3


@pytest.mark.parametrize('overrides, message', [
    (dict(sync_replicas=True), '--sync_replicas aggregates gradients on the parameter servers'),
    (dict(num_ps_tasks=1), '--variable_update=replicated keeps the variables on the workers'),
    (dict(worker_replicas=2), '--worker_replicas=2 with --variable_update=replicated needs the '
                              'cluster'),
])
def test_replicated_refuses_what_needs_parameter_servers(digits_dir, tmp_path, overrides,
                                                          message):
    options = digits_train_options(digits_dir, str(tmp_path), variable_update='replicated',
                                   **overrides)
    with pytest.raises(errors.ConfigurationError, match=message):
        trainer.train(options)


def test_a_collective_cluster_has_workers_only(monkeypatch):
    workers = cluster.cluster_from_flags('', 'a:1,b:2', '', 1, collective=True)
    assert (workers.ps_hosts, workers.num_workers, workers.task_index) == ((), 2, 1)
    config = cluster.device_filter_config(workers, cpu_devices=2)
    assert list(config.device_filters) == ['/job:worker/task:1']
    assert config.experimental.collective_group_leader == '/job:worker/replica:0/task:0'
    assert config.device_count['CPU'] == 2
    with pytest.raises(errors.ConfigurationError, match='trains without parameter servers'):
        cluster.cluster_from_flags('p:1', 'a:1', 'worker', 0, collective=True)
    monkeypatch.setenv('TF_CONFIG', json.dumps({'cluster': {'ps': ['p:1'], 'worker': ['a:1']},
                                                'task': {'type': 'worker', 'index': 0}}))
    with pytest.raises(errors.ConfigurationError, match='has "ps" hosts, but'):
        cluster.cluster_from_flags('', '', '', 0, collective=True)
    monkeypatch.setenv('TF_CONFIG', json.dumps({'cluster': {'chief': ['a:1'], 'worker': ['b:1']},
                                                'task': {'type': 'worker', 'index': 0}}))
    from_tf_config = cluster.cluster_from_flags('', '', '', 0, collective=True)
    assert (from_tf_config.worker_hosts, from_tf_config.task_index) == (('a:1', 'b:1'), 1)


# Trains like trainer.train with LeNet's dropout off, so that two runs can match exactly.
WORKER_SCRIPT = '''
import functools, json, sys
sys.path.insert(0, %r)
import tf_compat
from nets import lenet, nets_factory
nets_factory.networks_map['lenet'] = functools.wraps(lenet.lenet)(
    functools.partial(lenet.lenet, dropout_keep_prob=1.0))
from common import cli
from training import trainer
from training.train_options import TrainOptions


def main(argv):
    trainer.train(TrainOptions(**json.loads(argv[1])))


cli.run(main)
''' % ROOT


def start_training(tmp_path, name, **settings):
    """Starts WORKER_SCRIPT with TrainOptions(**settings); its log is tmp_path/<name>.log."""
    script = tmp_path / 'train_without_dropout.py'
    script.write_text(WORKER_SCRIPT)
    return start_logged([sys.executable, str(script), json.dumps(settings)],
                        str(tmp_path / ('%s.log' % name)))


def save_initial_lenet(path):
    """Saves the initial weights (graph seed 1) of LeNet on the grayscale digits as a
    checkpoint; returns its prefix."""
    with tf.Graph().as_default():
        tf.set_random_seed(1)
        lenet.lenet(tf.zeros([1, IMAGE_SIZE, IMAGE_SIZE, 1]), is_training=True)
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            return tf.train.Saver().save(session, path)


@pytest.fixture
def processes():
    """A list to put started processes in; those still running at the end are killed."""
    started = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def finished(process, log_path, timeout=300):
    process.wait(timeout=timeout)
    with open(log_path) as log:
        text = log.read()
    assert process.returncode == 0, text[-3000:]
    return text


def test_two_collective_workers_train_like_one_worker_with_twice_the_batch(digits_dir, tmp_path,
                                                                          processes):
    initial = save_initial_lenet(str(tmp_path / 'initial' / 'lenet'))
    common = dict(dataset_name='digits', dataset_dir=digits_dir, model_name='lenet',
                  optimizer='momentum', learning_rate=0.01, learning_rate_decay_type='fixed',
                  weight_decay=0.0, max_number_of_steps=10, log_every_n_steps=5,
                  checkpoint_path=initial, seed=1, deterministic_input=True,
                  shuffle_buffer_size=1, variable_update='replicated')
    hosts = ','.join('127.0.0.1:%d' % port for port in free_ports(2))
    one = start_training(tmp_path, 'one', train_dir=str(tmp_path / 'one'), batch_size=8,
                         **common)
    workers = [start_training(tmp_path, 'worker%d' % task, train_dir=str(tmp_path / 'two'),
                              batch_size=4, worker_hosts=hosts, task=task, **common)
               for task in (0, 1)]
    processes.extend([one, *workers])
    finished(one, tmp_path / 'one.log')
    chief_log = finished(workers[0], tmp_path / 'worker0.log')
    worker_log = finished(workers[1], tmp_path / 'worker1.log')

    reference = tf.train.load_checkpoint(str(tmp_path / 'one'))
    collective = tf.train.load_checkpoint(str(tmp_path / 'two'))
    names = reference.get_variable_to_shape_map()
    assert collective.get_variable_to_shape_map() == names
    assert collective.get_tensor('global_step') == 10
    for name in names:
        assert relative_difference(reference.get_tensor(name), collective.get_tensor(name)) \
            <= 1e-5, name
    start = tf.train.load_checkpoint(initial)
    assert relative_difference(start.get_tensor('LeNet/fc4/weights'),
                               collective.get_tensor('LeNet/fc4/weights')) > 1e-3
    # Only the chief saves checkpoints and summaries.
    assert 'Saving checkpoint' in chief_log and 'Saving checkpoint' not in worker_log
    assert len([name for name in os.listdir(tmp_path / 'two')
                if name.startswith('events.out.tfevents')]) == 1


@pytest.mark.slow
def test_a_lost_worker_stops_the_step_and_a_restart_resumes(digits_dir, tmp_path, processes):
    hosts = ','.join('127.0.0.1:%d' % port for port in free_ports(2))
    settings = dict(dataset_name='digits', dataset_dir=digits_dir, model_name='lenet',
                    train_dir=str(tmp_path / 'run'), batch_size=8, worker_hosts=hosts,
                    variable_update='replicated', save_interval_secs=1, log_every_n_steps=50)
    workers = [start_training(tmp_path, 'first%d' % task, task=task, **settings)
               for task in (0, 1)]
    processes.extend(workers)
    deadline = time.time() + 120
    while checkpoint_step(settings['train_dir']) < 20 and time.time() < deadline:
        time.sleep(0.5)
    workers[1].send_signal(signal.SIGKILL)
    workers[0].wait(timeout=120)
    log = (tmp_path / 'first0.log').read_text()
    assert workers[0].returncode == 1
    error_lines = [line for line in log.splitlines() if line.startswith('error: ')]
    assert len(error_lines) == 1
    assert 'a worker of the all-reduce stopped or cannot be reached' in error_lines[0]
    assert 'Restart every worker with the same flags' in error_lines[0]
    last = checkpoint_step(settings['train_dir'])
    assert last >= 20

    restarted = [start_training(tmp_path, 'again%d' % task, task=task,
                                max_number_of_steps=last + 10, **settings)
                 for task in (0, 1)]
    processes.extend(restarted)
    chief_log = finished(restarted[0], tmp_path / 'again0.log')
    finished(restarted[1], tmp_path / 'again1.log')
    assert 'Resuming from checkpoint' in chief_log
    assert checkpoint_step(settings['train_dir']) == last + 10


@pytest.mark.gpu
@pytest.mark.skipif(len(devices.gpu_names()) < 2, reason='needs 2 GPUs')
def test_two_replicated_gpu_clones_train_like_two_parameter_server_gpu_clones(
        lenet_without_dropout):
    initial = lenet_initial_weights()
    shared, _ = train_in_process('parameter_server', initial, clone_on_cpu=False)
    replicated, _ = train_in_process('replicated', initial, clone_on_cpu=False)
    for name, value in shared.items():
        assert relative_difference(value, replicated[name]) <= 1e-5, name


@pytest.mark.gpu
@pytest.mark.skipif(len(devices.gpu_names()) < 2, reason='needs 2 GPUs')
def test_gradient_sums_over_gpus_use_nccl():
    config = model_deploy.DeploymentConfig(num_clones=2, variable_update='replicated')
    with tf.Graph().as_default():
        tensors = []
        for clone in range(2):
            with tf.device(config.clone_device(clone)):
                tensors.append([tf.fill([3], float(clone + 1))])
        sums = replication.all_reduce_sums(tensors, [config.clone_device(i) for i in range(2)],
                                           config, replication.CollectiveKeys())
        assert {op.type for op in tf.get_default_graph().get_operations()} >= {'NcclAllReduce'}
        with tf.Session() as session:
            for clone_sums in session.run(sums):
                np.testing.assert_array_equal(clone_sums[0], [3.0, 3.0, 3.0])

