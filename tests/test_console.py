"""A clean console: TensorFlow's load-time C++ notices are held back unless the user asks."""

import os
import re
import signal
import subprocess
import sys

import pytest
from support import ROOT, run_script

import tf_compat

# A log line of TensorFlow's C++ code, or absl's banner about messages logged too early.
NATIVE_LOG_LINE = re.compile(r'^([IWEF]\d{4} .*\.cc:\d+\]|WARNING: All log messages before absl)',
                             re.M)


def _environment_without_log_level(**settings):
    environment = {name: value for name, value in os.environ.items()
                   if name != 'TF_CPP_MIN_LOG_LEVEL'}
    environment.update(settings)
    return environment


def test_a_tool_prints_no_native_notice_lines(digits_dir, tmp_path):
    result = run_script('train_image_classifier.py', '--model_name=lenet',
                        '--dataset_name=digits', '--dataset_dir=%s' % digits_dir,
                        '--train_dir=%s' % (tmp_path / 'train'), '--max_number_of_steps=1',
                        cwd=tmp_path, environment=_environment_without_log_level())
    assert result.returncode == 0, result.stderr
    assert NATIVE_LOG_LINE.findall(result.stderr) == [], result.stderr
    assert 'No GPU found: running on' in result.stderr
    assert 'Finished training at step 1' in result.stderr


def test_the_users_own_log_level_wins(tmp_path):
    shown = run_script('export_inference_graph.py', '--helpfull', cwd=tmp_path,
                       environment=_environment_without_log_level(TF_CPP_MIN_LOG_LEVEL='0'))
    assert 'WARNING: All log messages before absl::InitializeLog()' in shown.stderr
    assert re.search(r'^I\d{4} .*port\.cc', shown.stderr, re.M), shown.stderr


# What TensorFlow 2.21 writes at import, one write(2) each (strace), and plain lines.
WRITES = {
    'banner': b'WARNING: All log messages before absl::InitializeLog() is called are written to '
              b'STDERR\n',
    'info_on_two_lines': b'I0000 00:00:1796564589.037667    6772 cpu_feature_guard.cc:227] This '
                         b'TensorFlow binary is optimized\nTo enable the following instructions: '
                         b'AVX2 FMA\n',
    'plain': b'a line printed to sys.stderr\n',
    'warning': b'W0000 00:00:1796564589.1 6772 port.cc:1] a warning\n',
    'cuda': b'E0000 00:00:1796564589.2 6772 cuda_platform.cc:52] failed call to cuInit: '
            b'INTERNAL: CUDA error\n',
    'error_on_two_lines': b'E0000 00:00:1796564589.3 6772 other.cc:2] a real error\non two lines\n',
    'fprintf': b'a line of a C library\n',
}


def _shown(log_filter, writes):
    return b''.join(log_filter.feed(data, True) for data in writes) + log_filter.finish()


@pytest.mark.parametrize('min_level, has_gpu_driver, kept', [
    (1, False, ['plain', 'warning', 'error_on_two_lines', 'fprintf']),
    (1, True, ['plain', 'warning', 'cuda', 'error_on_two_lines', 'fprintf']),
    (2, True, ['plain', 'cuda', 'error_on_two_lines', 'fprintf']),
    (3, True, ['plain', 'fprintf']),
])
def test_early_lines_are_filtered_as_tensorflow_filters_later_ones(min_level, has_gpu_driver,
                                                                  kept):
    log_filter = tf_compat._LogLineFilter(min_level, has_gpu_driver)
    assert _shown(log_filter, WRITES.values()) == b''.join(WRITES[name] for name in kept)


def test_a_plain_line_after_a_dropped_log_line_is_kept():
    log_filter = tf_compat._LogLineFilter(1, False)
    assert _shown(log_filter, [WRITES['info_on_two_lines'], WRITES['plain'],
                               WRITES['info_on_two_lines'], WRITES['fprintf']]) == (
        WRITES['plain'] + WRITES['fprintf'])


def test_a_write_longer_than_a_page_is_one_message():
    log_filter = tf_compat._LogLineFilter(1, False)
    page = tf_compat._PACKET_SIZE
    long_info = b'I0000 00:00:1.1 7 a.cc:1] ' + b'x' * page + b'\nits continuation\n'
    pieces = [long_info[:page], long_info[page:2 * page], long_info[2 * page:]]
    shown = (log_filter.feed(pieces[0], True) + log_filter.feed(pieces[1], False)
             + log_filter.feed(pieces[2], False) + log_filter.feed(WRITES['plain'], True))
    assert shown == WRITES['plain']


def test_a_line_written_in_pieces_is_one_line_and_the_last_needs_no_newline():
    log_filter = tf_compat._LogLineFilter(1, False)
    assert _shown(log_filter, [b'W0000 00:00:1.1 7 a.cc:1] a warn', b'ing\n', b'I0000 00:0',
                               b'0:1.1 7 a.cc:1] info\n', b'unfinished']) == (
        b'W0000 00:00:1.1 7 a.cc:1] a warning\nunfinished')


# Writes to stderr while tf_compat imports TensorFlow, then dies there as argv[1] says. The
# import hook runs inside `import tensorflow`, within the capture.
DYING_IMPORT = r"""
import ctypes, os, sys

class DieInsideTheTensorFlowImport:
    def find_spec(self, name, path=None, target=None):
        if name != 'tensorflow':
            return None
        print('a line printed to sys.stderr', file=sys.stderr)
        os.write(2, b'I0000 00:00:1.1 7 cpu_feature_guard.cc:227] This TensorFlow binary is '
                    b'optimized\nTo enable the following instructions: AVX2 FMA\n')
        print('a line printed after a dropped one', file=sys.stderr)
        os.write(2, b'a line written to fd 2\n')
        os.write(2, b'W0000 00:00:1.2 7 port.cc:1] a warning\n')
        os.write(2, b'a last line without newline')
        if sys.argv[1] == 'segfault':
            ctypes.string_at(0)
        elif sys.argv[1] == 'abort':
            os.abort()
        os._exit(3)

sys.meta_path.insert(0, DieInsideTheTensorFlowImport())
import tf_compat
"""
LINES_BEFORE_DEATH = (
    'a line printed to sys.stderr\n'
    'a line printed after a dropped one\n'
    'a line written to fd 2\n'
    'W0000 00:00:1.2 7 port.cc:1] a warning\n'
    'a last line without newline')


@pytest.mark.parametrize('death, returncode, fatal_error', [
    ('segfault', -signal.SIGSEGV, 'Fatal Python error: Segmentation fault'),
    ('abort', -signal.SIGABRT, 'Fatal Python error: Aborted'),
    ('exit', 3, None),
])
def test_a_death_inside_the_import_shows_every_line_written_before(tmp_path, death, returncode,
                                                                    fatal_error):
    script = tmp_path / 'dying_import.py'
    script.write_text(DYING_IMPORT)
    environment = _environment_without_log_level(PYTHONPATH=ROOT)
    environment.pop('PYTHONFAULTHANDLER', None)
    result = subprocess.run([sys.executable, str(script), death], env=environment,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == returncode, result.stderr
    assert result.stderr.startswith(LINES_BEFORE_DEATH), result.stderr
    if fatal_error:
        # faulthandler, on during the import, says where it died.
        assert result.stderr[len(LINES_BEFORE_DEATH):].startswith(fatal_error), result.stderr
        assert 'in find_spec' in result.stderr
    else:
        assert result.stderr == LINES_BEFORE_DEATH


# Runs with stderr closed: what C code writes to fd 2 must not land in a file opened later.
AFTER_THE_IMPORT = r"""
import os, sys
import tf_compat
from absl import logging
opened = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT)
os.write(opened, b'the file')
os.write(2, b'what C code logs\n')
logging.warning('a Python warning')
print('ran to its end')
"""


def test_the_import_works_with_stderr_closed(tmp_path):
    script = tmp_path / 'after_the_import.py'
    script.write_text(AFTER_THE_IMPORT)
    opened = tmp_path / 'opened'
    result = subprocess.run(
        ['sh', '-c', 'exec "$@" 2>&-', 'sh', sys.executable, str(script), str(opened)],
        env=_environment_without_log_level(PYTHONPATH=ROOT), stdout=subprocess.PIPE,
        text=True, timeout=300)
    assert (result.returncode, result.stdout) == (0, 'ran to its end\n')
    assert opened.read_bytes() == b'the file'
