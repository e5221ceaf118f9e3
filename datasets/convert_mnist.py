"""Converts MNIST's IDX files into `mnist_{train,test}.tfrecord` of 28x28 grayscale PNGs.

The four gzipped IDX files are big-endian: images start with the magic number 2051, the count,
the rows and the columns, then one uint8 per pixel; labels start with 2049 and the count, then
one uint8 per label. TF-Slim fetched them from yann.lecun.com, which is often down now; the
same files come from Google's mirror.
"""

import gzip
import os
import struct

import numpy as np
import tensorflow.compat.v1 as tf

from common.errors import DataError
from datasets import conversion, dataset_utils, download, mnist

BASE_URL = 'https://storage.googleapis.com/cvdf-datasets/mnist/'
SPLIT_FILES = {'train': ('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'),
               'test': ('t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz')}
IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
CLASS_NAMES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine']
# MNIST publishes no tar, so a tar's own digest cannot be checked: it is unpacked only with
# --skip_checksum (the four files in it are still checked).
EXPECTED_ARCHIVE = ('a directory holding the four MNIST files %s, or a tar archive of them '
                    '(with --skip_checksum).'
                    % ', '.join(name for names in SPLIT_FILES.values() for name in names))
TFDS_CHECKSUMS = 'url_checksums/mnist.txt'


def _split_paths(dataset_dir):
    return {split: [os.path.join(dataset_dir, mnist.FILE_PATTERN % split)]
            for split in SPLIT_FILES}


def downloads():
    """{URL: download.Digest} of the four files the download fetches, as TFDS records them."""
    urls = [BASE_URL + name for split_names in SPLIT_FILES.values() for name in split_names]
    return {url: download.tfds_digest(TFDS_CHECKSUMS, url) for url in urls}


def _read_idx(path, magic, num_dimensions):
    """The uint8 array stored in a gzipped IDX file with `num_dimensions` dimensions."""
    try:
        with tf.io.gfile.GFile(path, 'rb') as f:
            data = gzip.decompress(f.read())
    except (OSError, EOFError) as error:
        raise DataError('Cannot read %s (%s): it should be a gzipped MNIST IDX file. Download '
                        'it again.' % (path, error)) from error
    header_size = 4 * (1 + num_dimensions)
    if len(data) < header_size or int.from_bytes(data[:4], 'big') != magic:
        raise DataError('%s is not an MNIST IDX file: it should start with the magic number '
                        '%d. Download it again.' % (path, magic))
    shape = struct.unpack('>%dI' % num_dimensions, data[4:header_size])
    if len(data) - header_size != np.prod(shape):
        raise DataError('%s should hold %d bytes of data after its header (shape %s) but '
                        'holds %d: it is truncated. Download it again.'
                        % (path, np.prod(shape), shape, len(data) - header_size))
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(shape)


def _read_split(images_path, labels_path):
    """[(image uint8 [rows, columns], label)] of one split."""
    images = _read_idx(images_path, IMAGES_MAGIC, 3)
    labels = _read_idx(labels_path, LABELS_MAGIC, 1)
    if len(images) != len(labels):
        raise DataError('%s holds %d images but %s holds %d labels: use files from the same '
                        'download.' % (images_path, len(images), labels_path, len(labels)))
    return list(zip(images, labels.tolist(), strict=True))


def make_example(image_and_label):
    """The serialized example of an (image [rows, columns], label) pair, stored as PNG."""
    image, label = image_and_label
    return dataset_utils.image_to_tfexample(
        conversion.png_bytes(image), b'png', image.shape[0], image.shape[1], label,
        class_text=CLASS_NAMES[label]).SerializeToString()


def run(dataset_dir, archive=None, skip_checksum=False):
    """Writes mnist_train.tfrecord, mnist_test.tfrecord, labels.txt and
    dataset_metadata.json to `dataset_dir`.

    Args:
      archive: a directory holding the four .gz files, or a tar of them (unpacked only with
        `skip_checksum`: it is no published file); None downloads them.
      skip_checksum: convert files whose SHA-256 is wrong, with a warning.
    Raises:
      UserError, ValueError: a bad `archive` or a damaged file; the message names it and the
        fix.
    """
    split_paths = _split_paths(dataset_dir)
    if conversion.is_converted(dataset_dir, split_paths):
        return
    names = [name for split_names in SPLIT_FILES.values() for name in split_names]
    with download.raw_files(dataset_dir, archive, downloads(), names, EXPECTED_ARCHIVE,
                            skip_checksum) as files:
        split_shards = {
            split: conversion.plan_shards(
                split_paths[split], _read_split(files[images_name], files[labels_name]))
            for split, (images_name, labels_name) in SPLIT_FILES.items()}
        conversion.write_dataset(dataset_dir, mnist.FILE_PATTERN, split_shards, make_example,
                                 dict(enumerate(CLASS_NAMES)))
