"""Converts CIFAR-10 into `cifar10_{train,test}.tfrecord` of 32x32 RGB PNGs.

CIFAR-10 is published in two versions holding the same images, labels and class names, and
either gives the same examples:
- the binary version, `cifar-10-binary.tar.gz`, which the download fetches (TensorFlow Datasets
  reads it too): cifar-10-batches-bin/ holds data_batch_1.bin .. data_batch_5.bin (train, in
  that order) and test_batch.bin, each a run of 3073-byte records (a label byte, then the
  channel-major 3x32x32 image), and batches.meta.txt, the class names one per line. Plain
  bytes: nothing in them can run.
- the python version, `cifar-10-python.tar.gz`, accepted as `--archive`: cifar-10-batches-py/
  holds data_batch_1 .. data_batch_5, test_batch and batches.meta, pickles of b'data' (uint8
  [N, 3072], the same channel-major images) and b'labels', and of b'label_names'.

A pickle can call any function it names, and numpy's array rebuilders trust the dtype they are
given: an object dtype turns the file's bytes into pointers. So the python batches are read by
an unpickler that admits only numpy's array and dtype rebuilders, builds every dtype itself and
only numeric ones, and each batch is checked (shape, dtype, label range) before use. A file
that fails is one error naming it.
"""

import collections
import itertools
import os
import pickle

import numpy as np
import tensorflow.compat.v1 as tf

from common import files
from common.errors import DataError
from datasets import cifar10, conversion, dataset_utils, download

BINARY_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz'
TFDS_CHECKSUMS = 'url_checksums/cifar10.txt'
PYTHON_ARCHIVE = 'cifar-10-python.tar.gz'
# TFDS records only the binary version. This SHA-256 is the one Keras pins for the python
# version's URL (keras/src/datasets/cifar10.py); the size is that URL's Content-Length.
PYTHON_DIGEST = download.Digest(
    170498071, '6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce')
IMAGE_SIZE = 32
IMAGE_BYTES = 3 * IMAGE_SIZE * IMAGE_SIZE
RECORD_BYTES = 1 + IMAGE_BYTES
EXPECTED_ARCHIVE = (
    'cifar-10-binary.tar.gz or cifar-10-python.tar.gz, or a directory holding one of them or '
    'its extracted cifar-10-batches-bin/ (data_batch_1.bin .. data_batch_5.bin, '
    'test_batch.bin, batches.meta.txt) or cifar-10-batches-py/ (data_batch_1 .. data_batch_5, '
    'test_batch, batches.meta).')
_ORIGINALS = 'cifar-10-binary.tar.gz or cifar-10-python.tar.gz'


def _refused(path, reason):
    return DataError('%s is not a CIFAR-10 file (%s): refused. Convert the original %s.'
                     % (path, reason, _ORIGINALS))


def _images(rows):
    """uint8 images [N, 32, 32, 3] of channel-major rows [N, 3072]."""
    return rows.reshape(-1, 3, IMAGE_SIZE, IMAGE_SIZE).transpose(0, 2, 3, 1)


def _checked_class_names(path, names):
    if len(names) != cifar10.NUM_CLASSES:
        raise _refused(path, 'it names %d classes, not %d' % (len(names), cifar10.NUM_CLASSES))
    return names


def _decoded(path, data):
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError:
        raise _refused(path, 'its class names are not UTF-8') from None


# The binary version.

def read_binary_batch(path):
    """uint8 images [N, 32, 32, 3] and int labels [N] of a binary batch (`.bin`) file."""
    data = np.frombuffer(files.read_file(path), np.uint8)
    if not data.size or data.size % RECORD_BYTES:
        raise _refused(path, 'it holds %d bytes, not a whole number of %d-byte records'
                       % (data.size, RECORD_BYTES))
    records = data.reshape(-1, RECORD_BYTES)
    labels = records[:, 0]
    if labels.max() >= cifar10.NUM_CLASSES:
        raise _refused(path, 'it holds label %d; labels are 0 to %d'
                       % (labels.max(), cifar10.NUM_CLASSES - 1))
    return _images(records[:, 1:]), labels.tolist()


def read_binary_class_names(path):
    """The class names in batches.meta.txt, one per line (blank lines ignored)."""
    text = _decoded(path, files.read_file(path))
    return _checked_class_names(path, [line.strip() for line in text.splitlines()
                                       if line.strip()])


# The python version: pickles read by a restricted unpickler.

class _PickledDtype:
    """A pickle's call `numpy.dtype(name, align, copy)` and the state it is given.

    Only the name and byte order are kept, and `numeric()` builds the dtype afresh: numpy's
    dtype.__setstate__, whose flags can make bytes pass for object pointers, never sees the
    file's data.
    """

    def __init__(self, name, align=False, copy=False):
        del align, copy  # Only matter for structured dtypes, which are refused.
        self.name = name
        self.byte_order = '='

    def __setstate__(self, state):
        # (version, byte order, sub-array, names, fields, size, alignment, flags[, metadata])
        self.byte_order = state[1]

    def numeric(self):
        """The numpy dtype: booleans, integers, floats or complex numbers, else refused."""
        name, byte_order = self.name, self.byte_order
        # Python 2 pickles (CIFAR-10's own) hold these as bytes.
        name = name.decode('ascii') if isinstance(name, bytes) else name
        byte_order = byte_order.decode('ascii') if isinstance(byte_order, bytes) else byte_order
        if not isinstance(name, str) or byte_order not in ('<', '>', '=', '|'):
            raise pickle.UnpicklingError('it holds a malformed dtype')
        dtype = np.dtype(name)
        if dtype.kind not in 'biufc' or dtype.hasobject or dtype.fields or dtype.subdtype:
            raise pickle.UnpicklingError('it holds an array of dtype %s; only numbers are '
                                         'admitted' % dtype)
        return dtype.newbyteorder(byte_order) if byte_order in '<>' else dtype


def _numeric_dtype(pickled):
    if not isinstance(pickled, _PickledDtype):
        raise pickle.UnpicklingError('it gives an array a dtype that is no numpy.dtype')
    return pickled.numeric()


def _ndarray(*args):
    """Stands for numpy.ndarray, which a pickle may pass to `_reconstruct` but not call: the
    call would lay an array of the pickle's dtype over its bytes."""
    del args
    raise pickle.UnpicklingError('it calls numpy.ndarray, which numpy pickles never do')


class _UnpickledArray(np.ndarray):
    """An array made by a pickle's `_reconstruct`, filled by its __setstate__ with bytes of a
    numeric dtype only."""

    def __setstate__(self, state):
        # (version, shape, dtype, Fortran order, data) or without the version.
        if not isinstance(state, tuple) or len(state) not in (4, 5):
            raise pickle.UnpicklingError('it holds a malformed array')
        *version_and_shape, dtype, fortran_order, data = state
        if not isinstance(data, bytes):
            raise pickle.UnpicklingError('it holds an array whose data is not bytes')
        super().__setstate__((*version_and_shape, _numeric_dtype(dtype), bool(fortran_order),
                              data))


def _reconstruct(subtype, shape, dtype):
    """numpy's `_reconstruct(numpy.ndarray, shape, dtype)`: an empty array that the pickle's
    state then fills (see `_UnpickledArray`)."""
    del shape, dtype  # The state sets both.
    if subtype is not _ndarray:
        raise pickle.UnpicklingError('it rebuilds an array of a type other than numpy.ndarray')
    return np.ndarray.__new__(_UnpickledArray, (0,), np.uint8)


def _frombuffer(buffer, dtype, shape, order):
    """numpy's `_frombuffer`, as pickle protocol 5 rebuilds arrays, for numeric dtypes only.
    The array is an `_UnpickledArray` too, so a __setstate__ given to it is checked as well."""
    return np.frombuffer(buffer, _numeric_dtype(dtype)).reshape(shape, order=order).view(
        _UnpickledArray)


def _latin1_bytes(text, encoding):
    """`_codecs.encode` as protocol 2 pickles written by Python 3 use it, to rebuild bytes."""
    if encoding != 'latin1':
        raise pickle.UnpicklingError('it encodes text as %r' % encoding)
    return text.encode('latin1')


# What a batch pickle may name, under numpy 1's module names (CIFAR-10's own files) and
# numpy 2's, for pickle protocols 2 to 5; each stands in for the real one.
_ADMITTED_GLOBALS = {
    ('numpy', 'dtype'): _PickledDtype,
    ('numpy', 'ndarray'): _ndarray,
    ('numpy.core.multiarray', '_reconstruct'): _reconstruct,
    ('numpy._core.multiarray', '_reconstruct'): _reconstruct,
    ('numpy.core.numeric', '_frombuffer'): _frombuffer,
    ('numpy._core.numeric', '_frombuffer'): _frombuffer,
    ('_codecs', 'encode'): _latin1_bytes,
}


class _BatchUnpickler(pickle.Unpickler):
    """Unpickles dicts, lists, bytes, numbers and numeric numpy arrays; refuses any other
    global, and any other dtype."""

    def find_class(self, module, name):
        if (module, name) not in _ADMITTED_GLOBALS:
            raise pickle.UnpicklingError('it calls %s.%s, which could run any code; nothing in '
                                         'it was run' % (module, name))
        return _ADMITTED_GLOBALS[module, name]


def unpickle_batch(path):
    """The object pickled in a CIFAR-10 batch or batches.meta file.

    Raises:
      DataError: the pickle names a global other than numpy's array rebuilders, an array
        that is not numeric, or is damaged; nothing in it has run. The message names the file.
    """
    try:
        with tf.io.gfile.GFile(path, 'rb') as f:
            return _BatchUnpickler(f, encoding='bytes').load()
    # Whatever a damaged or hostile pickle makes the unpickler raise, the file is refused.
    except Exception as error:  # noqa: BLE001
        raise _refused(path, error) from None


def read_python_batch(path):
    """uint8 images [N, 32, 32, 3] and int labels [N] of a python batch file, after checking
    that it holds b'data' uint8 [N, 3072] and b'labels', N ints from 0 to 9."""
    batch = unpickle_batch(path)
    data = batch.get(b'data') if isinstance(batch, dict) else None
    if not (isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 2
            and data.shape[1] == IMAGE_BYTES):
        raise _refused(path, "its b'data' is not a uint8 array [N, %d]" % IMAGE_BYTES)
    labels = batch.get(b'labels')
    if isinstance(labels, np.ndarray) and labels.ndim == 1 and labels.dtype.kind in 'iu':
        labels = labels.tolist()
    if not (isinstance(labels, list) and len(labels) == len(data)
            and all(type(label) is int and 0 <= label < cifar10.NUM_CLASSES
                    for label in labels)):
        raise _refused(path, "its b'labels' is not a list of %d labels from 0 to %d"
                       % (len(data), cifar10.NUM_CLASSES - 1))
    return _images(np.asarray(data)), labels


def read_python_class_names(path):
    """The class names in batches.meta: its b'label_names', a list of 10 bytes."""
    meta = unpickle_batch(path)
    names = meta.get(b'label_names') if isinstance(meta, dict) else None
    if not (isinstance(names, list) and all(isinstance(name, bytes) for name in names)):
        raise _refused(path, "its b'label_names' is not a list of bytes")
    return _checked_class_names(path, [_decoded(path, name) for name in names])


# The two versions: their file names, in the order of the examples, and their readers.
Version = collections.namedtuple('Version',
                                 'split_batches meta_name read_batch read_class_names')
BINARY = Version({'train': ['data_batch_%d.bin' % index for index in range(1, 6)],
                  'test': ['test_batch.bin']},
                 'batches.meta.txt', read_binary_batch, read_binary_class_names)
PYTHON = Version({'train': ['data_batch_%d' % index for index in range(1, 6)],
                  'test': ['test_batch']},
                 'batches.meta', read_python_batch, read_python_class_names)


def _required(version):
    return [*itertools.chain(*version.split_batches.values()), version.meta_name]


def _split_paths(dataset_dir):
    return {split: [os.path.join(dataset_dir, cifar10.FILE_PATTERN % split)]
            for split in BINARY.split_batches}


def downloads():
    """{URL: download.Digest} of the file the download fetches: the binary version, with the
    digest TFDS records."""
    return {BINARY_URL: download.tfds_digest(TFDS_CHECKSUMS, BINARY_URL)}


def make_example(image_and_label):
    """The serialized example of an (image [32, 32, 3], label) pair, stored as PNG."""
    image, label = image_and_label
    return dataset_utils.image_to_tfexample(
        conversion.png_bytes(image), b'png', IMAGE_SIZE, IMAGE_SIZE, label).SerializeToString()


def run(dataset_dir, archive=None, skip_checksum=False):
    """Writes cifar10_train.tfrecord, cifar10_test.tfrecord, labels.txt and
    dataset_metadata.json to `dataset_dir`.

    Args:
      archive: either version's archive, or a directory holding it or its contents; None
        downloads the binary version.
      skip_checksum: convert an archive whose SHA-256 is wrong, with a warning.
    Raises:
      DataError: a bad `archive` or batch; the message says what it must hold.
    """
    split_paths = _split_paths(dataset_dir)
    if conversion.is_converted(dataset_dir, split_paths):
        return
    with download.raw_files(dataset_dir, archive, downloads(), _required(BINARY),
                            EXPECTED_ARCHIVE, skip_checksum,
                            alternative_layouts=[_required(PYTHON)],
                            also_accepted={PYTHON_ARCHIVE: PYTHON_DIGEST}) as paths:
        version = BINARY if BINARY.meta_name in paths else PYTHON
        split_shards = {}
        for split, batch_names in version.split_batches.items():
            examples = []
            for batch_name in batch_names:
                images, labels = version.read_batch(paths[batch_name])
                examples.extend(zip(images, labels, strict=True))
            split_shards[split] = conversion.plan_shards(split_paths[split], examples)
        class_names = version.read_class_names(paths[version.meta_name])
        conversion.write_dataset(dataset_dir, cifar10.FILE_PATTERN, split_shards, make_example,
                                 dict(enumerate(class_names)))
