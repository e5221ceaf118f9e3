r"""Exports a network for inference: a GraphDef (frozen with --checkpoint_path), a SavedModel
and a TFLite model.

Usage:
  python export_inference_graph.py --model_name=lenet --dataset_name=digits \
      --dataset_dir=/tmp/digits --checkpoint_path=/tmp/lenet_digits \
      --output_file=/tmp/lenet_frozen.pb --saved_model_dir=/tmp/lenet_saved_model \
      --tflite_file=/tmp/lenet.tflite
"""

import tf_compat  # noqa: F401  (first: TensorFlow fixes; see tf_compat.py)
from absl import logging

import flag_options
from common import cli
from exporting import exporter
from exporting.export_options import ExportOptions

flag_options.define_flags(ExportOptions)
flag_options.define_help_flags(cli)


def main(_):
    logging.set_verbosity(logging.INFO)
    exporter.export(flag_options.options_from_flags(ExportOptions))


if __name__ == '__main__':
    cli.run(main)
