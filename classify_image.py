r"""Prints the most probable classes, with names and probabilities, of image files.

Usage:
  python classify_image.py --model_name=lenet --checkpoint_path=/tmp/lenet_digits \
      --dataset_name=digits --dataset_dir=/tmp/digits three.png seven.png
  python classify_image.py --model_name=inception_v3 --checkpoint_path=/tmp/inception_v3.ckpt \
      cat.jpg
  python classify_image.py --saved_model_dir=/tmp/exported/inception_v3 cat.jpg

For each image it prints the path, then `  rank. probability  (class id) name` lines.
"""

import tf_compat  # noqa: F401  (first: TensorFlow fixes; see tf_compat.py)

import flag_options
from common import cli
from inference import classifier
from inference.classify_options import ClassifyOptions

flag_options.define_flags(ClassifyOptions)
flag_options.define_help_flags(cli)


def main(argv):
    options = flag_options.options_from_flags(ClassifyOptions)
    for prediction in classifier.classify(options, argv[1:]):
        print(classifier.format_prediction(prediction), flush=True)


if __name__ == '__main__':
    cli.run(main)
