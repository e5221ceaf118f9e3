"""Files written so that readers never see half of one, and small JSON files; every path goes
through tf.io.gfile, so cloud and in-memory filesystems work like local disk."""

import contextlib
import fnmatch
import json
import os
import shutil
import tempfile
import uuid

import tensorflow.compat.v1 as tf

# Files are written under a unique name ending in this suffix and renamed when complete.
INCOMPLETE_SUFFIX = '.incomplete'


def new_temporary_path(path):
    """A new unique name beside `path`, ending in INCOMPLETE_SUFFIX, for a file that becomes
    `path` once complete.

    On the local disk the empty file is created exclusively (mkstemp: O_CREAT | O_EXCL, so a
    symlink planted at the name is never followed); elsewhere the name is random.
    """
    directory, name = os.path.split(path)
    if is_local(path):
        descriptor, temporary_path = tempfile.mkstemp(
            prefix=name + '.', suffix=INCOMPLETE_SUFFIX, dir=directory or '.')
        os.close(descriptor)
        return temporary_path
    return '%s.%s%s' % (path, uuid.uuid4().hex, INCOMPLETE_SUFFIX)


@contextlib.contextmanager
def temporary_path_for(path):
    """Yields a new temporary path beside `path` (see `new_temporary_path`) to write; when
    the block ends without error it is renamed to `path`, else it is removed.

    The rename is atomic on local disks, and replaces a link at `path` rather than writing
    through it. On gs:// it is a copy then a delete: the final name still appears only when
    complete, but both names exist for a moment.
    """
    temporary_path = new_temporary_path(path)
    try:
        yield temporary_path
        tf.io.gfile.rename(temporary_path, path, overwrite=True)
    except BaseException:
        remove_file(temporary_path)
        raise


@contextlib.contextmanager
def atomic_writer(path):
    """Yields a binary file object whose bytes appear at `path` only once the block ends
    without error (see `temporary_path_for`)."""
    with temporary_path_for(path) as temporary_path:
        if is_local(path):
            # O_NOFOLLOW: the name mkstemp just created is not swapped for a link meanwhile.
            output = os.fdopen(
                os.open(temporary_path, os.O_WRONLY | os.O_TRUNC | os.O_NOFOLLOW), 'wb')
        else:
            output = tf.io.gfile.GFile(temporary_path, 'wb')
        with output:
            yield output


def write_file_atomically(path, data):
    """Writes bytes to `path` through a temporary name, so readers never see half a file."""
    with atomic_writer(path) as output:
        output.write(data)


def remove_file(path):
    """Deletes the file `path` if it exists; a symlink there is removed, not its target."""
    if is_local(path):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
    elif tf.io.gfile.exists(path):
        tf.io.gfile.remove(path)


def remove_tree(path):
    """Deletes the directory `path` and everything under it, if it exists.

    On the local disk no symlink is followed: a link at `path` or inside it is removed
    itself, and what it points to is left as it is.
    """
    if not is_local(path):
        if tf.io.gfile.exists(path):
            tf.io.gfile.rmtree(path)
    elif os.path.isdir(path) and not os.path.islink(path):
        # shutil.rmtree works through directory file descriptors and unlinks links inside.
        shutil.rmtree(path)
    else:
        remove_file(path)


def matching_paths(directory, name_pattern):
    """The sorted paths of the entries of `directory` whose names match `name_pattern`.

    Only the name is a pattern (fnmatch's `*`, `?` and `[...]`); `directory` is taken
    literally, so a path like 'runs/[1]' never matches 'runs/1'. An absent directory has no
    entries.
    """
    if not tf.io.gfile.isdir(directory or '.'):
        return []
    return [os.path.join(directory, name) for name in list_directory(directory or '.')
            if fnmatch.fnmatchcase(name, name_pattern)]


def matching_files(file_pattern):
    """`matching_paths` of a path whose last component alone is a pattern, such as
    '<dataset_dir>/flowers_train_*.tfrecord'."""
    return matching_paths(*os.path.split(file_pattern))


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
    try:
        tf.io.gfile.makedirs(directory)
        probe_path = new_temporary_path(os.path.join(directory, '.write_check'))
        if not is_local(probe_path):
            with tf.io.gfile.GFile(probe_path, 'wb') as probe:
                probe.write(b'')
        remove_file(probe_path)
    except (tf.errors.OpError, OSError) as error:
        return getattr(error, 'message', None) or error.strerror or str(error)
    finally:
        if created:
            remove_tree(created)
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
