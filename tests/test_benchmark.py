"""The network timing benchmark."""

import os
import subprocess
import sys

import pytest

from benchmarks import network_timing

# LeNet on a 28x28x3 image: two multiply-adds per weight use of its convolutions and layers.
LENET_FORWARD_FLOPS = 2 * (28 * 28 * 32 * 5 * 5 * 3 + 14 * 14 * 64 * 5 * 5 * 32
                           + 7 * 7 * 64 * 1024 + 1024 * 10)


@pytest.mark.parametrize('mode', network_timing.MODES)
def test_time_network_reports_timing_parameters_and_flops(mode):
    timing = network_timing.time_network('lenet', batch_size=4, num_batches=3, mode=mode,
                                         num_classes=10, burn_in=1)
    assert (timing.model_name, timing.mode, timing.batch_size, timing.image_size) == (
        'lenet', mode, 4, 28)
    assert timing.sec_per_batch_mean > 0 and timing.sec_per_batch_std >= 0
    assert timing.images_per_sec == pytest.approx(4 / timing.sec_per_batch_mean)
    assert timing.trainable_parameters == 3_276_234
    # The profiler also counts bias additions: within 1 % of the multiply-adds.
    assert timing.flops_per_image == pytest.approx(LENET_FORWARD_FLOPS, rel=0.01)
    row = network_timing.table_row(timing)
    assert row.startswith('| lenet | %s | 4 | 28 |' % mode) and '3,276,234' in row


def test_unknown_mode_is_rejected():
    with pytest.raises(ValueError, match='valid modes: forward, forward_backward'):
        network_timing.time_network('lenet', mode='backward')


def test_benchmark_script_prints_a_table_row():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run(
        [sys.executable, os.path.join(root, 'benchmark_nets.py'), '--model_name=cifarnet',
         '--batch_size=2', '--num_batches=2', '--burn_in=1', '--num_classes=10'],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith('| network | mode | batch | size | sec/batch | images/sec')
    assert lines[2].startswith('| cifarnet | forward | 2 | 32 |')
    assert '1,756,426' in lines[2]


def test_forward_backward_skips_heads_without_gradient():
    # Inception V3's auxiliary head does not feed the logits, so it has no gradient.
    timing = network_timing.time_network('inception_v3', batch_size=1, num_batches=1,
                                         mode='forward_backward', image_size=80, burn_in=0)
    assert timing.trainable_parameters > 20_000_000 and timing.sec_per_batch_mean > 0
