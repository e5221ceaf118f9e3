"""OverFeat, the fast model (Sermanet et al., "OverFeat: Integrated Recognition,
Localization and Detection using Convolutional Networks", 2014), as in TF-Slim:
the fully connected layers are convolutions (fc6 6x6 'VALID', fc7 and fc8 1x1),
so a 231x231 input gives 1x1 logits and larger inputs give a map of logits.
1000 classes, no background class.

Typical use, logits for a 231x231 batch:

    with slim.arg_scope(overfeat.overfeat_arg_scope()):
        logits, end_points = overfeat.overfeat(images, is_training=False)
"""

import tensorflow.compat.v1 as tf
import tf_slim as slim

from nets.conv_classifier import conv_classifier, end_point_recorder, relu_conv_arg_scope


def overfeat_arg_scope(weight_decay=0.0005):
    """ReLU layers with L2 `weight_decay` and zero-initialised biases (see
    `conv_classifier.relu_conv_arg_scope`)."""
    return relu_conv_arg_scope(weight_decay, initial_bias=0.0)


def overfeat(inputs, num_classes=1000, is_training=True, dropout_keep_prob=0.5,
             spatial_squeeze=True, scope='overfeat', global_pool=False, reuse=None):
    """OverFeat: five convolutions, three 2x2/2 max pools and the classifier fc6-fc8.

    Build it inside `overfeat_arg_scope()`.

    Args:
      inputs: [B, H, W, 3]; batch and spatial size may be unknown. The input must
        be at least 231x231 (pool5 at least 6x6 for fc6).
      num_classes, is_training, dropout_keep_prob, spatial_squeeze, global_pool:
        see `conv_classifier`; without num_classes the result is the fc7 features,
        [B, 1, 1, 4096] at 231x231.
      scope: variable scope.
      reuse: reuse the variables of an earlier build (a second tower); an
        addition to TF-Slim's signature.

    Returns:
      (logits [B, num_classes], end_points) where end_points maps full scope
      names ('overfeat/conv1', 'overfeat/pool1', ..., 'overfeat/fc8') to
      activations.
    """
    with tf.variable_scope(scope, 'overfeat', [inputs], reuse=reuse) as sc:
        end_points = {}
        keep = end_point_recorder(end_points, sc.name)

        net = keep('conv1', slim.conv2d(inputs, 64, [11, 11], 4, padding='VALID',
                                        scope='conv1'))  # 56x56 at 231x231
        net = keep('pool1', slim.max_pool2d(net, [2, 2], scope='pool1'))  # 28x28
        net = keep('conv2', slim.conv2d(net, 256, [5, 5], padding='VALID', scope='conv2'))
        net = keep('pool2', slim.max_pool2d(net, [2, 2], scope='pool2'))  # 12x12
        net = keep('conv3', slim.conv2d(net, 512, [3, 3], scope='conv3'))
        net = keep('conv4', slim.conv2d(net, 1024, [3, 3], scope='conv4'))
        net = keep('conv5', slim.conv2d(net, 1024, [3, 3], scope='conv5'))
        net = keep('pool5', slim.max_pool2d(net, [2, 2], scope='pool5'))  # 6x6

        # Small classifier weights, and positive biases so its ReLUs start active.
        return conv_classifier(net, end_points, sc.name, 3072, [6, 6], num_classes, is_training,
                               dropout_keep_prob, spatial_squeeze, global_pool,
                               weights_initializer=tf.truncated_normal_initializer(stddev=0.005),
                               biases_initializer=tf.constant_initializer(0.1),
                               logits_biases_initializer=tf.zeros_initializer())


overfeat.default_image_size = 231
