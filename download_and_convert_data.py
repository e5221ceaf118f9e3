r"""Converts a dataset to TF-Slim's TFRecord format.

Usage:
  python download_and_convert_data.py --dataset_name=digits --dataset_dir=/tmp/digits
  python download_and_convert_data.py --dataset_name=flowers --dataset_dir=/tmp/flowers \
      [--archive=/path/to/flower_photos.tgz] [--skip_checksum]
  python download_and_convert_data.py --dataset_name=custom --image_dir=/my/photos \
      --dataset_dir=/tmp/my_photos [--validation_fraction=0.1]
  python download_and_convert_data.py --dataset_name=imagenet --dataset_dir=/data/imagenet \
      --train_directory=/raw/train --validation_directory=/raw/validation \
      [--bounding_box_file=/raw/bboxes.csv]

Downloads, --archive files and every archive to unpack are checked against the dataset's
published sizes and SHA-256 digests first; --skip_checksum converts a file that fails the check,
with a warning. A download cut short never keeps its final name, and one found there that fails
the check is fetched again. Archives holding links, devices or paths outside the directory they
are unpacked into are refused, whatever the flags. See datasets/download.py.

Every conversion is idempotent (files already complete are kept) and atomic (a file appears
under its final name only once it is complete), so an interrupted run is simply rerun.
"""

import tf_compat  # noqa: F401  (first: TensorFlow fixes; see tf_compat.py)
from absl import flags

import flag_options
from common import cli, files
from common.errors import ConfigurationError
from datasets import (
    build_imagenet_data,
    convert_cifar10,
    convert_custom,
    convert_digits,
    convert_flowers,
    convert_mnist,
    convert_visualwakewords,
)

FLAGS = flags.FLAGS

CONVERTERS = {
    'cifar10': lambda: convert_cifar10.run(FLAGS.dataset_dir, FLAGS.archive,
                                           FLAGS.skip_checksum),
    'custom': lambda: convert_custom.run(FLAGS.image_dir, FLAGS.dataset_dir,
                                         FLAGS.validation_fraction),
    'digits': lambda: convert_digits.run(FLAGS.dataset_dir),
    'flowers': lambda: convert_flowers.run(FLAGS.dataset_dir, FLAGS.archive,
                                           FLAGS.skip_checksum),
    'imagenet': lambda: build_imagenet_data.build_from_flags(
        FLAGS.output_directory or FLAGS.dataset_dir),
    'mnist': lambda: convert_mnist.run(FLAGS.dataset_dir, FLAGS.archive, FLAGS.skip_checksum),
    'visualwakewords': lambda: convert_visualwakewords.run(
        FLAGS.dataset_dir, FLAGS.archive, FLAGS.small_object_area_threshold,
        FLAGS.foreground_class_of_interest, FLAGS.skip_checksum),
}

flags.DEFINE_enum('dataset_name', None, sorted(CONVERTERS), 'The name of the dataset to convert.')
flags.DEFINE_string('dataset_dir', None, 'The directory where the TFRecords are written.')
flags.DEFINE_string(
    'archive', None,
    'An already downloaded archive (or a directory of the files the download would fetch) to '
    'convert instead of downloading.')
flags.DEFINE_boolean(
    'skip_checksum', False,
    'Convert a downloaded or --archive file whose size or SHA-256 differs from the published '
    'one (damaged, or not the original), or unpack an archive that is no published file, with '
    'a warning, instead of stopping.')
flags.DEFINE_string('image_dir', None,
                    'custom: a folder with one sub-folder of images per class.')
flags.DEFINE_float('validation_fraction', 0.1,
                   'custom: the fraction of each class put in the validation split.')
flags.DEFINE_float(
    'small_object_area_threshold', 0.005,
    'visualwakewords: objects covering less than this fraction of the image are ignored.')
flags.DEFINE_string(
    'foreground_class_of_interest', 'person',
    'visualwakewords: the COCO category whose presence makes label 1.')
flag_options.define_help_flags(build_imagenet_data, cli)


def main(_):
    if not FLAGS.dataset_name:
        raise ConfigurationError('Set --dataset_name; valid names: %s.'
                                 % ', '.join(sorted(CONVERTERS)))
    if not FLAGS.dataset_dir:
        raise ConfigurationError('Set --dataset_dir to the directory for the TFRecord files.')
    if FLAGS.dataset_name == 'custom' and not FLAGS.image_dir:
        raise ConfigurationError('--dataset_name=custom needs --image_dir: a folder with one '
                                 'sub-folder of images per class.')
    if FLAGS.dataset_name == 'imagenet' and FLAGS.output_directory:
        files.check_writable_directory(FLAGS.output_directory, 'output_directory',
                                       'the TFRecord files')
    else:
        files.check_writable_directory(FLAGS.dataset_dir, 'dataset_dir', 'the TFRecord files')
    CONVERTERS[FLAGS.dataset_name]()


if __name__ == '__main__':
    cli.run(main)
