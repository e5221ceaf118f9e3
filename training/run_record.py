"""The record of a training run in its train_dir: flags.txt.

flags.txt is an absl flag file with every option of the run, so `train_image_classifier.py
--flagfile=<train_dir>/flags.txt` repeats it. Its comment lines, which absl skips, give the
command line and the versions of Python, TensorFlow, tf-slim and this project. A run that
resumes from a checkpoint in the same train_dir logs each option that differs from the saved
ones; when some do, the saved file is kept as flags_to_step_<step>.txt.
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

import flag_options
from common import checkpoints, files

FLAGS_FILENAME = 'flags.txt'
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


def changed_flags(saved, current):
    """One line per field whose value differs between options `saved` and `current`."""
    def shown(name, value):
        return flag_line(name, value) or '--%s unset' % name

    return ['%s (was %s)' % (shown(field.name, getattr(current, field.name)),
                             shown(field.name, getattr(saved, field.name)))
            for field in dataclasses.fields(current)
            if getattr(saved, field.name) != getattr(current, field.name)]


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
