"""Maps dataset names to their split descriptors, class counts and image channels.

`tfds:NAME` names a TensorFlow Datasets dataset (`datasets/tfds_bridge.py`); every other name
is a key of `datasets_map`, a module describing TFRecords in TF-Slim's format.
"""

import os

from common.errors import ConfigurationError
from datasets import tfds_bridge
from datasets import cifar10, custom, digits, flowers, imagenet, mnist, visualwakewords

datasets_map = {
    'cifar10': cifar10,
    'custom': custom,
    'digits': digits,
    'flowers': flowers,
    'imagenet': imagenet,
    'mnist': mnist,
    'visualwakewords': visualwakewords,
}


def get_dataset(name, split_name, dataset_dir, file_pattern=None):
    """Returns the descriptor of one split of a dataset: a `dataset_splits.DatasetSplit`, or
    for `tfds:NAME` a `tfds_bridge.TfdsSplit` (which ignores file_pattern).

    Raises:
      ValueError: for an unknown dataset or split name; the message lists the valid ones.
      FileNotFoundError: a `tfds:NAME` dataset not prepared in dataset_dir.
    """
    if tfds_bridge.is_tfds_name(name):
        return tfds_bridge.get_split(name, split_name, dataset_dir)
    if name not in datasets_map:
        raise ConfigurationError('Unknown dataset %r; valid names: %s, or tfds:NAME for a '
                                 'TensorFlow Datasets dataset (set --dataset_name).'
                                 % (name, ', '.join(sorted(datasets_map))))
    return datasets_map[name].get_split(split_name, dataset_dir, file_pattern)


def split_and_num_classes(options):
    """(the split `get_dataset` returns, the number of classes the network predicts: the
    split's less --labels_offset) for options with dataset_name, dataset_split_name,
    dataset_dir and labels_offset."""
    dataset_split = get_dataset(options.dataset_name, options.dataset_split_name,
                                options.dataset_dir)
    return dataset_split, dataset_split.num_classes - options.labels_offset


def num_classes(name, dataset_dir=None):
    """The class count of a dataset, background included, as a model head needs it before
    --labels_offset. A `tfds:NAME` dataset need not be prepared (see tfds_bridge).

    Raises:
      ValueError: for an unknown dataset name.
    """
    if tfds_bridge.is_tfds_name(name):
        return tfds_bridge.num_classes(name, dataset_dir)
    # get_split wants a directory, though only a converter's metadata is read from it.
    return get_dataset(name, 'train', dataset_dir or os.curdir).num_classes


def image_channels(name, dataset_dir=None):
    """1 for grayscale datasets (their networks take one channel), else 3.

    A module of `datasets_map` says 1 with IMAGE_CHANNELS = 1; names this library does not
    know (classify_image.py with --num_classes) are colour. Only `tfds:NAME` reads the
    dataset's info, from dataset_dir when it holds a prepared copy.
    """
    if tfds_bridge.is_tfds_name(name):
        return tfds_bridge.image_channels(name, dataset_dir)
    if name not in datasets_map:
        return 3
    return getattr(datasets_map[name], 'IMAGE_CHANNELS', 3)
