"""The network and input pipeline timing benchmarks."""

import functools
import os
import re
import signal
import subprocess
import sys

import pytest
import tensorflow.compat.v1 as tf
from support import ROOT

from benchmarks import input_timing, network_timing
from common.errors import ConfigurationError
from datasets import dataset_factory

# LeNet on a 28x28x3 image: two multiply-adds per weight use of its convolutions and layers.
LENET_FORWARD_FLOPS = 2 * (28 * 28 * 32 * 5 * 5 * 3 + 14 * 14 * 64 * 5 * 5 * 32
                           + 7 * 7 * 64 * 1024 + 1024 * 10)


@pytest.mark.parametrize('mode', network_timing.MODES)
def test_time_network_reports_timing_parameters_and_flops(mode):
    timing = network_timing.time_network('lenet', batch_size=4, num_batches=3, mode=mode,
                                         num_classes=10, burn_in=1)
    assert (timing.model_name, timing.mode, timing.mixed_precision, timing.batch_size,
            timing.image_size) == ('lenet', mode, 'float32', 4, 28)
    assert timing.sec_per_batch_mean > 0 and timing.sec_per_batch_std >= 0
    assert timing.images_per_sec == pytest.approx(4 / timing.sec_per_batch_mean)
    assert timing.trainable_parameters == 3_276_234
    # The profiler also counts bias additions: within 1 % of the multiply-adds.
    assert timing.flops_per_image == pytest.approx(LENET_FORWARD_FLOPS, rel=0.01)
    # Its worker process's peak: TensorFlow, the graph and the session's buffers.
    assert 0.1e9 < timing.peak_memory.host_bytes < 5e9 and timing.peak_memory.gpu_bytes == {}
    row = network_timing.table_row(timing)
    assert row.startswith('| lenet | %s | float32 | 4 | 28 |' % mode)
    assert row.endswith('| 1.00× | 3,276,234 | %.2f | %s |' % (timing.flops_per_image / 1e9,
                                                               timing.peak_memory))


def test_precisions_are_timed_alternately_with_their_speed_up_over_the_first():
    float32, bfloat16 = network_timing.time_precisions(
        'lenet', ['float32', 'bfloat16'], rounds=2, batch_size=4, num_batches=2,
        mode='train_step', num_classes=10, burn_in=1)
    assert (float32.mixed_precision, bfloat16.mixed_precision) == ('float32', 'bfloat16')
    assert float32.trainable_parameters == bfloat16.trainable_parameters == 3_276_234
    row = network_timing.table_row(bfloat16, baseline=float32)
    speed_up = bfloat16.images_per_sec / float32.images_per_sec
    assert row.startswith('| lenet | train_step | bfloat16 | 4 | 28 |')
    assert '| %.2f× |' % speed_up in row


def test_unknown_mode_and_precision_are_rejected():
    with pytest.raises(ValueError, match='valid modes: forward, forward_backward, train_step'):
        network_timing.time_network('lenet', mode='backward')
    with pytest.raises(ValueError, match='valid values: float32, bfloat16, float16'):
        network_timing.time_network('lenet', precision='int8')


def test_benchmark_script_prints_a_table_row():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run(
        [sys.executable, os.path.join(root, 'benchmark_nets.py'), '--model_name=cifarnet',
         '--batch_size=2', '--num_batches=2', '--burn_in=1', '--num_classes=10',
         '--mixed_precision=float32,bfloat16'],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == ('| network | mode | precision | batch | size | sec/batch | images/sec '
                        '| speed-up | parameters | GFLOPs/image | peak memory |')
    assert lines[2].startswith('| cifarnet | forward | float32 | 2 | 32 |')
    assert lines[3].startswith('| cifarnet | forward | bfloat16 | 2 | 32 |')
    assert '| 1.00× | 1,756,426 |' in lines[2] and '1,756,426' in lines[3]
    assert all(re.search(r'\| \d+\.\d\d GB \|$', line) for line in lines[2:4])


def test_forward_backward_skips_heads_without_gradient():
    # Inception V3's auxiliary head does not feed the logits, so it has no gradient.
    timing = network_timing.time_network('inception_v3', batch_size=1, num_batches=1,
                                         mode='forward_backward', image_size=80, burn_in=0)
    assert timing.trainable_parameters > 20_000_000 and timing.sec_per_batch_mean > 0


def test_input_benchmark_generates_imagenet_like_jpegs_and_times_each_preprocessing(tmp_path):
    data_dir = str(tmp_path / 'imagenet_like')
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, 'benchmark_input.py'), '--dataset_name=imagenet',
         '--dataset_dir=' + data_dir, '--generate_images=6', '--preprocessing_name=vgg_16, lenet',
         '--image_size=20', '--batch_size=2', '--num_batches=2', '--burn_in=1'],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == '| preprocessing | size | batch | sec/batch | images/sec |'
    assert [line.split(' | ')[:3] for line in lines[2:]] == [
        ['| vgg_16', '20', '2'], ['| lenet', '20', '2']]
    images_per_sec = [float(line.split(' | ')[-1].rstrip(' |')) for line in lines[2:]]
    assert all(rate > 0 for rate in images_per_sec)
    # Four shards holding the six images, about 400 x 350 each, labels 1..1000.
    assert sorted(os.listdir(data_dir)) == ['dataset_metadata.json'] + [
        'train-%05d-of-00004' % shard for shard in range(4)]
    split = dataset_factory.get_dataset('imagenet', 'train', data_dir)
    assert (split.num_samples, split.num_classes) == (6, 1001)
    examples = [tf.train.Example.FromString(record) for path in split.data_files()
                for record in tf.io.tf_record_iterator(path)]
    assert len(examples) == 6
    for example in examples:
        feature = example.features.feature
        assert 300 <= feature['image/height'].int64_list.value[0] < 400
        assert 350 <= feature['image/width'].int64_list.value[0] < 450
        assert 1 <= feature['image/class/label'].int64_list.value[0] <= 1000
        assert feature['image/encoded'].bytes_list.value[0][:2] == b'\xff\xd8'  # JPEG


def test_input_benchmark_needs_an_image_size_for_a_preprocessing_style_name():
    assert input_timing.default_image_size('inception_v3') == 299
    with pytest.raises(ValueError, match="No network is named 'vgg'.*pass --image_size"):
        input_timing.default_image_size('vgg')


def test_input_benchmark_compares_variants_taking_turns(tmp_path):
    data_dir = str(tmp_path / 'imagenet_like')
    input_timing.write_imagenet_like(data_dir, num_images=4, num_shards=2)
    split = dataset_factory.get_dataset('imagenet', 'train', data_dir)
    full_decode, default = input_timing.time_variants(
        split, 'inception_v3', 24, ['full_decode', 'default'], rounds=2, batch_size=2,
        num_batches=2, burn_in=1)
    assert (full_decode.variant, default.variant) == ('full_decode', 'default')
    for timing in (full_decode, default):
        assert timing.images_per_sec == pytest.approx(2 / timing.sec_per_batch_mean)
        assert timing.images_per_sec_per_core == pytest.approx(
            timing.images_per_sec / os.cpu_count())
        assert timing.images_per_cpu_sec == pytest.approx(2 / timing.cpu_sec_per_batch)
    row = input_timing.variants_table_row(default, baseline=full_decode)
    assert row.startswith('| inception_v3 | default | 24 | 2 | %.1f | %.1f |' % (
        default.images_per_sec, default.images_per_sec_per_core))
    assert row.endswith('| %.2f× |' % (default.images_per_sec / full_decode.images_per_sec))


def test_input_benchmark_rejects_an_unknown_variant_before_generating_images(tmp_path):
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, 'benchmark_input.py'), '--dataset_name=imagenet',
         '--dataset_dir=' + str(tmp_path / 'data'), '--generate_images=2',
         '--variants=full_decode,fastest'],
        capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert ('fastest: not a pipeline variant; valid variants: full_decode, fused_crop, '
            'private_threads, default') in result.stderr
    assert not os.path.exists(tmp_path / 'data')


def test_a_worker_killed_for_lack_of_memory_is_one_error_naming_the_fix():
    build = functools.partial(
        network_timing._timed_graph, model_name='lenet', mode='forward', batch_size=2,
        image_size=28, num_classes=10, precision='float32', num_clones=1,
        variable_update='parameter_server', implementation=network_timing.PROJECT)
    with network_timing._Worker(build, 'float32', burn_in=1) as worker:
        assert len(worker.ask(network_timing._RUN, 1)) == 1
        # What the kernel's out-of-memory killer does.
        os.kill(worker._process.pid, signal.SIGKILL)
        with pytest.raises(ConfigurationError, match=r'killed \(SIGKILL\), most likely by the '
                                                     r'kernel because memory ran out.*lower '
                                                     r'--batch_size'):
            worker.ask(network_timing._RUN, 1)
