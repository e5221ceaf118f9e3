"""The error boundary of every command-line tool.

A mistake a user can fix (a bad flag value, a missing or unreadable file, a checkpoint that
does not fit, data that cannot be read, a diverging run) is reported as `error: <cause and
fix>` on stderr, with exit status 1 and no traceback, as absl reports a bad flag. Any other
exception is a bug and keeps its traceback. `--debug` shows the traceback of every error.
"""

import sys

import tensorflow.compat.v1 as tf
from absl import app, flags

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


def error_line(error):
    """The `error: ...` report of an expected error, or None for a bug."""
    if isinstance(error, USER_ERRORS):
        return 'error: %s' % error
    for error_class, advice in TENSORFLOW_USER_ERRORS:
        if isinstance(error, error_class):
            return 'error: %s (%s)' % (advice, _cause(error.message or ''))
    return None


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
