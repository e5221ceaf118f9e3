"""The cross-device bytes of a step, read from traced runs (benchmarks/traffic.py), and the
claims of issue 25 they check: a ring all-reduce moves 2·(N−1)/N of the gradients per device,
parameter-server clones each read the variables and send the gradients."""

import pytest
import tensorflow.compat.v1 as tf
from support import run_script
from tensorflow.python.ops import collective_ops

from benchmarks import network_timing, traffic
from common.errors import ConfigurationError
from common.session import session_config

LOCAL = '/job:localhost/replica:0/task:0/device:'
CIFARNET_GRADIENT_BYTES = 4 * 1_756_426
# One clone's batch of 2 cifarnet images: the input a clone could receive.
CIFARNET_INPUT_BYTES = 4 * 2 * 32 * 32 * 3


def _traced_traffic(build, cpu_devices):
    """The `Traffic` of one run of the fetches `build()` makes in a new graph."""
    with tf.Graph().as_default() as graph:
        fetches = build()
        initialize = tf.global_variables_initializer()
    with tf.Session(graph=graph, config=session_config(cpu_devices=cpu_devices)) as session:
        session.run(initialize)
        return traffic.measure_step(session, fetches)


def _sum_on_cpu1(tensor):
    with tf.device('/device:CPU:1'):
        return tf.reduce_sum(tensor)


def test_tensors_crossing_devices_are_counted_once_each_by_their_bytes():
    def build():
        with tf.device('/device:CPU:0'):
            images = tf.random.uniform([100, 10])                   # 4,000 bytes
            weights = tf.Variable(tf.zeros([7, 3]))                 # 84 bytes
            # Random, so that Grappler cannot fold them into constants on CPU:1.
            labels = tf.random.uniform([50], 0, 10, tf.int64)       # 400 bytes
            small, large = tf.random.uniform([5]), tf.random.uniform([9000])
            local = tf.reduce_sum(images)                           # stays on CPU:0
            # The branches' inputs are switched on CPU:0 and summed on CPU:1, whose sums
            # come back to the cond's result on CPU:0: 4 bytes each way if taken.
            taken = tf.cond(tf.Variable(True), lambda: _sum_on_cpu1(small),
                            lambda: _sum_on_cpu1(large))
        with tf.device('/device:CPU:1'):
            # images and weights each cross once, however many ops read them.
            total = (tf.reduce_sum(images) + tf.reduce_max(images) + tf.reduce_sum(weights)
                     + tf.cast(tf.reduce_sum(labels), tf.float32) + taken)
        with tf.device('/device:CPU:0'):
            return tf.stack([local, total])                         # total: 4 bytes back

    step = _traced_traffic(build, cpu_devices=2)
    cpu0, cpu1 = LOCAL + 'CPU:0', LOCAL + 'CPU:1'
    # The taken branch sends its 20 bytes and the cond's result, 4; the untaken one, dead,
    # none of its 36,000 (nor the empty tensors standing for control edges).
    assert step.devices == {
        cpu0: traffic.DeviceTraffic(sent_bytes=4000 + 84 + 400 + 20 + 4, received_bytes=8),
        cpu1: traffic.DeviceTraffic(sent_bytes=8, received_bytes=4000 + 84 + 400 + 20 + 4)}
    assert step.transfer_bytes == step.total_bytes == 4516 and step.all_reduce_bytes == 0
    assert step.busiest_device_bytes == 4508
    assert traffic.short_device_name(cpu1) == 'CPU:1'


def test_an_all_reduce_moves_the_ring_share_of_its_tensor_on_every_device():
    def build():
        reduced = []
        for device in range(3):
            with tf.device('/device:CPU:%d' % device):
                gradient = tf.fill([1000], float(device))           # 4,000 bytes
                reduced.append(tf.reduce_sum(collective_ops.all_reduce(
                    gradient, group_size=3, group_key=1, instance_key=1, merge_op='Add',
                    final_op='Id')))
        with tf.device('/device:CPU:0'):
            return tf.add_n(reduced)                                # 2 scalars in

    step = _traced_traffic(build, cpu_devices=3)
    ring_share = 2 * 2 / 3 * 4000
    assert traffic.ring_all_reduce_bytes(4000, 3) == pytest.approx(ring_share)
    assert {name: device.all_reduce_bytes for name, device in step.devices.items()} == {
        LOCAL + 'CPU:%d' % device: pytest.approx(ring_share) for device in range(3)}
    assert step.all_reduce_bytes == pytest.approx(3 * ring_share)
    assert step.transfer_bytes == 8 and step.devices[LOCAL + 'CPU:0'].received_bytes == 8
    assert step.busiest_device_bytes == pytest.approx(ring_share + 8)


def _node_stats(device_stats, name, dtype, shape):
    output = device_stats.node_stats.add(node_name=name).output.add(slot=0)
    output.tensor_description.dtype = dtype.as_datatype_enum
    for size in shape:
        output.tensor_description.shape.dim.add(size=size)


def test_nccl_all_reduces_and_host_transfers_of_gpus_are_counted():
    # The run metadata of 4 GPUs as TensorFlow writes it: these CPU-only tests cannot run it.
    run_metadata = tf.RunMetadata()
    graph = run_metadata.partition_graphs.add()
    for index in range(4):
        gpu = LOCAL + 'GPU:%d' % index
        graph.node.add(name='grad', op='Mul', device=gpu)
        nccl = graph.node.add(name='nccl', op='NcclAllReduce', device=gpu, input=['grad'])
        nccl.attr['num_devices'].i = 4
        device_stats = run_metadata.step_stats.dev_stats.add(device=gpu)
        _node_stats(device_stats, 'grad', tf.float16, [10, 100])
        _node_stats(device_stats, 'nccl', tf.float16, [10, 100])
    graph.node.add(name='step_size', op='Const', device=LOCAL + 'GPU:0')
    send = graph.node.add(name='send', op='_HostSend', device=LOCAL + 'GPU:0',
                          input=['step_size:0'])
    send.attr['send_device'].s = (LOCAL + 'GPU:0').encode()
    send.attr['recv_device'].s = (LOCAL + 'CPU:0').encode()
    _node_stats(run_metadata.step_stats.dev_stats[0], 'step_size', tf.int64, [])

    step = traffic.traffic_of_run(run_metadata)
    assert step.devices[LOCAL + 'GPU:3'] == traffic.DeviceTraffic(all_reduce_bytes=3000)
    assert step.devices[LOCAL + 'GPU:0'] == traffic.DeviceTraffic(sent_bytes=8,
                                                                  all_reduce_bytes=3000)
    assert step.devices[LOCAL + 'CPU:0'] == traffic.DeviceTraffic(received_bytes=8)
    assert step.total_bytes == 4 * 3000 + 8


def test_a_run_without_partition_graphs_or_trace_is_refused():
    with pytest.raises(ValueError, match='output_partition_graphs'):
        traffic.traffic_of_run(tf.RunMetadata())
    run_metadata = tf.RunMetadata()
    run_metadata.partition_graphs.add()
    with pytest.raises(ValueError, match='FULL_TRACE'):
        traffic.traffic_of_run(run_metadata)


def _time_cifarnet(num_clones, variable_update):
    return network_timing.time_network(
        'cifarnet', batch_size=2, num_batches=1, burn_in=1, mode='train_step', num_classes=10,
        num_clones=num_clones, variable_update=variable_update)


@pytest.mark.parametrize('num_clones', [2, 4])
def test_replicated_clones_all_reduce_the_ring_share_of_their_gradients(num_clones):
    timing = _time_cifarnet(num_clones, 'replicated')
    assert timing.gradient_bytes == CIFARNET_GRADIENT_BYTES
    assert timing.images_per_sec == pytest.approx(2 * num_clones / timing.sec_per_batch_mean)
    step = timing.step_traffic
    assert len(step.devices) == num_clones
    ring_share = 2 * (num_clones - 1) / num_clones * CIFARNET_GRADIENT_BYTES
    for device in step.devices.values():
        # Every gradient, once: all-reduces of anything else would exceed the share.
        assert device.all_reduce_bytes == pytest.approx(ring_share, rel=1e-6)
        # The bound: the ring share plus the input (made on each device here).
        assert device.busiest_direction_bytes <= ring_share + CIFARNET_INPUT_BYTES


@pytest.mark.parametrize('num_clones', [2, 4])
def test_parameter_server_clones_each_read_the_variables_and_send_the_gradients(num_clones):
    timing = _time_cifarnet(num_clones, 'parameter_server')
    step = timing.step_traffic
    assert step.all_reduce_bytes == 0
    # Clone 0 shares /device:CPU:0 with the variables: each other clone receives the
    # variables and sends its gradients (on GPUs, all N clones do).
    clones = [step.devices[LOCAL + 'CPU:%d' % index] for index in range(1, num_clones)]
    for clone in clones:
        assert clone.received_bytes == pytest.approx(CIFARNET_GRADIENT_BYTES, rel=0.01)
        assert clone.sent_bytes == pytest.approx(CIFARNET_GRADIENT_BYTES, rel=0.01)
    assert step.total_bytes == pytest.approx(
        (num_clones - 1) * 2 * CIFARNET_GRADIENT_BYTES, rel=0.01)
    assert step.busiest_device_bytes == pytest.approx(
        (num_clones - 1) * CIFARNET_GRADIENT_BYTES, rel=0.01)


def test_clones_are_refused_outside_train_step():
    with pytest.raises(ConfigurationError, match=r'--num_clones=2 --variable_update=parameter_'
                                                 r'server: .* --mode=train_step only, not '
                                                 r'--mode=forward'):
        network_timing.time_network('lenet', mode='forward', num_clones=2)
    with pytest.raises(ConfigurationError, match='--mode=forward_backward'):
        network_timing.time_network('lenet', mode='forward_backward',
                                    variable_update='replicated')


def test_benchmark_script_prints_the_traffic_of_each_device(tmp_path):
    result = run_script(
        'benchmark_nets.py', '--model_name=cifarnet', '--batch_size=2', '--num_batches=1',
        '--burn_in=1', '--num_classes=10', '--mode=train_step', '--num_clones=2',
        '--variable_update=replicated', cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[2].startswith('| cifarnet | train_step | float32 | 2×2 | 32 |')
    assert lines[4].startswith('| network | precision | clones | variable update | images/sec '
                               '| cross-device MB/step |')
    # 7.0 MB of gradients, all-reduced: 7.0 MB per device each way, 14.1 MB in all.
    assert lines[6].startswith('| cifarnet | float32 | 2 | replicated |')
    assert lines[6].endswith('| 14.1 | 0.0 | 14.1 | 7.0 | 7.0 |')
    assert lines[10:] == ['| cifarnet | float32 | 2 | replicated | CPU:%d | 0.0 | 0.0 | 7.0 |'
                          % device for device in range(2)]
