"""The cluster of a multi-machine run: flags, TF_CONFIG, and the parameter servers' shutdown."""

import json
import logging
import os
import socket

import pytest
import tensorflow.compat.v1 as tf
from support import free_ports, run_script

from common.errors import UserError
from training import cluster as cluster_lib


@pytest.fixture(autouse=True)
def _no_tf_config_from_outside(monkeypatch):
    """Each test sees only the TF_CONFIG it sets, never the one of the shell running it."""
    monkeypatch.delenv('TF_CONFIG', raising=False)


@pytest.fixture
def from_tf_config(monkeypatch):
    """cluster_from_flags without cluster flags, with TF_CONFIG set to a value or its JSON."""

    def cluster_of(tf_config):
        monkeypatch.setenv('TF_CONFIG', tf_config if isinstance(tf_config, str)
                           else json.dumps(tf_config))
        return cluster_lib.cluster_from_flags('', '', '', 0)

    return cluster_of


def test_flags_give_the_cluster_and_this_task():
    worker = cluster_lib.cluster_from_flags(
        'ps0:2222, ps1:2222,', 'w0:2222,w1:2222,w2:2222', 'worker', 2)
    assert worker == cluster_lib.ClusterConfig(
        ('ps0:2222', 'ps1:2222'), ('w0:2222', 'w1:2222', 'w2:2222'), 'worker', 2)
    assert (worker.num_ps_tasks, worker.num_workers, worker.is_chief) == (2, 3, False)
    assert worker.cluster_spec().as_dict() == {'ps': ['ps0:2222', 'ps1:2222'],
                                               'worker': ['w0:2222', 'w1:2222', 'w2:2222']}
    assert list(cluster_lib.device_filter_config(worker).device_filters) == [
        '/job:ps', '/job:worker/task:2']
    assert cluster_lib.cluster_from_flags('ps0:1', 'w0:1,w1:65535', 'worker', 0).is_chief

    ps = cluster_lib.cluster_from_flags('ps0:2222,[::1]:2222', 'w0:2222', 'ps', 1)
    assert (ps.job_name, ps.task_index, ps.is_chief) == ('ps', 1, False)
    assert list(cluster_lib.device_filter_config(ps).device_filters) == ['/job:ps/task:1']


def test_without_cluster_flags_or_tf_config_training_is_local(from_tf_config):
    assert cluster_lib.cluster_from_flags('', '', '', 0) is None
    assert from_tf_config('') is None
    assert from_tf_config(' \n') is None
    assert from_tf_config({}) is None
    assert from_tf_config({'task': {'type': 'worker', 'index': 0}}) is None
    assert from_tf_config({'task': {'type': 'chief', 'index': 0}, 'environment': 'cloud'}) is None


def test_flags_win_over_tf_config(monkeypatch):
    monkeypatch.setenv('TF_CONFIG', json.dumps({
        'cluster': {'ps': ['other:1'], 'worker': ['other:2']},
        'task': {'type': 'ps', 'index': 0}}))
    config = cluster_lib.cluster_from_flags('p:1', 'w:1', 'worker', 0)
    assert config == cluster_lib.ClusterConfig(('p:1',), ('w:1',), 'worker', 0)


def test_tf_config_gives_the_cluster_and_its_chief_becomes_worker_0(from_tf_config):
    cluster = {'chief': ['c:1'], 'worker': ['w0:1', 'w1:1'], 'ps': ['p0:1', 'p1:1']}
    chief = from_tf_config({'cluster': cluster, 'task': {'type': 'chief', 'index': 0}})
    assert chief == cluster_lib.ClusterConfig(('p0:1', 'p1:1'), ('c:1', 'w0:1', 'w1:1'),
                                              'worker', 0)
    assert chief.is_chief
    second_worker = from_tf_config({'cluster': cluster, 'task': {'type': 'worker', 'index': 1}})
    assert (second_worker.job_name, second_worker.task_index) == ('worker', 2)
    assert not second_worker.is_chief
    ps = from_tf_config({'cluster': cluster, 'task': {'type': 'ps', 'index': 1}})
    assert (ps.job_name, ps.task_index, ps.worker_hosts) == ('ps', 1, ('c:1', 'w0:1', 'w1:1'))

    without_chief = from_tf_config({'cluster': {'worker': ['w0:1', 'w1:1'], 'ps': ['p0:1']},
                                    'task': {'type': 'worker', 'index': 0}})
    assert without_chief == cluster_lib.ClusterConfig(('p0:1',), ('w0:1', 'w1:1'), 'worker', 0)
    assert without_chief.is_chief


def test_tf_config_of_ai_platform_is_accepted(from_tf_config):
    """AI Platform and Vertex AI add "job", "environment" and the task's "trial" and "cloud"."""
    config = from_tf_config({
        'cluster': {'chief': ['c:2222'], 'ps': ['p:2222'], 'worker': ['w:2222']},
        'task': {'type': 'worker', 'index': 0, 'trial': '1', 'cloud': 'abc'},
        'job': {'scale_tier': 'CUSTOM'}, 'environment': 'cloud', 'rpc_layer': 'grpc'})
    assert config == cluster_lib.ClusterConfig(('p:2222',), ('c:2222', 'w:2222'), 'worker', 1)


@pytest.mark.parametrize('flags, message', [
    (('', 'w:1', 'worker', 0), '--worker_hosts is set but --ps_hosts is not'),
    (('p:1', '', 'worker', 0), '--ps_hosts is set but --worker_hosts is not'),
    (('', '', 'worker', 0), '--job_name=worker is set but --ps_hosts and --worker_hosts are not'),
    (('p:1', 'w:1', '', 0), '--job_name is not: set --job_name=worker or --job_name=ps'),
    (('p:1', 'w:1', 'chief', 0), '--job_name=chief is not a job of the cluster: use '
                                 '--job_name=worker or --job_name=ps'),
    (('p:1', 'w0:1,w1:1', 'worker', 2), '--task=2 is out of range: --worker_hosts lists 2 '
                                        'host(s), so use --task from 0 to 1'),
    (('p:1', 'w:1', 'ps', -1), '--task=-1 is out of range: --ps_hosts lists 1 host(s)'),
    ((',', 'w:1', 'worker', 0), "--ps_hosts=',' lists no host: parameter-server training needs "
                                'at least one'),
    (('p:1', 'w:1,w', 'worker', 0), '--worker_hosts: "w" is not a host:port address'),
    (('p:1', 'w:1,p:1', 'worker', 0), 'p:1 is listed more than once in the cluster; give every '
                                      'task its own host:port'),
    (('p:70000', 'w:1', 'ps', 0), '--ps_hosts: "p:70000" has port "70000", outside 1-65535 '
                                  '(TensorFlow would listen on another port): use a port from 1 '
                                  'to 65535.'),
    (('p:1', 'w:0', 'worker', 0), '--worker_hosts: "w:0" has port "0", outside 1-65535'),
    (('p:1', 'w:' + '9' * 5000, 'worker', 0), 'has port "99999999999'),
    (('p:1', 'w:２２２２', 'worker', 0), '--worker_hosts: "w:\\uff12\\uff12\\uff12\\uff12" is not '
                                        'a host:port address'),
    (('p:1', 'my host:2222', 'worker', 0), '--worker_hosts: "my host:2222" is not a host:port'),
])
def test_bad_cluster_flags_are_named_with_the_fix(flags, message):
    with pytest.raises(UserError) as error:
        cluster_lib.cluster_from_flags(*flags)
    assert message in str(error.value)
    assert '\n' not in str(error.value)


_CLUSTER = {'ps': ['p:1'], 'worker': ['w:1']}
_TASK = {'type': 'worker', 'index': 0}


@pytest.mark.parametrize('tf_config, message', [
    ('{"cluster": ', 'TF_CONFIG is not valid JSON (Expecting value: line 1 column 13'),
    ('[' * 100000, 'TF_CONFIG nests too deeply to be a cluster config (it starts "[[[[[[[['),
    ('{"cluster": ' * 100000, 'TF_CONFIG nests too deeply'),
    ('["p:1"]', 'TF_CONFIG must be a JSON object like {"cluster": {...}, "task": {...}}, not '
                '["p:1"].'),
    ({'clsuter': _CLUSTER, 'task': _TASK},
     'TF_CONFIG has the unknown key "clsuter" (did you mean "cluster"?): TF_CONFIG takes '
     '"cluster", "task", "environment", "job", "rpc_layer".'),
    ({'cluster': _CLUSTER, 'task': _TASK, 'cluster_spec': {}},
     'TF_CONFIG has the unknown key "cluster_spec" (did you mean "cluster"?)'),
    ({'cluster': _CLUSTER, 'task': _TASK, 'model_dir': '/tmp/x'},
     'TF_CONFIG has "model_dir", which only tf.estimator reads: remove it (this trainer takes '
     'its settings from flags, like --train_dir).'),
    ({'cluster': _CLUSTER, 'task': _TASK, 'rpc_layer': 'grpc+verbs'},
     'TF_CONFIG "rpc_layer" is "grpc+verbs", but this trainer\'s servers speak only "grpc"'),
    ('{"cluster": {"ps": ["p:1"], "worker": ["w:1"]}, "task": {"type": "ps", "index": 0}, '
     '"task": {"type": "worker", "index": 0}}',
     'TF_CONFIG gives the key "task" twice in one object: keep one.'),
    ({'cluster': '', 'task': _TASK},
     'TF_CONFIG "cluster" must map job names to lists of "host:port", like {"ps": '
     '["host:2222"], "worker": ["host:2223"]}, not "": fix it, or remove "cluster" to train on '
     'this machine alone.'),
    ({'cluster': {}, 'task': _TASK}, 'TF_CONFIG "cluster" must map job names to lists of'),
    ({'cluster': None, 'task': _TASK}, 'TF_CONFIG "cluster" must map job names to lists of'),
    ({'cluster': {'worker': ['w:1']}, 'task': _TASK},
     'TF_CONFIG "cluster" has no "ps" hosts: parameter-server training needs at least one'),
    ({'cluster': {'ps': ['p:1'], 'worker': []}, 'task': {'type': 'ps', 'index': 0}},
     'TF_CONFIG "cluster" has no "worker" or "chief" hosts'),
    ({'cluster': dict(_CLUSTER, evaluator=['e:1']), 'task': _TASK},
     'TF_CONFIG "cluster" has job(s) "evaluator": this trainer runs only "chief", "worker" and '
     '"ps"'),
    ({'cluster': dict(_CLUSTER, chief=['c:1', 'd:1']), 'task': {'type': 'chief', 'index': 0}},
     'TF_CONFIG "cluster" lists 2 "chief" hosts; a cluster has one chief'),
    ({'cluster': {'ps': 'p:1', 'worker': ['w:1']}, 'task': _TASK},
     'TF_CONFIG "cluster" job "ps" must be a list of "host:port" strings, not "p:1".'),
    ({'cluster': {'ps': [2222], 'worker': ['w:1']}, 'task': _TASK},
     'TF_CONFIG "cluster" job "ps" must be a list of "host:port" strings, not [2222].'),
    ({'cluster': {'ps': ['p'], 'worker': ['w:1']}, 'task': _TASK},
     'TF_CONFIG "cluster" job "ps": "p" is not a host:port address; write it like '
     '"localhost:2222".'),
    ({'cluster': {'ps': ['p:abc'], 'worker': ['w:1']}, 'task': _TASK},
     'TF_CONFIG "cluster" job "ps": "p:abc" is not a host:port address'),
    ({'cluster': {'ps': ['p:1'], 'worker': ['w:70000']}, 'task': _TASK},
     'TF_CONFIG "cluster" job "worker": "w:70000" has port "70000", outside 1-65535 (TensorFlow '
     'would listen on another port): use a port from 1 to 65535.'),
    ({'cluster': {'ps': ['p:0'], 'worker': ['w:1']}, 'task': _TASK},
     'TF_CONFIG "cluster" job "ps": "p:0" has port "0", outside 1-65535'),
    ({'cluster': _CLUSTER}, 'TF_CONFIG has no "task" of this process: add one like "task": '
                            '{"type": "worker", "index": 0}.'),
    ({'cluster': _CLUSTER, 'task': 'worker'},
     'TF_CONFIG "task" must be an object like {"type": "worker", "index": 0}, not "worker".'),
    ({'cluster': _CLUSTER, 'task': {'type': 'worker', 'indx': 1}},
     'TF_CONFIG "task" has the unknown key "indx" (did you mean "index"?): "task" takes "type", '
     '"index", "trial", "cloud".'),
    ({'cluster': _CLUSTER, 'task': {'type': 'worker'}},
     'TF_CONFIG "task" needs a "type" and an "index", like {"type": "worker", "index": 0}, not '
     '{"type": "worker"}.'),
    ({'cluster': _CLUSTER, 'task': {'type': [], 'index': 0}},
     'TF_CONFIG "task" "type" must be a job name like "worker", not [].'),
    ({'cluster': _CLUSTER, 'task': {'type': 'worker', 'index': True}},
     'TF_CONFIG "task" "index" must be a whole number like 0, not true.'),
    ({'cluster': _CLUSTER, 'task': {'type': 'worker', 'index': '0'}},
     'TF_CONFIG "task" "index" must be a whole number like 0, not "0".'),
    ({'cluster': _CLUSTER, 'task': {'type': 'worker', 'index': 0.0}},
     'TF_CONFIG "task" "index" must be a whole number like 0, not 0.0.'),
    ({'cluster': _CLUSTER, 'task': {'type': 'chief', 'index': 0}},
     'TF_CONFIG "task" type "chief" is not a job of its "cluster" (ps, worker)'),
    ({'cluster': _CLUSTER, 'task': {'type': 'worker', 'index': 1}},
     'TF_CONFIG "task" index 1 is out of range: "cluster" lists 1 "worker" host(s), so use an '
     'index from 0 to 0'),
    ({'task': {'type': 'worker', 'index': 1}},
     'TF_CONFIG has the "task" {"type": "worker", "index": 1} but no "cluster": add the '
     '"cluster" it belongs to, or remove "task" to train on this machine alone.'),
    ({'task': {'type': 'ps', 'index': 0}}, 'TF_CONFIG has the "task" {"type": "ps", "index": 0} '
                                           'but no "cluster"'),
])
def test_a_bad_tf_config_is_one_line_naming_it_and_the_fix(from_tf_config, tf_config, message):
    with pytest.raises(UserError) as error:
        from_tf_config(tf_config)
    assert message in str(error.value)
    assert str(error.value).startswith('TF_CONFIG')
    assert '\n' not in str(error.value)


def test_a_hostile_tf_config_is_quoted_short_and_on_one_line(from_tf_config):
    """Values deep, long or full of control characters are cut short and escaped."""
    deep = []
    for _ in range(500):
        deep = [deep]
    for tf_config in [{'cluster': _CLUSTER, 'task': {'type': deep, 'index': 0}},
                      {'cluster': _CLUSTER, 'task': {'type': 'x' * 100000, 'index': 0}},
                      {'cluster': {'ps': ['p:1\n\x1b[31m'], 'worker': ['w:1']}, 'task': _TASK},
                      {'cluster': _CLUSTER, 'task': _TASK, 'é\u202e\n': 1}]:
        with pytest.raises(UserError) as error:
            from_tf_config(tf_config)
        assert len(str(error.value)) < 300
        assert str(error.value).isascii() and str(error.value).isprintable()
    assert 'not [[[...]]].' in _message_of(from_tf_config, {'cluster': _CLUSTER,
                                                            'task': {'type': deep, 'index': 0}})


def _message_of(from_tf_config, tf_config):
    with pytest.raises(UserError) as error:
        from_tf_config(tf_config)
    return str(error.value)


@pytest.mark.parametrize('tf_config, message', [
    ({'clsuter': _CLUSTER, 'task': _TASK}, 'error: TF_CONFIG has the unknown key "clsuter"'),
    ('[' * 100000, 'error: TF_CONFIG nests too deeply'),
])
def test_the_trainer_stops_on_a_bad_tf_config_with_one_error_line(tmp_path, tf_config, message):
    """Before, the misspelt "cluster" trained alone and the deep nesting raised a traceback."""
    result = run_script(
        'train_image_classifier.py', '--train_dir=%s' % (tmp_path / 'train'), cwd=tmp_path,
        environment=dict(os.environ, TF_CONFIG=tf_config if isinstance(tf_config, str)
                         else json.dumps(tf_config)))
    error_lines = [line for line in result.stderr.splitlines() if line.startswith('error:')]
    assert result.returncode == 1, result.stderr
    assert len(error_lines) == 1 and error_lines[0].startswith(message), result.stderr
    assert 'Traceback' not in result.stderr


def test_the_warning_names_the_port_the_server_binds(from_tf_config, caplog):
    """TensorFlow reads "02345" as port 2345: the warning says 2345, and 2345 is listening."""
    ps_port, worker_port = free_ports(2)
    config = from_tf_config({'cluster': {'ps': ['127.0.0.1:0%d' % ps_port],
                                         'worker': ['127.0.0.1:%d' % worker_port]},
                             'task': {'type': 'ps', 'index': 0}})
    with caplog.at_level(logging.WARNING):
        cluster_lib.start_server(config)
    assert ('ps task 0 exposes port %d on every network interface' % ps_port) in caplog.text
    with socket.create_connection(('127.0.0.1', ps_port), timeout=10):
        pass


def test_worker_done_op_enqueues_one_token_on_every_ps_task():
    worker = cluster_lib.ClusterConfig(('p0:1', 'p1:1'), ('w0:1', 'w1:1', 'w2:1'), 'worker', 2)
    with tf.Graph().as_default() as graph:
        done = cluster_lib.worker_done_op(worker)
        enqueues = [op for op in graph.get_operations() if op.type == 'QueueEnqueueV2']
        queues = [op.inputs[0].op for op in enqueues]
        tokens = [tf.get_static_value(op.inputs[1]) for op in enqueues]
    assert done.name == 'worker_done'
    assert [queue.device for queue in queues] == ['/job:ps/task:0/device:CPU:*',
                                                  '/job:ps/task:1/device:CPU:*']
    assert [queue.get_attr('shared_name') for queue in queues] == [b'done_queue_0',
                                                                  b'done_queue_1']
    assert [queue.get_attr('capacity') for queue in queues] == [3, 3]
    assert tokens == [2, 2]


def test_the_done_queue_protocol_belongs_to_its_job():
    ps = cluster_lib.ClusterConfig(('p:1',), ('w:1',), 'ps', 0)
    worker = cluster_lib.ClusterConfig(('p:1',), ('w:1',), 'worker', 0)
    with pytest.raises(ValueError, match='worker_done_op is for worker tasks, not ps task 0'):
        cluster_lib.worker_done_op(ps)
    with pytest.raises(ValueError,
                       match='serve_until_workers_done is for ps tasks, not worker task 0'):
        cluster_lib.serve_until_workers_done(worker, server=None)
