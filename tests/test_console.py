"""A clean console: TensorFlow's load-time C++ notices are held back unless the user asks."""

import os
import re

import pytest
from support import run_script

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


@pytest.mark.parametrize('min_level, has_gpu_driver, kept', [
    (0, False, ['banner', 'info', 'continued', 'warning', 'cuda', 'error', 'error_continued']),
    (1, False, ['warning', 'error', 'error_continued']),
    (1, True, ['warning', 'cuda', 'error', 'error_continued']),
    (2, True, ['cuda', 'error', 'error_continued']),
    (3, True, []),
])
def test_early_lines_are_filtered_as_tensorflow_filters_later_ones(min_level, has_gpu_driver,
                                                                  kept):
    lines = {
        'banner': 'WARNING: All log messages before absl::InitializeLog() is called are '
                  'written to STDERR\n',
        'info': 'I0000 00:00:1796564589.037667    6772 cpu_feature_guard.cc:227] This '
                'TensorFlow binary is optimized\n',
        'continued': 'To enable the following instructions: AVX2 FMA\n',
        'warning': 'W0000 00:00:1796564589.1 6772 port.cc:1] a warning\n',
        'cuda': 'E0000 00:00:1796564589.2 6772 cuda_platform.cc:52] failed call to cuInit: '
                'INTERNAL: CUDA error\n',
        'error': 'E0000 00:00:1796564589.3 6772 other.cc:2] a real error\n',
        'error_continued': 'on two lines\n',
    }
    assert tf_compat._filter_log_lines(list(lines.values()), min_level, has_gpu_driver) == [
        lines[name] for name in kept]
