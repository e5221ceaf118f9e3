"""The cluster of a multi-machine run: parameter servers and workers on TensorFlow's runtime.

A process learns its cluster from --ps_hosts, --worker_hosts, --job_name and --task, or else
from the TF_CONFIG environment variable, and starts its own gRPC server. Workers train with
their variables on the parameter servers; worker task 0 is the chief, which writes checkpoints
and summaries.

Parameter servers serve until every worker is done: each ps task owns a "done queue" into
which every worker puts one token after training, and a ps process returns once it has
received a token from each worker, so the whole cluster exits cleanly.
"""

import dataclasses
import json
import os

import tensorflow.compat.v1 as tf
from absl import logging

import mixed_precision

PS_JOB = 'ps'
WORKER_JOB = 'worker'
# Model Garden and Estimator clusters name their first worker "chief"; it becomes worker 0.
CHIEF_JOB = 'chief'


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
            raise ValueError('%s is listed more than once in the cluster; give every task its '
                             'own host:port.' % ', '.join(repeated))

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

    def cluster_spec(self):
        return tf.train.ClusterSpec({PS_JOB: list(self.ps_hosts),
                                     WORKER_JOB: list(self.worker_hosts)})


def _parse_hosts(value, flag_name):
    """'h1:p1, h2:p2' -> ('h1:p1', 'h2:p2'); empty entries (a trailing comma) are skipped."""
    hosts = tuple(host.strip() for host in value.split(',') if host.strip())
    for host in hosts:
        _check_address(host, flag_name)
    return hosts


def _check_address(host, source):
    address, _, port = host.rpartition(':')
    if not address or not port.isdigit():
        raise ValueError('%s: %r is not a host:port address; write it like "localhost:2222".'
                         % (source, host))


def cluster_from_flags(ps_hosts, worker_hosts, job_name, task, environ=None):
    """The cluster of this process, from the flags or else from TF_CONFIG.

    Args:
      ps_hosts, worker_hosts: the comma-separated --ps_hosts and --worker_hosts.
      job_name: --job_name, 'ps' or 'worker'.
      task: --task, this process's index within its job (unused with TF_CONFIG).
      environ: the environment to read TF_CONFIG from; os.environ by default.
    Returns:
      A ClusterConfig, or None for single-machine training (no cluster flag and no
      TF_CONFIG cluster).
    Raises:
      ValueError: the flags or TF_CONFIG describe no valid cluster; the message says how to
        fix them.
    """
    if not (ps_hosts or worker_hosts or job_name):
        return _cluster_from_tf_config((os.environ if environ is None else environ)
                                       .get('TF_CONFIG', ''))
    if not ps_hosts and not worker_hosts:
        raise ValueError('--job_name=%s is set but --ps_hosts and --worker_hosts are not: set '
                         'them to the cluster\'s addresses, or unset --job_name to train on '
                         'this machine alone.' % job_name)
    if not ps_hosts or not worker_hosts:
        given, missing = (('--ps_hosts', '--worker_hosts') if ps_hosts
                          else ('--worker_hosts', '--ps_hosts'))
        raise ValueError(
            '%s is set but %s is not: parameter-server training needs both (at least one '
            'parameter server and one worker); set neither to train on this machine alone.'
            % (given, missing))
    if not job_name:
        raise ValueError('--ps_hosts and --worker_hosts are set but --job_name is not: set '
                         '--job_name=worker or --job_name=ps (and --task) for this process.')
    if job_name not in (PS_JOB, WORKER_JOB):
        raise ValueError('--job_name=%s is not a job of the cluster: use --job_name=worker or '
                         '--job_name=ps.' % job_name)
    ps = _parse_hosts(ps_hosts, '--ps_hosts')
    workers = _parse_hosts(worker_hosts, '--worker_hosts')
    if not ps:
        raise ValueError('--ps_hosts=%r lists no host: parameter-server training needs at '
                         'least one, like --ps_hosts=localhost:2222.' % ps_hosts)
    if not workers:
        raise ValueError('--worker_hosts=%r lists no host: list at least one, like '
                         '--worker_hosts=localhost:2223.' % worker_hosts)
    num_tasks = len(ps if job_name == PS_JOB else workers)
    if not 0 <= task < num_tasks:
        raise ValueError('--task=%d is out of range: --%s_hosts lists %d host(s), so use --task '
                         'from 0 to %d.' % (task, job_name, num_tasks, num_tasks - 1))
    return ClusterConfig(ps, workers, job_name, task)


def _cluster_from_tf_config(tf_config):
    """The ClusterConfig of a TF_CONFIG value, or None if it is empty or names no cluster.

    TF_CONFIG looks like {"cluster": {"ps": [...], "worker": [...], "chief": [one host]},
    "task": {"type": "worker", "index": 0}}; a "chief" becomes worker 0, ahead of the workers.
    """
    if not tf_config.strip():
        return None
    try:
        parsed = json.loads(tf_config)
    except json.JSONDecodeError as error:
        raise ValueError('TF_CONFIG is not valid JSON (%s): fix it or unset it to train on this '
                         'machine alone.' % error) from None
    if not isinstance(parsed, dict):
        raise ValueError('TF_CONFIG must be a JSON object like {"cluster": {...}, "task": '
                         '{...}}, not %r.' % tf_config)
    cluster = parsed.get('cluster') or {}
    if not cluster:
        return None
    if not isinstance(cluster, dict):
        raise ValueError('TF_CONFIG "cluster" must map job names to host lists, like {"ps": '
                         '["host:2222"], "worker": ["host:2223"]}, not %r.' % cluster)
    unknown_jobs = sorted(set(cluster) - {PS_JOB, WORKER_JOB, CHIEF_JOB})
    if unknown_jobs:
        raise ValueError('TF_CONFIG "cluster" has job(s) %s: this trainer runs only "chief", '
                         '"worker" and "ps"; remove the others.' % ', '.join(unknown_jobs))
    hosts = {}
    for job, job_hosts in cluster.items():
        if not isinstance(job_hosts, list):
            raise ValueError('TF_CONFIG "cluster" job "%s" must be a list of "host:port", not '
                             '%r.' % (job, job_hosts))
        for host in job_hosts:
            _check_address(str(host), 'TF_CONFIG "cluster" job "%s"' % job)
        hosts[job] = tuple(job_hosts)
    if len(hosts.get(CHIEF_JOB, ())) > 1:
        raise ValueError('TF_CONFIG "cluster" lists %d "chief" hosts; a cluster has one chief '
                         '(list the others under "worker").' % len(hosts[CHIEF_JOB]))
    ps = hosts.get(PS_JOB, ())
    workers = hosts.get(CHIEF_JOB, ()) + hosts.get(WORKER_JOB, ())
    if not ps:
        raise ValueError('TF_CONFIG "cluster" has no "ps" hosts: parameter-server training '
                         'needs at least one, like "ps": ["host:2222"].')
    if not workers:
        raise ValueError('TF_CONFIG "cluster" has no "worker" or "chief" hosts: list at least '
                         'one, like "worker": ["host:2223"].')

    task = parsed.get('task')
    if not isinstance(task, dict) or 'type' not in task:
        raise ValueError('TF_CONFIG has no "task" of this process: add one like "task": '
                         '{"type": "worker", "index": 0}.')
    task_type, index = task['type'], task.get('index', 0)
    if task_type not in hosts:
        raise ValueError('TF_CONFIG "task" type %r is not a job of its "cluster" (%s): use one '
                         'of those.' % (task_type, ', '.join(sorted(hosts))))
    num_tasks = len(hosts[task_type])
    if not isinstance(index, int) or not 0 <= index < num_tasks:
        raise ValueError('TF_CONFIG "task" index %r is out of range: "cluster" lists %d "%s" '
                         'host(s), so use an index from 0 to %d.'
                         % (index, num_tasks, task_type, num_tasks - 1))
    if task_type == PS_JOB:
        return ClusterConfig(ps, workers, PS_JOB, index)
    if task_type == WORKER_JOB:
        index += len(hosts.get(CHIEF_JOB, ()))
    return ClusterConfig(ps, workers, WORKER_JOB, index)


def device_filter_config(cluster):
    """The float32 ConfigProto of this process's sessions and server: its device filters.

    Device filters keep a session from waiting for tasks it never uses: a worker talks to the
    parameter servers and itself, not to the other workers, and a ps only to itself.
    """
    if cluster.job_name == PS_JOB:
        device_filters = ['/job:ps/task:%d' % cluster.task_index]
    else:
        device_filters = ['/job:ps', '/job:worker/task:%d' % cluster.task_index]
    config = mixed_precision.session_config()
    config.device_filters.extend(device_filters)
    return config


def start_server(cluster):
    """Starts and returns this process's tf.train.Server; sessions connect to its .target.

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
        cluster.job_name, cluster.task_index, address.rpartition(':')[2])
    return tf.train.Server(cluster.cluster_spec(), job_name=cluster.job_name,
                           task_index=cluster.task_index, config=device_filter_config(cluster))


def _done_queue(cluster, ps_task):
    """The done queue of `ps_task`: int32 tokens (worker indices), one per worker.

    Every process builds it identically, so the shared name resolves to one queue on the ps.
    """
    with tf.device('/job:ps/task:%d' % ps_task):
        return tf.FIFOQueue(cluster.num_workers, tf.int32, shapes=[],
                            shared_name='done_queue_%d' % ps_task, name='done_queue_%d' % ps_task)


def worker_done_op(cluster):
    """An op putting this worker's token into every ps task's done queue.

    Build it in the worker's training graph, before the graph is finalized, and run it once
    after training, in a tf.Session(server.target, config=device_filter_config(cluster)).
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
