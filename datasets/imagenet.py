"""ILSVRC-2012 in TF-Slim's layout: `train-00000-of-01024` ... / `validation-00000-of-00128`.

Labels are 1..1000 in sorted-synset order; 0 is the background class, so heads have
1001 outputs (use --labels_offset=1 for 1000-output networks such as VGG and ResNet V1).
"""

from datasets import dataset_splits

FILE_PATTERN = '%s-*'

SPLITS_TO_SIZES = {'train': 1281167, 'validation': 50000}

NUM_CLASSES = 1001

ITEMS_TO_DESCRIPTIONS = {
    'image': 'A color image of varying height and width.',
    'label': 'The label id of the image, integer between 0 and 1000 (0 = background).',
    'label_text': 'The text of the label.',
    'object/bbox': 'A list of bounding boxes (ymin, xmin, ymax, xmax), normalised to [0, 1].',
}


def get_split(split_name, dataset_dir, file_pattern=None):
    return dataset_splits.get_split(
        'imagenet', split_name, dataset_dir, file_pattern or FILE_PATTERN, SPLITS_TO_SIZES,
        NUM_CLASSES, ITEMS_TO_DESCRIPTIONS)
