"""The built-in `digits` dataset: scikit-learn's 1,797 handwritten digits, 8x8 grayscale.

The split is fixed: within each class, in scikit-learn's order, every fifth image
(positions 0, 5, 10, ...) is in `validation` (364 images), the rest in `train`
(1,433 images). `datasets/convert_digits.py` writes the files.
"""

from datasets import dataset_splits

FILE_PATTERN = 'digits_%s.tfrecord'

SPLITS_TO_SIZES = {'train': 1433, 'validation': 364}

NUM_CLASSES = 10

# Grayscale: images decode to one channel and networks take one.
IMAGE_CHANNELS = 1

VALIDATION_EVERY = 5

ITEMS_TO_DESCRIPTIONS = {
    'image': 'An 8x8 grayscale image of a handwritten digit.',
    'label': 'The digit, an integer between 0 and 9.',
}


def get_split(split_name, dataset_dir, file_pattern=None):
    return dataset_splits.get_split(
        'digits', split_name, dataset_dir, file_pattern or FILE_PATTERN, SPLITS_TO_SIZES,
        NUM_CLASSES, ITEMS_TO_DESCRIPTIONS, image_channels=IMAGE_CHANNELS)
