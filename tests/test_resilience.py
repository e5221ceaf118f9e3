"""Training survives what goes wrong: a diverging loss, a killed process."""

import logging
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from support import ROOT, wait_for_checkpoint_after

from training import train_graph, trainer
from training.train_options import TrainOptions


def _options(digits_dir, train_dir, **overrides):
    settings = dict(dataset_name='digits', dataset_dir=digits_dir, train_dir=train_dir,
                    model_name='lenet', optimizer='sgd', learning_rate=0.01,
                    learning_rate_decay_type='fixed', batch_size=20, log_every_n_steps=1)
    settings.update(overrides)
    return TrainOptions(**settings)


def test_a_non_finite_loss_stops_training_naming_the_step_and_keeps_the_checkpoint(
        digits_dir, tmp_path):
    train_dir = str(tmp_path / 'train')
    assert trainer.train(_options(digits_dir, train_dir, max_number_of_steps=5)) == 5
    weights = tf.train.load_variable(train_dir, 'LeNet/fc3/weights')
    # An infinite rate makes step 6's update infinite, so step 7's loss is NaN.
    with pytest.raises(trainer.NonFiniteLossError,
                       match=r'stopped at step 7: the loss or a gradient is NaN or infinite.*'
                             r'The last checkpoint, .*model.ckpt-5, is intact'):
        trainer.train(_options(digits_dir, train_dir, max_number_of_steps=20,
                               learning_rate=float('inf')))
    assert tf.train.latest_checkpoint(train_dir).endswith('model.ckpt-5')
    np.testing.assert_array_equal(tf.train.load_variable(train_dir, 'LeNet/fc3/weights'),
                                  weights)


def _depends_on(op, name):
    """Whether `op` runs only after the op called `name` (through inputs or control inputs)."""
    seen, pending = set(), [op]
    while pending:
        current = pending.pop()
        if current.name == name:
            return True
        if current.name not in seen:
            seen.add(current.name)
            pending.extend(tensor.op for tensor in current.inputs)
            pending.extend(current.control_inputs)
    return False


@pytest.mark.parametrize('num_ps_tasks, update_waits', [(0, False), (1, True)])
def test_the_update_waits_for_the_finite_check_only_where_other_processes_read_the_variables(
        digits_dir, tmp_path, num_ps_tasks, update_waits):
    # Waiting holds every gradient until the last one is computed: peak memory that a
    # single process need not pay, since the error ends it before any checkpoint is saved.
    with tf.Graph().as_default():
        train_graph.build_train_graph(_options(digits_dir, str(tmp_path),
                                               num_ps_tasks=num_ps_tasks))
        graph = tf.get_default_graph()
        check = next(op.name for op in graph.get_operations()
                     if op.type == 'Assert' and op.name.startswith('finite_check'))
        updates = [op for op in graph.get_operations() if op.type == 'ApplyGradientDescent']
        assert len(updates) == 8  # LeNet's weights and biases
        assert {_depends_on(update, check) for update in updates} == {update_waits}
        assert _depends_on(graph.get_tensor_by_name('train_op:0').op, check)


def _start_training(digits_dir, train_dir):
    return subprocess.Popen(
        [sys.executable, os.path.join(ROOT, 'train_image_classifier.py'),
         '--dataset_name=digits', '--dataset_dir=' + digits_dir, '--model_name=lenet',
         '--train_dir=' + train_dir, '--optimizer=sgd', '--learning_rate_decay_type=fixed',
         '--batch_size=20', '--save_interval_secs=1', '--max_number_of_steps=1000000'],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)


def test_a_killed_training_process_resumes_from_its_last_checkpoint(digits_dir, tmp_path,
                                                                    caplog):
    train_dir = str(tmp_path / 'train')
    step = 0
    steps_at_kill = []
    rng = np.random.RandomState(0)
    for _ in range(2):
        process = _start_training(digits_dir, train_dir)
        try:
            step = wait_for_checkpoint_after(train_dir, step)
            # Kill at an arbitrary moment, possibly while the next checkpoint is written.
            time.sleep(rng.uniform(0.0, 1.5))
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
        latest = tf.train.latest_checkpoint(train_dir)
        step = int(tf.train.load_variable(latest, 'global_step'))
        assert np.all(np.isfinite(tf.train.load_variable(latest, 'LeNet/fc3/weights')))
        steps_at_kill.append(step)
    # The second process continued from the first one's checkpoint.
    assert 0 < steps_at_kill[0] < steps_at_kill[1]
    caplog.set_level(logging.INFO)
    assert trainer.train(_options(digits_dir, train_dir, max_number_of_steps=step + 5)) == step + 5
    assert 'Resuming from checkpoint %s' % latest in caplog.text
