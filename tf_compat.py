"""The one place that adapts TensorFlow 2.21 to TF-Slim-style graph code.

Every entry point and every package of this project imports this module before
anything else, so the fixes below are in force before tf_slim builds a layer.
"""

import contextlib
import os
import re
import sys
import tempfile
import warnings

# TensorFlow's C++ logging level: keep the user's own choice if one is set, otherwise
# show warnings and errors only.
_LOG_LEVEL_VARIABLE = 'TF_CPP_MIN_LOG_LEVEL'
os.environ.setdefault(_LOG_LEVEL_VARIABLE, '1')

# A line as absl's C++ logging formats it: severity letter, then the date.
_ABSL_LOG_LINE = re.compile(r'([IWEF])\d{4} ')
_SEVERITIES = 'IWEF'
_ABSL_EARLY_LOG_BANNER = 'WARNING: All log messages before absl::InitializeLog()'
# TensorFlow's wheel carries CUDA support, and on a machine without an NVIDIA driver its
# first look for GPUs logs this error, which says no more than 'no GPU'; the start-up
# devices line says that in words. With a driver installed the line is kept: then it
# is a real fault.
_CUDA_INIT_FAILURE = 'failed call to cuInit'
_NVIDIA_DRIVER_FILE = '/proc/driver/nvidia/version'


def _log_level():
    """TF_CPP_MIN_LOG_LEVEL as TensorFlow reads it: 0 (everything) to 3 (fatal only)."""
    try:
        return int(os.environ[_LOG_LEVEL_VARIABLE])
    except ValueError:
        return 0


def _filter_log_lines(lines, min_level, has_gpu_driver):
    """The lines a TensorFlow that honoured `min_level` from its first line would print,
    less the CUDA initialisation error of a machine without a GPU driver."""
    hide_cuda_init_failure = min_level > 0 and not has_gpu_driver
    kept = []
    keep = True
    for line in lines:
        match = _ABSL_LOG_LINE.match(line)
        if match:
            keep = (_SEVERITIES.index(match.group(1)) >= min_level
                    and not (hide_cuda_init_failure and _CUDA_INIT_FAILURE in line))
        elif line.startswith(_ABSL_EARLY_LOG_BANNER):
            keep = min_level == 0
        # Any other line continues the message above it (a multi-line notice).
        if keep:
            kept.append(line)
    return kept


@contextlib.contextmanager
def _native_stderr_filtered_by_log_level():
    """Holds back what is written to stderr, then prints it filtered by log level.

    TensorFlow 2.21 logs its load-time notices (oneDNN, CUDA stubs, CPU features) from
    its shared libraries' initialisers, before absl::InitializeLog() has run, and absl
    prints such early messages whatever the level (abseil-cpp pull request 1957). No
    setting reaches them, so the import runs with file descriptor 2 captured and the
    captured lines are replayed through the level TensorFlow applies to later lines.
    Python warnings raised meanwhile are held and shown afterwards, unfiltered. A
    user's TF_CPP_MIN_LOG_LEVEL=0 turns all of this off.
    """
    min_level = _log_level()
    if min_level == 0:
        yield
        return
    sys.stderr.flush()
    terminal = os.dup(2)
    with tempfile.TemporaryFile(mode='w+b') as captured, \
            warnings.catch_warnings(record=True) as held_warnings:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(terminal, 2)
            os.close(terminal)
            captured.seek(0)
            lines = captured.read().decode('utf-8', 'replace').splitlines(keepends=True)
            has_gpu_driver = os.path.exists(_NVIDIA_DRIVER_FILE)
            sys.stderr.write(''.join(_filter_log_lines(lines, min_level, has_gpu_driver)))
    for held in held_warnings:
        warnings.showwarning(held.message, held.category, held.filename, held.lineno)


with _native_stderr_filtered_by_log_level():
    import tensorflow.compat.v1 as tf  # noqa: E402
    import tf_keras  # noqa: E402
    import tf_keras.src.legacy_tf_layers  # noqa: E402
    # The first look for GPUs initialises CUDA, which logs once per process; looking
    # here, at no cost, brings that line under the filter.
    tf.config.list_physical_devices('GPU')
from tensorflow.python.util import deprecation  # noqa: E402

# tf_slim 1.1.0 builds batch_norm from `tf_keras.legacy_tf_layers`, a path that
# tf-keras 2.21 only ships as `tf_keras.src.legacy_tf_layers`.
sys.modules.setdefault('tf_keras.legacy_tf_layers', tf_keras.src.legacy_tf_layers)

# Every tf.compat.v1 call in graph mode logs a deprecation notice; they say
# nothing a user can act on and bury the training log.
deprecation._PRINT_DEPRECATION_WARNINGS = False

# The project runs TF-Slim's graph-mode programs: sessions, collections,
# variable scopes. Eager execution and the other TF2 behaviours would break them.
tf.disable_v2_behavior()

# tf_slim builds its layers through tf_keras' legacy tf.layers, each call of which
# warns that tf.layers is deprecated; the project knowingly depends on them.
warnings.filterwarnings('ignore', message=r'`(tf\.layers\.\w+|layer\.apply)` is deprecated')

# TensorFlow gives its logger a handler of its own when imported before absl sets up
# logging, so every line would be printed twice; absl's handler prints them all.
tf.get_logger().handlers.clear()
