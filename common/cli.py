"""The error boundary of every command-line tool.

A mistake a user can fix is reported as `error: <cause and fix>` on stderr, with exit status 1
and no traceback, as absl reports a bad flag. These are: a `common.errors.UserError` (a bad
flag value, a missing path, data that cannot be read, a checkpoint that does not fit, a
diverging run), absl's UsageError, the OS errors of a path (missing, of the wrong kind, not
permitted, a full disk), and the TensorFlow run-time errors whose cause is the user's files,
data or machine (a missing file, a checkpoint of another model, a filesystem TensorFlow lacks
or cannot reach, no memory left). Any other exception is a bug and keeps its traceback: a
ValueError from TensorFlow, tf_slim or numpy is one. `--debug` shows the traceback of every
error.
"""

import errno
import os
import re
import sys

import tensorflow.compat.v1 as tf
from absl import app, flags

from common import files
from common.errors import UserError

flags.DEFINE_boolean('debug', False, 'Show the Python traceback of every error, expected ones '
                                     'included.')

# Exit status of a command stopped by an expected error (absl's usage errors exit with 1 too).
USER_ERROR_EXIT_STATUS = 1


# The project raises these with messages that name the bad value and the fix; the OS errors
# are those of a path (Python's own messages name it).
USER_ERRORS = (UserError, app.UsageError, FileNotFoundError, NotADirectoryError,
               IsADirectoryError, PermissionError, FileExistsError)

# TensorFlow run-time errors whose cause is the user's data, files or machine, with the
# advice the project can give without knowing more (after the more specific explanations
# below found nothing to say).
TENSORFLOW_USER_ERRORS = (
    (tf.errors.ResourceExhaustedError,
     'out of memory. Lower --batch_size (or the image size) and run again.'),
    (tf.errors.DataLossError,
     'a file cannot be read (corrupt or truncated). Check the dataset and checkpoint files, '
     'or convert the dataset again.'),
    (tf.errors.NotFoundError, 'a file or directory is missing. Check the paths in the flags.'),
    (tf.errors.PermissionDeniedError, 'permission denied. Check the paths in the flags.'),
)


def _errno_pattern(code):
    """The pattern of TensorFlow's line '<path>; <the system's words for errno `code`>' (or
    '<path>: ...'), with the path as group 1."""
    return re.compile(r'^\s*(.+)[;:] %s$' % re.escape(os.strerror(code)), re.MULTILINE)


# TensorFlow's messages that name a path it cannot use: (error class, the message's pattern
# with the path as group 1, what is wrong with the path).
_PATH_PROBLEMS = (
    (tf.errors.NotFoundError, _errno_pattern(errno.ENOENT), 'does not exist'),
    # A checkpoint prefix to read, a directory to list.
    (tf.errors.NotFoundError, re.compile(r'Failed to find any matching files for (\S+)$', re.M),
     'does not exist'),
    (tf.errors.NotFoundError, re.compile(r'^Could not find directory (\S+)$', re.M),
     'does not exist'),
    (tf.errors.FailedPreconditionError, _errno_pattern(errno.EISDIR),
     'is a directory where a file is needed'),
    (tf.errors.PermissionDeniedError, _errno_pattern(errno.EACCES),
     'cannot be used: permission denied'),
)

# Saver.restore's message when the graph asks for what the checkpoint does not hold.
_RESTORE_FAILED = 'Restoring from checkpoint failed'
_MISSING_KEY = re.compile(r'Key (\S+) not found in checkpoint')
# The restore of a variable whose shape differs: lhs is the model's variable, rhs the value
# the checkpoint holds.
_OTHER_SHAPE = re.compile(r'lhs shape= (\[[^\]]*\]) rhs shape= (\[[^\]]*\])')


# Errors of a write that mean the disk, not the memory, is full. TensorFlow raises them as
# ResourceExhaustedError too, with the message '<path>; <the system's words for the errno>'.
DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)

# TensorFlow's message for a path whose scheme has no filesystem.
_UNKNOWN_SCHEME = re.compile(r"File system scheme '[^']*' not implemented \(file: '([^']*)'\)")
# In TensorFlow's message for a failed request of its gs:// client, which ends with the path.
_HTTP_FAILURE = 'Error executing an HTTP request'
_URL = re.compile(r"[a-zA-Z][0-9a-zA-Z.]*://[^\s'\"]+")


def error_line(error):
    """The `error: ...` report of an expected error, or None for a bug."""
    if isinstance(error, USER_ERRORS):
        return 'error: %s' % error
    for explain in (_disk_full_line, _filesystem_line, _checkpoint_line, _path_line):
        line = explain(error)
        if line:
            return line
    for error_class, advice in TENSORFLOW_USER_ERRORS:
        if isinstance(error, error_class):
            return 'error: %s (%s)' % (advice, _cause(error.message or ''))
    return None


def _disk_full_line(error):
    """The report of a write that found the disk full (or over quota), naming the path, else
    None (a TensorFlow out-of-memory error is not one)."""
    for code in DISK_FULL_ERRNOS:
        reason = os.strerror(code)
        if isinstance(error, OSError) and error.errno == code:
            path = error.filename
        elif (isinstance(error, tf.errors.ResourceExhaustedError)
              and reason in (error.message or '')):
            found = _errno_pattern(code).search(error.message)
            path = found.group(1) if found else None
        else:
            continue
        # A Python write names no file: the output flags say where it was going.
        outputs = ' or '.join('--%s=%s' % flag for flag in files.checked_output_paths().items())
        where = (': %s' % path if path
                 else ' writing to %s' % (outputs or 'the output paths of the flags'))
        return ('error: %s%s. Free some space there, or write to another disk.'
                % (reason.lower(), where))
    return None


def _filesystem_line(error):
    """The report of a path whose scheme TensorFlow has no filesystem for, or whose remote
    filesystem failed to answer, with the flag that holds it; else None.

    The tools check their output flags before any graph (`files.check_filesystem`); this
    catches the paths that are read first somewhere deeper.
    """
    if not isinstance(error, tf.errors.OpError):
        return None
    message = error.message or ''
    unknown = _UNKNOWN_SCHEME.search(message)
    if isinstance(error, tf.errors.UnimplementedError) and unknown:
        return 'error: %s' % files.unknown_filesystem_error(*_flag_holding(unknown.group(1)))
    urls = _URL.findall(message)
    if _HTTP_FAILURE in message and urls:
        return 'error: %s' % files.unreachable_filesystem_error(*_flag_holding(urls[-1]), error)
    return None


def _checkpoint_line(error):
    """The report of a restore that found the checkpoint does not fit the model (a variable
    missing from it, or of another shape), else None.

    The tools check a checkpoint before restoring it where they can, naming the checkpoint
    and every difference; this explains the restores they leave to TensorFlow.
    """
    if not isinstance(error, tf.errors.OpError) or _RESTORE_FAILED not in (error.message or ''):
        return None
    missing = _MISSING_KEY.search(error.message)
    if missing:
        return ('error: the checkpoint does not fit the model: it has no variable %s, so it was '
                'written by another network (or with another --optimizer or '
                '--moving_average_decay). Pass the flags of the run that wrote it, or another '
                'checkpoint.' % missing.group(1))
    shapes = _OTHER_SHAPE.search(error.message)
    if shapes:
        return ('error: the checkpoint does not fit the model: a variable is %s in the '
                'checkpoint and %s in the model, so it was written for another class count (or '
                'network). Pass the --dataset_name and --labels_offset of the run that wrote it, '
                'or another checkpoint.' % (shapes.group(2), shapes.group(1)))
    return None


def _path_line(error):
    """The report of a TensorFlow error that names a path it cannot use (missing, a
    directory, not permitted) with the flag that holds it, else None."""
    for error_class, pattern, problem in _PATH_PROBLEMS:
        found = pattern.search(error.message or '') if isinstance(error, error_class) else None
        if found:
            path = found.group(1).strip()
            value, name = _flag_holding(path)
            return 'error: %s %s. Check %s.' % (
                path, problem, '--%s=%s' % (name, value) if name else 'the paths in the flags')
    return None


def _flag_holding(path):
    """(value, name) of the flag whose value `path` is or starts with (the longest such value),
    or (path, None) if none is."""
    holders = [(flags.FLAGS[name].value, name) for name in flags.FLAGS
               if isinstance(flags.FLAGS[name].value, str) and flags.FLAGS[name].value
               and path.startswith(flags.FLAGS[name].value)]
    return max(holders, key=lambda holder: len(holder[0]), default=(path, None))


def _cause(message):
    """The line of a TensorFlow run-time error message that states the cause: the one just
    before the failing node ('[[{{node ...}}]]'), else the first."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    for index, line in enumerate(lines):
        if line.startswith('[[') and index:
            return lines[index - 1]
    return lines[0] if lines else ''


def run(main):
    """`absl.app.run(main)` behind the error boundary (see the module doc)."""

    def guarded_main(argv):
        try:
            return main(argv)
        except Exception as error:  # noqa: BLE001 (bugs are re-raised below)
            line = None if flags.FLAGS.debug else error_line(error)
            if line is None:
                raise
            sys.stderr.write(line + '\n')
            sys.exit(USER_ERROR_EXIT_STATUS)

    app.run(guarded_main)
