"""Model deployment: clones match one big batch, device placement on a cluster, validation."""

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
import tf_slim as slim

from deployment import model_deploy
from nets import nets_factory
from training import losses

NUM_CLASSES = 10
WEIGHT_DECAY = 0.01
CLONE_BATCH = 4
_rng = np.random.RandomState(0)
IMAGES = _rng.uniform(-1, 1, size=(2 * CLONE_BATCH, 28, 28, 1)).astype(np.float32)
LABELS = _rng.randint(NUM_CLASSES, size=2 * CLONE_BATCH).astype(np.int64)


def _lenet_step(num_clones, initial_values=None):
    """Builds lenet on IMAGES split over `num_clones` clones and runs the loss and gradients.

    Clone i gets rows [i*n:(i+1)*n] of the 2*CLONE_BATCH images, n = 2*CLONE_BATCH/num_clones.
    Args:
      initial_values: {variable name: value} loaded over the initial weights, if given.
    Returns:
      (values, graph facts): values holds the total loss, {name: gradient}, {name: weight}
      and the logits of all rows in order; the facts are clone scopes, op names, losses.
    """
    with tf.Graph().as_default():
        tf.set_random_seed(0)
        config = model_deploy.DeploymentConfig(num_clones=num_clones, clone_on_cpu=True)
        network_fn = nets_factory.get_network_fn('lenet', NUM_CLASSES,
                                                 weight_decay=WEIGHT_DECAY, is_training=False)
        with tf.device(config.inputs_device()):
            clone_batches = iter(zip(tf.split(tf.constant(IMAGES), num_clones),
                                     tf.split(tf.constant(LABELS), num_clones), strict=True))

        def clone_fn():
            images, labels = next(clone_batches)
            logits, end_points = network_fn(images)
            losses.add_classification_losses(logits, end_points, labels, NUM_CLASSES)
            return logits

        clones = model_deploy.create_clones(config, clone_fn)
        total_loss, grads_and_vars = model_deploy.optimize_clones(
            clones, tf.train.GradientDescentOptimizer(0.1))
        facts = {
            'scopes': [clone.scope for clone in clones],
            'logits_ops': [clone.outputs.op.name for clone in clones],
            'variables': sorted(v.op.name for v in tf.global_variables()),
            'losses_per_clone': [len(tf.get_collection(tf.GraphKeys.LOSSES, clone.scope))
                                 for clone in clones],
            'regularization_losses': len(tf.get_collection(
                tf.GraphKeys.REGULARIZATION_LOSSES)),
        }
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            for variable in tf.global_variables():
                if initial_values:
                    variable.load(initial_values[variable.op.name], session)
            values = session.run({
                'total_loss': total_loss,
                'gradients': {v.op.name: g for g, v in grads_and_vars},
                'weights': {v.op.name: v for v in tf.global_variables()},
                'logits': tf.concat([clone.outputs for clone in clones], 0),
            })
    return values, facts


def _softmax_cross_entropy(logits, labels):
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_probabilities[np.arange(len(labels)), labels]


def test_two_clones_of_batch_b_match_one_clone_of_batch_2b():
    one, one_facts = _lenet_step(1)
    two, two_facts = _lenet_step(2, initial_values=one['weights'])

    for name, weight in one['weights'].items():
        np.testing.assert_array_equal(two['weights'][name], weight)
    np.testing.assert_allclose(two['logits'], one['logits'], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(two['total_loss'], one['total_loss'], rtol=1e-5, atol=1e-6)
    assert sorted(two['gradients']) == sorted(one['gradients']) == one_facts['variables']
    for name, gradient in one['gradients'].items():
        # Float32 sums in a different order: small entries err relative to the largest.
        scale = np.abs(gradient).max()
        assert scale > 0, name
        np.testing.assert_allclose(two['gradients'][name], gradient, rtol=1e-5,
                                   atol=1e-5 * scale, err_msg=name)

    # The total is the mean cross-entropy over all 2B rows plus the L2 penalty counted once
    # (it dominates the loss, so counting it per clone would be far off).
    cross_entropy = _softmax_cross_entropy(two['logits'].astype(np.float64), LABELS).mean()
    penalty = sum(WEIGHT_DECAY * np.square(weight.astype(np.float64)).sum() / 2
                  for name, weight in two['weights'].items() if name.endswith('/weights'))
    assert penalty > cross_entropy
    np.testing.assert_allclose(two['total_loss'], cross_entropy + penalty, rtol=1e-5)

    # Two clone-scoped copies of the ops, one set of variables and of penalties.
    assert one_facts['scopes'] == ['']
    assert two_facts['scopes'] == ['clone_0/', 'clone_1/']
    assert [name.split('/')[0] for name in two_facts['logits_ops']] == ['clone_0', 'clone_1']
    assert two_facts['variables'] == one_facts['variables']
    assert not [name for name in two_facts['variables'] if name.startswith('clone_')]
    assert two_facts['losses_per_clone'] == [1, 1]
    assert two_facts['regularization_losses'] == one_facts['regularization_losses'] == 4


def _small_model(inputs):
    """Two fully connected layers and a squared-error loss: four variables."""
    hidden = slim.fully_connected(inputs, 4, scope='fc1')
    outputs = slim.fully_connected(hidden, 2, activation_fn=None, scope='fc2')
    tf.losses.mean_squared_error(tf.zeros_like(outputs), outputs)
    return outputs


@pytest.mark.parametrize('clone_on_cpu, clone_device_type', [(False, 'GPU'), (True, 'CPU')])
def test_cluster_placement_of_variables_clones_inputs_and_optimizer(clone_on_cpu,
                                                                    clone_device_type):
    config = model_deploy.DeploymentConfig(num_clones=2, clone_on_cpu=clone_on_cpu,
                                           replica_id=1, num_replicas=3, num_ps_tasks=2)
    worker_cpu = '/job:worker/task:1/device:CPU:0'
    assert not config.is_chief
    assert config.caller_device() == '/job:worker/task:1'
    assert config.inputs_device() == config.optimizer_device() == worker_cpu
    clone_devices = ['/job:worker/task:1/device:CPU:0'] * 2 if clone_on_cpu else [
        '/job:worker/task:1/device:GPU:0', '/job:worker/task:1/device:GPU:1']
    assert [config.clone_device(i) for i in range(2)] == clone_devices

    with tf.Graph().as_default() as graph:
        with tf.device(config.variables_device()):
            global_step = tf.train.get_or_create_global_step()
        with tf.device(config.inputs_device()):
            inputs = tf.constant(np.ones((2, 3), np.float32))
        clones = model_deploy.create_clones(config, _small_model, [inputs])
        with tf.device(config.optimizer_device()):
            optimizer = tf.train.GradientDescentOptimizer(0.1)
        total_loss, grads_and_vars = model_deploy.optimize_clones(clones, optimizer)
        ps = '/job:ps/task:%d/device:CPU:0'
        with tf.device(worker_cpu), tf.device(config.variables_device()):
            with tf.device(ps % 1):
                tf.Variable(0.0, name='pinned')
            tf.Variable(0.0, name='unplaced')
            worker_constant = tf.constant(0.0, name='worker_constant')

        # Variables alternate over the two parameter-server tasks in creation order; each
        # call of variables_device() starts again from task 0; a variable given a device
        # keeps it and takes no turn.
        placements = {v.op.name: v.op.device for v in tf.global_variables()}
        assert placements == {
            'global_step': ps % 0,
            'fc1/weights': ps % 0, 'fc1/biases': ps % 1,
            'fc2/weights': ps % 0, 'fc2/biases': ps % 1,
            'pinned': ps % 1, 'unplaced': ps % 0,
        }
        # Other ops under the chooser keep the device they have.
        assert worker_constant.op.device == worker_cpu
        assert inputs.op.device == worker_cpu
        assert [clone.device for clone in clones] == clone_devices
        assert [clone.outputs.op.device for clone in clones] == clone_devices
        # Every op of a clone, its loss and gradients included, runs on the clone's device.
        for index, clone in enumerate(clones):
            clone_ops = [op for op in graph.get_operations() if op.name.startswith(clone.scope)]
            assert any('gradients' in op.name for op in clone_ops)
            assert {op.device for op in clone_ops} == {clone_devices[index]}
        assert sorted(v.op.name for _, v in grads_and_vars) == [
            'fc1/biases', 'fc1/weights', 'fc2/biases', 'fc2/weights']
        assert total_loss.shape == ()
        assert not [op for op in graph.get_operations()
                    if op.type in model_deploy.VARIABLE_OP_TYPES
                    and not op.device.startswith('/job:ps/')]
        assert global_step.op.device == ps % 0


def test_single_machine_placement():
    config = model_deploy.DeploymentConfig(num_clones=2)
    assert config.is_chief
    assert [config.clone_device(i) for i in range(2)] == ['/device:GPU:0', '/device:GPU:1']
    assert [config.clone_scope(i) for i in range(2)] == ['clone_0', 'clone_1']
    assert config.variables_device() == '/device:CPU:0'
    assert config.inputs_device() == config.optimizer_device() == '/device:CPU:0'
    assert config.caller_device() == ''
    one_clone = model_deploy.DeploymentConfig(clone_on_cpu=True)
    assert one_clone.clone_device(0) == '/device:CPU:0'
    assert one_clone.clone_scope(0) == ''


@pytest.mark.parametrize('settings, message', [
    (dict(num_clones=0), r'--num_clones must be at least 1, got 0'),
    (dict(num_replicas=0), r'--worker_replicas must be at least 1, got 0'),
    (dict(replica_id=2, num_replicas=2, num_ps_tasks=1),
     r'--task=2 is not a worker of --worker_replicas=2: set --task .* from 0 to 1'),
    (dict(replica_id=-1), r'--task=-1 is not a worker of --worker_replicas=1'),
    (dict(num_ps_tasks=-1), r'--num_ps_tasks must be 0 or more, got -1'),
    (dict(replica_id=1, num_replicas=2),
     r'--worker_replicas=2 needs --num_ps_tasks of at least 1'),
    (dict(num_ps_tasks=1, worker_job_name=''),
     r'worker_job_name must name a job of the cluster when --num_ps_tasks=1'),
    (dict(num_ps_tasks=1, ps_job_name=''),
     r'ps_job_name must name a job of the cluster when --num_ps_tasks=1'),
])
def test_invalid_settings_fail_naming_the_flag(settings, message):
    with pytest.raises(ValueError, match=message):
        model_deploy.DeploymentConfig(**settings)


def test_a_single_worker_may_use_parameter_servers_and_empty_job_names_need_none():
    config = model_deploy.DeploymentConfig(num_ps_tasks=1, worker_job_name='trainer')
    assert config.is_chief
    assert config.clone_device(0) == '/job:trainer/task:0/device:GPU:0'
    assert model_deploy.DeploymentConfig(worker_job_name='', ps_job_name='').inputs_device() == (
        '/device:CPU:0')
