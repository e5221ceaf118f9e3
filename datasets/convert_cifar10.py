"""Converts CIFAR-10's python batches into `cifar10_{train,test}.tfrecord` of 32x32 RGB PNGs.

The archive holds cifar-10-batches-py/: data_batch_1 .. data_batch_5 (train, in that order),
test_batch and batches.meta (the class names). Each batch is a pickle of b'data' (uint8
[N, 3072], channel-major 3x32x32 images) and b'labels'.
"""

import os
import pickle

import numpy as np

from datasets import cifar10, conversion, dataset_utils, download

URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz'
SPLIT_BATCHES = {'train': ['data_batch_%d' % index for index in range(1, 6)],
                 'test': ['test_batch']}
META_FILENAME = 'batches.meta'
IMAGE_SIZE = 32
EXPECTED_ARCHIVE = ('cifar-10-python.tar.gz, or a directory holding it or its extracted '
                    'cifar-10-batches-py/ (data_batch_1 .. data_batch_5, test_batch, '
                    'batches.meta).')


def _split_paths(dataset_dir):
    return {split: [os.path.join(dataset_dir, cifar10.FILE_PATTERN % split)]
            for split in SPLIT_BATCHES}


def _unpickle(path):
    # The batches are pickles, as CIFAR-10 publishes them: only convert a trusted archive.
    with open(path, 'rb') as f:
        return pickle.load(f, encoding='bytes')


def _read_batch(path):
    """uint8 images [N, 32, 32, 3] and int labels [N] of one batch file."""
    batch = _unpickle(path)
    data = np.asarray(batch[b'data'], dtype=np.uint8)
    images = data.reshape(-1, 3, IMAGE_SIZE, IMAGE_SIZE).transpose(0, 2, 3, 1)
    labels = [int(label) for label in batch[b'labels']]
    if len(labels) != len(images):
        raise ValueError('%s holds %d images but %d labels: the archive is damaged; download '
                         'it again.' % (path, len(images), len(labels)))
    return images, labels


def make_example(image_and_label):
    """The serialized example of an (image [32, 32, 3], label) pair, stored as PNG."""
    image, label = image_and_label
    return dataset_utils.image_to_tfexample(
        conversion.png_bytes(image), b'png', IMAGE_SIZE, IMAGE_SIZE, label).SerializeToString()


def run(dataset_dir, archive=None):
    """Writes cifar10_train.tfrecord, cifar10_test.tfrecord, labels.txt and
    dataset_metadata.json to `dataset_dir`.

    Args:
      archive: cifar-10-python.tar.gz or a directory holding it or its contents; None
        downloads it.
    Raises:
      ValueError: a bad `archive`; the message says what it must hold.
    """
    split_paths = _split_paths(dataset_dir)
    if conversion.is_converted(dataset_dir, split_paths):
        return
    required = [*SPLIT_BATCHES['train'], *SPLIT_BATCHES['test'], META_FILENAME]
    with download.raw_files(dataset_dir, archive, [URL], required, EXPECTED_ARCHIVE) as files:
        split_shards = {}
        for split, batch_names in SPLIT_BATCHES.items():
            examples = []
            for batch_name in batch_names:
                images, labels = _read_batch(files[batch_name])
                examples.extend(zip(images, labels, strict=True))
            split_shards[split] = conversion.plan_shards(split_paths[split], examples)
        class_names = [name.decode('utf-8')
                       for name in _unpickle(files[META_FILENAME])[b'label_names']]
        conversion.write_dataset(dataset_dir, cifar10.FILE_PATTERN, split_shards, make_example,
                                 dict(enumerate(class_names)))
