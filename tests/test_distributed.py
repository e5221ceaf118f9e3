"""Multi-worker training on TensorFlow's runtime: one parameter server, two workers."""

import json
import os
import sys

import tensorflow.compat.v1 as tf
from support import ROOT, free_ports, start_logged, wait_for_exit


def test_one_ps_and_two_synchronous_workers_train_and_exit_cleanly(digits_dir, tmp_path):
    ps_port, *worker_ports = free_ports(3)
    ps_hosts = '127.0.0.1:%d' % ps_port
    worker_hosts = ','.join('127.0.0.1:%d' % port for port in worker_ports)
    train_dir = str(tmp_path / 'train')
    command = [sys.executable, os.path.join(ROOT, 'train_image_classifier.py'),
               '--dataset_name=digits', '--dataset_dir=' + digits_dir, '--model_name=lenet',
               '--train_dir=' + train_dir, '--optimizer=momentum', '--learning_rate=0.01',
               '--learning_rate_decay_type=fixed', '--batch_size=20', '--sync_replicas',
               '--replicas_to_aggregate=2', '--max_number_of_steps=30', '--log_every_n_steps=10']
    # The parameter server learns its place from TF_CONFIG, the workers from flags.
    ps_environment = dict(os.environ, TF_CONFIG=json.dumps({
        'cluster': {'ps': [ps_hosts], 'worker': worker_hosts.split(',')},
        'task': {'type': 'ps', 'index': 0}}))
    logs = {name: tmp_path / (name + '.log') for name in ('ps', 'chief', 'worker')}
    processes = {
        'ps': start_logged(command, logs['ps'], ps_environment),
        **{name: start_logged(
            command + ['--ps_hosts=' + ps_hosts, '--worker_hosts=' + worker_hosts,
                       '--job_name=worker', '--task=%d' % task], logs[name])
           for task, name in enumerate(['chief', 'worker'])},
    }
    exit_codes = wait_for_exit(processes, logs, timeout=300)
    outputs = {name: log.read_text() for name, log in logs.items()}
    assert exit_codes == {'ps': 0, 'chief': 0, 'worker': 0}, outputs
    assert tf.train.latest_checkpoint(train_dir).endswith('model.ckpt-30')
    assert tf.train.load_variable(train_dir, 'global_step') == 30
    assert 'as worker 1 of 2' in outputs['worker']
    assert 'every worker is done' in outputs['ps']
    # Each task warns once, at start, that its port is open to whoever can reach it.
    for name, job, task, port in [('ps', 'ps', 0, ps_port), ('chief', 'worker', 0, worker_ports[0]),
                                  ('worker', 'worker', 1, worker_ports[1])]:
        assert outputs[name].count(
            '%s task %d exposes port %d on every network interface, unauthenticated and '
            'unencrypted' % (job, task, port)) == 1, outputs[name]
    # Each synchronous step aggregated one batch from each worker.
    assert 'step 30/30: loss = ' in outputs['chief']


def test_a_worker_that_fails_before_training_still_lets_the_parameter_server_exit(tmp_path):
    ps_port, worker_port = free_ports(2)
    command = [sys.executable, os.path.join(ROOT, 'train_image_classifier.py'),
               '--dataset_name=digits', '--dataset_dir=' + str(tmp_path), '--model_name=lenet',
               '--train_dir=' + str(tmp_path / 'train'), '--max_number_of_steps=3',
               '--ps_hosts=127.0.0.1:%d' % ps_port, '--worker_hosts=127.0.0.1:%d' % worker_port]
    logs = {name: tmp_path / (name + '.log') for name in ('ps', 'worker')}
    processes = {'ps': start_logged(command + ['--job_name=ps', '--task=0'], logs['ps']),
                 'worker': start_logged(command + ['--job_name=worker', '--task=0'],
                                        logs['worker'])}
    # The worker finds no TFRecord files while building its graph, after its server started.
    assert wait_for_exit(processes, logs, timeout=120) == {'ps': 0, 'worker': 1}
    assert "error: No TFRecord files for split 'train'" in logs['worker'].read_text()
    assert 'every worker is done' in logs['ps'].read_text()
