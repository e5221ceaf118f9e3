"""A user's own images: `custom_{train,validation}-NNNNN-of-NNNNN.tfrecord` shards.

`download_and_convert_data.py --dataset_name=custom --image_dir=FOLDER --dataset_dir=DIR`
writes them (see `datasets/convert_custom.py`). The class count and split sizes differ per
folder, so they are read from the `dataset_metadata.json` the converter writes last, and
the class names from its `labels.txt`.
"""

from common.errors import ConfigurationError, MissingPathError
from datasets import dataset_splits

FILE_PATTERN = 'custom_%s-*.tfrecord'

# Known only per dataset directory (dataset_metadata.json); None tells class_names so.
NUM_CLASSES = None

ITEMS_TO_DESCRIPTIONS = {
    'image': 'A color image of varying size, stored as RGB JPEG.',
    'label': 'A single integer class id; labels.txt names each one.',
}


def _convert_command(dataset_dir):
    return ('python download_and_convert_data.py --dataset_name=custom '
            '--image_dir=YOUR_IMAGE_FOLDER --dataset_dir=%s' % dataset_dir)


def get_split(split_name, dataset_dir, file_pattern=None):
    """Describes split 'train' or 'validation' of the custom dataset in `dataset_dir`.

    Raises:
      ValueError: no dataset_dir, or a split the dataset does not have.
      FileNotFoundError: dataset_dir holds no finished conversion (no dataset_metadata.json).
    """
    if not dataset_dir:
        raise ConfigurationError('No dataset directory given for dataset \'custom\': set '
                                 '--dataset_dir to the directory the custom converter wrote.')
    metadata = dataset_splits.read_dataset_metadata(dataset_dir)
    if metadata is None:
        raise MissingPathError(
            'No converted custom dataset in %s: it has no %s, which the converter writes when '
            'it finishes. Create the dataset with `%s`, or pass the right --dataset_dir.'
            % (dataset_dir, dataset_splits.METADATA_FILENAME, _convert_command(dataset_dir)))
    return dataset_splits.get_split(
        'custom', split_name, dataset_dir, file_pattern or FILE_PATTERN,
        metadata['splits_to_sizes'], metadata['num_classes'], ITEMS_TO_DESCRIPTIONS)
