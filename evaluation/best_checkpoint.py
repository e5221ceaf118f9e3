"""The best checkpoint of an evaluation directory, kept out of reach of the trainer's rotation.

<eval_dir>/best/ holds a copy of the checkpoint with the highest top-1 accuracy evaluated
into <eval_dir> so far (its .index, .data-* and .meta files) and a checkpoint state file
naming it, so --checkpoint_path=<eval_dir>/best restores it; eval_results.json records it
under 'best'. The trainer may delete a checkpoint while it is being evaluated, so each one is
copied into <eval_dir>/best/incoming/ first, evaluated from there, and the copy is kept only
if it beats the best.
"""

import glob
import os
import shutil

import tensorflow.compat.v1 as tf
from absl import logging

from common import checkpoints, files
from common.errors import ConfigurationError
from evaluation import results

BEST_DIRNAME = 'best'
_INCOMING_DIRNAME = 'incoming'
_ACCURACY = 'eval/Accuracy'
_COPY_CHUNK_BYTES = 16 << 20


def best_dir(eval_dir):
    """<eval_dir>/best, the directory of the best checkpoint."""
    return os.path.join(eval_dir, BEST_DIRNAME)


def _incoming_dir(eval_dir):
    return os.path.join(best_dir(eval_dir), _INCOMING_DIRNAME)


def _checkpoint_files(prefix):
    """The files of the checkpoint `prefix`: prefix.index, prefix.data-*, prefix.meta."""
    directory, name = os.path.split(prefix)
    return files.matching_paths(directory, glob.escape(name) + '.*')


def _copy_file(source, destination):
    """Copies `source` to `destination` through a new temporary name, so a link planted at
    `destination` is replaced, never written through."""
    with tf.io.gfile.GFile(source, 'rb') as input_file, \
            files.atomic_writer(destination) as output_file:
        shutil.copyfileobj(input_file, output_file, _COPY_CHUNK_BYTES)


def stage(checkpoint, eval_dir):
    """Copies the checkpoint prefix `checkpoint` into <eval_dir>/best/incoming/, replacing
    any earlier copy there; returns the copy's prefix, to evaluate and pass to
    `keep_if_best`."""
    checkpoints.check_literal_path(eval_dir, 'eval_dir')
    directory = best_dir(eval_dir)
    if files.is_local(directory) and os.path.islink(directory):
        # The best checkpoint's files are moved in and the previous best's deleted there.
        raise ConfigurationError('%s is a symbolic link (to %s): the best checkpoint is kept only '
                                 'in a real directory of --eval_dir. Remove the link, or pass '
                                 'another --eval_dir.' % (directory, os.readlink(directory)))
    incoming = _incoming_dir(eval_dir)
    # Whatever is there, a link included, is removed itself; makedirs then makes a real one.
    files.remove_tree(incoming)
    tf.io.gfile.makedirs(incoming)
    for path in _checkpoint_files(checkpoint):
        _copy_file(path, os.path.join(incoming, os.path.basename(path)))
    return os.path.join(incoming, os.path.basename(checkpoint))


def recorded_best(eval_dir):
    """The 'best' record of <eval_dir>/eval_results.json, or None when there is none or its
    copy is gone from <eval_dir>/best."""
    best = results.read_results(eval_dir).get('best')
    if best is None or not tf.train.latest_checkpoint(best_dir(eval_dir)):
        return None
    return best


def keep_if_best(staged, checkpoint_results, eval_dir):
    """Makes `staged` (a prefix from `stage`) the best checkpoint if its top-1 accuracy is
    higher than the recorded best's (a tie keeps the earlier one), then empties
    <eval_dir>/best/incoming/.

    Args:
      checkpoint_results: the staged checkpoint's results ('eval/Accuracy', 'global_step',
        'checkpoint_path': where it was copied from).
    Returns:
      The record of the best checkpoint, new or as it was: {'global_step', 'eval/Accuracy',
      'checkpoint_path' (the copy in <eval_dir>/best), 'source_checkpoint_path'}.
    """
    best = recorded_best(eval_dir)
    if best is None or checkpoint_results[_ACCURACY] > best[_ACCURACY]:
        best = _promote(staged, checkpoint_results, eval_dir)
    files.remove_tree(_incoming_dir(eval_dir))
    return best


def _promote(staged, checkpoint_results, eval_dir):
    """Moves `staged` into <eval_dir>/best, points the state file at it and deletes the
    previous best's files; returns the new record."""
    directory = best_dir(eval_dir)
    previous = tf.train.latest_checkpoint(directory)
    prefix = os.path.join(directory, os.path.basename(staged))
    for path in _checkpoint_files(staged):
        tf.io.gfile.rename(path, os.path.join(directory, os.path.basename(path)), overwrite=True)
    # The state file is written last (atomically), so it only ever names complete files.
    # Given the full prefix, TensorFlow stores it relative to a relative or remote directory.
    tf.train.update_checkpoint_state(directory, prefix, [prefix])
    if previous and previous != prefix:
        for path in _checkpoint_files(previous):
            files.remove_file(path)
    logging.info('New best checkpoint: global step %d, top-1 accuracy %.4f; copied to %s',
                 checkpoint_results['global_step'], checkpoint_results[_ACCURACY], prefix)
    return {'global_step': checkpoint_results['global_step'],
            _ACCURACY: checkpoint_results[_ACCURACY], 'checkpoint_path': prefix,
            'source_checkpoint_path': checkpoint_results['checkpoint_path']}
