"""The error boundary of every command-line tool.

A mistake a user can fix (a bad flag value, a missing or unreadable file, a checkpoint that
does not fit, data that cannot be read, a full disk, a filesystem TensorFlow lacks or cannot
reach, a diverging run) is reported as `error: <cause and fix>` on stderr, with exit status 1
and no traceback, as absl reports a bad flag. Any other exception is a bug and keeps its
traceback. `--debug` shows the traceback of every error.
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


# The project raises these with messages that name the bad value and the fix.
USER_ERRORS = (UserError, app.UsageError, ValueError, FileNotFoundError, NotADirectoryError,
               IsADirectoryError, PermissionError, FileExistsError)

# TensorFlow run-time errors whose cause is the user's data, files or machine, with the
# advice the project can give without knowing more.
TENSORFLOW_USER_ERRORS = (
    (tf.errors.ResourceExhaustedError,
     'out of memory. Lower --batch_size (or the image size) and run again.'),
    (tf.errors.DataLossError,
     'a file cannot be read (corrupt or truncated). Check the dataset and checkpoint files, '
     'or convert the dataset again.'),
    (tf.errors.NotFoundError, 'a file or directory is missing. Check the paths in the flags.'),
    (tf.errors.PermissionDeniedError, 'permission denied. Check the paths in the flags.'),
)


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
    line = _disk_full_line(error) or _filesystem_line(error)
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
            path = _path_before(reason, error.message)
        else:
            continue
        # A Python write names no file: the output flags say where it was going.
        outputs = ' or '.join('--%s=%s' % flag for flag in files.checked_output_paths().items())
        where = (': %s' % path if path
                 else ' writing to %s' % (outputs or 'the output paths of the flags'))
        return ('error: %s%s. Free some space there, or write to another disk.'
                % (reason.lower(), where))
    return None


def _path_before(reason, message):
    """The path in the line '<path>; <reason>' (or '<path>: <reason>') of `message`, or None."""
    for line in message.splitlines():
        match = re.fullmatch(r'\s*(.+)[;:] %s' % re.escape(reason), line)
        if match:
            return match.group(1)
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
