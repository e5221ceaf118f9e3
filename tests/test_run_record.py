"""Reproducible training and its bookkeeping: --seed, flags.txt and its comparison on resume,
and the checkpoints the trainer keeps."""

import logging
import os
import re

import pytest
import tensorflow.compat.v1 as tf
from absl import flags
from support import digits_train_options
from tensorflow.python.framework import config as tf_config

import flag_options
from common.errors import UserError
from training import run_record, trainer
from training.train_options import TrainOptions

_STEP_LOSS = re.compile(r'step (\d+)/\d+: loss = ([0-9.]+)')


def _logged_losses(caplog, digits_dir, train_dir, **overrides):
    """Trains LeNet on digits logging every step; returns {step: logged loss}."""
    caplog.clear()
    trainer.train(digits_train_options(digits_dir, train_dir, log_every_n_steps=1,
                                       **overrides))
    return {int(step): float(loss) for step, loss in _STEP_LOSS.findall(caplog.text)}


def test_a_seeded_deterministic_run_repeats_its_loss_at_every_step(digits_dir, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    settings = dict(max_number_of_steps=50, batch_size=10, seed=7, deterministic_input=True)
    first = _logged_losses(caplog, digits_dir, str(tmp_path / 'first'), **settings)
    assert 'Random seed 7; TensorFlow op determinism is on' in caplog.text
    second = _logged_losses(caplog, digits_dir, str(tmp_path / 'second'), **settings)
    other_seed = _logged_losses(caplog, digits_dir, str(tmp_path / 'other'),
                                **dict(settings, seed=8))
    assert sorted(first) == list(range(1, 51))
    assert second == first
    # Another seed starts from other weights: the test can tell runs apart.
    assert other_seed[1] != first[1]
    # Op determinism is switched off again once training ends.
    assert not tf_config.is_op_determinism_enabled()


def _flag_values(options_class):
    flag_values = flags.FlagValues()
    flag_options.define_flags(options_class, flag_values)
    return flag_values


def test_flag_lines_parse_back_to_the_same_options(tmp_path):
    options = digits_train_options(
        str(tmp_path), str(tmp_path / 'train'), learning_rate=0.0123456789, seed=3,
        clone_on_cpu=True, checkpoint_exclude_scopes='LeNet/fc4, LeNet/fc3', master='',
        moving_average_decay=None, keep_checkpoint_every_n_hours=0.5)
    lines = run_record.flag_lines(options)
    assert '--learning_rate=0.0123456789' in lines and '--clone_on_cpu' in lines
    assert '--nosync_replicas' in lines and '--master=' in lines
    assert not any(line.startswith('--moving_average_decay') for line in lines)
    assert run_record.parse_flag_lines(lines, TrainOptions) == options


def test_flags_txt_is_a_flag_file_with_versions_and_command_line(digits_dir, tmp_path):
    train_dir = str(tmp_path / 'train')
    options = digits_train_options(digits_dir, train_dir, max_number_of_steps=1, batch_size=10,
                                   weight_decay=0.001, label_smoothing=0.1)
    trainer.train(options)
    path = os.path.join(train_dir, run_record.FLAGS_FILENAME)
    with open(path) as f:
        comments = [line for line in f.read().splitlines() if line.startswith('#')]
    assert comments[1].startswith('# Command line: ')
    assert re.fullmatch(r'# Versions: Python 3\.11\.\d+, TensorFlow %s, tf-slim 1\.1\.0, '
                        r'slim-classifiers .+' % re.escape(tf.__version__), comments[2])
    # absl reads it as --flagfile, comments and all, back to the same options.
    flag_values = _flag_values(TrainOptions)
    flag_values(['train_image_classifier.py', '--flagfile=' + path])
    assert flag_options.options_from_flags(TrainOptions, flag_values) == options


def test_links_planted_in_the_train_dir_are_never_written_through(digits_dir, tmp_path):
    """The default --train_dir is under /tmp, where anyone can plant a link; the flags, the
    final step and the writability probe used to be written through fixed names."""
    victims = {name: tmp_path / ('victim_' + name) for name in
               ('flags.txt.incomplete', '.write_check.incomplete', 'final_step.txt.incomplete',
                'final_step.txt')}
    train_dir = tmp_path / 'train'
    train_dir.mkdir()
    for name, victim in victims.items():
        victim.write_bytes(b'precious')
        os.utime(victim, (1_000_000_000, 1_000_000_000))
        os.symlink(victim, train_dir / name)

    trainer.train(digits_train_options(digits_dir, str(train_dir), max_number_of_steps=1,
                                       batch_size=10))

    for victim in victims.values():
        assert victim.read_bytes() == b'precious'
        assert victim.stat().st_mtime == 1_000_000_000
    assert (train_dir / 'final_step.txt').read_text() == '1\n'
    assert not (train_dir / 'final_step.txt').is_symlink()
    assert '--max_number_of_steps=1' in (train_dir / run_record.FLAGS_FILENAME).read_text()


def test_a_train_dir_tensorflow_would_read_as_a_pattern_is_refused(digits_dir, tmp_path):
    """Under train_dir run[1], TensorFlow's Saver would delete run1's old checkpoints."""
    with pytest.raises(UserError, match=re.escape(
            '--train_dir=%s contains [, which TensorFlow\'s checkpoint code reads as a file '
            'pattern' % (tmp_path / 'run[1]'))):
        trainer.train(digits_train_options(digits_dir, str(tmp_path / 'run[1]')))
    assert os.listdir(tmp_path) == []


def test_resuming_with_changed_flags_logs_each_change_and_keeps_the_old_file(
        digits_dir, tmp_path, caplog):
    train_dir = str(tmp_path / 'train')
    first = digits_train_options(digits_dir, train_dir, max_number_of_steps=2, batch_size=10)
    trainer.train(first)
    caplog.set_level(logging.INFO)
    assert trainer.train(first) == 2  # The same flags: nothing to report, no step to run.
    assert 'changed flag' not in caplog.text
    assert not tf.io.gfile.glob(os.path.join(train_dir, 'flags_to_step_*'))

    trainer.train(digits_train_options(digits_dir, train_dir, max_number_of_steps=4,
                                       batch_size=10, learning_rate=0.02))
    changes = [record for record in caplog.records if 'changed flag' in record.getMessage()]
    assert [record.getMessage() for record in changes] == [
        'Resuming at step 2 with a changed flag: --learning_rate=0.02 (was --learning_rate=0.01)',
        'Resuming at step 2 with a changed flag: --max_number_of_steps=4 (was '
        '--max_number_of_steps=2)',
    ]
    assert all(record.levelno == logging.WARNING for record in changes)
    kept = os.path.join(train_dir, 'flags_to_step_2.txt')
    with open(kept) as f:
        assert run_record.parse_flag_lines(f.read().splitlines(), TrainOptions) == first
    with open(os.path.join(train_dir, run_record.FLAGS_FILENAME)) as f:
        assert '--learning_rate=0.02' in f.read().splitlines()


def _kept_checkpoints(train_dir):
    """(the steps the checkpoint state lists, the steps whose files are on disk)."""
    state = tf.train.get_checkpoint_state(train_dir)
    listed = [int(path.rpartition('-')[2]) for path in state.all_model_checkpoint_paths]
    on_disk = sorted(int(name[len('model.ckpt-'):-len('.index')])
                     for name in os.listdir(train_dir) if name.endswith('.index'))
    return listed, on_disk


@pytest.mark.parametrize('every_n_hours, expected', [
    (10000.0, ([3, 4], [3, 4])),
    # Every 3.6 milliseconds: each checkpoint dropped from the list stays on disk.
    (1e-6, ([3, 4], [1, 2, 3, 4])),
])
def test_keep_checkpoint_flags_set_which_checkpoints_stay(digits_dir, tmp_path, every_n_hours,
                                                          expected):
    train_dir = str(tmp_path / 'train')
    # save_interval_secs=0 saves after every step.
    trainer.train(digits_train_options(digits_dir, train_dir, max_number_of_steps=4,
                                       batch_size=10, save_interval_secs=0,
                                       keep_checkpoint_max=2,
                                       keep_checkpoint_every_n_hours=every_n_hours))
    assert _kept_checkpoints(train_dir) == expected


def test_new_flags_default_to_todays_behaviour():
    flag_values = _flag_values(TrainOptions)
    flag_values(['train_image_classifier.py'])
    assert {name: flag_values[name].value for name in
            ('keep_checkpoint_max', 'keep_checkpoint_every_n_hours', 'seed')} == {
        'keep_checkpoint_max': 5, 'keep_checkpoint_every_n_hours': 10000.0, 'seed': None}


@pytest.mark.parametrize('name, value', [('keep_checkpoint_max', -1), ('seed', -1),
                                         ('keep_checkpoint_every_n_hours', -0.5)])
def test_negative_values_are_refused(tmp_path, name, value):
    options = TrainOptions(train_dir=str(tmp_path), **{name: value})
    with pytest.raises(ValueError, match='--%s=%s is out of range' % (name, value)):
        trainer.check_options(options)
