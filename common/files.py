"""Files written so that readers never see half of one, and small JSON files; every path goes
through tf.io.gfile, so cloud and in-memory filesystems work like local disk."""

import contextlib
import fnmatch
import glob
import json
import os
import re
import shutil
import uuid

import tensorflow.compat.v1 as tf

from common.errors import ConfigurationError, DataError, UserError

# Files are written under a unique name ending in this suffix and renamed when complete.
INCOMPLETE_SUFFIX = '.incomplete'


def new_temporary_path(path):
    """A new unique name beside `path`, ending in INCOMPLETE_SUFFIX, for a file that becomes
    `path` once complete.

    The name is random. On the local disk the empty file is created exclusively (O_CREAT |
    O_EXCL | O_NOFOLLOW: a symlink or file planted at the name is never followed or reused,
    another name is drawn), with the permissions the umask gives any new file (mkstemp's
    0600 would hide datasets and exports from the other users who read them).
    """
    while True:
        temporary_path = '%s.%s%s' % (path, uuid.uuid4().hex, INCOMPLETE_SUFFIX)
        if not is_local(path):
            return temporary_path
        try:
            os.close(os.open(temporary_path,
                             os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666))
        except FileExistsError:
            continue
        return temporary_path


def temporary_paths_of(path):
    """The temporary files `new_temporary_path` made beside `path` that were never renamed:
    what a killed writer of `path` left behind."""
    directory, name = os.path.split(path)
    prefix = name + '.'
    # The random part has no dot, so another file's temporaries ('<name>.x.<random>...') differ.
    return [candidate for candidate in
            matching_paths(directory, glob.escape(prefix) + '*' + INCOMPLETE_SUFFIX)
            if '.' not in os.path.basename(candidate)[len(prefix):-len(INCOMPLETE_SUFFIX)]]


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
        # NotADirectoryError: a parent of `path` is a file, so nothing is there either.
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
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
    """The parsed JSON of `path`, or None if there is no such file; DataError if it holds
    something else."""
    if not tf.io.gfile.exists(path):
        return None
    with tf.io.gfile.GFile(path, 'rb') as f:
        data = f.read()
    try:
        return json.loads(data)
    except ValueError as error:  # Not JSON, or not UTF-8 text.
        raise DataError('%s is not valid JSON (%s): the run that wrote it was cut short or the '
                        'file is damaged. Restore it, or delete it and rerun the step that '
                        'writes it.' % (path, error)) from None


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
    _check_output_filesystem(path, flag_name)
    if tf.io.gfile.exists(path) and not tf.io.gfile.isdir(path):
        raise ConfigurationError('--%s=%s is a file: pass a directory for %s.'
                                 % (flag_name, path, contents))
    failure = _write_failure(path)
    if failure:
        raise ConfigurationError('--%s=%s cannot be written (%s): pass a directory you can write '
                                 '%s to.'
                                 % (flag_name, path, failure, contents))


def check_writable_file(path, flag_name):
    """Fails with one line unless a file can be written at `path`."""
    _check_output_filesystem(path, flag_name)
    if tf.io.gfile.isdir(path):
        raise ConfigurationError('--%s=%s is a directory: pass a file name.' % (flag_name, path))
    failure = _write_failure(os.path.dirname(path) or '.')
    if failure:
        raise ConfigurationError('--%s=%s cannot be written (%s): pass a path in a directory you '
                                 'can write to.' % (flag_name, path, failure))


# The output paths `check_writable_directory` and `check_writable_file` checked, by flag
# name: where a write that fails without naming its file was going (see common.cli).
_checked_output_paths = {}

# TensorFlow's syntax of a filesystem scheme.
_SCHEME = re.compile(r'([a-zA-Z][0-9a-zA-Z.]*)://')


def checked_output_paths():
    """{flag name: path} of the output paths this process has checked, in the order checked."""
    return dict(_checked_output_paths)


def _check_output_filesystem(path, flag_name):
    check_filesystem(path, flag_name)
    _checked_output_paths[flag_name] = path


def path_scheme(path):
    """The filesystem scheme of `path` as TensorFlow reads it: 'gs' for 'gs://bucket/x', ''
    for a local path."""
    scheme = _SCHEME.match(path)
    return scheme.group(1) if scheme else ''


def _named(path, flag_name):
    return '--%s=%s' % (flag_name, path) if flag_name else path


def unknown_filesystem_error(path, flag_name=None):
    """The ConfigurationError for `path` (the value of --`flag_name`, if given), whose scheme
    has no filesystem in this TensorFlow; it names the filesystems there are."""
    schemes = sorted(scheme for scheme in tf.io.gfile.get_registered_schemes() if scheme)
    return ConfigurationError(
        '%s: this TensorFlow has no filesystem for %s:// (it has: local paths, %s; see "Cloud '
        'and in-memory paths" in the README).'
        % (_named(path, flag_name), path_scheme(path),
           ', '.join('%s://' % scheme for scheme in schemes)))


def unreachable_filesystem_error(path, flag_name, error):
    """The UserError for `path` (the value of --`flag_name`, or None), whose filesystem failed
    with the tf.errors.OpError `error` (no network, no credentials, no such bucket)."""
    cause = (error.message or str(error)).strip().splitlines()[0]
    return UserError(
        '%s: %s:// failed (%s). Check the network and the credentials, or use a local path.'
        % (_named(path, flag_name), path_scheme(path), cause))


def check_filesystem(path, flag_name):
    """Fails with one line naming the scheme and --`flag_name` unless this TensorFlow has a
    filesystem for `path` and, for one that is not local, it answers.

    TensorFlow's gs:// client retries a failing request 10 times, for about 3 minutes, before
    it gives up; GCS_RETRY_CONFIG_MAX_RETRIES bounds that.
    """
    if path_scheme(path) not in tf.io.gfile.get_registered_schemes():
        raise unknown_filesystem_error(path, flag_name)
    if not is_local(path):
        try:
            tf.io.gfile.exists(path)
        except tf.errors.OpError as error:
            raise unreachable_filesystem_error(path, flag_name, error) from error
