r"""Evaluates a trained classification network: top-1 and top-5 accuracy over a split.

Usage:
  python eval_image_classifier.py --dataset_name=digits --dataset_dir=/tmp/digits \
      --dataset_split_name=validation --model_name=lenet \
      --checkpoint_path=/tmp/lenet_digits --eval_dir=/tmp/lenet_digits/eval
"""

import tf_compat  # noqa: F401  (first: TensorFlow fixes; see tf_compat.py)
from absl import app, logging

import flag_options
from evaluation import evaluator
from evaluation.eval_options import EvalOptions

flag_options.define_flags(EvalOptions)


def main(_):
    logging.set_verbosity(logging.INFO)
    evaluator.evaluate(flag_options.options_from_flags(EvalOptions))


if __name__ == '__main__':
    app.run(main)
