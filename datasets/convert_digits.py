"""Converts scikit-learn's handwritten digits into the `digits` TFRecords.

scikit-learn ships the 1,797 8x8 images with the package, so nothing is downloaded.
Pixel values 0..16 are scaled to 0..255 and stored as grayscale PNGs.
"""

import os

import numpy as np
import tensorflow.compat.v1 as tf
from sklearn.datasets import load_digits

from datasets import dataset_utils, dataset_writing, digits

_CLASS_NAMES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine']


def split_indices(labels):
    """Splits example indices per the fixed rule in `datasets/digits.py`.

    Returns:
      {'train': int array, 'validation': int array}, each in scikit-learn's order.
    """
    position_in_class = np.zeros(len(labels), dtype=np.int64)
    seen = {}
    for index, label in enumerate(labels):
        position_in_class[index] = seen.get(label, 0)
        seen[label] = position_in_class[index] + 1
    is_validation = position_in_class % digits.VALIDATION_EVERY == 0
    return {'train': np.flatnonzero(~is_validation), 'validation': np.flatnonzero(is_validation)}


def _encode_pngs(images):
    """Encodes uint8 [N, H, W, 1] images as PNG bytes."""
    with tf.Graph().as_default(), tf.Session() as session:
        placeholder = tf.placeholder(tf.uint8, shape=images.shape[1:])
        encoded = tf.image.encode_png(placeholder)
        return [session.run(encoded, {placeholder: image}) for image in images]


def _write_split(path, pngs, labels):
    dataset_writing.write_tfrecord_atomically(path, (
        dataset_utils.image_to_tfexample(png, b'png', 8, 8, int(label),
                                         class_text=_CLASS_NAMES[label]).SerializeToString()
        for png, label in zip(pngs, labels, strict=True)))


def _output_paths(dataset_dir):
    return {split: os.path.join(dataset_dir, digits.FILE_PATTERN % split)
            for split in digits.SPLITS_TO_SIZES}


def run(dataset_dir):
    """Writes digits_train.tfrecord, digits_validation.tfrecord and labels.txt.

    Running it again when the files exist does nothing.
    """
    paths = _output_paths(dataset_dir)
    if all(tf.io.gfile.exists(p) for p in paths.values()) and dataset_utils.has_labels(dataset_dir):
        print('Dataset files already exist in %s; nothing to do.' % dataset_dir)
        return
    tf.io.gfile.makedirs(dataset_dir)
    data = load_digits()
    images = np.round(data.images * (255.0 / 16.0)).astype(np.uint8)[..., np.newaxis]
    pngs = _encode_pngs(images)
    for split, indices in split_indices(data.target).items():
        _write_split(paths[split], [pngs[i] for i in indices], data.target[indices])
        print('Wrote %d examples to %s' % (len(indices), paths[split]))
    dataset_utils.write_label_file(dict(enumerate(_CLASS_NAMES)), dataset_dir)
    print('Finished converting the digits dataset.')
