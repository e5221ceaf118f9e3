"""MNIST in TF-Slim's layout: `mnist_{train,test}.tfrecord`, 28x28 grayscale PNGs."""

from datasets import dataset_splits

FILE_PATTERN = 'mnist_%s.tfrecord'

SPLITS_TO_SIZES = {'train': 60000, 'test': 10000}

NUM_CLASSES = 10

# Grayscale: images decode to one channel and networks take one.
IMAGE_CHANNELS = 1

ITEMS_TO_DESCRIPTIONS = {
    'image': 'A 28 x 28 grayscale image of a handwritten digit.',
    'label': 'A single integer between 0 and 9.',
}


def get_split(split_name, dataset_dir, file_pattern=None):
    return dataset_splits.get_split(
        'mnist', split_name, dataset_dir, file_pattern or FILE_PATTERN, SPLITS_TO_SIZES,
        NUM_CLASSES, ITEMS_TO_DESCRIPTIONS, image_channels=IMAGE_CHANNELS)
