"""The steps every dataset converter shares: skip a finished dataset, plan shards, encode
images, and write the splits, labels.txt and dataset_metadata.json."""

import io
import itertools
import os
import sys

import tensorflow.compat.v1 as tf
from PIL import Image

from common import files
from common.errors import DataError
from datasets import dataset_splits, dataset_utils, dataset_writing, image_coding


def shard_paths(dataset_dir, shard_name, split, num_shards):
    """The paths `shard_name % (split, index, num_shards)` of a split's shards, in order."""
    return [os.path.join(dataset_dir, shard_name % (split, index, num_shards))
            for index in range(num_shards)]


def is_converted(dataset_dir, split_paths):
    """True, after saying so, when every output file of a complete conversion exists.

    Args:
      split_paths: {split name: [paths of its TFRecord files]}.
    """
    outputs = [*itertools.chain(*split_paths.values()),
               os.path.join(dataset_dir, dataset_utils.LABELS_FILENAME),
               os.path.join(dataset_dir, dataset_splits.METADATA_FILENAME)]
    if all(tf.io.gfile.exists(path) for path in outputs):
        print('%s already holds the converted dataset; nothing to do (delete its files to '
              'convert again).' % dataset_dir)
        return True
    return False


def plan_shards(paths, items):
    """`dataset_writing.Shard`s: consecutive near-equal runs of `items`, one per path."""
    return [dataset_writing.Shard(path, items[start:end]) for path, (start, end)
            in zip(paths, dataset_writing.shard_ranges(len(items), len(paths)), strict=True)]


def write_dataset(dataset_dir, file_pattern, split_shards, make_example, labels_to_names):
    """Writes the missing shards of every split, then labels.txt and dataset_metadata.json.

    Args:
      file_pattern: the dataset's file pattern, with `%s` for the split name.
      split_shards: {split name: [dataset_writing.Shard]}.
      make_example: a module-level function, shard item -> serialized tf.train.Example.
      labels_to_names: {label: class name} of every class.
    """
    tf.io.gfile.makedirs(dataset_dir)
    splits_to_sizes = {}
    for split, shards in split_shards.items():
        written = dataset_writing.write_shards(
            shards, make_example, label='Writing %s' % split,
            file_pattern=os.path.join(dataset_dir, file_pattern % split))
        splits_to_sizes[split] = sum(len(shard.items) for shard in shards)
        print('%s: %d examples in %d file(s) (%d written now).'
              % (split, splits_to_sizes[split], len(shards), written))
    dataset_utils.write_label_file(labels_to_names, dataset_dir)
    dataset_splits.write_dataset_metadata(dataset_dir, splits_to_sizes, len(labels_to_names))
    print('Finished: the dataset is in %s.' % dataset_dir)


def read_rgb_jpeg(path):
    """The `image_coding.RgbJpeg` of an image file; a re-encoding is logged to stderr.

    Raises:
      ValueError: the file is not a readable image; the message names it.
    """
    data = files.read_file(path)
    try:
        image = image_coding.to_rgb_jpeg(data)
    except ValueError as error:
        raise DataError('Cannot convert %s: %s. Replace it with a readable image under the '
                        'same name and rerun (finished files are kept).'
                        % (path, error)) from error
    if image.repair:
        print('Re-encoded %s to RGB JPEG: it is a %s.' % (path, image.repair), file=sys.stderr)
    return image


def png_bytes(pixels):
    """PNG bytes of uint8 pixels: [height, width] grayscale or [height, width, 3] RGB."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, 'PNG')
    return buffer.getvalue()
