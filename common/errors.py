"""The errors a user can fix, by kind (see `common.cli`, which reports them in one line).

Raise the most specific class whose description fits; `UserError` itself is for the rest (a
download that failed, a diverging run). A check that only code can fail (an internal
invariant, a bad argument from a caller) raises ValueError or RuntimeError instead: that is a
bug and keeps its traceback.

The value-like classes are ValueErrors as well, as TF-Slim's and this project's checks raised
ValueError before: code and tests that catch ValueError keep working.
"""


class UserError(Exception):
    """An error the user can fix without changing the code; its message says how."""


class ConfigurationError(UserError, ValueError):
    """A flag value, or combination of flags, that cannot work (out of range, an unknown name,
    the wrong kind of path, flags that exclude each other)."""


class MissingPathError(ConfigurationError, FileNotFoundError):
    """A path the user gave (or that flags point to) does not exist, or lacks the file it
    should hold (no checkpoint, no TFRecord files). A FileNotFoundError too, as Python reports
    a missing file."""


class DataError(UserError, ValueError):
    """Data that cannot be read or is not what it should be: a damaged or truncated file, the
    wrong format, a dataset whose files or labels do not agree."""


class CheckpointMismatchError(UserError, ValueError):
    """A checkpoint that does not fit the model: another network, another class count, or
    variables the run needs that it lacks (moving averages, optimizer slots)."""
