"""Asynchronous training on TensorFlow's runtime survives a killed task: one parameter server
and two workers on localhost; the parameter server or the chief is killed with SIGKILL mid-run
and restarted alone, and the run still finishes."""

import os
import re
import signal
import sys
import time

import pytest
import tensorflow.compat.v1 as tf
from support import (ROOT, checkpoint_step, free_ports, start_logged, wait_for_checkpoint_after,
                     wait_for_exit)

MAX_STEPS = 300
# The kill comes after the first checkpoint past this step, a sixth of the way.
KILL_AFTER_STEP = 50
_STEP_LINE = re.compile(r'step (\d+)/%d: loss = ' % MAX_STEPS)


def _task_commands(digits_dir, train_dir):
    """{'ps', 'chief', 'worker': the command line of that task}."""
    ps_port, *worker_ports = free_ports(3)
    command = [sys.executable, os.path.join(ROOT, 'train_image_classifier.py'),
               '--dataset_name=digits', '--dataset_dir=' + digits_dir, '--model_name=lenet',
               '--train_dir=' + train_dir, '--optimizer=sgd', '--learning_rate=0.01',
               '--learning_rate_decay_type=fixed', '--batch_size=20',
               '--max_number_of_steps=%d' % MAX_STEPS, '--log_every_n_steps=1',
               '--save_interval_secs=1', '--ps_hosts=127.0.0.1:%d' % ps_port,
               '--worker_hosts=' + ','.join('127.0.0.1:%d' % port for port in worker_ports)]
    return {'ps': command + ['--job_name=ps', '--task=0'],
            'chief': command + ['--job_name=worker', '--task=0'],
            'worker': command + ['--job_name=worker', '--task=1']}


def _logged_steps(text):
    return [int(step) for step in _STEP_LINE.findall(text)]


@pytest.mark.slow
@pytest.mark.parametrize('victim', ['ps', 'chief'])
def test_a_killed_and_restarted_task_lets_asynchronous_training_finish(victim, digits_dir,
                                                                       tmp_path):
    train_dir = str(tmp_path / 'train')
    commands = _task_commands(digits_dir, train_dir)
    logs = {name: tmp_path / (name + '.log') for name in commands}
    processes = {name: start_logged(command, logs[name]) for name, command in commands.items()}
    try:
        killed_at = wait_for_checkpoint_after(train_dir, KILL_AFTER_STEP)
        assert killed_at < MAX_STEPS, 'the run ended before the kill: raise MAX_STEPS'
        processes[victim].send_signal(signal.SIGKILL)
        assert processes[victim].wait() == -signal.SIGKILL
        log_sizes_at_kill = {name: len(logs[name].read_text()) for name in commands}
        # A save that ended just before the kill may still be recording its checkpoint's name.
        # After that none can be written until the killed task is back (the chief is gone, or
        # the variables are), so this is the checkpoint training resumes from.
        time.sleep(1)
        last_checkpoint = checkpoint_step(train_dir)
        logs[victim] = tmp_path / (victim + '_restarted.log')
        log_sizes_at_kill[victim] = 0
        processes[victim] = start_logged(commands[victim], logs[victim])
    except BaseException:
        for process in processes.values():
            process.kill()
        raise
    exit_codes = wait_for_exit(processes, logs, timeout=600)
    outputs = {name: log.read_text() for name, log in logs.items()}
    assert exit_codes == {'ps': 0, 'chief': 0, 'worker': 0}, outputs
    # The chief (restarted, or reconnected to the restarted ps) restored the last checkpoint.
    assert 'Restoring parameters from %s' % os.path.join(train_dir, 'model.ckpt-%d'
                                                         % last_checkpoint) in outputs['chief']
    steps_after_kill = [step for name in commands
                        for step in _logged_steps(outputs[name][log_sizes_at_kill[name]:])]
    assert steps_after_kill and min(steps_after_kill) > last_checkpoint
    # Asynchronous workers do not wait for each other, and each decides whether to stop from
    # the global step it read before its own step (tf.train.StopAtStepHook): racing for the
    # last step, each of the two workers may apply one more, so the run can end up to two
    # steps past MAX_STEPS.
    assert MAX_STEPS <= tf.train.load_variable(train_dir, 'global_step') <= MAX_STEPS + 2
