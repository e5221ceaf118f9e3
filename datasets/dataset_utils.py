"""TF-Slim's TFRecord example format and the labels file.

Every dataset is stored as TFRecord files of `tf.train.Example`s with these keys:
  image/encoded            bytes, a JPEG or PNG image
  image/format             bytes, b'jpeg' or b'png'
  image/class/label        int64, the class id
  image/height, image/width  int64
  image/class/text         bytes, optional human-readable class name
  image/object/bbox/{xmin,ymin,xmax,ymax}  float lists, optional, normalised to [0, 1]
"""

import os

import tensorflow.compat.v1 as tf

from common import files
from common.errors import DataError

LABELS_FILENAME = 'labels.txt'

# The corners of a bounding box, in the order a box tensor holds them.
BBOX_KEYS = ('ymin', 'xmin', 'ymax', 'xmax')


def int64_feature(values):
    """An int64 list feature from an int or a list of ints."""
    if not isinstance(values, (tuple, list)):
        values = [values]
    return tf.train.Feature(int64_list=tf.train.Int64List(value=values))


def bytes_feature(values):
    """A bytes list feature from bytes or a list of bytes."""
    if not isinstance(values, (tuple, list)):
        values = [values]
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=values))


def float_feature(values):
    """A float list feature from a float or a list of floats."""
    if not isinstance(values, (tuple, list)):
        values = [values]
    return tf.train.Feature(float_list=tf.train.FloatList(value=values))


def image_to_tfexample(image_data, image_format, height, width, class_id,
                       class_text=None, bboxes=None):
    """Builds one TF-Slim image example.

    Args:
      image_data: the encoded image bytes.
      image_format: b'jpeg' or b'png'.
      height, width: the image size in pixels.
      class_id: the integer label.
      class_text: optional class name (str or bytes).
      bboxes: optional list of (ymin, xmin, ymax, xmax) boxes normalised to [0, 1].
    """
    feature = {
        'image/encoded': bytes_feature(image_data),
        'image/format': bytes_feature(image_format),
        'image/class/label': int64_feature(int(class_id)),
        'image/height': int64_feature(int(height)),
        'image/width': int64_feature(int(width)),
    }
    if class_text is not None:
        if isinstance(class_text, str):
            class_text = class_text.encode('utf-8')
        feature['image/class/text'] = bytes_feature(class_text)
    if bboxes:
        for index, key in enumerate(['ymin', 'xmin', 'ymax', 'xmax']):
            feature['image/object/bbox/' + key] = float_feature([float(b[index]) for b in bboxes])
    return tf.train.Example(features=tf.train.Features(feature=feature))


def write_label_file(labels_to_class_names, dataset_dir, filename=LABELS_FILENAME):
    """Writes `id:name` lines, one per class, atomically."""
    path = os.path.join(dataset_dir, filename)
    lines = ''.join('%d:%s\n' % (label, labels_to_class_names[label])
                    for label in sorted(labels_to_class_names))
    files.write_file_atomically(path, lines.encode('utf-8'))


def has_labels(dataset_dir, filename=LABELS_FILENAME):
    return tf.io.gfile.exists(os.path.join(dataset_dir, filename))


def read_label_file(dataset_dir, filename=LABELS_FILENAME):
    """Reads `id:name` lines into {id: name}; DataError for another line."""
    path = os.path.join(dataset_dir, filename)
    with tf.io.gfile.GFile(path, 'r') as f:
        lines = [line.strip() for line in f.read().splitlines() if line.strip()]
    labels_to_names = {}
    for line in lines:
        label, separator, name = line.partition(':')
        if not separator or not label.strip().isdigit():
            raise DataError('%s has the line %r, not `id:name` with a whole-number id: fix the '
                            'line, or convert the dataset again.' % (path, line))
        labels_to_names[int(label)] = name
    return labels_to_names
