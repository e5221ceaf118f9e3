"""Finding checkpoints."""

import os

import tensorflow.compat.v1 as tf


def resolve_checkpoint(checkpoint_path):
    """The checkpoint prefix for a checkpoint file prefix or a directory (its latest).

    Raises:
      ValueError: when no checkpoint is there; the message says what was found instead.
    """
    if not checkpoint_path:
        raise ValueError('Set --checkpoint_path to a checkpoint or a directory of checkpoints.')
    if tf.io.gfile.isdir(checkpoint_path):
        latest = tf.train.latest_checkpoint(checkpoint_path)
        if latest:
            return latest
        found = sorted(tf.io.gfile.listdir(checkpoint_path))[:10]
        raise ValueError('No checkpoint in directory %s (it holds: %s). Point --checkpoint_path '
                         'at a training directory or a checkpoint such as model.ckpt-1000.'
                         % (checkpoint_path, ', '.join(found) or 'nothing'))
    if tf.io.gfile.exists(checkpoint_path + '.index') or tf.io.gfile.exists(checkpoint_path):
        return checkpoint_path
    directory = os.path.dirname(checkpoint_path) or '.'
    found = sorted(tf.io.gfile.listdir(directory))[:10] if tf.io.gfile.isdir(directory) else []
    raise ValueError('No checkpoint at %s (%s). Point --checkpoint_path at a training directory '
                     'or a checkpoint prefix such as model.ckpt-1000.'
                     % (checkpoint_path, 'its directory holds: ' + ', '.join(found) if found
                        else 'its directory does not exist or is empty'))
