"""Converts a folder of images, one sub-folder per class, into the `custom` TFRecords.

    IMAGE_DIR/cat/001.jpg, IMAGE_DIR/cat/002.png, ..., IMAGE_DIR/dog/a.jpeg, ...

Classes are the sorted sub-folder names, labels 0..N-1. Each class is split on its own, so
both splits hold every class in the same proportion. Images are found by extension (any case)
but read by content: PNG, BMP, GIF, WebP and grayscale or CMYK JPEGs are re-encoded as RGB
JPEG, and a PNG named .jpg is fine. Hidden files and folders are ignored.

The dataset directory receives, in this order: `custom_conversion.json` (what is being
converted), the shards, `labels.txt`, and `dataset_metadata.json`, whose presence marks a
finished conversion. Rerunning the same conversion writes only missing shards, so a killed run
is finished by rerunning it, also after replacing an unreadable image. A partial conversion of
other image names or another fraction is started over; a finished one is never overwritten.
"""

import dataclasses
import hashlib
import json
import math
import os
import random

import tensorflow.compat.v1 as tf

from common import files
from common.errors import ConfigurationError, DataError
from datasets import conversion, custom, dataset_splits, dataset_utils

IMAGE_EXTENSIONS = ('.bmp', '.gif', '.jpeg', '.jpg', '.png', '.webp')

IMAGES_PER_SHARD = 1000

SPLIT_SEED = 0

SHARD_NAME = 'custom_%s-%05d-of-%05d.tfrecord'

CONVERSION_FILENAME = 'custom_conversion.json'


@dataclasses.dataclass(frozen=True)
class SourceImage:
    path: str
    label: int
    class_name: str


def _is_hidden(name):
    return name.startswith('.')


def find_class_images(image_dir):
    """Lists the images of each class folder.

    Returns:
      ({class name: [image file names, sorted]} in sorted class order, number of ignored
      non-image files).
    Raises:
      ValueError: fewer than two class folders, or a class folder without images.
    """
    class_names = [name for name in files.list_directory(image_dir)
                   if not _is_hidden(name) and tf.io.gfile.isdir(os.path.join(image_dir, name))]
    if len(class_names) < 2:
        raise DataError(
            '--image_dir=%s has %d class sub-folder(s)%s; a classifier needs at least 2. Put '
            'the images of each class in their own sub-folder, e.g. %s/cat/1.jpg and %s/dog/1.jpg.'
            % (image_dir, len(class_names), (' (%s)' % class_names[0]) if class_names else '',
               image_dir, image_dir))
    class_images, ignored = {}, 0
    for class_name in class_names:
        class_dir = os.path.join(image_dir, class_name)
        names = [name for name in files.list_directory(class_dir)
                 if not _is_hidden(name) and files.is_file(os.path.join(class_dir, name))]
        images = [name for name in names if name.lower().endswith(IMAGE_EXTENSIONS)]
        if not images:
            raise DataError(
                'Class folder %s has no images (files ending in %s, any case, directly in the '
                'folder). Add images or remove the folder.'
                % (class_dir, ' '.join(IMAGE_EXTENSIONS)))
        class_images[class_name] = images
        ignored += len(names) - len(images)
    return class_images, ignored


def validation_count(num_images, validation_fraction):
    """How many of a class's `num_images` go to validation.

    round(fraction * num_images), halves rounded up, but at least 1 when the fraction is
    positive and at most num_images - 1, so a class of two or more images is in both splits
    (a single image trains).
    """
    if validation_fraction == 0 or num_images < 2:
        return 0
    return min(max(math.floor(validation_fraction * num_images + 0.5), 1), num_images - 1)


def split_images(image_dir, class_images, validation_fraction):
    """Assigns every image to 'train' or 'validation', class by class.

    Each class's sorted file list is shuffled with a fixed seed and its first
    `validation_count` images go to validation. Each split is then shuffled, so its shards
    mix the classes.
    Returns:
      {'train': [SourceImage], 'validation': [SourceImage]}.
    """
    splits = {'train': [], 'validation': []}
    for label, (class_name, names) in enumerate(class_images.items()):
        images = [SourceImage(os.path.join(image_dir, class_name, name), label, class_name)
                  for name in names]
        random.Random(SPLIT_SEED).shuffle(images)
        num_validation = validation_count(len(images), validation_fraction)
        splits['validation'] += images[:num_validation]
        splits['train'] += images[num_validation:]
    for images in splits.values():
        random.Random(SPLIT_SEED).shuffle(images)
    return splits


def conversion_record(image_dir, class_images, validation_fraction):
    """What a conversion reads, with a fingerprint of what decides its shards' contents: the
    fraction and every image's class and file name.

    Neither the folder's location (a moved folder matches) nor file contents (a replaced
    unreadable image keeps the finished shards) are part of the fingerprint.
    """
    images = [[class_name, name] for class_name, names in class_images.items() for name in names]
    inputs = json.dumps({'validation_fraction': validation_fraction, 'images': images})
    return {
        'image_dir': files.resolved_path(image_dir),
        'validation_fraction': validation_fraction,
        'num_images': len(images),
        'fingerprint': hashlib.sha256(inputs.encode('utf-8')).hexdigest(),
    }


def _read_conversion_record(dataset_dir):
    return files.read_json_file(os.path.join(dataset_dir, CONVERSION_FILENAME))


def _remove_partial_shards(dataset_dir):
    """Deletes the shards of an unfinished conversion, and their temporary files."""
    shard_names = custom.FILE_PATTERN % '*'
    for name_pattern in (shard_names, shard_names + '.*' + files.INCOMPLETE_SUFFIX):
        for path in files.matching_paths(dataset_dir, name_pattern):
            files.remove_file(path)


def _prepare_dataset_dir(dataset_dir, record):
    """Checks that dataset_dir is new or holds this conversion, then records it.

    Raises:
      ValueError: dataset_dir holds a finished dataset of other images or another fraction,
        or another converter's dataset.
    """
    previous = _read_conversion_record(dataset_dir)
    finished = dataset_splits.read_dataset_metadata(dataset_dir) is not None
    if previous is None and finished:
        raise ConfigurationError(
            '--dataset_dir=%s already holds another dataset (%s without %s). Choose a new '
            '--dataset_dir for the custom dataset.'
            % (dataset_dir, dataset_splits.METADATA_FILENAME, CONVERSION_FILENAME))
    if previous is not None and previous['fingerprint'] != record['fingerprint']:
        if finished:
            raise ConfigurationError(
                '--dataset_dir=%s already holds a custom dataset converted from other images '
                'or another --validation_fraction (%d images of %s with fraction %g; now %d '
                'images of %s with fraction %g). Use a new --dataset_dir, or delete the custom_* '
                'files, %s and %s in it to convert again.'
                % (dataset_dir, previous['num_images'], previous['image_dir'],
                   previous['validation_fraction'], record['num_images'], record['image_dir'],
                   record['validation_fraction'], dataset_utils.LABELS_FILENAME,
                   dataset_splits.METADATA_FILENAME))
        print('%s holds an unfinished conversion of other images or another '
              '--validation_fraction; starting over.' % dataset_dir)
        _remove_partial_shards(dataset_dir)
    if previous != record:
        tf.io.gfile.makedirs(dataset_dir)
        files.write_file_atomically(
            os.path.join(dataset_dir, CONVERSION_FILENAME),
            (json.dumps(record, indent=2, sort_keys=True) + '\n').encode('utf-8'))


def serialized_example(image):
    """The serialized tf.train.Example of a `SourceImage`, as RGB JPEG.

    Raises:
      ValueError: the file is not a readable image; the message names it.
    """
    rgb = conversion.read_rgb_jpeg(image.path)
    return dataset_utils.image_to_tfexample(
        rgb.data, b'jpeg', rgb.height, rgb.width, image.label,
        class_text=image.class_name).SerializeToString()


def _check_arguments(image_dir, dataset_dir, validation_fraction):
    if not tf.io.gfile.isdir(image_dir):
        raise ConfigurationError('--image_dir=%s is not a directory: point it at a folder with one '
                                 'sub-folder of images per class.' % image_dir)
    if not 0 <= validation_fraction < 1:
        raise ConfigurationError('--validation_fraction=%g: set it to at least 0 and below 1 (0.1 '
                                 'puts 10%% of each class in the validation '
                                 'split).' % validation_fraction)
    image_root = files.resolved_path(image_dir).rstrip('/')
    output = files.resolved_path(dataset_dir).rstrip('/')
    if output == image_root or output.startswith(image_root + '/'):
        raise ConfigurationError('--dataset_dir=%s is inside --image_dir=%s, where it would be '
                                 'read as a class: choose a directory outside '
                                 'it.' % (dataset_dir, image_dir))


def run(image_dir, dataset_dir, validation_fraction=0.1):
    """Writes the custom dataset of `image_dir` to `dataset_dir`; see the module docstring.

    Raises:
      ValueError: bad arguments, unusable folders or images, or a dataset_dir holding
        another dataset; every message names the input to fix.
    """
    _check_arguments(image_dir, dataset_dir, validation_fraction)
    class_images, num_ignored = find_class_images(image_dir)
    splits = split_images(image_dir, class_images, validation_fraction)
    print('Found %d images of %d classes in %s: %d train, %d validation.%s'
          % (sum(len(images) for images in splits.values()), len(class_images), image_dir,
             len(splits['train']), len(splits['validation']),
             ' Ignored %d file(s) not ending in %s.' % (num_ignored, ' '.join(IMAGE_EXTENSIONS))
             if num_ignored else ''))
    _prepare_dataset_dir(dataset_dir, conversion_record(image_dir, class_images,
                                                        validation_fraction))
    split_paths = {
        split_name: conversion.shard_paths(dataset_dir, SHARD_NAME, split_name,
                                           max(1, math.ceil(len(images) / IMAGES_PER_SHARD)))
        for split_name, images in splits.items()}
    if conversion.is_converted(dataset_dir, split_paths):
        return
    conversion.write_dataset(
        dataset_dir, custom.FILE_PATTERN,
        {split_name: conversion.plan_shards(split_paths[split_name], images)
         for split_name, images in splits.items()},
        serialized_example, dict(enumerate(class_images)))
