"""Visual Wake Words: COCO 2014 images labelled 1 when they show a person, else 0.

Files as TF-Slim names them: `train.record-00000-of-00100` .. and `val.record-00000-of-00010`
..; `datasets/convert_visualwakewords.py` writes them. Examples keep the boxes of the objects
that made label 1.
"""

from datasets import dataset_splits

FILE_PATTERN = '%s.record-*'

SPLITS_TO_SIZES = {'train': 82783, 'val': 40504}

NUM_CLASSES = 2

ITEMS_TO_DESCRIPTIONS = {
    'image': 'A color image of varying size.',
    'label': '1 when the image shows the class of interest (person), else 0.',
    'object/bbox': 'The boxes of the objects of the class of interest.',
}


def get_split(split_name, dataset_dir, file_pattern=None):
    return dataset_splits.get_split(
        'visualwakewords', split_name, dataset_dir, file_pattern or FILE_PATTERN,
        SPLITS_TO_SIZES, NUM_CLASSES, ITEMS_TO_DESCRIPTIONS)
