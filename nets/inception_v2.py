"""Inception V2 / BN-Inception (Ioffe & Szegedy, "Batch Normalization", 2015).

Inception V1 with batch norm, each 5x5 replaced by two 3x3 convolutions, a third
28 x 28 module, stride-2 modules instead of pooling between stages, and a
depthwise-separable first convolution (depth multiplier 8). Scopes and variable
names follow TF-Slim, so the published checkpoint inception_v2_2016_08_28
(1001 classes) restores into this graph unchanged. Spatial sizes in the comments
are for the default 224 x 224 input.
"""

import tensorflow.compat.v1 as tf
import tf_slim as slim

from nets import inception_utils
from nets.inception_utils import depth_fn, tower

inception_v2_arg_scope = inception_utils.inception_arg_scope
# TF-Slim's name, kept importable.
_reduced_kernel_size_for_small_input = inception_utils.reduced_kernel_size_for_small_input


def _truncated_normal(stddev):
    return tf.truncated_normal_initializer(0.0, stddev)


def _reduce(net, depth, num_outputs):
    """The 1x1 convolution that opens a branch, with TF-Slim's initialiser for it."""
    return slim.conv2d(net, depth(num_outputs), [1, 1], weights_initializer=_truncated_normal(0.09),
                       scope='Conv2d_0a_1x1')


def _inception_module(net, scope, depth, concat_axis, depths, pool):
    """A stride-1 module: [B, H, W, C] -> [B, H, W, sum of the branch depths].

    depths: (1x1, (1x1, 3x3), (1x1, 3x3, 3x3), pool projection); pool: 'avg' or 'max'.
    """
    depth_0, (depth_1a, depth_1b), (depth_2a, depth_2b, depth_2c), depth_3 = depths
    with tf.variable_scope(scope):
        with tf.variable_scope('Branch_0'):
            branch_0 = slim.conv2d(net, depth(depth_0), [1, 1], scope='Conv2d_0a_1x1')
        with tf.variable_scope('Branch_1'):
            branch_1 = _reduce(net, depth, depth_1a)
            branch_1 = tower(branch_1, [(depth_1b, [3, 3], 'Conv2d_0b_3x3')], depth)
        with tf.variable_scope('Branch_2'):
            # Two 3x3 convolutions where Inception V1 has its (3x3 for) 5x5.
            branch_2 = _reduce(net, depth, depth_2a)
            branch_2 = tower(branch_2, [(depth_2b, [3, 3], 'Conv2d_0b_3x3'),
                                        (depth_2c, [3, 3], 'Conv2d_0c_3x3')], depth)
        with tf.variable_scope('Branch_3'):
            if pool == 'avg':
                branch_3 = slim.avg_pool2d(net, [3, 3], scope='AvgPool_0a_3x3')
            else:
                branch_3 = slim.max_pool2d(net, [3, 3], scope='MaxPool_0a_3x3')
            branch_3 = slim.conv2d(branch_3, depth(depth_3), [1, 1],
                                   weights_initializer=_truncated_normal(0.1),
                                   scope='Conv2d_0b_1x1')
        return tf.concat([branch_0, branch_1, branch_2, branch_3], concat_axis)


def _reduction_module(net, scope, depth, concat_axis, depths):
    """A stride-2 module: [B, H, W, C] -> [B, H/2, W/2, C + the two conv branch depths].

    depths: ((1x1, 3x3 stride 2), (1x1, 3x3, 3x3 stride 2)); the third branch max-pools.
    """
    (depth_0a, depth_0b), (depth_1a, depth_1b, depth_1c) = depths
    with tf.variable_scope(scope):
        with tf.variable_scope('Branch_0'):
            branch_0 = _reduce(net, depth, depth_0a)
            branch_0 = slim.conv2d(branch_0, depth(depth_0b), [3, 3], stride=2,
                                   scope='Conv2d_1a_3x3')
        with tf.variable_scope('Branch_1'):
            branch_1 = _reduce(net, depth, depth_1a)
            branch_1 = tower(branch_1, [(depth_1b, [3, 3], 'Conv2d_0b_3x3')], depth)
            branch_1 = slim.conv2d(branch_1, depth(depth_1c), [3, 3], stride=2,
                                   scope='Conv2d_1a_3x3')
        with tf.variable_scope('Branch_2'):
            branch_2 = slim.max_pool2d(net, [3, 3], stride=2, scope='MaxPool_1a_3x3')
        return tf.concat([branch_0, branch_1, branch_2], concat_axis)


def _first_conv(net, scope, depth, use_separable_conv):
    """Conv2d_1a_7x7: [B, 224, 224, 3] -> [B, 112, 112, 64]."""
    if not use_separable_conv:
        return slim.conv2d(net, depth(64), [7, 7], stride=2,
                           weights_initializer=_truncated_normal(1.0), scope=scope)
    # Each of the 3 input channels expands up to 8 times, capped so that the
    # depthwise output never has more channels than the pointwise output.
    # `inception_arg_scope` configures slim.conv2d only, so this layer gets biases
    # rather than batch norm, as in TF-Slim.
    return slim.separable_conv2d(net, depth(64), [7, 7],
                                 depth_multiplier=min(int(depth(64) / 3), 8), stride=2,
                                 padding='SAME', weights_initializer=_truncated_normal(1.0),
                                 scope=scope)


def _layers(depth, use_separable_conv, include_root_block, concat_axis):
    """The base network as an ordered list of (end point, build(net, scope) -> net)."""

    def conv(num_outputs, kernel_size, **kwargs):
        return lambda net, scope: slim.conv2d(net, depth(num_outputs), kernel_size,
                                              scope=scope, **kwargs)

    def max_pool(net, scope):
        return slim.max_pool2d(net, [3, 3], stride=2, scope=scope)

    def module(*depths, pool='avg'):
        return lambda net, scope: _inception_module(net, scope, depth, concat_axis, depths, pool)

    def reduction(*depths):
        return lambda net, scope: _reduction_module(net, scope, depth, concat_axis, depths)

    root = [
        ('Conv2d_1a_7x7',
         lambda net, scope: _first_conv(net, scope, depth, use_separable_conv)),  # 112 x 112 x 64
        ('MaxPool_2a_3x3', max_pool),  # 56 x 56 x 64
        ('Conv2d_2b_1x1', conv(64, [1, 1], weights_initializer=_truncated_normal(0.1))),
        ('Conv2d_2c_3x3', conv(192, [3, 3])),  # 56 x 56 x 192
        ('MaxPool_3a_3x3', max_pool),  # 28 x 28 x 192
    ]
    body = [
        ('Mixed_3b', module(64, (64, 64), (64, 96, 96), 32)),  # 28 x 28 x 256
        ('Mixed_3c', module(64, (64, 96), (64, 96, 96), 64)),  # 28 x 28 x 320
        ('Mixed_4a', reduction((128, 160), (64, 96, 96))),  # 14 x 14 x 576
        ('Mixed_4b', module(224, (64, 96), (96, 128, 128), 128)),
        ('Mixed_4c', module(192, (96, 128), (96, 128, 128), 128)),
        ('Mixed_4d', module(160, (128, 160), (128, 160, 160), 96)),
        ('Mixed_4e', module(96, (128, 192), (160, 192, 192), 96)),  # 14 x 14 x 576
        ('Mixed_5a', reduction((128, 192), (192, 256, 256))),  # 7 x 7 x 1024
        ('Mixed_5b', module(352, (192, 320), (160, 224, 224), 128)),
        ('Mixed_5c', module(352, (192, 320), (192, 224, 224), 128, pool='max')),  # 7 x 7 x 1024
    ]
    return root + body if include_root_block else body


def inception_v2_base(inputs,
                      final_endpoint='Mixed_5c',
                      min_depth=16,
                      depth_multiplier=1.0,
                      use_separable_conv=True,
                      data_format='NHWC',
                      include_root_block=True,
                      scope=None):
    """Builds Inception V2 from the input up to `final_endpoint`.

    Args:
      inputs: [B, H, W, C] images ([B, C, H, W] for 'NCHW'); 224 x 224 gives
        Mixed_5c of 7 x 7 x 1024.
      final_endpoint: the end point to stop at, 'Conv2d_1a_7x7' ... 'Mixed_5c'.
      min_depth: lower bound on the depth of every convolution.
      depth_multiplier: scales the depth of every convolution; must be > 0.
      use_separable_conv: make Conv2d_1a_7x7 depthwise-separable (as published)
        rather than a full convolution.
      data_format: 'NHWC' or 'NCHW'; 'NCHW' needs use_separable_conv=False.
      include_root_block: start with the convolution and pooling stem; without it
        `inputs` go straight into Mixed_3b and the stem's end points do not exist.
      scope: variable scope, 'InceptionV2' by default.

    Returns:
      (net, end_points): the `final_endpoint` tensor and a dict of every end point
      built so far.

    Raises:
      ValueError: unknown `final_endpoint` or `data_format`, 'NCHW' with a separable
        convolution, or `depth_multiplier` <= 0.
    """
    depth = depth_fn(depth_multiplier, min_depth)
    if data_format not in ('NHWC', 'NCHW'):
        raise ValueError(f"data_format must be 'NHWC' or 'NCHW', got {data_format!r}.")
    if data_format == 'NCHW' and use_separable_conv:
        raise ValueError("The separable convolution supports only 'NHWC'; pass "
                         "use_separable_conv=False to use 'NCHW'.")
    layers = _layers(depth, use_separable_conv, include_root_block,
                     concat_axis=3 if data_format == 'NHWC' else 1)

    with tf.variable_scope(scope, 'InceptionV2', [inputs]):
        with inception_utils.stride_1_same(data_format=data_format):
            return inception_utils.build_up_to(inputs, layers, final_endpoint)


def inception_v2(inputs,
                 num_classes=1000,
                 is_training=True,
                 dropout_keep_prob=0.8,
                 min_depth=16,
                 depth_multiplier=1.0,
                 prediction_fn=slim.softmax,
                 spatial_squeeze=True,
                 reuse=None,
                 scope='InceptionV2',
                 global_pool=False):
    """Inception V2 classifier; build it inside `inception_v2_arg_scope()`.

    Args:
      inputs: [B, H, W, 3] images, 224 x 224 by default; Mixed_5c is H/32 x W/32
        (rounded up).
      num_classes: number of logits; 0 or None returns the pooled features
        [B, 1, 1, 1024] (before dropout) instead of logits.
      is_training: switches batch norm and dropout to their training behaviour.
      dropout_keep_prob: keep probability of the dropout before the logits.
      min_depth, depth_multiplier: see `inception_v2_base`.
      prediction_fn: maps logits to the 'Predictions' end point.
      spatial_squeeze: squeeze logits from [B, 1, 1, N] to [B, N].
      reuse: reuse the variables of an earlier build in the same scope.
      scope: variable scope.
      global_pool: average over the whole final grid instead of a fixed 7 x 7
        window, so larger inputs still give a 1 x 1 map.

    Returns:
      (logits [B, num_classes], end_points); see `num_classes` for the features case.

    Raises:
      ValueError: `depth_multiplier` <= 0.
    """
    with tf.variable_scope(scope, 'InceptionV2', [inputs], reuse=reuse) as var_scope:
        with slim.arg_scope([slim.batch_norm, slim.dropout], is_training=is_training):
            net, end_points = inception_v2_base(inputs, min_depth=min_depth,
                                                depth_multiplier=depth_multiplier,
                                                scope=var_scope)
            net = inception_utils.pooled_conv_logits(
                net, end_points, num_classes, dropout_keep_prob, spatial_squeeze, prediction_fn,
                global_pool, [7, 7], pool_scope='AvgPool_1a_{}x{}', pool_end_point='AvgPool_1a')
    return net, end_points


inception_v2.default_image_size = 224
