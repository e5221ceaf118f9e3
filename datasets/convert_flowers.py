"""Converts TF-Slim's flowers photos into `flowers_{train,validation}_0000N-of-00005.tfrecord`.

The archive holds flower_photos/<class>/*.jpg for five classes; labels follow the sorted class
names. As in TF-Slim, the photos are shuffled with random seed 0 (from sorted file names, so
the split is the same on every file system), the first 350 form `validation` and the rest
`train`. RGB JPEGs are stored byte for byte; other images are re-encoded as RGB JPEGs.
"""

import os
import random

from common import files
from common.errors import DataError
from datasets import conversion, dataset_utils, download, flowers

URL = 'https://storage.googleapis.com/download.tensorflow.org/example_images/flower_photos.tgz'
# TFDS's tf_flowers records the digest of the same Cloud Storage object under its http address.
TFDS_CHECKSUMS = ('datasets/tf_flowers/checksums.tsv',
                  'http://download.tensorflow.org/example_images/flower_photos.tgz')
CLASS_NAMES = ['daisy', 'dandelion', 'roses', 'sunflowers', 'tulips']
NUM_VALIDATION = 350
NUM_SHARDS = 5
RANDOM_SEED = 0
SHARD_NAME = 'flowers_%s_%05d-of-%05d.tfrecord'
EXPECTED_ARCHIVE = ('flower_photos.tgz, or a directory holding it or its extracted '
                    'flower_photos/{%s}/*.jpg.' % ','.join(CLASS_NAMES))


def _split_paths(dataset_dir):
    return {split: conversion.shard_paths(dataset_dir, SHARD_NAME, split, NUM_SHARDS)
            for split in ('train', 'validation')}


def _list_photos(class_dirs):
    """[(path, label)] of every photo, in sorted order; labels follow `CLASS_NAMES`."""
    photos = []
    for label, class_name in enumerate(CLASS_NAMES):
        directory = class_dirs[class_name]
        photos.extend((os.path.join(directory, name), label)
                      for name in files.list_directory(directory) if not name.startswith('.'))
    return photos


def downloads():
    """{URL: download.Digest} of the file the download fetches."""
    return {URL: download.tfds_digest(*TFDS_CHECKSUMS)}


def make_example(photo):
    """The serialized example of a (path, label) photo."""
    path, label = photo
    image = conversion.read_rgb_jpeg(path)
    return dataset_utils.image_to_tfexample(
        image.data, b'jpeg', image.height, image.width, label,
        class_text=CLASS_NAMES[label]).SerializeToString()


def run(dataset_dir, archive=None, skip_checksum=False):
    """Writes the 5 + 5 shards, labels.txt and dataset_metadata.json to `dataset_dir`.

    Args:
      archive: flower_photos.tgz or a directory holding it or its contents; None downloads it.
      skip_checksum: convert an archive whose SHA-256 is wrong, with a warning.
    Raises:
      UserError: a bad `archive`; the message says what it must hold.
      ValueError: no more than 350 photos.
    """
    split_paths = _split_paths(dataset_dir)
    if conversion.is_converted(dataset_dir, split_paths):
        return
    with download.raw_files(dataset_dir, archive, downloads(), CLASS_NAMES, EXPECTED_ARCHIVE,
                            skip_checksum) as dirs:
        photos = _list_photos(dirs)
        if len(photos) <= NUM_VALIDATION:
            raise DataError(
                'Found %d photos in %s; flowers needs more than %d (the first %d after '
                'shuffling form the validation split). Pass the complete %s'
                % (len(photos), os.path.dirname(dirs[CLASS_NAMES[0]]), NUM_VALIDATION,
                   NUM_VALIDATION, EXPECTED_ARCHIVE))
        random.Random(RANDOM_SEED).shuffle(photos)
        split_photos = {'train': photos[NUM_VALIDATION:], 'validation': photos[:NUM_VALIDATION]}
        conversion.write_dataset(
            dataset_dir, flowers.FILE_PATTERN,
            {split: conversion.plan_shards(split_paths[split], split_photos[split])
             for split in split_paths},
            make_example, dict(enumerate(CLASS_NAMES)))
