"""Inception V3 (Szegedy et al., "Rethinking the Inception Architecture", 2015).

Scopes and variable names follow TF-Slim, so the published checkpoint
inception_v3_2016_08_28 (1001 classes) restores into this graph unchanged.
Spatial sizes in the comments are for the default 299 x 299 input.
"""

import tensorflow.compat.v1 as tf
import tf_slim as slim

from nets import inception_utils
from nets.inception_utils import (depth_fn, expanded_pair, inception_block, pool_projection,
                                  reduction_block, tower)

inception_v3_arg_scope = inception_utils.inception_arg_scope
# TF-Slim's name, kept importable.
_reduced_kernel_size_for_small_input = inception_utils.reduced_kernel_size_for_small_input


def _block_35x35(net, scope, depth, pool_depth,
                 branch_1_scopes=('Conv2d_0a_1x1', 'Conv2d_0b_5x5')):
    """Mixed_5b/c/d: 35 x 35 x C -> 35 x 35 x (224 + pool_depth).

    `branch_1_scopes` exists because Mixed_5c's 5x5 branch carries other names
    in the published checkpoint.
    """
    with tf.variable_scope(scope):
        return inception_block(net, [
            [(64, [1, 1], 'Conv2d_0a_1x1')],
            [(48, [1, 1], branch_1_scopes[0]), (64, [5, 5], branch_1_scopes[1])],
            [(64, [1, 1], 'Conv2d_0a_1x1'), (96, [3, 3], 'Conv2d_0b_3x3'),
             (96, [3, 3], 'Conv2d_0c_3x3')],
        ], pool_depth, depth)


def _reduction_35_to_17(net, scope, depth):
    """Mixed_6a: 35 x 35 x 288 -> 17 x 17 x 768 with parallel stride-2 branches."""
    with tf.variable_scope(scope):
        # The 3x3 stride-2 convolutions are named "1x1" in the published checkpoint.
        return reduction_block(net, [
            ([], 384, 'Conv2d_1a_1x1'),
            ([(64, [1, 1], 'Conv2d_0a_1x1'), (96, [3, 3], 'Conv2d_0b_3x3')], 96, 'Conv2d_1a_1x1'),
        ], depth=depth)


def _block_17x17(net, scope, depth, inner_depth):
    """Mixed_6b..6e: 17 x 17 x 768 -> 17 x 17 x 768; 7x7 factorised into 1x7 and 7x1."""
    with tf.variable_scope(scope):
        return inception_block(net, [
            [(192, [1, 1], 'Conv2d_0a_1x1')],
            [(inner_depth, [1, 1], 'Conv2d_0a_1x1'), (inner_depth, [1, 7], 'Conv2d_0b_1x7'),
             (192, [7, 1], 'Conv2d_0c_7x1')],
            [(inner_depth, [1, 1], 'Conv2d_0a_1x1'), (inner_depth, [7, 1], 'Conv2d_0b_7x1'),
             (inner_depth, [1, 7], 'Conv2d_0c_1x7'), (inner_depth, [7, 1], 'Conv2d_0d_7x1'),
             (192, [1, 7], 'Conv2d_0e_1x7')],
        ], 192, depth)


def _reduction_17_to_8(net, scope, depth):
    """Mixed_7a: 17 x 17 x 768 -> 8 x 8 x 1280 with parallel stride-2 branches."""
    with tf.variable_scope(scope):
        return reduction_block(net, [
            ([(192, [1, 1], 'Conv2d_0a_1x1')], 320, 'Conv2d_1a_3x3'),
            ([(192, [1, 1], 'Conv2d_0a_1x1'), (192, [1, 7], 'Conv2d_0b_1x7'),
              (192, [7, 1], 'Conv2d_0c_7x1')], 192, 'Conv2d_1a_3x3'),
        ], depth=depth)


def _block_8x8(net, scope, depth, branch_1_3x1_scope):
    """Mixed_7b/7c: 8 x 8 x C -> 8 x 8 x 2048 with expanded (parallel 1x3, 3x1) filters.

    `branch_1_3x1_scope` differs between Mixed_7b and Mixed_7c in the checkpoint.
    """
    with tf.variable_scope(scope):
        with tf.variable_scope('Branch_0'):
            branch_0 = tower(net, [(320, [1, 1], 'Conv2d_0a_1x1')], depth)
        with tf.variable_scope('Branch_1'):
            branch_1 = tower(net, [(384, [1, 1], 'Conv2d_0a_1x1')], depth)
            branch_1 = expanded_pair(branch_1, depth(384), 'Conv2d_0b_1x3', branch_1_3x1_scope)
        with tf.variable_scope('Branch_2'):
            branch_2 = tower(net, [(448, [1, 1], 'Conv2d_0a_1x1'), (384, [3, 3], 'Conv2d_0b_3x3')],
                             depth)
            branch_2 = expanded_pair(branch_2, depth(384), 'Conv2d_0c_1x3', 'Conv2d_0d_3x1')
        with tf.variable_scope('Branch_3'):
            branch_3 = pool_projection(net, depth(192))
        return tf.concat([branch_0, branch_1, branch_2, branch_3], 3)


def _layers(depth):
    """The base network as an ordered list of (end point, build(net, scope) -> net)."""

    def conv(num_outputs, kernel_size, stride=1, padding='VALID'):
        return lambda net, scope: slim.conv2d(net, depth(num_outputs), kernel_size,
                                              stride=stride, padding=padding, scope=scope)

    def max_pool(net, scope):
        return slim.max_pool2d(net, [3, 3], stride=2, padding='VALID', scope=scope)

    def block(build, **kwargs):
        return lambda net, scope: build(net, scope, depth, **kwargs)

    return [
        ('Conv2d_1a_3x3', conv(32, [3, 3], stride=2)),  # 149 x 149 x 32
        ('Conv2d_2a_3x3', conv(32, [3, 3])),  # 147 x 147 x 32
        ('Conv2d_2b_3x3', conv(64, [3, 3], padding='SAME')),  # 147 x 147 x 64
        ('MaxPool_3a_3x3', max_pool),  # 73 x 73 x 64
        ('Conv2d_3b_1x1', conv(80, [1, 1])),  # 73 x 73 x 80
        ('Conv2d_4a_3x3', conv(192, [3, 3])),  # 71 x 71 x 192
        ('MaxPool_5a_3x3', max_pool),  # 35 x 35 x 192
        ('Mixed_5b', block(_block_35x35, pool_depth=32)),  # 35 x 35 x 256
        ('Mixed_5c', block(_block_35x35, pool_depth=64,
                           branch_1_scopes=('Conv2d_0b_1x1', 'Conv_1_0c_5x5'))),  # 35 x 35 x 288
        ('Mixed_5d', block(_block_35x35, pool_depth=64)),  # 35 x 35 x 288
        ('Mixed_6a', block(_reduction_35_to_17)),  # 17 x 17 x 768
        ('Mixed_6b', block(_block_17x17, inner_depth=128)),
        ('Mixed_6c', block(_block_17x17, inner_depth=160)),
        ('Mixed_6d', block(_block_17x17, inner_depth=160)),
        ('Mixed_6e', block(_block_17x17, inner_depth=192)),  # 17 x 17 x 768
        ('Mixed_7a', block(_reduction_17_to_8)),  # 8 x 8 x 1280
        ('Mixed_7b', block(_block_8x8, branch_1_3x1_scope='Conv2d_0b_3x1')),  # 8 x 8 x 2048
        ('Mixed_7c', block(_block_8x8, branch_1_3x1_scope='Conv2d_0c_3x1')),  # 8 x 8 x 2048
    ]


def inception_v3_base(inputs, final_endpoint='Mixed_7c', min_depth=16, depth_multiplier=1.0,
                      scope=None):
    """Builds Inception V3 from the input up to `final_endpoint`.

    Args:
      inputs: [B, H, W, 3] images; 299 x 299 gives Mixed_7c of 8 x 8 x 2048.
      final_endpoint: the end point to stop at, 'Conv2d_1a_3x3' ... 'Mixed_7c'.
      min_depth: lower bound on the depth of every convolution.
      depth_multiplier: scales the depth of every convolution; must be > 0.
      scope: variable scope, 'InceptionV3' by default.

    Returns:
      (net, end_points): the `final_endpoint` tensor and a dict of every end point
      built so far.

    Raises:
      ValueError: unknown `final_endpoint`, or `depth_multiplier` <= 0.
    """
    layers = _layers(depth_fn(depth_multiplier, min_depth))
    with tf.variable_scope(scope, 'InceptionV3', [inputs]):
        with inception_utils.stride_1_same():
            return inception_utils.build_up_to(inputs, layers, final_endpoint)


def _aux_logits(net, num_classes, depth, spatial_squeeze):
    """Auxiliary classifier on Mixed_6e: [B, 17, 17, 768] -> [B, num_classes]."""
    with tf.variable_scope('AuxLogits'):
        # Reducing the pool as well (TF-Slim reduces only the conv) keeps the head
        # buildable down to the 75 x 75 minimum input, where Mixed_6e is 3 x 3.
        kernel_size = inception_utils.reduced_kernel_size_for_small_input(net, [5, 5])
        net = slim.avg_pool2d(net, kernel_size, stride=3, padding='VALID',
                              scope='AvgPool_1a_{}x{}'.format(*kernel_size))
        net = slim.conv2d(net, depth(128), [1, 1], scope='Conv2d_1b_1x1')  # 5 x 5 x 128
        kernel_size = inception_utils.reduced_kernel_size_for_small_input(net, [5, 5])
        net = slim.conv2d(net, depth(768), kernel_size, padding='VALID',
                          weights_initializer=tf.truncated_normal_initializer(stddev=0.01),
                          scope='Conv2d_2a_{}x{}'.format(*kernel_size))  # 1 x 1 x 768
        net = slim.conv2d(net, num_classes, [1, 1], activation_fn=None, normalizer_fn=None,
                          weights_initializer=tf.truncated_normal_initializer(stddev=0.001),
                          scope='Conv2d_2b_1x1')
        if spatial_squeeze:
            net = tf.squeeze(net, [1, 2], name='SpatialSqueeze')
    return net


def inception_v3(inputs,
                 num_classes=1000,
                 is_training=True,
                 dropout_keep_prob=0.8,
                 min_depth=16,
                 depth_multiplier=1.0,
                 prediction_fn=slim.softmax,
                 spatial_squeeze=True,
                 reuse=None,
                 create_aux_logits=True,
                 scope='InceptionV3',
                 global_pool=False):
    """Inception V3 classifier; build it inside `inception_v3_arg_scope()`.

    Args:
      inputs: [B, H, W, 3] images, 299 x 299 by default; at least 75 x 75.
      num_classes: number of logits; 0 or None returns the pooled features
        [B, 1, 1, 2048] (before dropout) instead of logits.
      is_training: switches batch norm and dropout to their training behaviour.
      dropout_keep_prob: keep probability of the dropout before the logits.
      min_depth, depth_multiplier: see `inception_v3_base`.
      prediction_fn: maps logits to the 'Predictions' end point.
      spatial_squeeze: squeeze logits from [B, 1, 1, N] to [B, N].
      reuse: reuse the variables of an earlier build in the same scope.
      create_aux_logits: add the auxiliary head ('AuxLogits' end point).
      scope: variable scope.
      global_pool: average over the whole final grid instead of a fixed 8 x 8
        window, so larger inputs still give a 1 x 1 map.

    Returns:
      (logits [B, num_classes], end_points); see `num_classes` for the features case.
    """
    depth = depth_fn(depth_multiplier, min_depth)
    with tf.variable_scope(scope, 'InceptionV3', [inputs], reuse=reuse) as var_scope:
        with slim.arg_scope([slim.batch_norm, slim.dropout], is_training=is_training):
            net, end_points = inception_v3_base(inputs, min_depth=min_depth,
                                                depth_multiplier=depth_multiplier,
                                                scope=var_scope)
            if create_aux_logits and num_classes:
                end_points['AuxLogits'] = _aux_logits(end_points['Mixed_6e'], num_classes,
                                                      depth, spatial_squeeze)

            net = inception_utils.pooled_conv_logits(
                net, end_points, num_classes, dropout_keep_prob, spatial_squeeze, prediction_fn,
                global_pool, [8, 8], pool_scope='AvgPool_1a_{}x{}', pool_end_point='AvgPool_1a',
                global_pool_name='GlobalPool', pre_logits=True)
    return net, end_points


inception_v3.default_image_size = 299
