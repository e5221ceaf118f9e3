"""Files written so that readers never see half of one, and small JSON files; every path goes
through tf.io.gfile, so cloud and in-memory filesystems work like local disk."""

import json

import tensorflow.compat.v1 as tf

# Files are written under this suffix and renamed when complete.
INCOMPLETE_SUFFIX = '.incomplete'


def write_file_atomically(path, data):
    """Writes bytes to `path` through a temporary name, so readers never see half a file."""
    temporary_path = path + INCOMPLETE_SUFFIX
    with tf.io.gfile.GFile(temporary_path, 'wb') as f:
        f.write(data)
    tf.io.gfile.rename(temporary_path, path, overwrite=True)


def read_json_file(path):
    """The parsed JSON of `path`, or None if there is no such file."""
    if not tf.io.gfile.exists(path):
        return None
    with tf.io.gfile.GFile(path, 'r') as f:
        return json.load(f)
