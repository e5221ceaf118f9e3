"""Shared test data: the built-in digits TFRecords and a tiny generated colour dataset."""

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import tf_compat  # noqa: F401
from datasets import convert_digits, dataset_utils


def encode_images(images, image_format):
    """Encodes uint8 [H, W, C] arrays as JPEG or PNG bytes."""
    with tf.Graph().as_default(), tf.Session() as session:
        placeholder = tf.placeholder(tf.uint8, [None, None, None])
        encoder = {'jpeg': lambda x: tf.image.encode_jpeg(x, quality=95),
                   'png': tf.image.encode_png}[image_format]
        encoded = encoder(placeholder)
        return [session.run(encoded, {placeholder: image}) for image in images]


def write_records(path, images, labels, image_format='jpeg', bboxes=None):
    """Writes TF-Slim examples of the given images and labels to one TFRecord file."""
    encoded = encode_images(images, image_format)
    with tf.io.TFRecordWriter(path) as writer:
        for index, (data, image, label) in enumerate(zip(encoded, images, labels, strict=True)):
            example = dataset_utils.image_to_tfexample(
                data, image_format.encode(), image.shape[0], image.shape[1], int(label),
                class_text='class_%d' % label, bboxes=bboxes[index] if bboxes else None)
            writer.write(example.SerializeToString())


def make_flowers_like(directory, images_per_shard=4, num_shards=2, seed=0):
    """Writes a tiny random-colour dataset in the `flowers` layout (5 classes, JPEG).

    Each class has its own dominant colour so a network can learn something.
    Returns the list of (image, label) written, in file order.
    """
    rng = np.random.RandomState(seed)
    written = []
    for split in ('train', 'validation'):
        for shard in range(num_shards):
            images, labels = [], []
            for _ in range(images_per_shard):
                label = rng.randint(5)
                height, width = rng.randint(40, 90, size=2)
                image = rng.randint(0, 60, size=(height, width, 3)).astype(np.uint8)
                image[..., label % 3] += np.uint8(150)
                images.append(image)
                labels.append(label)
            path = '%s/flowers_%s_%05d-of-%05d.tfrecord' % (directory, split, shard, num_shards)
            write_records(path, images, labels, bboxes=[[(0.1, 0.1, 0.9, 0.9)]] * len(images))
            written.extend(zip(images, labels, strict=True))
    dataset_utils.write_label_file({i: 'flower_%d' % i for i in range(5)}, str(directory))
    return written


@pytest.fixture(scope='session')
def digits_dir(tmp_path_factory):
    directory = str(tmp_path_factory.mktemp('digits'))
    convert_digits.run(directory)
    return directory


@pytest.fixture(scope='session')
def flowers_like_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp('flowers_like')
    make_flowers_like(str(directory))
    return str(directory)
