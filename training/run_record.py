"""The record of a training run in its train_dir: flags.txt and an HParams session.

flags.txt is an absl flag file with every option of the run, so `train_image_classifier.py
--flagfile=<train_dir>/flags.txt` repeats it. Its comment lines, which absl skips, give the
command line and the versions of Python, TensorFlow, tf-slim and this project. A run that
resumes from a checkpoint in the same train_dir logs each option that differs from the saved
ones; when some do, the saved file is kept as flags_to_step_<step>.txt.

For TensorBoard's HParams dashboard each train_dir is a session: an event file in it holds
the session's hyper-parameters (`run_hparams`). The plugin takes a session's metrics from the
last value of every scalar in train_dir and in its subdirectories, named by tag and
subdirectory, so an evaluation into <train_dir>/eval gives the session its eval/Accuracy,
eval/Recall_5 and eval/mean_loss (group 'eval'), and `tensorboard --logdir=runs/` compares
every run below runs/ in one table.
"""

import dataclasses
import importlib.metadata
import os
import platform
import shlex
import subprocess
import time

import tensorflow.compat.v1 as tf
from absl import flags, logging
from tensorboard.plugins.hparams import summary as hparams_summary

import flag_options
from common import checkpoints, files

FLAGS_FILENAME = 'flags.txt'
# The hyper-parameters every session records, changed or not, besides the recipe.
ALWAYS_RECORDED = ('model_name', 'dataset_name', 'batch_size', 'mixed_precision', 'optimizer',
                   'learning_rate')
# The recipe's hyper-parameter: the --flagfile(s) of the command line, or this without one.
RECIPE = 'recipe'
NO_RECIPE = 'none'
# Where the run and its data are, not what it is: train_dir names the session; a cluster's
# worker gets its own master and task.
_WHERE = ('train_dir', 'dataset_dir', 'master', 'task')
_PROJECT_DISTRIBUTION = 'slim-classifiers'
_PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def flag_line(name, value):
    """The flag-file line setting flag `name` to `value`; None for None (the flag's default)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return '--%s' % name if value else '--no%s' % name
    # repr keeps every digit of a float.
    return '--%s=%s' % (name, repr(value) if isinstance(value, float) else value)


def flag_lines(options):
    """The flag-file lines of every field of `options` (a dataclass of `flag_options.option`
    fields), in field order; fields left at None get no line."""
    lines = [flag_line(field.name, getattr(options, field.name))
             for field in dataclasses.fields(options)]
    return [line for line in lines if line is not None]


def parse_flag_lines(lines, options_class):
    """The `options_class` instance that absl makes of flag-file `lines` (comments allowed).

    Raises:
      absl.flags.Error: a line names an unknown flag or an invalid value.
    """
    flag_values = flags.FlagValues()
    flag_options.define_flags(options_class, flag_values)
    flag_values([FLAGS_FILENAME] + [line for line in lines
                                    if line.strip() and not line.startswith('#')])
    return flag_options.options_from_flags(options_class, flag_values)


def _project_version():
    """This project's version, with the git commit when run from a clone."""
    try:
        version = importlib.metadata.version(_PROJECT_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        version = 'not installed'
    try:
        commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=_PROJECT_ROOT,
                                capture_output=True, text=True, timeout=10, check=True)
        changes = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=no'],
                                 cwd=_PROJECT_ROOT, capture_output=True, text=True,
                                 timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return version
    return '%s (git %s%s)' % (version, commit.stdout.strip(),
                              ' with local changes' if changes.stdout.strip() else '')


def environment_comments(argv):
    """Comment lines: the command line `argv` and the versions of the software."""
    command_line = ' '.join(shlex.quote(argument) for argument in argv).replace('\n', ' ')
    return [
        '# Written when training started, %s.' % time.strftime('%Y-%m-%d %H:%M:%S %Z'),
        '# Command line: %s' % command_line,
        '# Versions: Python %s, TensorFlow %s, tf-slim %s, %s %s' % (
            platform.python_version(), tf.__version__, importlib.metadata.version('tf-slim'),
            _PROJECT_DISTRIBUTION, _project_version()),
    ]


def _differing_fields(options, others):
    """The names of the fields of `options` whose value differs in `others` (a dataclass of
    the same class), in field order."""
    return [field.name for field in dataclasses.fields(options)
            if getattr(options, field.name) != getattr(others, field.name)]


def changed_flags(saved, current):
    """One line per field whose value differs between options `saved` and `current`."""
    def shown(name, value):
        return flag_line(name, value) or '--%s unset' % name

    return ['%s (was %s)' % (shown(name, getattr(current, name)), shown(name, getattr(saved, name)))
            for name in _differing_fields(current, saved)]


def recipe(argv):
    """The flag files the command line `argv` reads (`--flagfile=F` or `--flagfile F`), as
    given and comma-separated; `NO_RECIPE` without one."""
    files_read = []
    for index, argument in enumerate(argv):
        name, equals, value = argument.lstrip('-').partition('=')
        if name == 'flagfile' and argument.startswith('-'):
            if equals:
                files_read.append(value)
            elif index + 1 < len(argv):
                files_read.append(argv[index + 1])
    return ','.join(files_read) or NO_RECIPE


def run_hparams(options, argv):
    """The hyper-parameters of the run of `options` (a `TrainOptions`) started by `argv`, as
    {name: bool, int, float or str}: every option that differs from its default (but
    the `_WHERE` options), those of `ALWAYS_RECORDED`, and the `RECIPE`."""
    names = set(ALWAYS_RECORDED).union(_differing_fields(options, type(options)()))
    names.difference_update(_WHERE)
    hparams = {name: getattr(options, name) for name in sorted(names)
               if getattr(options, name) is not None}
    hparams[RECIPE] = recipe(argv)
    return hparams


def record_run(options, argv):
    """Writes <train_dir>/flags.txt for `options` (a `TrainOptions`) and command line `argv`.

    When the run resumes from a checkpoint and the saved flags.txt differs, logs one warning
    per changed option and keeps the saved file as flags_to_step_<step>.txt.
    """
    path = os.path.join(options.train_dir, FLAGS_FILENAME)
    latest = tf.io.gfile.exists(path) and tf.train.latest_checkpoint(options.train_dir)
    if latest:
        _compare_with_saved(path, options, checkpoints.global_step_of(latest))
    tf.io.gfile.makedirs(options.train_dir)
    text = '\n'.join(environment_comments(argv) + flag_lines(options)) + '\n'
    files.write_file_atomically(path, text.encode('utf-8'))
    logging.info('The run\'s flags are in %s (--flagfile repeats the run)', path)


def write_hparams_session(options, argv):
    """Writes the HParams session start of the run of `options` and `argv` (`run_hparams`)
    to train_dir's event file.

    The writer is tf.summary.FileWriterCache's, which the training summaries share, and
    which writes the default graph when it is created: call this with the training graph
    built. One event file per start, because two writers opened in the same second would
    get the same file name.
    """
    writer = tf.summary.FileWriterCache.get(options.train_dir)
    writer.add_summary(hparams_summary.session_start_pb(run_hparams(options, argv))
                       .SerializeToString())
    writer.flush()


def _compare_with_saved(path, options, step):
    try:
        saved = parse_flag_lines(files.read_file(path).decode('utf-8').splitlines(),
                                 type(options))
    except flags.Error as error:
        logging.warning('Cannot compare the flags with those saved in %s: %s', path, error)
        return
    changes = changed_flags(saved, options)
    for change in changes:
        logging.warning('Resuming at step %d with a changed flag: %s', step, change)
    if changes:
        kept = os.path.join(os.path.dirname(path), 'flags_to_step_%d.txt' % step)
        tf.io.gfile.rename(path, kept, overwrite=True)
        logging.info('The flags of the steps up to %d are kept in %s', step, kept)
