r"""Writes datasets/imagenet_class_names.txt: ImageNet's 1000 synsets with their names.

Run once, by hand, when the file needs regenerating; the output is committed so
nothing is read from tensorflow_datasets or the network at run time:

  python datasets/make_imagenet_class_names.py

Both inputs ship inside the installed tensorflow_datasets package, in the standard
(sorted-synset) class order:
  datasets/imagenet2012/labels.txt       one synset id per line
  datasets/siscore/labels.py             IMAGENET_LABELS_LIST, the WordNet names
The package is located without importing it (importing would load TensorFlow), and
the Python list is read with `ast` rather than executed.
"""

import ast
import importlib.util
import os

OUTPUT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           'imagenet_class_names.txt')

NUM_CLASSES = 1000


def tfds_directory():
    """The directory of the installed tensorflow_datasets package."""
    spec = importlib.util.find_spec('tensorflow_datasets')
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError('tensorflow_datasets is not installed: pip install -r requirements.txt')
    return spec.submodule_search_locations[0]


def read_synsets(package_dir):
    """The 1000 synset ids ('n01440764', ...) in standard order."""
    path = os.path.join(package_dir, 'datasets', 'imagenet2012', 'labels.txt')
    with open(path, encoding='utf-8') as f:
        return [line.strip() for line in f if line.strip()]


def read_names(package_dir):
    """The 1000 human-readable names ('tench, Tinca tinca', ...) in standard order."""
    path = os.path.join(package_dir, 'datasets', 'siscore', 'labels.py')
    with open(path, encoding='utf-8') as f:
        module = ast.parse(f.read(), path)
    for statement in module.body:
        if (isinstance(statement, ast.Assign)
                and any(isinstance(target, ast.Name) and target.id == 'IMAGENET_LABELS_LIST'
                        for target in statement.targets)):
            return ast.literal_eval(statement.value)
    raise RuntimeError('%s has no IMAGENET_LABELS_LIST; is this tensorflow_datasets 4.9.x?'
                       % path)


def class_name_lines(synsets, names):
    """`synset<TAB>names` lines; checks both lists have one unique entry per class."""
    if len(synsets) != NUM_CLASSES or len(set(synsets)) != NUM_CLASSES:
        raise RuntimeError('Expected %d unique synsets, got %d (%d unique).'
                           % (NUM_CLASSES, len(synsets), len(set(synsets))))
    if len(names) != NUM_CLASSES:
        raise RuntimeError('Expected %d class names, got %d.' % (NUM_CLASSES, len(names)))
    return ['%s\t%s\n' % (synset, name) for synset, name in zip(synsets, names, strict=True)]


def main():
    package_dir = tfds_directory()
    lines = class_name_lines(read_synsets(package_dir), read_names(package_dir))
    with open(OUTPUT_PATH, 'w', encoding='utf-8') as f:
        f.writelines(lines)
    print('Wrote %d classes to %s' % (len(lines), OUTPUT_PATH))


if __name__ == '__main__':
    main()
