"""Argument scope shared by the Inception family."""

import tensorflow.compat.v1 as tf
import tf_slim as slim


def inception_arg_scope(weight_decay=0.00004,
                        use_batch_norm=True,
                        batch_norm_decay=0.9997,
                        batch_norm_epsilon=0.001,
                        activation_fn=tf.nn.relu,
                        batch_norm_updates_collections=tf.GraphKeys.UPDATE_OPS,
                        batch_norm_scale=False):
    """Returns the arg_scope the Inception networks are built (and were trained) in.

    Convolutions get L2 weight decay, He (variance-scaling) initialisation and, when
    `use_batch_norm`, batch normalisation in place of biases. Fully connected layers
    get the same weight decay.

    Args:
      weight_decay: L2 regularisation strength for conv and fully connected weights.
      use_batch_norm: whether each convolution is followed by batch normalisation.
      batch_norm_decay: decay of the batch-norm moving averages.
      batch_norm_epsilon: added to the variance before dividing by it.
      activation_fn: activation applied after each convolution.
      batch_norm_updates_collections: collection that receives the moving-average
        update ops (run them with the train op), or None to update in place.
      batch_norm_scale: whether batch norm learns a gamma. The published checkpoints
        have none, because a ReLU follows every batch norm.
    """
    batch_norm_params = {
        'decay': batch_norm_decay,
        'epsilon': batch_norm_epsilon,
        'updates_collections': batch_norm_updates_collections,
        'scale': batch_norm_scale,
    }
    if use_batch_norm:
        normalizer_fn = slim.batch_norm
        normalizer_params = batch_norm_params
    else:
        normalizer_fn = None
        normalizer_params = {}
    with slim.arg_scope([slim.conv2d, slim.fully_connected],
                        weights_regularizer=slim.l2_regularizer(weight_decay)):
        with slim.arg_scope([slim.conv2d],
                            weights_initializer=slim.variance_scaling_initializer(),
                            activation_fn=activation_fn,
                            normalizer_fn=normalizer_fn,
                            normalizer_params=normalizer_params) as scope:
            return scope
