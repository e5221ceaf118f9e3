"""The cluster of a multi-machine run: flags, TF_CONFIG, and the parameter servers' shutdown."""

import json

import pytest
import tensorflow.compat.v1 as tf

from training import cluster as cluster_lib


def _from_tf_config(tf_config):
    return cluster_lib.cluster_from_flags('', '', '', 0,
                                          environ={'TF_CONFIG': json.dumps(tf_config)})


def test_flags_give_the_cluster_and_this_task():
    worker = cluster_lib.cluster_from_flags(
        'ps0:2222, ps1:2222,', 'w0:2222,w1:2222,w2:2222', 'worker', 2, environ={})
    assert worker == cluster_lib.ClusterConfig(
        ('ps0:2222', 'ps1:2222'), ('w0:2222', 'w1:2222', 'w2:2222'), 'worker', 2)
    assert (worker.num_ps_tasks, worker.num_workers, worker.is_chief) == (2, 3, False)
    assert worker.cluster_spec().as_dict() == {'ps': ['ps0:2222', 'ps1:2222'],
                                               'worker': ['w0:2222', 'w1:2222', 'w2:2222']}
    assert list(cluster_lib.device_filter_config(worker).device_filters) == [
        '/job:ps', '/job:worker/task:2']
    assert cluster_lib.cluster_from_flags('ps0:1', 'w0:1,w1:1', 'worker', 0, environ={}).is_chief

    ps = cluster_lib.cluster_from_flags('ps0:2222,ps1:2222', 'w0:2222', 'ps', 1, environ={})
    assert (ps.job_name, ps.task_index, ps.is_chief) == ('ps', 1, False)
    assert list(cluster_lib.device_filter_config(ps).device_filters) == ['/job:ps/task:1']


def test_without_cluster_flags_or_tf_config_training_is_local():
    assert cluster_lib.cluster_from_flags('', '', '', 0, environ={}) is None
    assert cluster_lib.cluster_from_flags('', '', '', 0, environ={'TF_CONFIG': ''}) is None
    assert _from_tf_config({'task': {'type': 'worker', 'index': 0}}) is None


def test_flags_win_over_tf_config():
    environ = {'TF_CONFIG': json.dumps({'cluster': {'ps': ['other:1'], 'worker': ['other:2']},
                                        'task': {'type': 'ps', 'index': 0}})}
    config = cluster_lib.cluster_from_flags('p:1', 'w:1', 'worker', 0, environ=environ)
    assert config == cluster_lib.ClusterConfig(('p:1',), ('w:1',), 'worker', 0)


def test_tf_config_gives_the_cluster_and_its_chief_becomes_worker_0():
    cluster = {'chief': ['c:1'], 'worker': ['w0:1', 'w1:1'], 'ps': ['p0:1', 'p1:1']}
    chief = _from_tf_config({'cluster': cluster, 'task': {'type': 'chief', 'index': 0}})
    assert chief == cluster_lib.ClusterConfig(('p0:1', 'p1:1'), ('c:1', 'w0:1', 'w1:1'),
                                              'worker', 0)
    assert chief.is_chief
    second_worker = _from_tf_config({'cluster': cluster, 'task': {'type': 'worker', 'index': 1}})
    assert (second_worker.job_name, second_worker.task_index) == ('worker', 2)
    assert not second_worker.is_chief
    ps = _from_tf_config({'cluster': cluster, 'task': {'type': 'ps', 'index': 1}})
    assert (ps.job_name, ps.task_index, ps.worker_hosts) == ('ps', 1, ('c:1', 'w0:1', 'w1:1'))

    without_chief = _from_tf_config({'cluster': {'worker': ['w0:1', 'w1:1'], 'ps': ['p0:1']},
                                     'task': {'type': 'worker', 'index': 0}})
    assert without_chief == cluster_lib.ClusterConfig(('p0:1',), ('w0:1', 'w1:1'), 'worker', 0)
    assert without_chief.is_chief


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
    (('p:1', 'w:1,w', 'worker', 0), '--worker_hosts: \'w\' is not a host:port address'),
    (('p:1', 'w:1,p:1', 'worker', 0), 'p:1 is listed more than once in the cluster; give every '
                                      'task its own host:port'),
])
def test_bad_cluster_flags_are_named_with_the_fix(flags, message):
    with pytest.raises(ValueError) as error:
        cluster_lib.cluster_from_flags(*flags, environ={})
    assert message in str(error.value)


_CLUSTER = {'ps': ['p:1'], 'worker': ['w:1']}


@pytest.mark.parametrize('tf_config, message', [
    ('{"cluster": ', 'TF_CONFIG is not valid JSON (Expecting value: line 1 column 13'),
    ('["p:1"]', 'TF_CONFIG must be a JSON object like {"cluster": {...}, "task": {...}}'),
    ({'cluster': {'worker': ['w:1']}, 'task': {'type': 'worker'}},
     'TF_CONFIG "cluster" has no "ps" hosts: parameter-server training needs at least one'),
    ({'cluster': {'ps': ['p:1']}, 'task': {'type': 'ps'}},
     'TF_CONFIG "cluster" has no "worker" or "chief" hosts'),
    ({'cluster': dict(_CLUSTER, evaluator=['e:1']), 'task': {'type': 'worker'}},
     'TF_CONFIG "cluster" has job(s) evaluator: this trainer runs only "chief", "worker" and '
     '"ps"'),
    ({'cluster': dict(_CLUSTER, chief=['c:1', 'd:1']), 'task': {'type': 'chief'}},
     'TF_CONFIG "cluster" lists 2 "chief" hosts; a cluster has one chief'),
    ({'cluster': {'ps': 'p:1', 'worker': ['w:1']}, 'task': {'type': 'ps'}},
     'TF_CONFIG "cluster" job "ps" must be a list of "host:port"'),
    ({'cluster': {'ps': ['p'], 'worker': ['w:1']}, 'task': {'type': 'ps'}},
     'TF_CONFIG "cluster" job "ps": \'p\' is not a host:port address'),
    ({'cluster': _CLUSTER}, 'TF_CONFIG has no "task" of this process: add one like "task": '
                            '{"type": "worker", "index": 0}'),
    ({'cluster': _CLUSTER, 'task': {'type': 'chief', 'index': 0}},
     'TF_CONFIG "task" type \'chief\' is not a job of its "cluster" (ps, worker)'),
    ({'cluster': _CLUSTER, 'task': {'type': 'worker', 'index': 1}},
     'TF_CONFIG "task" index 1 is out of range: "cluster" lists 1 "worker" host(s), so use an '
     'index from 0 to 0'),
])
def test_a_bad_tf_config_is_named_with_the_fix(tf_config, message):
    if not isinstance(tf_config, str):
        tf_config = json.dumps(tf_config)
    with pytest.raises(ValueError) as error:
        cluster_lib.cluster_from_flags('', '', '', 0, environ={'TF_CONFIG': tf_config})
    assert message in str(error.value)


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
