"""Times the input pipeline alone: reading, decoding, preprocessing and batching.

Compared with the network's own speed (network_timing.py), this shows whether training is
limited by its input or by its compute. As there, the first `burn_in` batches are not timed
(they fill the shuffle buffer and warm up tf.data's tuning).

`time_variants` compares pipeline variants (`VARIANTS`) in one run: other processes on the
machine slow every variant alike when the variants take turns, round after round.
"""

import dataclasses
import os

import numpy as np
import tensorflow.compat.v1 as tf

from benchmarks import network_timing
from common.errors import ConfigurationError
from datasets import dataset_splits, dataset_utils, input_pipeline
from nets import nets_factory


# The pipeline variants `time_variants` compares: name -> `input_pipeline.Tuning`.
VARIANTS = {
    # The pipeline before its tuning: every image decoded in full, tf.data's shared pool.
    'full_decode': input_pipeline.Tuning(decode_windows=False, private_threads=False),
    'fused_crop': input_pipeline.Tuning(decode_windows=True, private_threads=False),
    'private_threads': input_pipeline.Tuning(decode_windows=False, private_threads=True),
    'default': input_pipeline.Tuning(),
}


@dataclasses.dataclass(frozen=True)
class InputTiming:
    preprocessing_name: str
    image_size: int
    batch_size: int
    sec_per_batch_mean: float
    sec_per_batch_std: float
    # Seconds of processor time (all of the process's threads) per timed batch.
    cpu_sec_per_batch: float
    variant: str

    @property
    def images_per_sec(self):
        return self.batch_size / self.sec_per_batch_mean

    @property
    def images_per_sec_per_core(self):
        return self.images_per_sec / (os.cpu_count() or 1)

    @property
    def images_per_cpu_sec(self):
        """Images per second of processor time: the pipeline's cost, whatever share of the
        cores other processes take."""
        return self.batch_size / self.cpu_sec_per_batch


def default_image_size(preprocessing_name):
    """The input side of the network named like the preprocessing (299 for inception_v3).

    Raises:
      ValueError: no network has that name (e.g. 'vgg'); the message asks for --image_size.
    """
    if preprocessing_name not in nets_factory.networks_map:
        raise ConfigurationError('No network is named %r, so its image size is unknown: pass '
                                 '--image_size.' % preprocessing_name)
    return nets_factory.networks_map[preprocessing_name].default_image_size


def time_input_pipeline(dataset_split, preprocessing_name, image_size, batch_size=32,
                        num_batches=50, burn_in=5, is_training=True, skip_corrupt=True,
                        num_readers=None, num_preprocessing_threads=None, variant='default'):
    """Builds `input_pipeline.batched_images` (tuned as `VARIANTS[variant]`) and times
    `num_batches` batches after `burn_in`.

    Returns:
      An `InputTiming`.
    """
    with tf.Graph().as_default():
        batches = input_pipeline.batched_images(
            dataset_split, preprocessing_name, is_training=is_training, image_size=image_size,
            batch_size=batch_size, num_readers=num_readers,
            num_preprocessing_threads=num_preprocessing_threads, skip_corrupt=skip_corrupt,
            tuning=VARIANTS[variant])
        # Evaluation reads the split once; it starts again for as many batches as are asked.
        batch = tf.data.make_one_shot_iterator(batches.repeat()).get_next()
        # Fetching only the labels runs the whole pipeline without copying images out.
        labels = batch['labels']
        with tf.Session() as session:
            timings = network_timing.timed_runs(session, labels, num_batches, burn_in)
    return InputTiming(preprocessing_name, image_size, batch_size, *timings, variant)


def check_variants(variants):
    """Raises ValueError naming the valid variants if one of `variants` is not in VARIANTS."""
    for variant in variants:
        if variant not in VARIANTS:
            raise ConfigurationError('%s: not a pipeline variant; valid variants: %s'
                                     % (variant, ', '.join(VARIANTS)))


def time_variants(dataset_split, preprocessing_name, image_size, variants, rounds=5,
                  **timing_arguments):
    """Times each of `variants` (names in VARIANTS) in turn, for `rounds` rounds.

    Each round builds every variant's pipeline afresh (a pipeline left running would fill
    its buffers during the others' turns) and times it as `time_input_pipeline` does, with
    `timing_arguments`. A variant's `InputTiming` is that of its median round by images/sec.

    Returns:
      An `InputTiming` per variant, in order.
    """
    check_variants(variants)
    rounds_by_variant = {variant: [] for variant in variants}
    for _ in range(rounds):
        for variant in variants:
            rounds_by_variant[variant].append(time_input_pipeline(
                dataset_split, preprocessing_name, image_size, variant=variant,
                **timing_arguments))
    return [_median_round(timings) for timings in rounds_by_variant.values()]


def _median_round(timings):
    """The timing of the median round by images/sec (the slower middle one of an even count)."""
    by_speed = sorted(timings, key=lambda timing: timing.images_per_sec)
    return by_speed[(len(by_speed) - 1) // 2]


TABLE_HEADER = ('| preprocessing | size | batch | sec/batch | images/sec |\n'
                '|---|---|---|---|---|')


def table_row(timing):
    return '| %s | %d | %d | %.3f ± %.3f | %.1f |' % (
        timing.preprocessing_name, timing.image_size, timing.batch_size,
        timing.sec_per_batch_mean, timing.sec_per_batch_std, timing.images_per_sec)


VARIANTS_TABLE_HEADER = (
    '| preprocessing | variant | size | batch | images/sec | images/sec per core '
    '| images/CPU-sec | speed-up |\n|---|---|---|---|---|---|---|---|')


def variants_table_row(timing, baseline):
    """A row of the variants table; `baseline` is the timing the speed-up compares with."""
    return '| %s | %s | %d | %d | %.1f | %.1f | %.1f | %.2f× |' % (
        timing.preprocessing_name, timing.variant, timing.image_size, timing.batch_size,
        timing.images_per_sec, timing.images_per_sec_per_core, timing.images_per_cpu_sec,
        timing.images_per_sec / baseline.images_per_sec)


def _photo_like_jpeg(height, width, seed):
    """A string [] tensor: a JPEG of smooth random colours plus noise, about as large and as
    slow to decode as a photograph of that size (pure noise would be far larger)."""
    coarse = tf.random.uniform([height // 16 + 2, width // 16 + 2, 3], 0, 255, seed=seed)
    smooth = tf.image.resize(coarse[None], [height, width], method='bicubic')[0]
    noisy = smooth + tf.random.normal([height, width, 3], stddev=25, seed=seed)
    return tf.image.encode_jpeg(tf.cast(tf.clip_by_value(noisy, 0, 255), tf.uint8), quality=90)


def write_imagenet_like(dataset_dir, num_images=200, num_shards=4, split_name='train',
                        seed=0):
    """Writes `num_images` generated JPEGs of about 400 x 350 pixels (ImageNet's mean size)
    in ImageNet's layout: `<split_name>-0000i-of-0000n` shards, labels 1..1000, one box each,
    and a dataset_metadata.json with the split's size.

    Returns:
      The total size of the encoded images, in bytes.
    """
    rng = np.random.RandomState(seed)
    tf.io.gfile.makedirs(dataset_dir)
    total_bytes = 0
    with tf.Graph().as_default(), tf.Session() as session:
        height, width = tf.placeholder(tf.int32, []), tf.placeholder(tf.int32, [])
        encoded = _photo_like_jpeg(height, width, seed)
        for shard in range(num_shards):
            path = os.path.join(dataset_dir, '%s-%05d-of-%05d' % (split_name, shard, num_shards))
            with tf.io.TFRecordWriter(path) as writer:
                for _ in range(shard, num_images, num_shards):
                    size = {height: rng.randint(300, 400), width: rng.randint(350, 450)}
                    data = session.run(encoded, size)
                    total_bytes += len(data)
                    example = dataset_utils.image_to_tfexample(
                        data, b'jpeg', size[height], size[width], rng.randint(1, 1001),
                        bboxes=[(0.1, 0.15, 0.85, 0.9)])
                    writer.write(example.SerializeToString())
    dataset_splits.write_dataset_metadata(dataset_dir, {split_name: num_images}, 1001)
    return total_bytes
