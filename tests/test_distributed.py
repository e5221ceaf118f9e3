"""Multi-worker training on TensorFlow's runtime: one parameter server, two workers."""

import json
import os
import socket
import subprocess
import sys

import tensorflow.compat.v1 as tf

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(('127.0.0.1', 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def test_one_ps_and_two_synchronous_workers_train_and_exit_cleanly(digits_dir, tmp_path):
    ps_port, *worker_ports = _free_ports(3)
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
    logs = {name: open(tmp_path / (name + '.log'), 'w') for name in ('ps', 'chief', 'worker')}
    processes = {
        'ps': subprocess.Popen(command, env=ps_environment, stdout=logs['ps'],
                               stderr=subprocess.STDOUT, cwd=ROOT),
        **{name: subprocess.Popen(
            command + ['--ps_hosts=' + ps_hosts, '--worker_hosts=' + worker_hosts,
                       '--job_name=worker', '--task=%d' % task],
            stdout=logs[name], stderr=subprocess.STDOUT, cwd=ROOT)
           for task, name in enumerate(['chief', 'worker'])},
    }
    try:
        exit_codes = {name: process.wait(timeout=300) for name, process in processes.items()}
    finally:
        for process in processes.values():
            process.kill()
        for log in logs.values():
            log.close()
    outputs = {name: (tmp_path / (name + '.log')).read_text() for name in logs}
    assert exit_codes == {'ps': 0, 'chief': 0, 'worker': 0}, outputs
    assert tf.train.latest_checkpoint(train_dir).endswith('model.ckpt-30')
    assert tf.train.load_variable(train_dir, 'global_step') == 30
    assert 'as worker 1 of 2' in outputs['worker']
    assert 'every worker is done' in outputs['ps']
    # Each synchronous step aggregated one batch from each worker.
    assert 'step 30/30: loss = ' in outputs['chief']
