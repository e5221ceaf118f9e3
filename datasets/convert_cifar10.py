"""Converts CIFAR-10's python batches into `cifar10_{train,test}.tfrecord` of 32x32 RGB PNGs.

The archive holds cifar-10-batches-py/: data_batch_1 .. data_batch_5 (train, in that order),
test_batch and batches.meta (the class names). Each batch is a pickle of b'data' (uint8
[N, 3072], channel-major 3x32x32 images) and b'labels'.

A pickle can call any function it names, so the batches are read by an unpickler that admits
only the numpy reconstructors a batch needs and refuses anything else before it runs.
"""

import os
import pickle

import numpy as np
import tensorflow.compat.v1 as tf

from datasets import cifar10, conversion, dataset_utils, download

URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz'
# TFDS records only CIFAR-10's binary version. This SHA-256 is the one Keras pins for the
# same URL (keras/src/datasets/cifar10.py); the size is that URL's Content-Length.
DIGEST = download.Digest(170498071,
                         '6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce')
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


def downloads():
    """{URL: download.Digest} of the file the download fetches."""
    return {URL: DIGEST}


# The globals a batch pickle names: numpy's array and dtype rebuilders, under numpy 1's module
# names (CIFAR-10's own files) and numpy 2's, for pickle protocols 2 to 5.
_BATCH_GLOBALS = frozenset({
    ('numpy', 'ndarray'), ('numpy', 'dtype'),
    ('numpy.core.multiarray', '_reconstruct'), ('numpy._core.multiarray', '_reconstruct'),
    ('numpy.core.numeric', '_frombuffer'), ('numpy._core.numeric', '_frombuffer'),
})


def _latin1_bytes(text, encoding):
    """`_codecs.encode` as protocol 2 pickles written by Python 3 use it, to rebuild bytes."""
    if encoding != 'latin1':
        raise pickle.UnpicklingError('it encodes text as %r' % encoding)
    return text.encode('latin1')


class _BatchUnpickler(pickle.Unpickler):
    """Unpickles dicts, lists, bytes, numbers and numpy arrays; refuses any other global."""

    def find_class(self, module, name):
        if (module, name) == ('_codecs', 'encode'):
            return _latin1_bytes
        if (module, name) not in _BATCH_GLOBALS:
            raise pickle.UnpicklingError('it calls %s.%s, which could run any code' % (module,
                                                                                        name))
        return super().find_class(module, name)


def unpickle_batch(path):
    """The object pickled in a CIFAR-10 batch or batches.meta file.

    Raises:
      ValueError: the pickle names a global other than numpy's array rebuilders, or is
        damaged; nothing in it has run. The message names the file.
    """
    try:
        with tf.io.gfile.GFile(path, 'rb') as f:
            return _BatchUnpickler(f, encoding='bytes').load()
    except (pickle.UnpicklingError, EOFError) as error:
        raise ValueError('%s is not a CIFAR-10 batch (%s): refused, nothing in it was run. '
                         'Convert the original cifar-10-python.tar.gz.' % (path, error)) from None


def _read_batch(path):
    """uint8 images [N, 32, 32, 3] and int labels [N] of one batch file."""
    batch = unpickle_batch(path)
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


def run(dataset_dir, archive=None, skip_checksum=False):
    """Writes cifar10_train.tfrecord, cifar10_test.tfrecord, labels.txt and
    dataset_metadata.json to `dataset_dir`.

    Args:
      archive: cifar-10-python.tar.gz or a directory holding it or its contents; None
        downloads it.
      skip_checksum: convert an archive whose SHA-256 is wrong, with a warning.
    Raises:
      ValueError: a bad `archive` or batch; the message says what it must hold.
    """
    split_paths = _split_paths(dataset_dir)
    if conversion.is_converted(dataset_dir, split_paths):
        return
    required = [*SPLIT_BATCHES['train'], *SPLIT_BATCHES['test'], META_FILENAME]
    with download.raw_files(dataset_dir, archive, downloads(), required, EXPECTED_ARCHIVE,
                            skip_checksum) as files:
        split_shards = {}
        for split, batch_names in SPLIT_BATCHES.items():
            examples = []
            for batch_name in batch_names:
                images, labels = _read_batch(files[batch_name])
                examples.extend(zip(images, labels, strict=True))
            split_shards[split] = conversion.plan_shards(split_paths[split], examples)
        class_names = [name.decode('utf-8')
                       for name in unpickle_batch(files[META_FILENAME])[b'label_names']]
        conversion.write_dataset(dataset_dir, cifar10.FILE_PATTERN, split_shards, make_example,
                                 dict(enumerate(class_names)))
