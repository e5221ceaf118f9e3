"""Human-readable class names, one per model output.

ImageNet's names come from `imagenet_class_names.txt` next to this module (`synset<TAB>words`
lines in the standard sorted-synset order; `make_imagenet_class_names.py` writes it), a
`tfds:NAME` dataset's from its TFDS info. Other datasets name their classes in the
`labels.txt` of their dataset directory.
"""

import functools
import os

from common.errors import ConfigurationError
from datasets import dataset_factory, dataset_utils, tfds_bridge

IMAGENET_CLASS_NAMES_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                         'imagenet_class_names.txt')

BACKGROUND = 'background'


@functools.cache
def _imagenet_synsets_and_words():
    with open(IMAGENET_CLASS_NAMES_PATH, encoding='utf-8') as f:
        pairs = [line.rstrip('\n').split('\t') for line in f if line.strip()]
    return tuple(synset for synset, _ in pairs), tuple(words for _, words in pairs)


def imagenet_synsets():
    """The 1000 ImageNet synset ids ('n01440764', ...) in the standard class order."""
    return list(_imagenet_synsets_and_words()[0])


def imagenet_words():
    """The 1000 ImageNet class names ('tench, Tinca tinca', ...) in the standard class order."""
    return list(_imagenet_synsets_and_words()[1])


def _dataset_num_classes(dataset_name):
    """The class count of a dataset the factory knows (background included), else None."""
    module = dataset_factory.datasets_map.get(dataset_name)
    return module.NUM_CLASSES if module else None


def _check_num_classes(dataset_name, expected, num_classes, labels_offset):
    if num_classes is not None and num_classes != expected:
        raise ConfigurationError(
            'Dataset %r with --labels_offset=%d has %d classes, not --num_classes=%d. Drop '
            '--num_classes, or fix --labels_offset (1 for 1000-class ImageNet heads such as '
            'VGG and ResNet V1, -1 for 1001-class heads on tfds:imagenet2012).'
            % (dataset_name, labels_offset, expected, num_classes))


def class_names(dataset_name, dataset_dir=None, num_classes=None, labels_offset=0):
    """Returns a list of str, the name of each model output in order.

    Args:
      dataset_name: 'imagenet' (names from the committed ImageNet file), 'tfds:NAME' (names
        from the TFDS info), or any other dataset whose `<dataset_dir>/labels.txt`
        (`id:name` lines) names its classes.
      dataset_dir: the dataset directory holding labels.txt, or the TFDS data directory;
        optional.
      num_classes: the model's output count. Required for datasets the factory does not
        know; for the others it must equal the dataset's class count minus labels_offset.
      labels_offset: dataset label of model output 0 (1 for heads without ImageNet's
        background class; -1 for heads with one on datasets without, such as TFDS's
        0-based ImageNet: output 0 is then named 'background').
    Classes the labels file does not name (or all, without a labels file) are named by
    their dataset label as a string, '0', '1', ...
    Raises:
      ValueError: num_classes contradicts the dataset, or is missing for an unknown dataset.
    """
    dataset_num_classes = _dataset_num_classes(dataset_name)
    if tfds_bridge.is_tfds_name(dataset_name):
        names = tfds_bridge.class_names(dataset_name, dataset_dir)
    elif dataset_name == 'imagenet':
        names = [BACKGROUND] + imagenet_words()
    elif dataset_dir and dataset_utils.has_labels(dataset_dir):
        labels_to_names = dataset_utils.read_label_file(dataset_dir)
        count = dataset_num_classes or max(max(labels_to_names) + 1,
                                           (num_classes or 0) + labels_offset)
        names = [labels_to_names.get(label, str(label)) for label in range(count)]
    elif dataset_num_classes is not None:
        names = [str(label) for label in range(dataset_num_classes)]
    elif num_classes is not None:
        names = [str(label) for label in range(num_classes + labels_offset)]
    else:
        raise ConfigurationError(
            'Unknown dataset %r (known: %s, tfds:NAME) and no labels.txt in --dataset_dir=%s: '
            'set --num_classes to the number of model outputs.'
            % (dataset_name, ', '.join(sorted(dataset_factory.datasets_map)), dataset_dir))
    if labels_offset < 0:
        # Outputs below dataset label 0 stand for no class of the dataset.
        names = [BACKGROUND] * -labels_offset + names
    else:
        names = names[labels_offset:]
    _check_num_classes(dataset_name, len(names), num_classes, labels_offset)
    return names
