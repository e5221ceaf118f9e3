r"""Converts the raw ILSVRC-2012 images into TF-Slim's ImageNet TFRecords.

Input, as the ImageNet archives unpack:
  <train_directory>/n01440764/n01440764_10026.JPEG ...     one sub-folder per synset
  <validation_directory>/ILSVRC2012_val_00000001.JPEG ...  flat, each image's synset on the
      matching line of --validation_labels_file (sorted file-name order); or, like train,
      one sub-folder per synset
  --bounding_box_file: optional, a CSV of `filename,xmin,ymin,xmax,ymax` lines (normalised,
      the output of TF-Slim's process_bounding_boxes.py) or a directory of ILSVRC XML
      annotations (pixel boxes, e.g. Annotation/n01440764/n01440764_10026.xml)
Output in --output_directory: train-00000-of-01024 ... and validation-00000-of-00128, whose
examples have label i for the synset on line i of --labels_file (0 is the background class),
the synset, its words from --imagenet_metadata_file, and the boxes normalised to [0, 1].

Usage (or `download_and_convert_data.py --dataset_name=imagenet --dataset_dir=...`):
  python datasets/build_imagenet_data.py --train_directory=/raw/train \
      --validation_directory=/raw/validation --output_directory=/data/imagenet \
      [--bounding_box_file=/raw/bounding_boxes] [--num_threads=8]

Shards are written by --num_threads processes through temporary names; rerunning an
interrupted conversion with the same flags writes only the missing shards. Every image is
stored as an RGB JPEG: the PNG named .JPEG, the CMYK JPEGs and the grayscale JPEGs of the
raw data are re-encoded (each one is logged). An unreadable image stops the conversion with
its path.
"""

import collections
import contextlib
import csv
import dataclasses
import functools
import multiprocessing
import os
import sys
import xml.etree.ElementTree as ElementTree

if not __package__:
    # Run as `python datasets/build_imagenet_data.py`: Python puts datasets/ first on the
    # path, but the imports below need the repository root that holds this package.
    sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import tf_compat  # noqa: E402,F401  (first of the project: TensorFlow fixes)
import tensorflow.compat.v1 as tf  # noqa: E402
from absl import app, flags  # noqa: E402

from common import cli, files  # noqa: E402
from common.errors import ConfigurationError, DataError, MissingPathError
from datasets import (  # noqa: E402
    class_names,
    conversion,
    dataset_splits,
    dataset_utils,
    dataset_writing,
    imagenet,
    make_imagenet_class_names,
)

FLAGS = flags.FLAGS

flags.DEFINE_string('train_directory', None,
                    'Raw training images: one sub-folder of images per synset.')
flags.DEFINE_string(
    'validation_directory', None,
    'Raw validation images: flat (labelled by --validation_labels_file) or one sub-folder of '
    'images per synset.')
flags.DEFINE_string(
    'output_directory', None,
    'Where the TFRecords are written (with download_and_convert_data.py: default '
    '--dataset_dir).')
flags.DEFINE_string(
    'labels_file', None,
    'The synsets, one per line: line i gets label i (0 is background). Default: the 1000 '
    'ILSVRC-2012 synsets in their standard order.')
flags.DEFINE_string(
    'imagenet_metadata_file', None,
    'Lines of `synset<TAB>human-readable words`. Default: datasets/imagenet_class_names.txt.')
flags.DEFINE_string(
    'bounding_box_file', None,
    'Optional boxes: a CSV of `filename,xmin,ymin,xmax,ymax` lines normalised to [0, 1], or '
    'a directory of ILSVRC XML annotations (searched recursively).')
flags.DEFINE_string(
    'validation_labels_file', None,
    'For a flat --validation_directory: the synset of each image, one per line, in sorted '
    'file-name order. Default: the ILSVRC-2012 list shipped with tensorflow_datasets.')
flags.DEFINE_integer('train_shards', 1024, 'Number of shards of the training split.')
flags.DEFINE_integer('validation_shards', 128, 'Number of shards of the validation split.')
flags.DEFINE_integer('num_threads', 8, 'Number of processes writing shards in parallel.')

# TF-Slim's seed: the training images are shuffled so each shard mixes the classes.
TRAIN_SHUFFLE_SEED = 12345

SHARD_NAME = '%s-%05d-of-%05d'


@dataclasses.dataclass(frozen=True)
class ImageItem:
    """One raw image and what its example records. `boxes` are normalised
    (ymin, xmin, ymax, xmax) tuples."""

    path: str
    label: int
    synset: str
    text: str
    boxes: tuple


def read_synsets(path):
    """The non-empty lines of a file of one synset per line, in order."""
    with tf.io.gfile.GFile(path, 'r') as f:
        return [line.strip() for line in f if line.strip()]


def read_synset_words(path):
    """{synset: words} from a file of `synset<TAB>words` lines."""
    words = {}
    with tf.io.gfile.GFile(path, 'r') as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            synset, tab, text = line.rstrip('\n').partition('\t')
            if not tab:
                raise DataError('Line %d of --imagenet_metadata_file=%s is not '
                                '`synset<TAB>words`: %r. Fix the line.' % (number, path, line))
            words[synset.strip()] = text.strip()
    return words


def default_validation_labels_file():
    """The 50,000 ILSVRC-2012 validation synsets that tensorflow_datasets ships."""
    return os.path.join(make_imagenet_class_names.tfds_directory(), 'datasets', 'imagenet2012',
                        'validation_labels.txt')


def _clipped_box(xmin, ymin, xmax, ymax):
    """(ymin, xmin, ymax, xmax) of a normalised box, each side clipped to [0, 1]."""
    def clip(value):
        return min(max(value, 0.0), 1.0)
    return (clip(min(ymin, ymax)), clip(min(xmin, xmax)),
            clip(max(ymin, ymax)), clip(max(xmin, xmax)))


def _file_stem(path):
    """'a/n01440764_10026.JPEG' -> 'n01440764_10026': how images and their boxes are matched."""
    return os.path.splitext(os.path.basename(path))[0]


def _read_csv_boxes(path):
    boxes = collections.defaultdict(list)
    with tf.io.gfile.GFile(path, 'r') as f:
        for number, row in enumerate(csv.reader(f), 1):
            if not row:
                continue
            try:
                filename, xmin, ymin, xmax, ymax = row
                boxes[_file_stem(filename)].append(
                    _clipped_box(float(xmin), float(ymin), float(xmax), float(ymax)))
            except ValueError as error:
                raise DataError(
                    'Line %d of --bounding_box_file=%s is not `filename,xmin,ymin,xmax,ymax` '
                    '(%s): %r. Fix or delete the line.' % (number, path, error, row)) from error
    return dict(boxes)


def _read_xml_boxes(path):
    """Normalised boxes of one ILSVRC annotation: <size> and <object><bndbox> in pixels."""
    try:
        with tf.io.gfile.GFile(path, 'rb') as f:
            root = ElementTree.parse(f).getroot()
        width = float(root.findtext('size/width'))
        height = float(root.findtext('size/height'))
        boxes = []
        for box in root.iter('bndbox'):
            xmin, ymin, xmax, ymax = (float(box.findtext(side))
                                      for side in ('xmin', 'ymin', 'xmax', 'ymax'))
            boxes.append(_clipped_box(xmin / width, ymin / height, xmax / width, ymax / height))
        return boxes
    except (ElementTree.ParseError, TypeError, ValueError, ZeroDivisionError) as error:
        raise DataError(
            'Cannot read the ILSVRC annotation %s (%s): it needs <size> with a non-zero '
            '<width> and <height>, and <bndbox> elements with <xmin>, <ymin>, <xmax>, <ymax> '
            'in pixels. Fix or delete the file.' % (path, error)) from error


def read_bounding_boxes(path):
    """{image file name without extension: [(ymin, xmin, ymax, xmax), ...]}, normalised.

    `path` is a CSV file of normalised boxes or a directory tree of ILSVRC XML files.
    """
    if tf.io.gfile.isdir(path):
        boxes = {}
        for folder, _, names in tf.io.gfile.walk(path):
            for name in sorted(names):
                if name.endswith('.xml'):
                    image_boxes = _read_xml_boxes(os.path.join(folder, name))
                    if image_boxes:
                        boxes[_file_stem(name)] = image_boxes
        return boxes
    if tf.io.gfile.exists(path):
        return _read_csv_boxes(path)
    raise MissingPathError('--bounding_box_file=%s does not exist: give a CSV of boxes or a '
                           'directory of ILSVRC XML annotations, or leave it unset.' % path)


def _list_directory(directory):
    """(sub-folder names, other entry names) of a directory, sorted, hidden ones left out."""
    names = [name for name in files.list_directory(directory) if not name.startswith('.')]
    folders = [name for name in names if tf.io.gfile.isdir(os.path.join(directory, name))]
    return folders, sorted(set(names) - set(folders))


def _images_in_synset_folders(directory, folders):
    """[(path, synset)] of every file in `directory/<synset>/`."""
    images = []
    for synset in folders:
        folder = os.path.join(directory, synset)
        images.extend((os.path.join(folder, name), synset) for name in _list_directory(folder)[1])
    return images


def list_images(directory, flag_name, validation_labels_file=None):
    """[(path, synset)] of the raw images of one split, sorted by path.

    A directory with sub-folders has one per synset; a flat one (validation only, when
    `flag_name` is 'validation_directory') takes its synsets from `validation_labels_file`.
    """
    if not tf.io.gfile.isdir(directory):
        raise ConfigurationError('--%s=%s is not a directory: point it at the raw images.'
                                 % (flag_name, directory))
    folders, image_names = _list_directory(directory)
    if folders and image_names:
        raise DataError(
            '--%s=%s holds both synset sub-folders and files (first file: %s): put every image '
            'in its synset folder, or use a flat directory without sub-folders.'
            % (flag_name, directory, image_names[0]))
    if folders:
        images = _images_in_synset_folders(directory, folders)
    elif flag_name == 'validation_directory':
        labels_path = validation_labels_file or default_validation_labels_file()
        synsets = read_synsets(labels_path)
        if len(synsets) != len(image_names):
            raise DataError(
                '--validation_directory=%s holds %d files but --validation_labels_file=%s has '
                '%d lines: line i must give the synset of the i-th file in sorted name order. '
                'Pass the labels file of exactly these images.'
                % (directory, len(image_names), labels_path, len(synsets)))
        images = [(os.path.join(directory, name), synset)
                  for name, synset in zip(image_names, synsets, strict=True)]
    else:
        raise DataError('--%s=%s has no synset sub-folders: it needs one sub-folder of images '
                        'per synset (n01440764/, ...).' % (flag_name, directory))
    if not images:
        raise DataError('--%s=%s holds no images.' % (flag_name, directory))
    return images


def _label_images(images, synsets, synset_words, boxes, labels_source, words_source):
    """[ImageItem] of (path, synset) pairs; label i + 1 is the i-th synset of `synsets`."""
    labels = {synset: index + 1 for index, synset in enumerate(synsets)}
    image_synsets = {synset for _, synset in images}
    unknown = sorted(image_synsets - labels.keys())
    if unknown:
        raise DataError(
            'The images of %d synset(s) have no label in %s: %s. List every synset in '
            '--labels_file (one per line), or remove their images.'
            % (len(unknown), labels_source, ', '.join(unknown)))
    nameless = sorted(image_synsets - synset_words.keys())
    if nameless:
        raise DataError(
            '%d synset(s) have no words in %s: %s. Add a `synset<TAB>words` line for each to '
            '--imagenet_metadata_file.' % (len(nameless), words_source, ', '.join(nameless)))
    return [ImageItem(path, labels[synset], synset, synset_words[synset],
                      tuple(boxes.get(_file_stem(path), ())))
            for path, synset in images]


def read_label_synsets(labels_file=None):
    """The synsets in label order (label i + 1 for the i-th), from `labels_file` or the
    default list, checked: no repeats, at most the 1000 labels ImageNet's head has."""
    synsets = read_synsets(labels_file) if labels_file else class_names.imagenet_synsets()
    repeated = sorted(synset for synset, count in collections.Counter(synsets).items()
                      if count > 1)
    if repeated:
        raise DataError('--labels_file=%s lists these synsets more than once: %s. Keep one line '
                        'per synset.' % (labels_file, ', '.join(repeated)))
    if len(synsets) >= imagenet.NUM_CLASSES:
        raise DataError('--labels_file=%s lists %d synsets; the imagenet dataset has labels '
                        '1..%d only. Keep at most %d lines.'
                        % (labels_file, len(synsets), imagenet.NUM_CLASSES - 1,
                           imagenet.NUM_CLASSES - 1))
    return synsets


def split_items(train_directory=None, validation_directory=None, labels_file=None,
                imagenet_metadata_file=None, bounding_box_file=None,
                validation_labels_file=None):
    """{split: [ImageItem]} in writing order, for the splits whose directory is given.

    Training images are shuffled with a fixed seed after sorting, validation images stay
    sorted: the order is the same on every run, which is what makes resuming exact.
    """
    synsets = read_label_synsets(labels_file)
    labels_source = ('--labels_file=%s' % labels_file if labels_file
                     else 'the default list of the 1000 ILSVRC-2012 synsets')
    words_file = imagenet_metadata_file or class_names.IMAGENET_CLASS_NAMES_PATH
    synset_words = read_synset_words(words_file)
    words_source = '--imagenet_metadata_file=%s' % words_file
    boxes = read_bounding_boxes(bounding_box_file) if bounding_box_file else {}
    items = {}
    if train_directory:
        train = _label_images(list_images(train_directory, 'train_directory'), synsets,
                              synset_words, boxes, labels_source, words_source)
        order = np.random.RandomState(TRAIN_SHUFFLE_SEED).permutation(len(train))
        items['train'] = [train[index] for index in order]
    if validation_directory:
        items['validation'] = _label_images(
            list_images(validation_directory, 'validation_directory', validation_labels_file),
            synsets, synset_words, boxes, labels_source, words_source)
    return items


def plan_shards(output_directory, split, items, num_shards):
    """The `dataset_writing.Shard`s `<split>-00000-of-<num_shards>` ... of a split's items."""
    if num_shards < 1:
        raise ConfigurationError('--%s_shards=%d: a split needs at least '
                                 'one shard.' % (split, num_shards))
    return conversion.plan_shards(
        conversion.shard_paths(output_directory, SHARD_NAME, split, num_shards), items)


def make_example(item, repairs):
    """The serialized tf.train.Example of an `ImageItem`.

    Images that are not RGB JPEGs are re-encoded; what was fixed is logged and appended to
    the list `repairs`.
    Raises:
      ValueError: the file is not a readable image; the message names it.
    """
    image = conversion.read_rgb_jpeg(item.path)
    if image.repair:
        repairs.append(image.repair)
    example = dataset_utils.image_to_tfexample(
        image.data, b'JPEG', image.height, image.width, item.label, class_text=item.text,
        bboxes=list(item.boxes))
    feature = example.features.feature
    feature['image/colorspace'].CopyFrom(dataset_utils.bytes_feature(b'RGB'))
    feature['image/channels'].CopyFrom(dataset_utils.int64_feature(3))
    feature['image/class/synset'].CopyFrom(dataset_utils.bytes_feature(item.synset.encode()))
    feature['image/filename'].CopyFrom(
        dataset_utils.bytes_feature(os.path.basename(item.path).encode('utf-8')))
    if item.boxes:
        feature['image/object/bbox/label'].CopyFrom(
            dataset_utils.int64_feature([item.label] * len(item.boxes)))
    return example.SerializeToString()


def _print_repairs(repairs):
    """Prints how many images were re-encoded, by what they were."""
    counts = collections.Counter(repairs)
    print('Re-encoded %d image(s) to RGB JPEG%s.' % (len(repairs), ' (%s)' % ', '.join(
        '%s: %d' % (kind, counts[kind]) for kind in sorted(counts)) if repairs else ''))


def build(output_directory, train_directory=None, validation_directory=None, labels_file=None,
          imagenet_metadata_file=None, bounding_box_file=None, validation_labels_file=None,
          train_shards=1024, validation_shards=128, num_threads=8):
    """Writes the TFRecord shards of the given splits and `dataset_metadata.json`.

    Shards that exist are kept, so a rerun after an interruption only writes the missing
    ones. The arguments are the module's flags; None selects a flag's default file.
    Returns:
      {split: number of examples} of the splits built.
    Raises:
      ValueError: bad inputs (the message names the flag and the fix), an unreadable image,
        or shard files from a run with another shard count.
    """
    if not train_directory and not validation_directory:
        raise ConfigurationError('Nothing to convert: set --train_directory and/or '
                                 '--validation_directory.')
    items = split_items(train_directory, validation_directory, labels_file,
                        imagenet_metadata_file, bounding_box_file, validation_labels_file)
    num_shards = {'train': train_shards, 'validation': validation_shards}
    shards = {split: plan_shards(output_directory, split, split_images, num_shards[split])
              for split, split_images in items.items()}
    tf.io.gfile.makedirs(output_directory)
    with contextlib.ExitStack() as stack:
        if num_threads > 1:
            # Writer processes report re-encoded images through a list the manager shares.
            repairs = stack.enter_context(multiprocessing.get_context('spawn').Manager()).list()
        else:
            repairs = []
        for split, shards_of_split in shards.items():
            written = dataset_writing.write_shards(
                shards_of_split, functools.partial(make_example, repairs=repairs),
                num_processes=num_threads, label='Writing %s' % split,
                file_pattern=os.path.join(output_directory, split + '-*'))
            print('%s: %d examples in %d shards in %s (%d written now).'
                  % (split, len(items[split]), len(shards_of_split), output_directory, written))
        _print_repairs(list(repairs))
    sizes = {split: len(split_images) for split, split_images in items.items()}
    # Keep the size of a split an earlier run converted from other raw directories.
    metadata = dataset_splits.read_dataset_metadata(output_directory)
    all_sizes = dict(metadata['splits_to_sizes']) if metadata else {}
    all_sizes.update(sizes)
    dataset_splits.write_dataset_metadata(output_directory, all_sizes, imagenet.NUM_CLASSES)
    return sizes


def build_from_flags(output_directory):
    """`build` with this module's flags, writing to `output_directory`."""
    return build(output_directory, train_directory=FLAGS.train_directory,
                 validation_directory=FLAGS.validation_directory, labels_file=FLAGS.labels_file,
                 imagenet_metadata_file=FLAGS.imagenet_metadata_file,
                 bounding_box_file=FLAGS.bounding_box_file,
                 validation_labels_file=FLAGS.validation_labels_file,
                 train_shards=FLAGS.train_shards, validation_shards=FLAGS.validation_shards,
                 num_threads=FLAGS.num_threads)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError('Unexpected arguments: %s' % ' '.join(argv[1:]))
    if not FLAGS.output_directory:
        raise ConfigurationError('Set --output_directory to the directory for the TFRecord files.')
    build_from_flags(FLAGS.output_directory)


if __name__ == '__main__':
    cli.run(main)
