"""Inception V4 (Szegedy et al., "Inception-v4, Inception-ResNet and the Impact of
Residual Connections on Learning", 2016).

Scopes and variable names follow TF-Slim, so the published checkpoint
inception_v4_2016_09_09 (1001 classes) restores into this graph unchanged.
Spatial sizes in the comments are for the default 299 x 299 input.
"""

import tensorflow.compat.v1 as tf
import tf_slim as slim

from nets import inception_utils
from nets.inception_utils import (expanded_pair, inception_block, pool_projection,
                                  reduction_block, stride_1_same, tower)

inception_v4_arg_scope = inception_utils.inception_arg_scope
# Kept under its former name, which users of this module call.
_aux_logits = inception_utils.aux_logits


def _reduce(net, num_outputs, scope='Conv2d_1a_3x3', stride=2):
    """The unpadded 3x3 convolution that ends a grid-reducing branch."""
    return slim.conv2d(net, num_outputs, [3, 3], stride=stride, padding='VALID', scope=scope)


def block_inception_a(inputs, scope=None, reuse=None):
    """Inception-A: [B, 35, 35, 384] -> [B, 35, 35, 384]."""
    with stride_1_same(), tf.variable_scope(scope, 'BlockInceptionA', [inputs], reuse=reuse):
        return inception_block(inputs, [
            [(96, [1, 1], 'Conv2d_0a_1x1')],
            [(64, [1, 1], 'Conv2d_0a_1x1'), (96, [3, 3], 'Conv2d_0b_3x3')],
            [(64, [1, 1], 'Conv2d_0a_1x1'), (96, [3, 3], 'Conv2d_0b_3x3'),
             (96, [3, 3], 'Conv2d_0c_3x3')],
        ], 96)


def block_reduction_a(inputs, scope=None, reuse=None):
    """Reduction-A: [B, 35, 35, 384] -> [B, 17, 17, 1024]."""
    with stride_1_same(), tf.variable_scope(scope, 'BlockReductionA', [inputs], reuse=reuse):
        return reduction_block(inputs, [
            ([], 384, 'Conv2d_1a_3x3'),
            ([(192, [1, 1], 'Conv2d_0a_1x1'), (224, [3, 3], 'Conv2d_0b_3x3')], 256,
             'Conv2d_1a_3x3'),
        ])


def block_inception_b(inputs, scope=None, reuse=None):
    """Inception-B: [B, 17, 17, 1024] -> [B, 17, 17, 1024]; 7x7 factorised into 1x7 and 7x1."""
    with stride_1_same(), tf.variable_scope(scope, 'BlockInceptionB', [inputs], reuse=reuse):
        return inception_block(inputs, [
            [(384, [1, 1], 'Conv2d_0a_1x1')],
            [(192, [1, 1], 'Conv2d_0a_1x1'), (224, [1, 7], 'Conv2d_0b_1x7'),
             (256, [7, 1], 'Conv2d_0c_7x1')],
            [(192, [1, 1], 'Conv2d_0a_1x1'), (192, [7, 1], 'Conv2d_0b_7x1'),
             (224, [1, 7], 'Conv2d_0c_1x7'), (224, [7, 1], 'Conv2d_0d_7x1'),
             (256, [1, 7], 'Conv2d_0e_1x7')],
        ], 128)


def block_reduction_b(inputs, scope=None, reuse=None):
    """Reduction-B: [B, 17, 17, 1024] -> [B, 8, 8, 1536]."""
    with stride_1_same(), tf.variable_scope(scope, 'BlockReductionB', [inputs], reuse=reuse):
        return reduction_block(inputs, [
            ([(192, [1, 1], 'Conv2d_0a_1x1')], 192, 'Conv2d_1a_3x3'),
            ([(256, [1, 1], 'Conv2d_0a_1x1'), (256, [1, 7], 'Conv2d_0b_1x7'),
              (320, [7, 1], 'Conv2d_0c_7x1')], 320, 'Conv2d_1a_3x3'),
        ])


def block_inception_c(inputs, scope=None, reuse=None):
    """Inception-C: [B, 8, 8, 1536] -> [B, 8, 8, 1536] with expanded (parallel 1x3, 3x1) filters."""
    with stride_1_same(), tf.variable_scope(scope, 'BlockInceptionC', [inputs], reuse=reuse):
        with tf.variable_scope('Branch_0'):
            branch_0 = tower(inputs, [(256, [1, 1], 'Conv2d_0a_1x1')])
        with tf.variable_scope('Branch_1'):
            branch_1 = tower(inputs, [(384, [1, 1], 'Conv2d_0a_1x1')])
            branch_1 = expanded_pair(branch_1, 256, 'Conv2d_0b_1x3', 'Conv2d_0c_3x1')
        with tf.variable_scope('Branch_2'):
            branch_2 = tower(inputs, [(384, [1, 1], 'Conv2d_0a_1x1'),
                                       (448, [3, 1], 'Conv2d_0b_3x1'),
                                       (512, [1, 3], 'Conv2d_0c_1x3')])
            branch_2 = expanded_pair(branch_2, 256, 'Conv2d_0d_1x3', 'Conv2d_0e_3x1')
        with tf.variable_scope('Branch_3'):
            branch_3 = pool_projection(inputs, 256)
        return tf.concat([branch_0, branch_1, branch_2, branch_3], 3)


def _mixed_3a(net, scope):
    """[B, 147, 147, 64] -> [B, 73, 73, 160]."""
    with tf.variable_scope(scope):
        with tf.variable_scope('Branch_0'):
            branch_0 = slim.max_pool2d(net, [3, 3], stride=2, padding='VALID',
                                       scope='MaxPool_0a_3x3')
        with tf.variable_scope('Branch_1'):
            branch_1 = _reduce(net, 96, scope='Conv2d_0a_3x3')
        return tf.concat([branch_0, branch_1], 3)


def _mixed_4a(net, scope):
    """[B, 73, 73, 160] -> [B, 71, 71, 192]."""
    with tf.variable_scope(scope):
        with tf.variable_scope('Branch_0'):
            branch_0 = tower(net, [(64, [1, 1], 'Conv2d_0a_1x1')])
            branch_0 = _reduce(branch_0, 96, stride=1)
        with tf.variable_scope('Branch_1'):
            branch_1 = tower(net, [(64, [1, 1], 'Conv2d_0a_1x1'),
                                    (64, [1, 7], 'Conv2d_0b_1x7'),
                                    (64, [7, 1], 'Conv2d_0c_7x1')])
            branch_1 = _reduce(branch_1, 96, stride=1)
        return tf.concat([branch_0, branch_1], 3)


def _mixed_5a(net, scope):
    """[B, 71, 71, 192] -> [B, 35, 35, 384]."""
    with tf.variable_scope(scope):
        return reduction_block(net, [([], 192, 'Conv2d_1a_3x3')])


def _layers():
    """The base network as an ordered list of (end point, build(net, scope) -> net)."""

    def conv(num_outputs, stride=1, padding='VALID'):
        return lambda net, scope: slim.conv2d(net, num_outputs, [3, 3], stride=stride,
                                              padding=padding, scope=scope)

    def blocks(block, prefix, letters):
        return [(prefix + letter, block) for letter in letters]

    return [
        ('Conv2d_1a_3x3', conv(32, stride=2)),  # 149 x 149 x 32
        ('Conv2d_2a_3x3', conv(32)),  # 147 x 147 x 32
        ('Conv2d_2b_3x3', conv(64, padding='SAME')),  # 147 x 147 x 64
        ('Mixed_3a', _mixed_3a),  # 73 x 73 x 160
        ('Mixed_4a', _mixed_4a),  # 71 x 71 x 192
        ('Mixed_5a', _mixed_5a),  # 35 x 35 x 384
        *blocks(block_inception_a, 'Mixed_5', 'bcde'),  # 35 x 35 x 384
        ('Mixed_6a', block_reduction_a),  # 17 x 17 x 1024
        *blocks(block_inception_b, 'Mixed_6', 'bcdefgh'),  # 17 x 17 x 1024
        ('Mixed_7a', block_reduction_b),  # 8 x 8 x 1536
        *blocks(block_inception_c, 'Mixed_7', 'bcd'),  # 8 x 8 x 1536
    ]


def inception_v4_base(inputs, final_endpoint='Mixed_7d', scope=None):
    """Builds Inception V4 from the input up to `final_endpoint`.

    Args:
      inputs: [B, H, W, 3] images; 299 x 299 gives Mixed_7d of 8 x 8 x 1536.
      final_endpoint: the end point to stop at, 'Conv2d_1a_3x3' ... 'Mixed_7d'.
      scope: variable scope, 'InceptionV4' by default.

    Returns:
      (net, end_points): the `final_endpoint` tensor and a dict of every end point
      built so far.

    Raises:
      ValueError: unknown `final_endpoint`.
    """
    with stride_1_same(), tf.variable_scope(scope, 'InceptionV4', [inputs]):
        return inception_utils.build_up_to(inputs, _layers(), final_endpoint)


def inception_v4(inputs,
                 num_classes=1001,
                 is_training=True,
                 dropout_keep_prob=0.8,
                 reuse=None,
                 scope='InceptionV4',
                 create_aux_logits=True):
    """Inception V4 classifier; build it inside `inception_v4_arg_scope()`.

    Args:
      inputs: [B, H, W, 3] images, 299 x 299 by default; at least 75 x 75.
      num_classes: number of logits; 0 or None returns the pooled features
        [B, 1, 1, 1536] instead of logits.
      is_training: switches batch norm and dropout to their training behaviour.
      dropout_keep_prob: keep probability of the dropout before the logits.
      reuse: reuse the variables of an earlier build in the same scope.
      scope: variable scope.
      create_aux_logits: add the auxiliary head on Mixed_6h ('AuxLogits' end point);
        it needs a known spatial input size.

    Returns:
      (logits [B, num_classes], end_points); see `num_classes` for the features case.
    """
    with tf.variable_scope(scope, 'InceptionV4', [inputs], reuse=reuse) as var_scope:
        with slim.arg_scope([slim.batch_norm, slim.dropout], is_training=is_training):
            net, end_points = inception_v4_base(inputs, scope=var_scope)
            if create_aux_logits and num_classes:
                end_points['AuxLogits'] = _aux_logits(
                    end_points['Mixed_6h'], num_classes, pool_scope='AvgPool_1a_5x5',
                    conv_scope='Conv2d_2a', logits_scope='Aux_logits')
            with tf.variable_scope('Logits'):
                net = inception_utils.global_average(net, scope='AvgPool_1a')  # 1 x 1 x 1536
                end_points['global_pool'] = net
                if not num_classes:
                    return net, end_points
                net = slim.dropout(net, dropout_keep_prob, scope='Dropout_1b')
                net = slim.flatten(net, scope='PreLogitsFlatten')
                end_points['PreLogitsFlatten'] = net
                logits = slim.fully_connected(net, num_classes, activation_fn=None,
                                              scope='Logits')
                end_points['Logits'] = logits
                end_points['Predictions'] = tf.nn.softmax(logits, name='Predictions')
    return logits, end_points


inception_v4.default_image_size = 299
