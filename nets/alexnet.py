"""AlexNet version 2 ("One weird trick for parallelizing convolutional neural
networks", Krizhevsky, 2014), as in TF-Slim: a single tower, no local response
normalisation, and the fully connected layers as convolutions (fc6 5x5 'VALID',
fc7 and fc8 1x1), so a 224x224 input gives 1x1 logits and larger inputs give a
map of logits. 1000 classes, no background class.

Typical use, logits for a 224x224 batch:

    with slim.arg_scope(alexnet.alexnet_v2_arg_scope()):
        logits, end_points = alexnet.alexnet_v2(images, is_training=False)
"""

import tensorflow.compat.v1 as tf
import tf_slim as slim

from nets.conv_classifier import conv_classifier, end_point_recorder, relu_conv_arg_scope


def alexnet_v2_arg_scope(weight_decay=0.0005):
    """ReLU layers with L2 `weight_decay` and biases starting at 0.1 (see
    `conv_classifier.relu_conv_arg_scope`)."""
    return relu_conv_arg_scope(weight_decay, initial_bias=0.1)


def alexnet_v2(inputs, num_classes=1000, is_training=True, dropout_keep_prob=0.5,
               spatial_squeeze=True, scope='alexnet_v2', global_pool=False, reuse=None):
    """AlexNet v2: five convolutions, three 3x3/2 max pools and the classifier fc6-fc8.

    Build it inside `alexnet_v2_arg_scope()`.

    Args:
      inputs: [B, H, W, 3]; batch and spatial size may be unknown. The input must
        be at least 195x195 (pool5 at least 5x5 for fc6).
      num_classes, is_training, dropout_keep_prob, spatial_squeeze, global_pool:
        see `conv_classifier`; without num_classes the result is the fc7 features,
        [B, 1, 1, 4096] at 224x224.
      scope: variable scope.
      reuse: reuse the variables of an earlier build (a second tower); an
        addition to TF-Slim's signature.

    Returns:
      (logits [B, num_classes], end_points) where end_points maps full scope
      names ('alexnet_v2/conv1', 'alexnet_v2/pool1', ..., 'alexnet_v2/fc8') to
      activations.
    """
    with tf.variable_scope(scope, 'alexnet_v2', [inputs], reuse=reuse) as sc:
        end_points = {}
        keep = end_point_recorder(end_points, sc.name)

        net = keep('conv1', slim.conv2d(inputs, 64, [11, 11], 4, padding='VALID',
                                        scope='conv1'))  # 54x54 at 224x224
        net = keep('pool1', slim.max_pool2d(net, [3, 3], 2, scope='pool1'))  # 26x26
        net = keep('conv2', slim.conv2d(net, 192, [5, 5], scope='conv2'))
        net = keep('pool2', slim.max_pool2d(net, [3, 3], 2, scope='pool2'))  # 12x12
        net = keep('conv3', slim.conv2d(net, 384, [3, 3], scope='conv3'))
        net = keep('conv4', slim.conv2d(net, 384, [3, 3], scope='conv4'))
        net = keep('conv5', slim.conv2d(net, 256, [3, 3], scope='conv5'))
        net = keep('pool5', slim.max_pool2d(net, [3, 3], 2, scope='pool5'))  # 5x5

        # Small classifier weights, and positive biases so its ReLUs start active.
        return conv_classifier(net, end_points, sc.name, 4096, [5, 5], num_classes, is_training,
                               dropout_keep_prob, spatial_squeeze, global_pool,
                               weights_initializer=tf.truncated_normal_initializer(stddev=0.005),
                               biases_initializer=tf.constant_initializer(0.1),
                               logits_biases_initializer=tf.zeros_initializer())


alexnet_v2.default_image_size = 224
