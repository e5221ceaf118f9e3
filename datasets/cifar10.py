"""CIFAR-10 in TF-Slim's layout: `cifar10_{train,test}.tfrecord`, 32x32 RGB PNGs."""

from datasets import dataset_splits

FILE_PATTERN = 'cifar10_%s.tfrecord'

SPLITS_TO_SIZES = {'train': 50000, 'test': 10000}

NUM_CLASSES = 10

ITEMS_TO_DESCRIPTIONS = {
    'image': 'A [32 x 32 x 3] color image.',
    'label': 'A single integer between 0 and 9.',
}


def get_split(split_name, dataset_dir, file_pattern=None):
    return dataset_splits.get_split(
        'cifar10', split_name, dataset_dir, file_pattern or FILE_PATTERN, SPLITS_TO_SIZES,
        NUM_CLASSES, ITEMS_TO_DESCRIPTIONS)
