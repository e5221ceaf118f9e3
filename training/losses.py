"""The classification losses of a training step."""

import tensorflow.compat.v1 as tf


def add_classification_losses(logits, end_points, labels, num_classes, label_smoothing=0.0,
                              aux_loss_weight=0.4):
    """Adds softmax cross-entropy losses to tf.GraphKeys.LOSSES.

    Args:
      logits: float [batch, num_classes].
      end_points: the network's end points; an 'AuxLogits' entry adds a second loss
        weighted by `aux_loss_weight`.
      labels: int [batch] class ids in [0, num_classes), or float [batch, num_classes]
        probability vectors (soft targets, as mixup makes); label smoothing applies to both.
    Returns:
      The main (unweighted-auxiliary) cross-entropy loss tensor.
    """
    targets = labels if labels.shape.ndims == 2 else tf.one_hot(labels, num_classes)
    if 'AuxLogits' in end_points:
        tf.losses.softmax_cross_entropy(
            targets, end_points['AuxLogits'], label_smoothing=label_smoothing,
            weights=aux_loss_weight, scope='aux_loss')
    return tf.losses.softmax_cross_entropy(
        targets, logits, label_smoothing=label_smoothing, weights=1.0)
