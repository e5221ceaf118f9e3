"""Errors by type: a user's mistake is one `error:` line that says what is wrong; a bug, a
library's ValueError included, keeps its traceback."""

import errno
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from support import ROOT, digits_train_options, run_script

from common import cli, errors, files
from datasets import dataset_utils
from training import trainer


def test_each_kind_of_user_error_is_also_what_code_caught_before():
    for error_class in (errors.ConfigurationError, errors.MissingPathError, errors.DataError,
                        errors.CheckpointMismatchError):
        assert issubclass(error_class, errors.UserError)
        # TF-Slim's checks and this project's raised ValueError.
        assert issubclass(error_class, ValueError)
        assert cli.error_line(error_class('--x=1: set it to 2.')) == 'error: --x=1: set it to 2.'
    assert issubclass(errors.MissingPathError, FileNotFoundError)
    assert issubclass(errors.MissingPathError, errors.ConfigurationError)


def test_a_library_error_is_a_bug_even_when_it_is_a_value_error():
    for bug in (ValueError('Shapes (4, 10) and (4, 9) are incompatible'), TypeError('x'),
                KeyError('images'), RuntimeError('internal')):
        assert cli.error_line(bug) is None


def test_damaged_dataset_files_are_data_errors_naming_the_file(tmp_path):
    (tmp_path / 'labels.txt').write_text('0:cat\n1 dog\n')
    with pytest.raises(errors.DataError, match=r"labels.txt has the line '1 dog', not `id:name` "
                                               r'with a whole-number id: fix the line'):
        dataset_utils.read_label_file(str(tmp_path))
    metadata = tmp_path / 'dataset_metadata.json'
    metadata.write_text('{"splits": {"train": 6')
    with pytest.raises(errors.DataError, match=r'dataset_metadata.json is not valid JSON \('):
        files.read_json_file(str(metadata))


# Runs a tool with LeNet replaced by a network with a shape bug, as a programming error in a
# network function would show.
_WITH_A_SHAPE_BUG = textwrap.dedent('''
    import runpy
    import sys

    sys.path.insert(0, sys.argv[1])
    import tf_compat  # noqa: F401
    from nets import nets_factory


    def lenet_with_a_shape_bug(images, num_classes, is_training, **unused_kwargs):
        raise ValueError('Shapes (4, 10) and (4, 9) are incompatible')


    lenet_with_a_shape_bug.default_image_size = 28
    nets_factory.networks_map['lenet'] = lenet_with_a_shape_bug
    sys.argv = sys.argv[2:]
    runpy.run_path(sys.argv[0], run_name='__main__')
''')


def test_a_programming_error_in_a_network_keeps_its_traceback(digits_dir, tmp_path):
    result = subprocess.run(
        [sys.executable, '-c', _WITH_A_SHAPE_BUG, ROOT,
         os.path.join(ROOT, 'train_image_classifier.py'), '--model_name=lenet',
         '--dataset_name=digits', '--dataset_dir=%s' % digits_dir,
         '--train_dir=%s' % (tmp_path / 'train'), '--max_number_of_steps=1'],
        cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode != 0
    assert 'Traceback (most recent call last)' in result.stderr
    assert 'in lenet_with_a_shape_bug' in result.stderr
    assert result.stderr.rstrip().endswith(
        'ValueError: Shapes (4, 10) and (4, 9) are incompatible')
    assert not [line for line in result.stderr.splitlines() if line.startswith('error: ')]


def _error_lines(result):
    assert result.returncode == cli.USER_ERROR_EXIT_STATUS, result.stderr
    assert 'Traceback' not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith('error: ')]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_resuming_a_train_dir_of_another_network_or_class_count_says_which(digits_dir,
                                                                            tmp_path):
    train_dir = str(tmp_path / 'train')
    trainer.train(digits_train_options(digits_dir, train_dir, max_number_of_steps=1,
                                       batch_size=4))
    checkpoint = os.path.join(train_dir, 'model.ckpt-1')
    common = ['--dataset_name=digits', '--dataset_dir=%s' % digits_dir,
              '--train_dir=%s' % train_dir, '--max_number_of_steps=2', '--optimizer=momentum']

    line = _error_lines(run_script('train_image_classifier.py', '--model_name=cifarnet',
                                   *common, cwd=tmp_path))
    assert line == (
        'error: --train_dir=%s holds %s, a checkpoint of another network: it has no '
        'CifarNet/conv1/biases (its variables are under LeNet, global_step). Train '
        '--model_name=cifarnet in a new --train_dir, or resume with the flags of the run that '
        'wrote it.' % (train_dir, checkpoint))

    line = _error_lines(run_script('train_image_classifier.py', '--model_name=lenet',
                                   '--labels_offset=1', *common, cwd=tmp_path))
    assert line == (
        'error: --train_dir=%s holds %s, a checkpoint of another class count: LeNet/fc4/biases '
        'is [10] there and [9] in this model. Train --model_name=lenet in a new --train_dir, or '
        'resume with the flags of the run that wrote it. To start from its other layers, pass '
        'it as --checkpoint_path with a new --train_dir and '
        '--checkpoint_exclude_scopes=LeNet/fc4.' % (train_dir, checkpoint))
    assert tf.train.latest_checkpoint(train_dir) == checkpoint


def _restore_error(tmp_path, saved_shape, restored_name, restored_shape):
    """The error of TensorFlow's Saver restoring a variable `restored_name` of
    `restored_shape` from a checkpoint that holds 'LeNet/fc4/weights' of `saved_shape`."""
    prefix = str(tmp_path / 'model.ckpt')
    with tf.Graph().as_default(), tf.Session() as session:
        variable = tf.get_variable('LeNet/fc4/weights', initializer=np.zeros(saved_shape))
        session.run(variable.initializer)
        tf.train.Saver().save(session, prefix)
    with tf.Graph().as_default(), tf.Session() as session:
        tf.get_variable(restored_name, initializer=np.zeros(restored_shape))
        with pytest.raises(tf.errors.OpError) as raised:
            tf.train.Saver().restore(session, prefix)
    return raised.value


@pytest.mark.parametrize('restored_name, restored_shape, error_class, line', [
    ('CifarNet/logits/weights', [4, 10], tf.errors.NotFoundError,
     'error: the checkpoint does not fit the model: it has no variable '
     'CifarNet/logits/weights, so it was written by another network (or with another '
     '--optimizer or --moving_average_decay). Pass the flags of the run that wrote it, or '
     'another checkpoint.'),
    ('LeNet/fc4/weights', [4, 9], tf.errors.InvalidArgumentError,
     'error: the checkpoint does not fit the model: a variable is [4,10] in the checkpoint '
     'and [4,9] in the model, so it was written for another class count (or network). Pass '
     'the --dataset_name and --labels_offset of the run that wrote it, or another '
     'checkpoint.'),
], ids=['another_network', 'another_class_count'])
def test_a_checkpoint_tensorflow_cannot_restore_is_explained_not_called_a_missing_file(
        tmp_path, restored_name, restored_shape, error_class, line):
    error = _restore_error(tmp_path, [4, 10], restored_name, restored_shape)
    assert isinstance(error, error_class)
    assert cli.error_line(error) == line


def _raised_in_a_graph(tensor_fn):
    with tf.Graph().as_default(), tf.Session() as session:
        with pytest.raises(tf.errors.OpError) as raised:
            session.run(tensor_fn())
    return raised.value


def test_a_path_tensorflow_cannot_use_is_named(tmp_path):
    missing = str(tmp_path / 'data' / 'digits_train.tfrecord')
    read_missing = _raised_in_a_graph(lambda: tf.io.read_file(missing))
    assert isinstance(read_missing, tf.errors.NotFoundError)
    assert cli.error_line(read_missing) == (
        'error: %s does not exist. Check the paths in the flags.' % missing)
    with pytest.raises(tf.errors.NotFoundError) as raised:
        tf.train.NewCheckpointReader(str(tmp_path / 'model.ckpt-5'))
    assert cli.error_line(raised.value) == (
        'error: %s does not exist. Check the paths in the flags.' % (tmp_path / 'model.ckpt-5'))
    read_directory = _raised_in_a_graph(lambda: tf.io.read_file(str(tmp_path)))
    assert cli.error_line(read_directory) == (
        'error: %s is a directory where a file is needed. Check the paths in the flags.'
        % tmp_path)


# Runs a tool whose main fails with OSError(errno, <its words>, path): the errno and path
# (or none) follow the repository's root on the command line.
_OS_ERROR_UNDER_THE_BOUNDARY = textwrap.dedent('''
    import os
    import sys

    sys.path.insert(0, sys.argv[1])
    from common import cli

    code, path = int(sys.argv[2]), sys.argv[3:] or [None]


    def main(unused_argv):
        raise OSError(code, os.strerror(code), *path)


    sys.argv = sys.argv[:1]
    cli.run(main)
''')


def _run_failing(tmp_path, code, *path):
    return subprocess.run([sys.executable, '-c', _OS_ERROR_UNDER_THE_BOUNDARY, ROOT, str(code),
                           *path], cwd=tmp_path, capture_output=True, text=True, timeout=600)


def test_a_full_disk_under_the_boundary_is_one_line_about_the_disk(tmp_path):
    line = _error_lines(_run_failing(tmp_path, errno.ENOSPC, '/data/run/model.ckpt-5.index'))
    assert line == ('error: no space left on device: /data/run/model.ckpt-5.index. Free some '
                    'space there, or write to another disk.')
    # Not every OSError is the user's: one of the program's own keeps its traceback.
    assert cli.error_line(OSError(errno.EBADF, os.strerror(errno.EBADF))) is None
