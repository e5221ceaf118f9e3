"""Inception V1 / GoogLeNet (Szegedy et al., "Going Deeper with Convolutions", 2014).

TF-Slim's version: batch norm after every convolution, and a 3x3 convolution where
the paper's fourth Inception branch has a 5x5. Scopes and variable names follow
TF-Slim, so the published checkpoint inception_v1_2016_08_28 (1001 classes)
restores into this graph unchanged. Spatial sizes in the comments are for the
default 224 x 224 input.
"""

import tensorflow.compat.v1 as tf
import tf_slim as slim

from nets import inception_utils

inception_v1_arg_scope = inception_utils.inception_arg_scope


def _inception_module(net, scope, depths, branch_2_scope='Conv2d_0b_3x3'):
    """[B, H, W, C] -> [B, H, W, sum of the branch depths].

    depths: (1x1, (1x1, 3x3), (1x1, 3x3), 3x3 max pool's 1x1 projection).
    `branch_2_scope` exists because Mixed_5b names that 3x3 'Conv2d_0a_3x3' in the
    published checkpoint.
    """
    depth_0, (depth_1a, depth_1b), (depth_2a, depth_2b), depth_3 = depths
    with tf.variable_scope(scope):
        with tf.variable_scope('Branch_0'):
            branch_0 = slim.conv2d(net, depth_0, [1, 1], scope='Conv2d_0a_1x1')
        with tf.variable_scope('Branch_1'):
            branch_1 = slim.conv2d(net, depth_1a, [1, 1], scope='Conv2d_0a_1x1')
            branch_1 = slim.conv2d(branch_1, depth_1b, [3, 3], scope='Conv2d_0b_3x3')
        with tf.variable_scope('Branch_2'):
            branch_2 = slim.conv2d(net, depth_2a, [1, 1], scope='Conv2d_0a_1x1')
            branch_2 = slim.conv2d(branch_2, depth_2b, [3, 3], scope=branch_2_scope)
        with tf.variable_scope('Branch_3'):
            branch_3 = slim.max_pool2d(net, [3, 3], scope='MaxPool_0a_3x3')
            branch_3 = slim.conv2d(branch_3, depth_3, [1, 1], scope='Conv2d_0b_1x1')
        return tf.concat([branch_0, branch_1, branch_2, branch_3], 3)


def _layers(include_root_block):
    """The base network as an ordered list of (end point, build(net, scope) -> net)."""

    def conv(num_outputs, kernel_size, stride=1):
        return lambda net, scope: slim.conv2d(net, num_outputs, kernel_size, stride=stride,
                                              scope=scope)

    def max_pool(kernel_size):
        return lambda net, scope: slim.max_pool2d(net, kernel_size, stride=2, scope=scope)

    def module(*depths, **kwargs):
        return lambda net, scope: _inception_module(net, scope, depths, **kwargs)

    root = [
        ('Conv2d_1a_7x7', conv(64, [7, 7], stride=2)),  # 112 x 112 x 64
        ('MaxPool_2a_3x3', max_pool([3, 3])),  # 56 x 56 x 64
        ('Conv2d_2b_1x1', conv(64, [1, 1])),
        ('Conv2d_2c_3x3', conv(192, [3, 3])),  # 56 x 56 x 192
        ('MaxPool_3a_3x3', max_pool([3, 3])),  # 28 x 28 x 192
    ]
    body = [
        ('Mixed_3b', module(64, (96, 128), (16, 32), 32)),  # 28 x 28 x 256
        ('Mixed_3c', module(128, (128, 192), (32, 96), 64)),  # 28 x 28 x 480
        ('MaxPool_4a_3x3', max_pool([3, 3])),  # 14 x 14 x 480
        ('Mixed_4b', module(192, (96, 208), (16, 48), 64)),  # 14 x 14 x 512
        ('Mixed_4c', module(160, (112, 224), (24, 64), 64)),
        ('Mixed_4d', module(128, (128, 256), (24, 64), 64)),
        ('Mixed_4e', module(112, (144, 288), (32, 64), 64)),  # 14 x 14 x 528
        ('Mixed_4f', module(256, (160, 320), (32, 128), 128)),  # 14 x 14 x 832
        ('MaxPool_5a_2x2', max_pool([2, 2])),  # 7 x 7 x 832
        ('Mixed_5b', module(256, (160, 320), (32, 128), 128,
                            branch_2_scope='Conv2d_0a_3x3')),  # 7 x 7 x 832
        ('Mixed_5c', module(384, (192, 384), (48, 128), 128)),  # 7 x 7 x 1024
    ]
    return root + body if include_root_block else body


def inception_v1_base(inputs, final_endpoint='Mixed_5c', include_root_block=True,
                      scope='InceptionV1'):
    """Builds Inception V1 from the input up to `final_endpoint`.

    Args:
      inputs: [B, H, W, C] images; 224 x 224 gives Mixed_5c of 7 x 7 x 1024.
      final_endpoint: the end point to stop at, 'Conv2d_1a_7x7' ... 'Mixed_5c'.
      include_root_block: start with the convolution and pooling stem; without it
        `inputs` go straight into Mixed_3b and the stem's end points do not exist.
      scope: variable scope.

    Returns:
      (net, end_points): the `final_endpoint` tensor and a dict of every end point
      built so far.

    Raises:
      ValueError: unknown `final_endpoint`.
    """
    with tf.variable_scope(scope, 'InceptionV1', [inputs]):
        # TF-Slim trained this network with a small truncated-normal initialiser,
        # overriding the arg scope's variance scaling.
        with slim.arg_scope([slim.conv2d, slim.fully_connected],
                            weights_initializer=tf.truncated_normal_initializer(stddev=0.01)):
            with inception_utils.stride_1_same():
                return inception_utils.build_up_to(inputs, _layers(include_root_block),
                                                   final_endpoint)


def inception_v1(inputs,
                 num_classes=1000,
                 is_training=True,
                 dropout_keep_prob=0.8,
                 prediction_fn=slim.softmax,
                 spatial_squeeze=True,
                 reuse=None,
                 scope='InceptionV1',
                 global_pool=False):
    """Inception V1 classifier; build it inside `inception_v1_arg_scope()`.

    Args:
      inputs: [B, H, W, 3] images, 224 x 224 by default; Mixed_5c is H/32 x W/32
        (rounded up).
      num_classes: number of logits; 0 or None returns the pooled features
        [B, 1, 1, 1024] (before dropout) instead of logits.
      is_training: switches batch norm and dropout to their training behaviour.
      dropout_keep_prob: keep probability of the dropout before the logits.
      prediction_fn: maps logits to the 'Predictions' end point.
      spatial_squeeze: squeeze logits from [B, 1, 1, N] to [B, N].
      reuse: reuse the variables of an earlier build in the same scope.
      scope: variable scope.
      global_pool: average over the whole final grid instead of a fixed 7 x 7
        window, so larger inputs still give a 1 x 1 map.

    Returns:
      (logits [B, num_classes], end_points); see `num_classes` for the features case.
    """
    with tf.variable_scope(scope, 'InceptionV1', [inputs], reuse=reuse) as var_scope:
        with slim.arg_scope([slim.batch_norm, slim.dropout], is_training=is_training):
            net, end_points = inception_v1_base(inputs, scope=var_scope)
            # Unlike V2 and V3, TF-Slim's V1 strides its pool by 1 and names it after
            # the fixed 7 x 7 kernel.
            net = inception_utils.pooled_conv_logits(
                net, end_points, num_classes, dropout_keep_prob, spatial_squeeze, prediction_fn,
                global_pool, [7, 7], pool_scope='AvgPool_0a_7x7', pool_end_point='AvgPool_0a_7x7',
                pool_stride=1, layer_scopes=('Dropout_0b', 'Conv2d_0c_1x1'))
    return net, end_points


inception_v1.default_image_size = 224
