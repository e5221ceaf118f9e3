"""Deploys a model as clones on one machine's GPUs (or CPU), as TF-Slim's trainer did.

Each clone builds the whole model on its own device and input batch, sharing one set of
variables: on the CPU of the machine, or spread over the parameter servers when training
runs on a cluster of worker replicas. The clones' gradients are summed before one optimizer
update, so N clones of batch B train like one model of batch N*B.
"""

import collections
import dataclasses

import tensorflow.compat.v1 as tf
import tf_slim as slim

from common import summaries
from common.errors import ConfigurationError
from deployment import replication

Clone = collections.namedtuple('Clone', ['outputs', 'scope', 'device'])

PARAMETER_SERVER = 'parameter_server'
REPLICATED = 'replicated'
VARIABLE_UPDATES = (PARAMETER_SERVER, REPLICATED)

# The op types that hold a variable's value; only these are placed on parameter servers.
VARIABLE_OP_TYPES = frozenset(['Variable', 'VariableV2', 'VarHandleOp'])


class _ParameterServerChooser:
    """A device function placing variable ops round-robin on the parameter-server tasks.

    Other ops, and variable ops already given a device, keep the device they have.
    """

    def __init__(self, ps_job_name, num_ps_tasks):
        self._ps_job_name = ps_job_name
        self._num_ps_tasks = num_ps_tasks
        self._next_task = 0

    def __call__(self, op):
        if op.device or op.type not in VARIABLE_OP_TYPES:
            return op.device
        task = self._next_task
        self._next_task = (task + 1) % self._num_ps_tasks
        return '/job:%s/task:%d/device:CPU:0' % (self._ps_job_name, task)


@dataclasses.dataclass(frozen=True)
class DeploymentConfig:
    """Where clones, variables, inputs and the optimizer live.

    Attributes:
      num_clones: model copies per machine, one per GPU (or all on the CPU).
      clone_on_cpu: put every clone on the CPU instead of GPU i.
      replica_id: this worker's task index in the cluster (--task); 0 is the chief.
      num_replicas: worker replicas training together (--worker_replicas).
      num_ps_tasks: parameter-server tasks holding the variables (--num_ps_tasks); 0 keeps
        the variables on this machine's CPU.
      worker_job_name: the cluster's job name of the workers.
      ps_job_name: the cluster's job name of the parameter servers.
      variable_update: PARAMETER_SERVER (one set of variables, on the CPU or the parameter
        servers, read by every clone) or REPLICATED (a copy on each clone's device, kept
        equal by all-reducing the gradients; workers need no parameter server).
      split_cpu: with `clone_on_cpu`, clone i runs on logical CPU device i (sessions get
        `cpu_devices()` of them) rather than all on CPU:0. Replicated clones always split.
    """

    num_clones: int = 1
    clone_on_cpu: bool = False
    replica_id: int = 0
    num_replicas: int = 1
    num_ps_tasks: int = 0
    worker_job_name: str = 'worker'
    ps_job_name: str = 'ps'
    variable_update: str = PARAMETER_SERVER
    split_cpu: bool = False

    def __post_init__(self):
        if self.variable_update not in VARIABLE_UPDATES:
            raise ConfigurationError('--variable_update=%s is not one of %s.'
                                     % (self.variable_update, ', '.join(VARIABLE_UPDATES)))
        if self.replicated and self.num_ps_tasks:
            raise ConfigurationError(
                '--variable_update=replicated keeps the variables on the workers\' devices, so '
                'it takes no parameter server (--num_ps_tasks=%d, or "ps" in --ps_hosts or '
                'TF_CONFIG): drop them, or use --variable_update=parameter_server.'
                % self.num_ps_tasks)
        if self.num_clones < 1:
            raise ConfigurationError('--num_clones must be at least 1, got %d.' % self.num_clones)
        if self.num_replicas < 1:
            raise ConfigurationError('--worker_replicas must be at least 1, '
                                     'got %d.' % self.num_replicas)
        if not 0 <= self.replica_id < self.num_replicas:
            raise ConfigurationError(
                '--task=%d is not a worker of --worker_replicas=%d: set --task to this '
                'worker\'s index, from 0 to %d.'
                % (self.replica_id, self.num_replicas, self.num_replicas - 1))
        if self.num_ps_tasks < 0:
            raise ConfigurationError('--num_ps_tasks must be 0 or more, got '
                                     '%d.' % self.num_ps_tasks)
        if self.num_replicas > 1 and self.num_ps_tasks < 1 and not self.replicated:
            raise ConfigurationError(
                '--worker_replicas=%d needs --num_ps_tasks of at least 1: replicas share their '
                'variables through the parameter servers.' % self.num_replicas)
        if self.num_ps_tasks > 0:
            for field in ('worker_job_name', 'ps_job_name'):
                if not getattr(self, field):
                    raise ConfigurationError('%s must name a job of the cluster when '
                                             '--num_ps_tasks=%d, got '
                                             'an empty name.' % (field, self.num_ps_tasks))

    @property
    def replicated(self):
        """Whether each clone holds its own copy of the variables."""
        return self.variable_update == REPLICATED

    @property
    def num_devices(self):
        """The clones of every worker together: the devices that all-reduce the gradients."""
        return self.num_clones * self.num_replicas

    def cpu_devices(self):
        """The logical CPU devices this worker's sessions need (see `split_cpu`)."""
        splits = self.clone_on_cpu and (self.split_cpu or self.replicated)
        return self.num_clones if splits else 1

    @property
    def is_chief(self):
        """Whether this worker initialises, checkpoints and summarises (task 0)."""
        return self.replica_id == 0

    def _worker_device(self):
        """This worker's job and task on a cluster, '' on a single machine."""
        if not self.num_ps_tasks and self.num_replicas == 1:
            return ''
        return '/job:%s/task:%d' % (self.worker_job_name, self.replica_id)

    def caller_device(self):
        """The device of the ops built outside the clones: any device of this worker."""
        return self._worker_device()

    def clone_device(self, clone_index):
        # Sessions allow soft placement, so GPU:i falls back to the CPU when absent.
        if self.clone_on_cpu:
            device = '/device:CPU:%d' % (clone_index if self.cpu_devices() > 1 else 0)
        else:
            device = '/device:GPU:%d' % clone_index
        return self._worker_device() + device

    def clone_scope(self, clone_index):
        return 'clone_%d' % clone_index if self.num_clones > 1 else ''

    def variables_device(self):
        """'/device:CPU:0', or with parameter servers a device function for `tf.device`.

        The function places variable ops round-robin on the parameter-server tasks, starting
        from task 0 at each call, and leaves every other op where it is.
        """
        if not self.num_ps_tasks:
            return '/device:CPU:0'
        return _ParameterServerChooser(self.ps_job_name, self.num_ps_tasks)

    def inputs_device(self):
        return self._worker_device() + '/device:CPU:0'

    def optimizer_device(self):
        return self._worker_device() + '/device:CPU:0'


def create_clones(config, model_fn, args=None, kwargs=None, replicas=None):
    """Calls `model_fn(*args, **kwargs)` once per clone.

    The clones share one set of variables, or with `replicas` (a `replication.Replicas`, in
    replicated mode) each clone builds its own copy of them on its own device.

    Returns:
      A list of `Clone(outputs, scope, device)`, one per clone, in order.
    """
    clones = []
    for index in range(config.num_clones):
        device = config.clone_device(index)
        variables_device = device if replicas else config.variables_device()
        with slim.arg_scope([slim.model_variable, slim.variable], device=variables_device), \
                tf.name_scope(config.clone_scope(index)) as clone_scope, tf.device(device), \
                _clone_variable_scope(index, replicas):
            outputs = model_fn(*(args or []), **(kwargs or {}))
        clones.append(Clone(outputs, clone_scope, device))
    return clones


def _clone_variable_scope(clone_index, replicas):
    """Clone `clone_index`'s variable scope: its replicas' scope, or the first clone's
    variables reused."""
    if replicas:
        return replicas.model_scope(clone_index)
    return tf.variable_scope(tf.get_variable_scope(), reuse=True if clone_index > 0 else None)


def _clone_loss(clone, num_clones, regularization_losses):
    """The clone's share of the total loss: its losses / num_clones, plus regularization."""
    clone_losses = tf.get_collection(tf.GraphKeys.LOSSES, clone.scope)
    if not clone_losses:
        raise ValueError('The model function of clone %r added no loss to tf.GraphKeys.LOSSES.'
                         % clone.scope)
    loss = tf.add_n(clone_losses, name='clone_loss')
    if num_clones > 1:
        loss = tf.div(loss, float(num_clones), name='scaled_clone_loss')
        summaries.scalar('%s/clone_loss' % clone.scope.rstrip('/'), loss)
    if regularization_losses:
        regularization = tf.add_n(regularization_losses, name='regularization_loss')
        summaries.scalar('regularization_loss', regularization)
        loss = tf.add(loss, regularization, name='clone_total_loss')
    return loss


def _sum_gradients(clone_grads_and_vars):
    """Sums each variable's gradients over clones; drops variables without gradient."""
    summed = []
    for per_clone in zip(*clone_grads_and_vars, strict=True):
        variable = per_clone[0][1]
        grads = [grad for grad, _ in per_clone if grad is not None]
        if not grads:
            continue
        summed.append((grads[0] if len(grads) == 1 else tf.add_n(grads), variable))
    return summed


def clone_gradients(clones, optimizers, var_lists, regularization_losses=None):
    """Computes the total loss and each clone's gradients of its share of it.

    Clone i's gradients are computed by `optimizers[i]` with respect to `var_lists[i]`.
    Regularization losses are counted once (with the first clone), however many clones.

    Returns:
      (total_loss scalar tensor, [clone][(gradient, variable)]).
    """
    if regularization_losses is None:
        regularization_losses = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    clone_losses = []
    clone_grads_and_vars = []
    for index, (clone, optimizer, var_list) in enumerate(
            zip(clones, optimizers, var_lists, strict=True)):
        with tf.name_scope(clone.scope), tf.device(clone.device):
            loss = _clone_loss(clone, len(clones), regularization_losses if index == 0 else None)
            clone_losses.append(loss)
            clone_grads_and_vars.append(optimizer.compute_gradients(loss, var_list=var_list))
    total_loss = tf.add_n(clone_losses, name='total_loss')
    return total_loss, clone_grads_and_vars


def optimize_clones(clones, optimizer, regularization_losses=None, var_list=None):
    """Computes the total loss and the clone-summed gradients of shared variables.

    Returns:
      (total_loss scalar tensor, list of (gradient, variable)).
    """
    total_loss, clone_grads_and_vars = clone_gradients(
        clones, [optimizer] * len(clones), [var_list] * len(clones), regularization_losses)
    return total_loss, _sum_gradients(clone_grads_and_vars)


def all_reduce_gradients(config, clones, clone_grads_and_vars, collective_keys):
    """Each clone's gradients summed over the clones of every worker by all-reduce.

    Clone i's k-th gradient belongs to its copy of the k-th variable. Across workers the
    sums are divided by the number of workers, so that N workers train like one with N
    times the batch (as synchronous replicas do).

    Returns:
      [clone][(summed gradient on the clone's device, the clone's variable)], without the
      variables that have no gradient.
    """
    present = [k for k, (gradient, _) in enumerate(clone_grads_and_vars[0])
               if gradient is not None]
    gradients = [[tf.convert_to_tensor(grads_and_vars[k][0]) for k in present]
                 for grads_and_vars in clone_grads_and_vars]
    sums = replication.all_reduce_sums(gradients, [clone.device for clone in clones], config,
                                       collective_keys)
    reduced = []
    for clone, clone_sums, grads_and_vars in zip(clones, sums, clone_grads_and_vars,
                                                 strict=True):
        with tf.device(clone.device):
            if config.num_replicas > 1:
                clone_sums = [total / float(config.num_replicas) for total in clone_sums]
            reduced.append([(total, grads_and_vars[k][1])
                            for total, k in zip(clone_sums, present, strict=True)])
    return reduced
