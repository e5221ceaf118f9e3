"""The one place that adapts TensorFlow 2.21 to TF-Slim-style graph code.

Every entry point and every package of this project imports this module before
anything else, so the fixes below are in force before tf_slim builds a layer.
"""

import contextlib
import faulthandler
import os
import re
import select
import signal
import sys
import warnings

# TensorFlow's C++ logging level: keep the user's own choice if one is set, otherwise
# show warnings and errors only.
_LOG_LEVEL_VARIABLE = 'TF_CPP_MIN_LOG_LEVEL'
os.environ.setdefault(_LOG_LEVEL_VARIABLE, '1')

# A line as absl's C++ logging formats it: severity letter, then the date.
_ABSL_LOG_LINE = re.compile(rb'([IWEF])\d{4} ')
_SEVERITIES = b'IWEF'
_ABSL_EARLY_LOG_BANNER = b'WARNING: All log messages before absl::InitializeLog()'
# TensorFlow's wheel carries CUDA support, and on a machine without an NVIDIA driver its
# first look for GPUs logs this error, which says no more than 'no GPU'; the start-up
# devices line says that in words. With a driver installed the line is kept: then it
# is a real fault.
_CUDA_INIT_FAILURE = b'failed call to cuInit'
_NVIDIA_DRIVER_FILE = '/proc/driver/nvidia/version'
# A pipe in packet mode (Linux) hands each write(2) to its reader as one packet, or as
# several full pages when it is longer than a page; a packet is read whole with a page.
_PACKET_SIZE = os.sysconf('SC_PAGESIZE')
# Elsewhere the filter is off, and every line is shown.
_CAN_SEE_WRITES = hasattr(os, 'fork') and hasattr(os, 'O_DIRECT')


def _log_level():
    """TF_CPP_MIN_LOG_LEVEL as TensorFlow reads it: 0 (everything) to 3 (fatal only)."""
    try:
        return int(os.environ[_LOG_LEVEL_VARIABLE])
    except ValueError:
        return 0


class _LogLineFilter:
    """Passes what is written to stderr, one write at a time, as a TensorFlow that honoured
    the log level from its first line would print it, less the CUDA initialisation error
    of a machine without a GPU driver.

    absl writes a message with all its lines in one write(2): TensorFlow's CPU-feature
    notice is a log line and a plain line below it. So a line that follows a log line in
    the same write continues it, and goes with it; a line that starts another write (a
    print to sys.stderr, a C library's fprintf) is not absl's, and is kept.
    """

    def __init__(self, min_level, has_gpu_driver):
        self._min_level = min_level
        self._hide_cuda_init_failure = not has_gpu_driver
        self._writes = 0
        self._unfinished_line = b''
        self._unfinished_line_write = 0
        self._dropping = False
        self._dropping_write = 0

    def feed(self, data, starts_write):
        """The lines that `data` completes and that are shown. `data` is one write, or a
        piece of one that continues the previous piece if `starts_write` is false."""
        if starts_write:
            self._writes += 1
        lines = data.split(b'\n')
        first_line_write = (self._unfinished_line_write if self._unfinished_line
                            else self._writes)
        lines[0] = self._unfinished_line + lines[0]
        shown = [line + b'\n' for index, line in enumerate(lines[:-1])
                 if self._is_shown(line, first_line_write if index == 0 else self._writes)]
        self._unfinished_line = lines[-1]
        self._unfinished_line_write = first_line_write if len(lines) == 1 else self._writes
        return b''.join(shown)

    def finish(self):
        """The last line if it had no newline, and is shown."""
        line, self._unfinished_line = self._unfinished_line, b''
        return line if line and self._is_shown(line, self._unfinished_line_write) else b''

    def _is_shown(self, line, write):
        match = _ABSL_LOG_LINE.match(line)
        if match:
            self._dropping = not (
                _SEVERITIES.index(match.group(1)) >= self._min_level
                and not (self._hide_cuda_init_failure and _CUDA_INIT_FAILURE in line))
        elif line.startswith(_ABSL_EARLY_LOG_BANNER):
            # Printed above the first early message, which the level hides (it is not 0).
            self._dropping = True
        else:
            return not (self._dropping and write == self._dropping_write)
        self._dropping_write = write
        return not self._dropping


def _write_all(fd, data):
    """Writes `data` to `fd`, or as much as it takes: a reader that is gone loses it."""
    try:
        while data:
            data = data[os.write(fd, data):]
    except OSError:
        pass


def _forward_filtered(packets, parent_done, log_filter):
    """The forked reader's life: writes to stderr, filtered, each write that arrives on
    `packets` as it arrives, until the parent says it is done or dies; then exits.

    Being a process of its own, it outlives a parent that crashes, aborts or exits
    mid-import, and shows everything the parent wrote before that.
    """
    status = 1
    try:
        # Ctrl-C stops the parent; this reader then finishes by itself.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        os.set_blocking(packets, False)
        arrivals = select.poll()
        arrivals.register(packets, select.POLLIN)
        arrivals.register(parent_done, select.POLLIN)
        previous_size = 0
        parent_gone = False
        while not parent_gone:
            parent_gone = any(fd == parent_done for fd, _ in arrivals.poll())
            while True:
                try:
                    packet = os.read(packets, _PACKET_SIZE)
                except BlockingIOError:
                    break
                if not packet:
                    parent_gone = True
                    break
                # A full page may be the start of a longer write.
                _write_all(2, log_filter.feed(packet, previous_size < _PACKET_SIZE))
                previous_size = len(packet)
        _write_all(2, log_filter.finish())
        status = 0
    except BaseException:
        # A fault of the reader's own keeps its traceback.
        sys.excepthook(*sys.exc_info())
    finally:
        # Never return into the parent's code, which this process is a copy of.
        os._exit(status)


def _stderr_on_devnull_if_closed():
    """Gives a process started with stderr closed (`2>&-`) /dev/null as its stderr.

    Else the next file it opens becomes file descriptor 2 and receives what C++ code logs,
    and sys.stderr is None, on which Python code that writes to it fails.
    """
    try:
        os.fstat(2)
    except OSError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        if devnull != 2:
            os.dup2(devnull, 2)
            os.close(devnull)
        if sys.stderr is None:
            sys.stderr = open(2, 'w', errors='backslashreplace', closefd=False)


@contextlib.contextmanager
def _native_stderr_filtered_by_log_level():
    """Filters what is written to stderr by log level, as it is written.

    TensorFlow 2.21 logs its load-time notices (oneDNN, CUDA stubs, CPU features) from
    its shared libraries' initialisers, before absl::InitializeLog() has run, and absl
    prints such early messages whatever the level (abseil-cpp pull request 1957). No
    setting reaches them, so the import runs with file descriptor 2 on a pipe, whose
    reader, a forked process, shows each write at once through the level TensorFlow
    applies to later lines. A crash inside the import loses nothing written before it,
    and faulthandler, on for the while, says where it happened. Python warnings raised
    meanwhile are held and shown afterwards, unfiltered. A user's TF_CPP_MIN_LOG_LEVEL=0
    turns all of this off.
    """
    min_level = _log_level()
    if min_level == 0 or not _CAN_SEE_WRITES:
        yield
        return
    log_filter = _LogLineFilter(min_level, os.path.exists(_NVIDIA_DRIVER_FILE))
    sys.stderr.flush()
    packets, packets_writer = os.pipe2(os.O_DIRECT | os.O_CLOEXEC)
    parent_done_reader, parent_done = os.pipe2(os.O_CLOEXEC)
    reader = os.fork()
    if reader == 0:
        os.close(packets_writer)
        os.close(parent_done)
        _forward_filtered(packets, parent_done_reader, log_filter)
    os.close(packets)
    os.close(parent_done_reader)
    terminal = os.dup(2)
    os.dup2(packets_writer, 2)
    os.close(packets_writer)
    enables_faulthandler = not faulthandler.is_enabled()
    if enables_faulthandler:
        faulthandler.enable(2)
    with warnings.catch_warnings(record=True) as held_warnings:
        try:
            yield
        finally:
            if enables_faulthandler:
                faulthandler.disable()
            sys.stderr.flush()
            os.dup2(terminal, 2)
            os.close(terminal)
            # A byte, not only the close: a process forked meanwhile may hold a copy. The
            # reader may have left already, on the end of the pipe that fd 2 was.
            _write_all(parent_done, b'.')
            os.close(parent_done)
            # Where the program ignores SIGCHLD, the reader is reaped without a wait.
            with contextlib.suppress(ChildProcessError):
                os.waitpid(reader, 0)
    for held in held_warnings:
        warnings.showwarning(held.message, held.category, held.filename, held.lineno)


_stderr_on_devnull_if_closed()
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
