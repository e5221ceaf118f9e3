"""Files written so that readers never see half of one, and small JSON files; every path goes
through tf.io.gfile, so cloud and in-memory filesystems work like local disk."""

import json
import os

import tensorflow.compat.v1 as tf

# Files are written under this suffix and renamed when complete.
INCOMPLETE_SUFFIX = '.incomplete'


def write_file_atomically(path, data):
    """Writes bytes to `path` through a temporary name, so readers never see half a file.

    The rename is atomic on local disks. On gs:// it is a copy then a delete: the final name
    still appears only when complete, but both names exist for a moment.
    """
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


def is_file(path):
    """Whether `path` is an existing file (not a directory), on any TensorFlow filesystem."""
    return tf.io.gfile.exists(path) and not tf.io.gfile.isdir(path)


def read_file(path):
    """The bytes of the file at `path`."""
    with tf.io.gfile.GFile(path, 'rb') as f:
        return f.read()


def list_directory(path):
    """The sorted names of the entries of directory `path`, sub-directories without the
    trailing '/' that gs:// lists them with."""
    return sorted(name.rstrip('/') for name in tf.io.gfile.listdir(path))


def is_local(path):
    """Whether `path` is on the local disk: it has no filesystem scheme such as gs:// or ram://."""
    return '://' not in path


def resolved_path(path):
    """A local path made absolute with links and '..' resolved; other paths as they are."""
    return os.path.realpath(path) if is_local(path) else path


def _outermost_missing(path):
    """The outermost of `path` and its parents that does not exist, or None if it exists."""
    missing = None
    while not tf.io.gfile.exists(path):
        missing = path
        parent = os.path.dirname(path.rstrip('/'))
        # Stop at the filesystem's root: '' for a relative path, 'gs:' for 'gs://bucket'.
        if parent in ('', path) or parent.endswith(':'):
            break
        path = parent
    return missing


def _write_failure(directory):
    """Why `directory` cannot be created and written into, or None if it can; whatever the
    check creates is removed again."""
    created = _outermost_missing(directory)
    probe_path = os.path.join(directory, '.write_check' + INCOMPLETE_SUFFIX)
    try:
        tf.io.gfile.makedirs(directory)
        with tf.io.gfile.GFile(probe_path, 'wb') as probe:
            probe.write(b'')
        tf.io.gfile.remove(probe_path)
    except (tf.errors.OpError, OSError) as error:
        return getattr(error, 'message', None) or error.strerror or str(error)
    finally:
        if created and tf.io.gfile.exists(created):
            tf.io.gfile.rmtree(created)
    return None


def check_writable_directory(path, flag_name, contents):
    """Fails with one line unless `path` is, or can be made, a directory this process can
    write `contents` (words for the message) into."""
    if tf.io.gfile.exists(path) and not tf.io.gfile.isdir(path):
        raise ValueError('--%s=%s is a file: pass a directory for %s.'
                         % (flag_name, path, contents))
    failure = _write_failure(path)
    if failure:
        raise ValueError('--%s=%s cannot be written (%s): pass a directory you can write %s to.'
                         % (flag_name, path, failure, contents))


def check_writable_file(path, flag_name):
    """Fails with one line unless a file can be written at `path`."""
    if tf.io.gfile.isdir(path):
        raise ValueError('--%s=%s is a directory: pass a file name.' % (flag_name, path))
    failure = _write_failure(os.path.dirname(path) or '.')
    if failure:
        raise ValueError('--%s=%s cannot be written (%s): pass a path in a directory you can '
                         'write to.' % (flag_name, path, failure))
