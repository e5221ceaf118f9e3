"""The cluster of a multi-machine run: parameter servers and workers on TensorFlow's runtime.

A process learns its cluster from --ps_hosts, --worker_hosts, --job_name and --task, or else
from the TF_CONFIG environment variable, and starts its own gRPC server. Workers train with
their variables on the parameter servers, or (--variable_update=replicated) each with its own
copy, all-reducing the gradients through TensorFlow's collective ops, with no parameter
server. Worker task 0 is the chief, which writes checkpoints and summaries.

Parameter servers serve until every worker is done: each ps task owns a "done queue" into
which every worker puts one token after training, and a ps process returns once it has
received a token from each worker, so the whole cluster exits cleanly.
"""

import collections
import dataclasses
import difflib
import itertools
import json
import os

import tensorflow.compat.v1 as tf
from absl import logging

from common import session as sessions
from common.errors import ConfigurationError

PS_JOB = 'ps'
WORKER_JOB = 'worker'
# Model Garden and Estimator clusters name their first worker "chief"; it becomes worker 0.
CHIEF_JOB = 'chief'

# TF_CONFIG's keys that this trainer reads ("cluster", "task") or may ignore: "environment" and
# "job" describe the platform (AI Platform and Vertex AI set them), and "rpc_layer" names the
# protocol, which must be the "grpc" of tf.train.Server.
_TF_CONFIG_KEYS = ('cluster', 'task', 'environment', 'job', 'rpc_layer')
# TF_CONFIG's keys for tf.estimator's RunConfig: ignoring them would silently change the run.
_ESTIMATOR_KEYS = ('session_master', 'eval_session_master', 'model_dir', 'service')
# "trial" and "cloud" are AI Platform's hyperparameter trial and internal id.
_TASK_KEYS = ('type', 'index', 'trial', 'cloud')
_RPC_LAYER = 'grpc'
_HIGHEST_PORT = 65535
_TASK_EXAMPLE = '{"type": "worker", "index": 0}'
_CLUSTER_EXAMPLE = '{"ps": ["host:2222"], "worker": ["host:2223"]}'


@dataclasses.dataclass(frozen=True)
class ClusterConfig:
    """The cluster and this process's place in it.

    ps_hosts, worker_hosts: 'host:port' addresses, in task order.
    job_name: 'ps' or 'worker'.
    task_index: this process's task within its job.
    """

    ps_hosts: tuple[str, ...]
    worker_hosts: tuple[str, ...]
    job_name: str
    task_index: int

    def __post_init__(self):
        addresses = self.ps_hosts + self.worker_hosts
        repeated = sorted({address for address in addresses if addresses.count(address) > 1})
        if repeated:
            raise ConfigurationError('%s is listed more than once in the cluster; give every task '
                                     'its own host:port.' % ', '.join(repeated))

    @property
    def num_ps_tasks(self):
        return len(self.ps_hosts)

    @property
    def num_workers(self):
        return len(self.worker_hosts)

    @property
    def is_chief(self):
        """Whether this process is worker 0, which writes checkpoints and summaries."""
        return self.job_name == WORKER_JOB and self.task_index == 0

    @property
    def collective(self):
        """Whether the workers all-reduce among themselves, without parameter servers."""
        return not self.ps_hosts

    def cluster_spec(self):
        jobs = {PS_JOB: list(self.ps_hosts), WORKER_JOB: list(self.worker_hosts)}
        return tf.train.ClusterSpec({job: hosts for job, hosts in jobs.items() if hosts})


def _parse_hosts(value, flag_name):
    """'h1:p1, h2:p2' -> ('h1:p1', 'h2:p2'); empty entries (a trailing comma) are skipped."""
    hosts = tuple(host.strip() for host in value.split(',') if host.strip())
    for host in hosts:
        _port_of(host, flag_name)
    return hosts


def _port_of(address, source):
    """The port of a 'host:port' address, as TensorFlow's server binds it.

    TensorFlow reads the digits after the last colon, so an IPv6 "[::1]:2222" works; port 0
    would bind a random port and one above 65535 another port, so both are refused.
    Raises:
      UserError: naming `source` (the flag or TF_CONFIG entry), unless the address is valid.
    """
    host, _, port = address.rpartition(':')
    well_formed = (bool(host) and host.isprintable() and not any(char.isspace() for char in host)
                   and port.isascii() and port.isdigit())
    if not well_formed:
        raise ConfigurationError('%s: %s is not a host:port address; write it like '
                                 '"localhost:2222".'
                                 % (source, _shown(address)))
    # TensorFlow allows leading zeros; int() refuses a string of more than 4300 digits.
    significant_digits = port.lstrip('0') or '0'
    number = int(significant_digits) if len(significant_digits) <= len(str(_HIGHEST_PORT)) else None
    if number is None or not 1 <= number <= _HIGHEST_PORT:
        raise ConfigurationError('%s: %s has port %s, outside 1-%d (TensorFlow would listen on '
                                 'another port): use a port from 1 to %d.'
                                 % (source, _shown(address), _shown(port), _HIGHEST_PORT,
                                    _HIGHEST_PORT))
    return number


def _shown(value, depth=2):
    """`value` as JSON, cut short and on one line, however long or deep it is."""
    max_items, max_chars = 3, 60
    if isinstance(value, dict):
        parts = ['%s: %s' % (_shown(key), _shown(item, depth - 1))
                 for key, item in itertools.islice(value.items(), max_items if depth else 0)]
        return '{%s}' % ', '.join(parts + ['...'] * (len(value) > len(parts)))
    if isinstance(value, list):
        parts = [_shown(item, depth - 1) for item in value[:max_items if depth else 0]]
        return '[%s]' % ', '.join(parts + ['...'] * (len(value) > len(parts)))
    # json.dumps escapes every control and non-ASCII character: the line stays one line.
    text = json.dumps(value)
    return text if len(text) <= max_chars else text[:max_chars - 3] + '...'


def cluster_from_flags(ps_hosts, worker_hosts, job_name, task, collective=False):
    """The cluster of this process, from the flags or else from the TF_CONFIG variable.

    Args:
      ps_hosts, worker_hosts: the comma-separated --ps_hosts and --worker_hosts.
      job_name: --job_name, 'ps' or 'worker'.
      task: --task, this process's index within its job (unused with TF_CONFIG).
      collective: the workers all-reduce (--variable_update=replicated): the cluster has
        workers only, and --job_name may be left out.
    Returns:
      A ClusterConfig, or None for single-machine training (no cluster flag, and no
      TF_CONFIG or one without a "cluster").
    Raises:
      UserError: the flags or TF_CONFIG describe no valid cluster; the message says how to
        fix them.
    """
    if not (ps_hosts or worker_hosts or job_name):
        return _cluster_from_tf_config(collective)
    if collective:
        return _collective_cluster_from_flags(ps_hosts, worker_hosts, job_name, task)
    if not ps_hosts and not worker_hosts:
        raise ConfigurationError('--job_name=%s is set but --ps_hosts and --worker_hosts are not: '
                                 'set them to the cluster\'s addresses, or unset --job_name to '
                                 'train on this machine alone.' % job_name)
    if not ps_hosts or not worker_hosts:
        given, missing = (('--ps_hosts', '--worker_hosts') if ps_hosts
                          else ('--worker_hosts', '--ps_hosts'))
        raise ConfigurationError(
            '%s is set but %s is not: parameter-server training needs both (at least one '
            'parameter server and one worker; --variable_update=replicated needs workers only); '
            'set neither to train on this machine alone.'
            % (given, missing))
    if not job_name:
        raise ConfigurationError('--ps_hosts and --worker_hosts are set but --job_name is not: set '
                                 '--job_name=worker or --job_name=ps (and --task) for this '
                                 'process.')
    if job_name not in (PS_JOB, WORKER_JOB):
        raise ConfigurationError('--job_name=%s is not a job of the cluster: use --job_name=worker '
                                 'or --job_name=ps.' % job_name)
    ps = _parse_hosts(ps_hosts, '--ps_hosts')
    workers = _parse_hosts(worker_hosts, '--worker_hosts')
    if not ps:
        raise ConfigurationError('--ps_hosts=%r lists no host: parameter-server training needs at '
                                 'least one, like --ps_hosts=localhost:2222.' % ps_hosts)
    if not workers:
        raise ConfigurationError('--worker_hosts=%r lists no host: list at least one, like '
                                 '--worker_hosts=localhost:2223.' % worker_hosts)
    num_tasks = len(ps if job_name == PS_JOB else workers)
    if not 0 <= task < num_tasks:
        raise ConfigurationError('--task=%d is out of range: --%s_hosts lists %d host(s), so use '
                                 '--task from 0 to '
                                 '%d.' % (task, job_name, num_tasks, num_tasks - 1))
    return ClusterConfig(ps, workers, job_name, task)


def _collective_cluster_from_flags(ps_hosts, worker_hosts, job_name, task):
    """The ClusterConfig of workers that all-reduce (see `cluster_from_flags`)."""
    if ps_hosts:
        raise ConfigurationError('--ps_hosts=%s: --variable_update=replicated trains without '
                                 'parameter servers; drop --ps_hosts, or use '
                                 '--variable_update=parameter_server.' % ps_hosts)
    if job_name not in ('', WORKER_JOB):
        raise ConfigurationError('--job_name=%s: with --variable_update=replicated every process '
                                 'is a worker; use --job_name=worker or leave it out.' % job_name)
    workers = _parse_hosts(worker_hosts, '--worker_hosts')
    if not workers:
        raise ConfigurationError('--variable_update=replicated on a cluster needs --worker_hosts, '
                                 'like --worker_hosts=host0:2222,host1:2222 (one per worker).')
    if not 0 <= task < len(workers):
        raise ConfigurationError('--task=%d is out of range: --worker_hosts lists %d host(s), so '
                                 'use --task from 0 to %d.'
                                 % (task, len(workers), len(workers) - 1))
    return ClusterConfig((), workers, WORKER_JOB, task)


def _cluster_from_tf_config(collective=False):
    """The ClusterConfig of the TF_CONFIG variable, or None if it is unset or has no "cluster".

    TF_CONFIG looks like {"cluster": {"ps": [...], "worker": [...], "chief": [one host]},
    "task": {"type": "worker", "index": 0}}; a "chief" becomes worker 0, ahead of the workers.
    Its JSON is checked here, then TensorFlow's TFConfigClusterResolver reads it.
    """
    tf_config = _checked_tf_config(os.environ.get('TF_CONFIG', ''))
    if tf_config is None:
        return None
    if 'cluster' not in tf_config:
        task = tf_config.get('task')
        if task is not None:
            _check_task_shape(task)
            if task['type'] not in (WORKER_JOB, CHIEF_JOB) or task['index'] != 0:
                raise ConfigurationError('TF_CONFIG has the "task" %s but no "cluster": add the '
                                         '"cluster" it belongs to, or remove "task" to train on '
                                         'this machine alone.'
                                         % _shown(task))
        logging.info('TF_CONFIG has no "cluster": training on this machine alone.')
        return None
    cluster = tf_config['cluster']
    _check_cluster(cluster, collective)
    _check_task(tf_config.get('task'), cluster)

    resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()
    jobs = resolver.cluster_spec().as_dict()
    ps = tuple(jobs.get(PS_JOB, ()))
    workers = tuple(jobs.get(CHIEF_JOB, ())) + tuple(jobs.get(WORKER_JOB, ()))
    task_type, index = resolver.task_type, resolver.task_id
    if task_type == PS_JOB:
        return ClusterConfig(ps, workers, PS_JOB, index)
    if task_type == WORKER_JOB:
        index += len(jobs.get(CHIEF_JOB, ()))
    return ClusterConfig(ps, workers, WORKER_JOB, index)


def _checked_tf_config(text):
    """The JSON object of a TF_CONFIG value, with only keys TensorFlow defines; None if blank."""
    if not text.strip():
        return None
    try:
        tf_config = json.loads(text, object_pairs_hook=_object_without_repeated_keys)
    except json.JSONDecodeError as error:
        raise ConfigurationError('TF_CONFIG is not valid JSON (%s): fix it or unset it to train on '
                                 'this machine alone.' % error) from None
    except RecursionError:
        raise ConfigurationError('TF_CONFIG nests too deeply to be a cluster config (it starts '
                                 '%s): fix it or unset it to train on this machine alone.'
                                 % _shown(text[:20])) from None
    if not isinstance(tf_config, dict):
        raise ConfigurationError('TF_CONFIG must be a JSON object like {"cluster": {...}, "task": '
                                 '{...}}, not %s.' % _shown(tf_config))
    for key in tf_config:
        if key in _ESTIMATOR_KEYS:
            raise ConfigurationError('TF_CONFIG has %s, which only tf.estimator reads: remove it '
                                     '(this trainer takes its settings from flags, like '
                                     '--train_dir).'
                                     % _shown(key))
        if key not in _TF_CONFIG_KEYS:
            raise ConfigurationError('TF_CONFIG has the unknown key %s%s: TF_CONFIG takes %s.'
                                     % (_shown(key), _suggestion(key, _TF_CONFIG_KEYS),
                                        _listed(_TF_CONFIG_KEYS)))
    rpc_layer = tf_config.get('rpc_layer', _RPC_LAYER)
    if rpc_layer != _RPC_LAYER:
        raise ConfigurationError('TF_CONFIG "rpc_layer" is %s, but this trainer\'s servers speak '
                                 'only "%s": set "%s" or remove '
                                 'it.' % (_shown(rpc_layer), _RPC_LAYER,
                                                                   _RPC_LAYER))
    return tf_config


def _object_without_repeated_keys(pairs):
    """A JSON object as a dict; a key given twice is an error (json would keep the last)."""
    json_object = dict(pairs)
    if len(json_object) < len(pairs):
        key_counts = collections.Counter(key for key, _ in pairs)
        repeated = next(key for key, count in key_counts.items() if count > 1)
        raise ConfigurationError('TF_CONFIG gives the key %s twice in one object: keep one.'
                                 % _shown(repeated))
    return json_object


def _suggestion(key, known_keys):
    """' (did you mean "cluster"?)' for a key like 'clsuter', else ''."""
    close = difflib.get_close_matches(key, known_keys, n=1)
    return ' (did you mean "%s"?)' % close[0] if close else ''


def _listed(keys):
    """'"cluster", "task"' for ('cluster', 'task')."""
    return ', '.join('"%s"' % key for key in keys)


def _check_cluster(cluster, collective=False):
    """Raises UserError unless TF_CONFIG's "cluster" is a ps/worker/chief cluster (without
    "ps" when `collective`)."""
    if not isinstance(cluster, dict) or not cluster:
        raise ConfigurationError('TF_CONFIG "cluster" must map job names to lists of "host:port", '
                                 'like %s, not %s: fix it, or remove "cluster" to train on this '
                                 'machine alone.'
                                 % (_CLUSTER_EXAMPLE, _shown(cluster)))
    unknown_jobs = [job for job in cluster if job not in (PS_JOB, WORKER_JOB, CHIEF_JOB)]
    if unknown_jobs:
        raise ConfigurationError('TF_CONFIG "cluster" has job(s) %s: this trainer runs only '
                                 '"chief", "worker" and "ps"; remove the others.'
                                 % ', '.join(_shown(job) for job in unknown_jobs))
    for job, hosts in cluster.items():
        if not isinstance(hosts, list) or not all(isinstance(host, str) for host in hosts):
            raise ConfigurationError('TF_CONFIG "cluster" job "%s" must be a list of "host:port" '
                                     'strings, not %s.' % (job, _shown(hosts)))
        for host in hosts:
            _port_of(host, 'TF_CONFIG "cluster" job "%s"' % job)
    if len(cluster.get(CHIEF_JOB, ())) > 1:
        raise ConfigurationError('TF_CONFIG "cluster" lists %d "chief" hosts; a cluster has one '
                                 'chief (list the others under '
                                 '"worker").' % len(cluster[CHIEF_JOB]))
    if collective and cluster.get(PS_JOB):
        raise ConfigurationError('TF_CONFIG "cluster" has "ps" hosts, but '
                                 '--variable_update=replicated trains without parameter servers: '
                                 'remove "ps", or use --variable_update=parameter_server.')
    if not collective and not cluster.get(PS_JOB):
        raise ConfigurationError('TF_CONFIG "cluster" has no "ps" hosts: parameter-server training '
                                 'needs at least one, like "ps": ["host:2222"] '
                                 '(--variable_update=replicated needs none).')
    if not cluster.get(CHIEF_JOB) and not cluster.get(WORKER_JOB):
        raise ConfigurationError('TF_CONFIG "cluster" has no "worker" or "chief" hosts: list at '
                                 'least one, like "worker": ["host:2223"].')


def _check_task_shape(task):
    """Raises UserError unless TF_CONFIG's "task" is {"type": <str>, "index": <int>, ...}."""
    if not isinstance(task, dict):
        raise ConfigurationError('TF_CONFIG "task" must be an object like %s, not %s.'
                                 % (_TASK_EXAMPLE, _shown(task)))
    for key in task:
        if key not in _TASK_KEYS:
            raise ConfigurationError('TF_CONFIG "task" has the unknown key %s%s: "task" takes %s.'
                                     % (_shown(key), _suggestion(key, _TASK_KEYS),
                                        _listed(_TASK_KEYS)))
    if 'type' not in task or 'index' not in task:
        raise ConfigurationError('TF_CONFIG "task" needs a "type" and an "index", like %s, not %s.'
                                 % (_TASK_EXAMPLE, _shown(task)))
    if not isinstance(task['type'], str):
        raise ConfigurationError('TF_CONFIG "task" "type" must be a job name like "worker", not %s.'
                                 % _shown(task['type']))
    # JSON's true is a Python bool, and a bool is an int: TensorFlow would read it as task 1.
    if isinstance(task['index'], bool) or not isinstance(task['index'], int):
        raise ConfigurationError('TF_CONFIG "task" "index" must be a whole number like 0, not %s.'
                                 % _shown(task['index']))


def _check_task(task, cluster):
    """Raises UserError unless TF_CONFIG's "task" names a task of its checked `cluster`."""
    if task is None:
        raise ConfigurationError('TF_CONFIG has no "task" of this process: add one like "task": %s.'
                                 % _TASK_EXAMPLE)
    _check_task_shape(task)
    task_type, index = task['type'], task['index']
    if task_type not in cluster:
        raise ConfigurationError('TF_CONFIG "task" type %s is not a job of its "cluster" (%s): use '
                                 'one of those.' % (_shown(task_type), ', '.join(sorted(cluster))))
    num_tasks = len(cluster[task_type])
    if not 0 <= index < num_tasks:
        raise ConfigurationError('TF_CONFIG "task" index %s is out of range: "cluster" lists %d '
                                 '"%s" host(s), so use an index from 0 to %d.'
                                 % (_shown(index), num_tasks, task_type, num_tasks - 1))


def device_filter_config(cluster, cpu_devices=1):
    """The float32 ConfigProto of this process's sessions and server: its device filters,
    and its `cpu_devices` logical CPU devices.

    Device filters keep a session from waiting for tasks it never uses: a worker talks to the
    parameter servers and itself, not to the other workers, and a ps only to itself. Workers
    that all-reduce reach each other through collective ops, led by worker 0.
    """
    if cluster.job_name == PS_JOB or cluster.collective:
        device_filters = ['/job:%s/task:%d' % (cluster.job_name, cluster.task_index)]
    else:
        device_filters = ['/job:ps', '/job:worker/task:%d' % cluster.task_index]
    config = sessions.session_config(cpu_devices=cpu_devices)
    config.device_filters.extend(device_filters)
    if cluster.collective:
        config.experimental.collective_group_leader = '/job:%s/replica:0/task:0' % WORKER_JOB
    return config


def start_server(cluster, cpu_devices=1):
    """Starts and returns this process's tf.train.Server, with `cpu_devices` logical CPU
    devices; sessions connect to its .target.

    TensorFlow's gRPC server listens on every network interface at the port of this task's
    address (ServerDef can change the port but not the interface), without authentication or
    encryption; a warning says so.
    """
    address = cluster.cluster_spec().task_address(cluster.job_name, cluster.task_index)
    logging.info('Starting the server of %s task %d of %d ps and %d worker task(s), at %s',
                 cluster.job_name, cluster.task_index, cluster.num_ps_tasks, cluster.num_workers,
                 address)
    logging.warning(
        '%s task %d exposes port %s on every network interface, unauthenticated and '
        'unencrypted: whoever reaches it can run any TensorFlow op in this process. Run the '
        'cluster only on a trusted network or behind a firewall (README: Security).',
        cluster.job_name, cluster.task_index,
        _port_of(address, '%s task %d' % (cluster.job_name, cluster.task_index)))
    return tf.train.Server(cluster.cluster_spec(), job_name=cluster.job_name,
                           task_index=cluster.task_index,
                           config=device_filter_config(cluster, cpu_devices))


def _done_queue(cluster, ps_task):
    """The done queue of `ps_task`: int32 tokens (worker indices), one per worker.

    Every process builds it identically, so the shared name resolves to one queue on the ps.
    """
    with tf.device('/job:ps/task:%d' % ps_task):
        return tf.FIFOQueue(cluster.num_workers, tf.int32, shapes=[],
                            shared_name='done_queue_%d' % ps_task, name='done_queue_%d' % ps_task)


def worker_done_op(cluster):
    """An op putting this worker's token into every ps task's done queue.

    Run it once after training, in a tf.Session(server.target,
    config=device_filter_config(cluster)).
    """
    if cluster.job_name != WORKER_JOB:
        raise ValueError('worker_done_op is for worker tasks, not %s task %d.'
                         % (cluster.job_name, cluster.task_index))
    token = tf.constant(cluster.task_index, tf.int32)
    return tf.group(*[_done_queue(cluster, ps_task).enqueue(token)
                      for ps_task in range(cluster.num_ps_tasks)], name='worker_done')


def serve_until_workers_done(cluster, server):
    """On a ps task, serves variables until every worker has run its worker_done_op.

    Blocks until the ps's done queue has received one token per worker, then returns so the
    process can exit.
    """
    if cluster.job_name != PS_JOB:
        raise ValueError('serve_until_workers_done is for ps tasks, not %s task %d.'
                         % (cluster.job_name, cluster.task_index))
    with tf.Graph().as_default():
        next_done_worker = _done_queue(cluster, cluster.task_index).dequeue()
        with tf.Session(server.target, config=device_filter_config(cluster)) as session:
            for num_done in range(1, cluster.num_workers + 1):
                worker = session.run(next_done_worker)
                logging.info('ps task %d: worker %d is done (%d of %d)', cluster.task_index,
                             worker, num_done, cluster.num_workers)
    logging.info('ps task %d: every worker is done; shutting down', cluster.task_index)
