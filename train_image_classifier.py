r"""Trains a classification network, TF-Slim style.

Usage:
  python train_image_classifier.py --dataset_name=digits --dataset_dir=/tmp/digits \
      --model_name=lenet --train_dir=/tmp/lenet_digits --max_number_of_steps=1000
"""

import tf_compat  # noqa: F401  (first: TensorFlow fixes; see tf_compat.py)
from absl import logging

import flag_options
from common import cli
from training import trainer
from training.train_options import TrainOptions

flag_options.define_flags(TrainOptions)
flag_options.define_help_flags(cli)


def main(_):
    logging.set_verbosity(logging.INFO)
    trainer.train(flag_options.options_from_flags(TrainOptions))


if __name__ == '__main__':
    cli.run(main)
