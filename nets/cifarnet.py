"""CifarNet: the CIFAR-10 tutorial network, with TF-Slim's scopes and names."""

import tensorflow.compat.v1 as tf
import tf_slim as slim


def _local_response_norm(net, name):
    """Cross-channel normalisation as in the CIFAR-10 tutorial model."""
    return tf.nn.lrn(net, depth_radius=4, bias=1.0, alpha=0.001 / 9.0, beta=0.75, name=name)


def cifarnet(images, num_classes=10, is_training=False, dropout_keep_prob=0.5,
             prediction_fn=slim.softmax, scope='CifarNet'):
    """Two conv / pool / LRN stages, fully connected layers of 384 and 192, linear logits.

    Build it inside `cifarnet_arg_scope()`.

    Args:
      images: [B, 32, 32, 3] images (other sizes change the fc3 input width).
      num_classes: number of logits; 0 or None returns the fc4 activations [B, 192]
        instead.
      is_training: whether dropout (after fc3) is active.
      dropout_keep_prob: keep probability of that dropout.
      prediction_fn: maps logits to the 'Predictions' end point.
      scope: variable scope.

    Returns:
      (logits [B, num_classes], end_points).
    """
    end_points = {}
    with tf.variable_scope(scope, 'CifarNet', [images]):
        net = end_points['conv1'] = slim.conv2d(images, 64, [5, 5], scope='conv1')  # 32x32x64
        net = end_points['pool1'] = slim.max_pool2d(net, [2, 2], 2, scope='pool1')  # 16x16x64
        net = _local_response_norm(net, 'norm1')
        net = end_points['conv2'] = slim.conv2d(net, 64, [5, 5], scope='conv2')  # 16x16x64
        net = _local_response_norm(net, 'norm2')
        net = end_points['pool2'] = slim.max_pool2d(net, [2, 2], 2, scope='pool2')  # 8x8x64
        net = end_points['Flatten'] = slim.flatten(net)  # 4096
        net = end_points['fc3'] = slim.fully_connected(net, 384, scope='fc3')
        net = end_points['dropout3'] = slim.dropout(net, dropout_keep_prob,
                                                    is_training=is_training, scope='dropout3')
        net = end_points['fc4'] = slim.fully_connected(net, 192, scope='fc4')
        if not num_classes:
            return net, end_points
        # Near-zero initial logits, and no weight decay on this layer.
        logits = end_points['Logits'] = slim.fully_connected(
            net, num_classes, activation_fn=None,
            weights_initializer=tf.truncated_normal_initializer(stddev=1 / 192.0),
            biases_initializer=tf.zeros_initializer(), weights_regularizer=None,
            scope='logits')
    end_points['Predictions'] = prediction_fn(logits, scope='Predictions')
    return logits, end_points


cifarnet.default_image_size = 32


def cifarnet_arg_scope(weight_decay=0.004):
    """ReLU layers; conv weights truncated-normal (stddev 0.05); fully connected layers
    with truncated-normal (stddev 0.04) weights, L2 `weight_decay` and biases of 0.1."""
    with slim.arg_scope([slim.conv2d],
                        weights_initializer=tf.truncated_normal_initializer(stddev=5e-2),
                        activation_fn=tf.nn.relu):
        with slim.arg_scope([slim.fully_connected],
                            weights_initializer=tf.truncated_normal_initializer(stddev=0.04),
                            weights_regularizer=slim.l2_regularizer(weight_decay),
                            biases_initializer=tf.constant_initializer(0.1),
                            activation_fn=tf.nn.relu) as scope:
            return scope
