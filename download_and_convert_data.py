r"""Converts a dataset to TF-Slim's TFRecord format.

Usage:
  python download_and_convert_data.py --dataset_name=digits --dataset_dir=/tmp/digits
"""

import tf_compat  # noqa: F401  (first: TensorFlow fixes; see tf_compat.py)
from absl import app, flags

from datasets import convert_digits

FLAGS = flags.FLAGS

flags.DEFINE_string('dataset_name', None, 'The name of the dataset to convert, one of "digits".')
flags.DEFINE_string('dataset_dir', None, 'The directory where the TFRecords are written.')

CONVERTERS = {
    'digits': convert_digits.run,
}


def main(_):
    if not FLAGS.dataset_name:
        raise app.UsageError('Set --dataset_name; valid names: %s.' % ', '.join(sorted(CONVERTERS)))
    if not FLAGS.dataset_dir:
        raise app.UsageError('Set --dataset_dir to the directory for the TFRecord files.')
    if FLAGS.dataset_name not in CONVERTERS:
        raise app.UsageError('No converter for dataset %r; valid names: %s.'
                             % (FLAGS.dataset_name, ', '.join(sorted(CONVERTERS))))
    CONVERTERS[FLAGS.dataset_name](FLAGS.dataset_dir)


if __name__ == '__main__':
    app.run(main)
