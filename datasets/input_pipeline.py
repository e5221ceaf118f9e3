"""tf.data input pipelines: a split's records -> decoded, preprocessed, batched images.

records (files interleaved; shuffled in training) -> parse and decode, in parallel -> count
the records that could not be read -> preprocess, in parallel -> batch -> prefetch.

Decoding gives only the part of each image that preprocessing keeps: the inception style
decodes just its crop window of a JPEG (`preprocessing_factory.get_encoded_preprocessing`).

A record that cannot be read (not an Example, no image, bytes that are no image) is skipped
and counted instead of stopping the run. Every batch carries the number of records skipped
so far, which training logs and summarises and evaluation reports.
"""

import dataclasses
import os

import tensorflow.compat.v1 as tf

from preprocessing import preprocessing_factory

AUTOTUNE = tf.data.AUTOTUNE

# The seed of deterministic mode (see `batched_images`).
DETERMINISTIC_SEED = 0

# Training stops when this many records in a row cannot be read (see `_failure_counter`).
MAX_FAILURES_IN_A_ROW = 1000

# uint8 [height, width, image_channels] from JPEG, PNG, GIF or BMP bytes: the whole image, as
# the pipeline decodes it for the styles that do not decode windows.
decode_image = preprocessing_factory.decode_image


@dataclasses.dataclass(frozen=True)
class Tuning:
    """Settings that change the pipeline's speed but not its images (all on by default;
    `benchmark_input.py --variants` times them against each other).

    decode_windows: decode only the window of a JPEG that preprocessing keeps.
    private_threads: run the pipeline's functions on a pool of its own, one thread per
      core, each op on one thread (images are processed side by side, not split).
    """

    decode_windows: bool = True
    private_threads: bool = True


def eval_image_fn(image_channels, preprocessing_name, image_size, use_grayscale=False):
    """fn(encoded string []) -> float32 [image_size, image_size, channels]: an encoded image
    decoded as the dataset's records are and given `preprocessing_name`'s eval
    preprocessing, as export and classify feed images to a network."""
    preprocess = preprocessing_factory.get_encoded_preprocessing(
        preprocessing_name, is_training=False, use_grayscale=use_grayscale,
        image_channels=image_channels)

    def eval_image(encoded):
        return preprocess(encoded, image_size, image_size, add_image_summaries=False)

    return eval_image


def _decoder(dataset_split, decode_kept):
    """fn(record) -> {'image': uint8 [height, width, channels], 'label', 'bbox'}, where
    `decode_kept(example)` decodes the part of the image that preprocessing keeps."""

    def decode(record):
        example = dataset_split.parse_record(record)
        return {'image': decode_kept(example), 'label': example['label'],
                'bbox': example['bbox']}

    return decode


def _decoder_flagging_failures(decode, stand_in_image):
    """fn(record) -> (example, valid), never failing.

    A record that cannot be decoded gives (`stand_in_image` with label -1 and no box, False).
    tf.data has no way to catch an error inside a function, but a dataset can drop the
    elements that fail: the record is decoded in a one-element dataset that ignores errors,
    followed by the stand-in, and the first element left is the answer.
    """
    stand_in = {'image': stand_in_image, 'label': tf.constant(-1, tf.int64),
                'bbox': tf.zeros([1, 0, 4])}

    def decode_or_flag(record):
        decoded = tf.data.Dataset.from_tensors(record).map(
            lambda record: (decode(record), True)).ignore_errors()
        candidates = decoded.concatenate(tf.data.Dataset.from_tensors((stand_in, False)))
        return tf.data.experimental.get_single_element(candidates.take(1))

    return decode_or_flag


def _failure_counter(dataset_split, max_failures_in_a_row):
    """A `scan` step adding to each (example, valid) the running count of failed records.

    Its state is (failures so far, failures in a row). With `max_failures_in_a_row`, that many
    in a row fail the run: training repeats its data forever and would otherwise wait
    forever for a readable record when none is left.
    """

    def count(state, element):
        failures, failures_in_a_row = state
        example, valid = element
        failed = tf.cast(tf.logical_not(valid), tf.int64)
        failures += failed
        failures_in_a_row = (failures_in_a_row + 1) * failed
        if max_failures_in_a_row:
            check = tf.debugging.assert_less(
                failures_in_a_row, tf.constant(max_failures_in_a_row, tf.int64), message=(
                    # No quotes: the assertion would print them escaped.
                    'None of the last %d records of split %s of dataset %s could be read: '
                    'they are not Examples with a JPEG or PNG image (or the files are damaged). '
                    'Check --dataset_name and --dataset_dir; --fail_on_corrupt_records shows '
                    'the first error.' % (max_failures_in_a_row, dataset_split.split_name,
                                          dataset_split.name)))
            with tf.control_dependencies([check]):
                failures = tf.identity(failures)
        return (failures, failures_in_a_row), (example, valid, failures)

    return count


def batched_images(dataset_split, preprocessing_name, is_training, image_size, batch_size,
                   labels_offset=0, num_readers=None, num_preprocessing_threads=None,
                   use_grayscale=False, shuffle_buffer_size=4096, seed=None, num_workers=1,
                   worker_index=0, skip_corrupt=True, central_fraction=None,
                   tuning=Tuning(), augment=None):
    """Builds the input pipeline of one dataset split.

    In training the files and records are shuffled, the data repeats forever and every
    batch is full. In evaluation every record is read exactly once, in file order; a batch
    may be smaller than `batch_size` (the last one, and one with unreadable records).

    Args:
      dataset_split: a split object of `dataset_factory.get_dataset` (has `read_records`,
        `parse_record` and `image_channels`).
      preprocessing_name: a name known to `preprocessing_factory`.
      image_size: the side of the square images fed to the network.
      labels_offset: subtracted from every label (1 maps ImageNet's 1001 labels to 1000).
      num_readers: files read in parallel; num_preprocessing_threads: records decoded and
        preprocessed in parallel. None lets tf.data tune them (AUTOTUNE).
      seed: None for the fastest order; a number for deterministic mode: the same files,
        records, random preprocessing and batches on every run (preprocessing in training
        then runs on one thread, since parallel random ops draw in no fixed order). It also
        sets the graph-level seed if unset, which random preprocessing ops need.
      num_workers, worker_index: training on several workers, this one reads its share.
      skip_corrupt: skip and count unreadable records; if False, the first one fails the
        run with TensorFlow's InvalidArgumentError.
      central_fraction: for the styles that crop centrally in evaluation
        (`preprocessing_factory.crops_centrally`), the fraction they keep; None for the
        style's own.
      tuning: a `Tuning`.
      augment: training only, fn(image float32 [h, w, C] in [0, 255]) -> image, which every
        style applies after its crop (see `preprocessing.augmentation.image_augmenter`).
    Returns:
      A tf.data.Dataset of {'images': float32 [batch, image_size, image_size, channels],
      'labels': int64 [batch], 'skipped': int64 [], the number of records skipped from the
      start of reading up to this batch (0 when `skip_corrupt` is False)}.
    """
    preprocessing = preprocessing_factory.get_encoded_preprocessing(
        preprocessing_name, is_training=is_training, use_grayscale=use_grayscale,
        image_channels=dataset_split.image_channels, decode_windows=tuning.decode_windows)
    uses_bounding_boxes = preprocessing_factory.uses_bounding_boxes(preprocessing_name)
    deterministic = seed is not None
    if deterministic and tf.get_default_graph().seed is None:
        tf.set_random_seed(seed)
    # Training draws random numbers in preprocessing, and when it decodes windows in decoding
    # too (the crop), which parallel calls would draw in no fixed order.
    parallel_calls = num_preprocessing_threads or AUTOTUNE
    serial = is_training and deterministic
    decode_calls = 1 if serial and preprocessing.window_arguments else parallel_calls
    preprocess_calls = 1 if serial else parallel_calls
    # Out-of-order results keep the threads busy; evaluation needs the file order.
    in_order = deterministic or not is_training

    def preprocessing_arguments(example):
        arguments = {'bbox': example['bbox']} if uses_bounding_boxes else {}
        if central_fraction is not None:
            arguments['central_fraction'] = central_fraction
        if augment is not None:
            arguments['augment'] = augment
        return arguments

    def decode_kept(example):
        return preprocessing.decode(example['encoded'], **preprocessing_arguments(example))

    def preprocess_example(example):
        # Summary ops cannot live inside a tf.data function; training logs its own.
        image = preprocessing.preprocess(example['image'], image_size, image_size,
                                         add_image_summaries=False,
                                         **preprocessing_arguments(example))
        return image, example['label'] - labels_offset

    records = dataset_split.read_records(is_training, num_readers, seed, num_workers,
                                         worker_index)
    if is_training:
        # The records repeat: a buffer larger than the split would only delay the first batch.
        records = records.shuffle(min(shuffle_buffer_size, dataset_split.num_samples), seed=seed)

    decode = _decoder(dataset_split, decode_kept)
    threads = _Threads(decode_calls, preprocess_calls, in_order)
    if not skip_corrupt:
        batches = _batches_failing_on_corrupt(records, decode, preprocess_example,
                                              is_training, batch_size, threads)
    else:
        batches = _batches_skipping_corrupt(records, dataset_split, decode, preprocess_example,
                                            is_training, batch_size, image_size, threads)
    batches = batches.prefetch(AUTOTUNE)
    if tuning.private_threads:
        options = tf.data.Options()
        options.threading.private_threadpool_size = os.cpu_count() or 1
        options.threading.max_intra_op_parallelism = 1
        batches = batches.with_options(options)
    return batches


@dataclasses.dataclass(frozen=True)
class _Threads:
    """Parallel calls of the decoding and of the preprocessing map, and whether they keep
    the record order."""

    decode_calls: int
    preprocess_calls: int
    in_order: bool


def _batches_failing_on_corrupt(records, decode, preprocess_example, is_training, batch_size,
                                threads):
    """Batches of `records` whose first unreadable record fails the run."""
    batches = records.map(lambda record: preprocess_example(decode(record)),
                          num_parallel_calls=threads.preprocess_calls,
                          deterministic=threads.in_order)
    batches = batches.batch(batch_size, drop_remainder=is_training)
    return batches.map(lambda images, labels: {
        'images': images, 'labels': labels, 'skipped': tf.constant(0, tf.int64)})


def _batches_skipping_corrupt(records, dataset_split, decode, preprocess_example, is_training,
                              batch_size, image_size, threads):
    """Batches of `records` without their unreadable records, counting them."""
    # Evaluation preprocesses the stand-ins of failed records too: a full-size black image
    # suits every preprocessing.
    stand_in_image = tf.zeros([image_size, image_size, dataset_split.image_channels], tf.uint8)
    flagged = records.map(_decoder_flagging_failures(decode, stand_in_image),
                          num_parallel_calls=threads.decode_calls,
                          deterministic=threads.in_order)
    counted = flagged.scan(
        (tf.constant(0, tf.int64), tf.constant(0, tf.int64)),
        _failure_counter(dataset_split, MAX_FAILURES_IN_A_ROW if is_training else None))
    if is_training:
        counted = counted.filter(lambda example, valid, skipped: valid)
    examples = counted.map(
        lambda example, valid, skipped: (*preprocess_example(example), valid, skipped),
        num_parallel_calls=threads.preprocess_calls, deterministic=threads.in_order)
    batches = examples.batch(batch_size, drop_remainder=is_training)
    if is_training:
        return batches.map(lambda images, labels, valid, skipped: {
            'images': images, 'labels': labels, 'skipped': tf.reduce_max(skipped)})
    # Evaluation batches failed records too and drops them afterwards: a batch after the
    # last readable record is then still there to carry the final count.
    return batches.map(lambda images, labels, valid, skipped: {
        'images': tf.boolean_mask(images, valid), 'labels': tf.boolean_mask(labels, valid),
        'skipped': tf.reduce_max(skipped)})
