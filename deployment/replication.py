"""Replicated variables: each clone trains its own copy of the weights on its own device.

Clone 0 builds the model's variables under their usual names, so checkpoints are those of a
single-clone run. Every other clone gets a copy of each trainable variable (and its optimizer
builds copies of its state), named `replica_<i>/<name>` and kept out of the checkpoints as
local variables. Non-trainable variables (batch-norm statistics) stay single and follow
clone 0, as in a single-clone run.

The clones' gradients are summed by all-reduce, TensorFlow's own: NCCL between the GPUs of
one machine, collective ops (a ring) on CPU devices and between workers. Every copy then
applies the same update. The copies start equal: after the variables are initialised or
restored, `sync_op` copies clone 0's into the others (and, across workers, the chief's into
every worker's).
"""

import contextlib

import tensorflow.compat.v1 as tf
from tensorflow.python.ops import collective_ops, nccl_ops

from common import devices

# The collection of the copies of clones 1..n-1 (weights and optimizer state).
REPLICA_COPIES = 'replica_copies'

# Collective group keys: every device of every worker, and one device per worker.
_ALL_DEVICES_GROUP = 1
_ONE_PER_WORKER_GROUP = 2

# Seconds a collective op waits for the other devices or workers before failing the step
# (0 waits forever); long enough for a slow first step of a large network.
COLLECTIVE_TIMEOUT_SECS = 600


def replica_name(name, clone_index):
    """The name of clone `clone_index`'s copy of variable `name` (op name, no ':0')."""
    return name if clone_index == 0 else 'replica_%d/%s' % (clone_index, name)


def _is_trainable(kwargs):
    # get_variable's default (None) is trainable.
    return kwargs.get('trainable') is not False


def _local_collections(kwargs):
    """`kwargs` of a variable made a local copy: out of checkpoints, out of training lists."""
    return dict(kwargs, collections=[tf.GraphKeys.LOCAL_VARIABLES, REPLICA_COPIES],
                trainable=False)


class Replicas:
    """The variable copies of one worker's clones, and the ops that keep them equal.

    `copies[i]` maps the name of each of clone 0's trainable variables to clone i's copy
    (clone 0 maps to its own variables).
    """

    def __init__(self, num_clones):
        self.num_clones = num_clones
        self.copies = [{} for _ in range(num_clones)]
        self._state_pairs = []  # (clone 0's variable, a copy) of optimizer state.

    @contextlib.contextmanager
    def model_scope(self, clone_index):
        """Builds clone `clone_index`'s model: clone 0's variables as usual; in the others,
        a local copy of each trainable variable, and clone 0's non-trainable ones shared."""
        if clone_index == 0:
            with tf.variable_scope(tf.get_variable_scope(), custom_getter=self._primary_getter):
                yield
            return

        def copy_getter(getter, name, *args, **kwargs):
            if not _is_trainable(kwargs):
                return getter(name, *args, **dict(kwargs, reuse=True))
            # Weight decay is counted once, on clone 0's variables.
            copy = getter(replica_name(name, clone_index), *args,
                          **_local_collections(dict(kwargs, regularizer=None)))
            self.copies[clone_index][name] = copy
            return copy

        with tf.variable_scope(tf.get_variable_scope(), custom_getter=copy_getter):
            yield

    def _primary_getter(self, getter, name, *args, **kwargs):
        variable = getter(name, *args, **kwargs)
        if _is_trainable(kwargs):
            self.copies[0][name] = variable
        return variable

    def variables_of(self, clone_index, variables):
        """Clone `clone_index`'s copies of clone 0's `variables`, in order."""
        return [self.copies[clone_index][variable.op.name] for variable in variables]

    @contextlib.contextmanager
    def optimizer_scope(self, clone_index):
        """Builds clone `clone_index`'s optimizer: the state it creates (slots, Adam's
        powers, the loss scale) is a local copy, outside checkpoints, for clones 1..n-1."""
        if clone_index == 0:
            yield
            return

        prefix = replica_name('', clone_index)

        def local_creator(next_creator, **kwargs):
            # Slots are named after their (copied) variable already; other state is not.
            name = kwargs.get('name')
            if name and not name.startswith(prefix):
                kwargs['name'] = prefix + name
            return next_creator(**_local_collections(kwargs))

        with tf.variable_creator_scope(local_creator):
            yield

    def pair_optimizer_state(self, optimizer, clone_optimizer, clone_index):
        """Records which state variable of `clone_optimizer` (a tf.train.Optimizer of clone
        `clone_index`, applied to its copies) copies which of clone 0's `optimizer`."""
        pairs = []
        for name, copy in self.copies[clone_index].items():
            primary = self.copies[0][name]
            for slot_name in optimizer.get_slot_names():
                slot = optimizer.get_slot(primary, slot_name)
                if slot is not None:
                    pairs.append((slot, clone_optimizer.get_slot(copy, slot_name)))
        slots = {id(copy) for _, copy in pairs} | {id(primary) for primary, _ in pairs}
        # The other state (Adam's powers): one per optimizer, in the same order by name.
        other = [[v for v in opt.variables() if id(v) not in slots]
                 for opt in (optimizer, clone_optimizer)]
        pairs.extend(zip(*other, strict=True))
        self._state_pairs.extend(pairs)

    def copy_pairs(self):
        """(clone 0's variable, a copy of it) for every copy of every clone."""
        weights = [(self.copies[0][name], copy) for copies in self.copies[1:]
                   for name, copy in copies.items()]
        return weights + self._state_pairs

    def sync_op(self, deploy_config, collective_keys, after=None):
        """The op making every copy equal to clone 0's variable.

        On a cluster of workers it first gives every worker the chief's values of all
        global variables (weights, optimizer state, global step, batch-norm statistics,
        moving averages). `after`: ops that must run first (the variables' initialisers).
        """
        with tf.control_dependencies(after or []):
            from_chief = (broadcast_from_chief(tf.global_variables(), deploy_config,
                                               collective_keys)
                          if deploy_config.num_replicas > 1 else tf.no_op())
        with tf.control_dependencies([from_chief]):
            copies = [copy.assign(primary.read_value()) for primary, copy in self.copy_pairs()]
        return tf.group(from_chief, *copies, name='sync_replicas')


class CollectiveKeys:
    """Instance keys of collective ops, the same in every worker's graph when the workers
    build their graphs in the same order."""

    def __init__(self):
        self._next = 1

    def next_instance(self):
        key = self._next
        self._next += 1
        return key


def all_reduce_sums(tensors_per_clone, clone_devices, deploy_config, collective_keys):
    """Sums each tensor over every clone of every worker.

    Args:
      tensors_per_clone: [clone][k] tensors; the k-th tensors of all clones have one shape.
      clone_devices: this worker's clone devices, in clone order.
    Returns:
      [clone][k]: on each clone's device, the sums of the k-th tensors.
    """
    if deploy_config.num_devices == 1:
        return tensors_per_clone
    num_tensors = len(tensors_per_clone[0])
    by_tensor = [[clone[k] for clone in tensors_per_clone] for k in range(num_tensors)]
    # GPU device names fall back to the CPU on a machine without GPUs (soft placement).
    nccl = (deploy_config.num_replicas == 1 and not deploy_config.clone_on_cpu
            and bool(devices.gpu_names()))
    sums = []
    for tensors in by_tensor:
        if nccl:
            # NCCL's all-reduce between the GPUs of this machine.
            sums.append(nccl_ops.all_sum(tensors))
            continue
        instance_key = collective_keys.next_instance()
        reduced = []
        for tensor, device in zip(tensors, clone_devices, strict=True):
            with tf.device(device):
                reduced.append(collective_ops.all_reduce(
                    tensor, deploy_config.num_devices, _ALL_DEVICES_GROUP, instance_key,
                    merge_op='Add', final_op='Id', timeout=COLLECTIVE_TIMEOUT_SECS))
        sums.append(reduced)
    return [[sums[k][clone] for k in range(num_tensors)] for clone in range(len(clone_devices))]


def broadcast_from_chief(variables, deploy_config, collective_keys):
    """The op giving every worker the chief's values of `variables` (each worker's graph
    lists the same variables in the same order)."""
    device = deploy_config.inputs_device()
    updates = []
    with tf.device(device):
        for variable in variables:
            instance_key = collective_keys.next_instance()
            shape, dtype = variable.shape, variable.dtype.base_dtype
            arguments = dict(group_size=deploy_config.num_replicas,
                             group_key=_ONE_PER_WORKER_GROUP, instance_key=instance_key,
                             timeout=COLLECTIVE_TIMEOUT_SECS)
            if deploy_config.is_chief:
                updates.append(collective_ops.broadcast_send(
                    variable.read_value(), shape, dtype, **arguments))
            else:
                updates.append(variable.assign(collective_ops.broadcast_recv(
                    shape, dtype, **arguments)))
    return tf.group(*updates, name='broadcast_from_chief')
