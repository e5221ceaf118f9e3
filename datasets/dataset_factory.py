"""Maps dataset names to their split descriptors."""

from datasets import cifar10, digits, flowers, imagenet, mnist

datasets_map = {
    'cifar10': cifar10,
    'digits': digits,
    'flowers': flowers,
    'imagenet': imagenet,
    'mnist': mnist,
}


def get_dataset(name, split_name, dataset_dir, file_pattern=None):
    """Returns the `dataset_utils.DatasetSplit` describing one split of a dataset.

    Raises:
      ValueError: for an unknown dataset or split name; the message lists the valid ones.
    """
    if name not in datasets_map:
        raise ValueError('Unknown dataset %r; valid names: %s (set --dataset_name).'
                         % (name, ', '.join(sorted(datasets_map))))
    return datasets_map[name].get_split(split_name, dataset_dir, file_pattern)
