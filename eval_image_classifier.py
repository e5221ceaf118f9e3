r"""Evaluates a trained classification network over a split: top-1 and top-5 accuracy, mean
loss, per-class accuracy and the confusion matrix, written to --eval_dir.

Usage:
  python eval_image_classifier.py --dataset_name=digits --dataset_dir=/tmp/digits \
      --dataset_split_name=validation --model_name=lenet \
      --checkpoint_path=/tmp/lenet_digits --eval_dir=/tmp/lenet_digits/eval

  # Alongside training: evaluate each new checkpoint as it appears, until step 800.
  python eval_image_classifier.py ... --checkpoint_path=/tmp/lenet_digits \
      --eval_interval_secs=60 --max_number_of_steps=800
"""

import tf_compat  # noqa: F401  (first: TensorFlow fixes; see tf_compat.py)
from absl import logging

import flag_options
from common import cli
from evaluation import evaluator
from evaluation.eval_options import EvalOptions

flag_options.define_flags(EvalOptions)
flag_options.define_help_flags(cli)


def main(_):
    logging.set_verbosity(logging.INFO)
    evaluator.evaluate_checkpoints(flag_options.options_from_flags(EvalOptions))


if __name__ == '__main__':
    cli.run(main)
