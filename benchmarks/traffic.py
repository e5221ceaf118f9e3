"""The bytes a training step moves between devices, read from one traced run of it.

TensorFlow partitions a session's graph per device. A tensor that one device makes and
another uses crosses between them through a `_Send`/`_Recv` pair (`_HostSend`/`_HostRecv`
for host-memory tensors of a GPU); an all-reduce (`CollectiveReduce` of
`collective_ops.all_reduce`, or NCCL's `NcclAllReduce`) moves data inside one op per device.
`measure_step` runs a step with `output_partition_graphs` and a full trace, then:
- each `_Send` whose `send_device` is not its `recv_device` moves the tensor it sends, whose
  dtype and shape the step stats give (as the output of the op that made it);
- each all-reduce of a tensor of T bytes over a group of N devices is counted as a ring
  all-reduce: every device sends, and receives, 2·(N−1)/N·T bytes (a reduce-scatter then an
  all-gather, each passing N−1 chunks of T/N bytes). The formula is the algorithm's; T and N
  are read from the run. NCCL picks rings for large tensors, and its trees move as much.
"""

import collections
import dataclasses
import math

import tensorflow.compat.v1 as tf

SEND_OP_TYPES = frozenset(['_Send', '_HostSend'])
# The all-reduce op types and the attribute holding the number of devices they reduce over.
ALL_REDUCE_GROUP_SIZE_ATTRS = {'CollectiveReduce': 'group_size', 'NcclAllReduce': 'num_devices'}

MEGABYTE = 1e6


@dataclasses.dataclass(frozen=True)
class DeviceTraffic:
    """The bytes one device moves in a step.

    sent_bytes, received_bytes: through `_Send`/`_Recv` pairs.
    all_reduce_bytes: through all-reduces, in each direction (sent, and as many received).
    """

    sent_bytes: int = 0
    received_bytes: int = 0
    all_reduce_bytes: float = 0.0

    @property
    def busiest_direction_bytes(self):
        """The larger of the bytes sent and the bytes received, all-reduces included: the
        load on the device's link, whose directions carry data at the same time."""
        return max(self.sent_bytes, self.received_bytes) + self.all_reduce_bytes


@dataclasses.dataclass(frozen=True)
class Traffic:
    """The cross-device bytes of a step: {device name: `DeviceTraffic`}."""

    devices: dict

    @property
    def transfer_bytes(self):
        """The bytes of all `_Send`/`_Recv` pairs (each counted once)."""
        return sum(device.sent_bytes for device in self.devices.values())

    @property
    def all_reduce_bytes(self):
        """The bytes all-reduces move between devices (each counted once)."""
        return sum(device.all_reduce_bytes for device in self.devices.values())

    @property
    def total_bytes(self):
        return self.transfer_bytes + self.all_reduce_bytes

    @property
    def busiest_device_bytes(self):
        """The bytes of the busiest device in its busiest direction (0 without traffic)."""
        return max((device.busiest_direction_bytes for device in self.devices.values()),
                   default=0)


def ring_all_reduce_bytes(tensor_bytes, group_size):
    """The bytes each of `group_size` devices sends (and receives) to all-reduce a tensor of
    `tensor_bytes` bytes on a ring: 2·(N−1)/N·T."""
    return 2 * (group_size - 1) / group_size * tensor_bytes


def short_device_name(device):
    """'CPU:1' for a device of this process ('/job:localhost/.../device:CPU:1'), else the
    whole name."""
    spec = tf.DeviceSpec.from_string(device)
    if spec.job == 'localhost':
        return '%s:%d' % (spec.device_type, spec.device_index)
    return device


def measure_step(session, fetches):
    """Runs `fetches` once in `session`, traced; returns the step's `Traffic`."""
    run_metadata = tf.RunMetadata()
    session.run(fetches, run_metadata=run_metadata, options=tf.RunOptions(
        output_partition_graphs=True, trace_level=tf.RunOptions.FULL_TRACE))
    return traffic_of_run(run_metadata)


def _tensor_bytes(tensor_description):
    """The bytes of the tensor a step-stats `TensorDescription` describes."""
    elements = math.prod(dim.size for dim in tensor_description.shape.dim)
    # Handles and strings have no fixed element size: their buffer tells.
    return (elements * tf.as_dtype(tensor_description.dtype).size
            or tensor_description.allocation_description.requested_bytes)


def _output_bytes(step_stats):
    """{(device, op name, output index): bytes} of every output the step computed."""
    return {(device_stats.device, node_stats.node_name, output.slot):
            _tensor_bytes(output.tensor_description)
            for device_stats in step_stats.dev_stats
            for node_stats in device_stats.node_stats
            for output in node_stats.output}


def _tensor_key(device, tensor_name):
    """(device, op name, output index) of the input `tensor_name` ('op' or 'op:index')."""
    op_name, _, index = tensor_name.partition(':')
    return device, op_name, int(index or 0)


def traffic_of_run(run_metadata):
    """The `Traffic` of a run made with `output_partition_graphs` and a full trace.

    Raises:
      ValueError: the run has no partition graph or no step stats.
    """
    if not run_metadata.partition_graphs:
        raise ValueError('The run has no partition graphs: run it with '
                         'RunOptions(output_partition_graphs=True).')
    if not run_metadata.step_stats.dev_stats:
        raise ValueError('The run has no step stats: run it with '
                         'RunOptions(trace_level=FULL_TRACE).')
    output_bytes = _output_bytes(run_metadata.step_stats)

    def sent_bytes(send):
        # The partitioner puts a _Send next to the op making its tensor. A traced run has
        # stats of every tensor made: one without was dead (of an untaken tf.cond branch),
        # and sends none of its data.
        return output_bytes.get(_tensor_key(send.device, send.input[0]), 0)

    sent = collections.Counter()
    received = collections.Counter()
    all_reduced = collections.Counter()
    for node in (node for graph in run_metadata.partition_graphs for node in graph.node):
        if node.op in SEND_OP_TYPES:
            source, destination = (node.attr['send_device'].s.decode(),
                                   node.attr['recv_device'].s.decode())
            if source != destination:
                size = sent_bytes(node)
                sent[source] += size
                received[destination] += size
        elif node.op in ALL_REDUCE_GROUP_SIZE_ATTRS:
            group_size = node.attr[ALL_REDUCE_GROUP_SIZE_ATTRS[node.op]].i
            all_reduced[node.device] += ring_all_reduce_bytes(
                output_bytes[node.device, node.name, 0], group_size)
    return Traffic({device: DeviceTraffic(sent[device], received[device], all_reduced[device])
                    for device in sorted(set(sent) | set(received) | set(all_reduced))})
