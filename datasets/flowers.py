"""TF-Slim's flowers: 5 classes, `flowers_{train,validation}_*.tfrecord` (5 shards each)."""

from datasets import dataset_splits

FILE_PATTERN = 'flowers_%s_*.tfrecord'

SPLITS_TO_SIZES = {'train': 3320, 'validation': 350}

NUM_CLASSES = 5

ITEMS_TO_DESCRIPTIONS = {
    'image': 'A color image of varying size.',
    'label': 'A single integer between 0 and 4.',
}


def get_split(split_name, dataset_dir, file_pattern=None):
    return dataset_splits.get_split(
        'flowers', split_name, dataset_dir, file_pattern or FILE_PATTERN, SPLITS_TO_SIZES,
        NUM_CLASSES, ITEMS_TO_DESCRIPTIONS)
