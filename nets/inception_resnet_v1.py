"""Inception-ResNet-V1 (Szegedy et al., "Inception-v4, Inception-ResNet and the
Impact of Residual Connections on Learning", 2016), as in FaceNet's TF-Slim code.

Not part of TF-Slim's model zoo. The cheaper sibling of Inception-ResNet-V2: a
plain convolutional stem, then 5 Inception-ResNet-A blocks (scale 0.17),
Reduction-A (k, l, m, n = 192, 192, 256, 384), 10 Inception-ResNet-B blocks
(0.10), Reduction-B, 5 Inception-ResNet-C blocks (0.20) and one more without
activation, then average pooling, dropout and fully connected logits. Scopes
follow FaceNet's (the 'Repeat', 'Repeat_1', 'Repeat_2' and 'Block8' scopes of
Inception-ResNet-V2), and the API follows `inception_resnet_v2`. Spatial sizes in
the comments are for the default 299 x 299 input.
"""

import tensorflow.compat.v1 as tf
import tf_slim as slim

from nets import inception_utils
from nets.inception_resnet_v2 import (
    _classifier,
    _reduction_a,
    _reduction_b,
    _residual_block,
    _stem,
    inception_resnet_v2_arg_scope,
)
from nets.inception_utils import stride_1_same

inception_resnet_v1_arg_scope = inception_resnet_v2_arg_scope


def block35(net, scale=1.0, activation_fn=tf.nn.relu, scope=None, reuse=None):
    """Inception-ResNet-A: [B, 35, 35, 256] -> [B, 35, 35, 256]."""
    return _residual_block(net, [
        [(32, [1, 1], 'Conv2d_1x1')],
        [(32, [1, 1], 'Conv2d_0a_1x1'), (32, [3, 3], 'Conv2d_0b_3x3')],
        [(32, [1, 1], 'Conv2d_0a_1x1'), (32, [3, 3], 'Conv2d_0b_3x3'),
         (32, [3, 3], 'Conv2d_0c_3x3')],
    ], scale, activation_fn, scope, 'Block35', reuse)


def block17(net, scale=1.0, activation_fn=tf.nn.relu, scope=None, reuse=None):
    """Inception-ResNet-B: [B, 17, 17, 896] -> [B, 17, 17, 896]."""
    return _residual_block(net, [
        [(128, [1, 1], 'Conv2d_1x1')],
        [(128, [1, 1], 'Conv2d_0a_1x1'), (128, [1, 7], 'Conv2d_0b_1x7'),
         (128, [7, 1], 'Conv2d_0c_7x1')],
    ], scale, activation_fn, scope, 'Block17', reuse)


def block8(net, scale=1.0, activation_fn=tf.nn.relu, scope=None, reuse=None):
    """Inception-ResNet-C: [B, 8, 8, 1792] -> [B, 8, 8, 1792]."""
    return _residual_block(net, [
        [(192, [1, 1], 'Conv2d_1x1')],
        [(192, [1, 1], 'Conv2d_0a_1x1'), (192, [1, 3], 'Conv2d_0b_1x3'),
         (192, [3, 1], 'Conv2d_0c_3x1')],
    ], scale, activation_fn, scope, 'Block8', reuse)


def _layers(activation_fn):
    """The base network as an ordered list of (end point, build(net, scope) -> net).

    The repeated blocks get slim.repeat's scopes rather than their end point's name.
    """

    def repeat(count, block, scale):
        return lambda net, _: slim.repeat(net, count, block, scale=scale,
                                          activation_fn=activation_fn)

    def reduction(build, *args):
        def build_in_scope(net, scope):
            with tf.variable_scope(scope):
                return build(net, *args)
        return build_in_scope

    return _stem('VALID') + [
        ('Conv2d_4b_3x3', lambda net, scope: slim.conv2d(net, 256, [3, 3], stride=2,
                                                         padding='VALID', scope=scope)),
        ('Mixed_5a', repeat(5, block35, 0.17)),  # 35 x 35 x 256
        ('Mixed_6a', reduction(_reduction_a, (192, 192, 256, 384))),  # 17 x 17 x 896
        ('Mixed_6b', repeat(10, block17, 0.10)),  # 17 x 17 x 896
        ('Mixed_7a', reduction(_reduction_b, 384, 256, (256, 256))),  # 8 x 8 x 1792
        ('Mixed_8a', repeat(5, block8, 0.20)),  # 8 x 8 x 1792
        ('Mixed_8b', lambda net, _: block8(net, activation_fn=None)),  # 8 x 8 x 1792
    ]


def inception_resnet_v1_base(inputs, final_endpoint='Mixed_8b', scope=None,
                             activation_fn=tf.nn.relu):
    """Builds Inception-ResNet-V1 from the input up to `final_endpoint`.

    Args:
      inputs: [B, H, W, 3] images; 299 x 299 gives Mixed_8b of 8 x 8 x 1792.
      final_endpoint: the end point to stop at, 'Conv2d_1a_3x3' ... 'Mixed_8b'.
      scope: variable scope, 'InceptionResnetV1' by default.
      activation_fn: activation after each residual sum.

    Returns:
      (net, end_points): the `final_endpoint` tensor and a dict of every end point
      built so far.

    Raises:
      ValueError: unknown `final_endpoint`.
    """
    with stride_1_same(), tf.variable_scope(scope, 'InceptionResnetV1', [inputs]):
        return inception_utils.build_up_to(inputs, _layers(activation_fn), final_endpoint)


def inception_resnet_v1(inputs,
                        num_classes=1001,
                        is_training=True,
                        dropout_keep_prob=0.8,
                        reuse=None,
                        scope='InceptionResnetV1',
                        activation_fn=tf.nn.relu):
    """Inception-ResNet-V1 classifier; build it inside `inception_resnet_v1_arg_scope()`.

    There is no auxiliary head, hence no `create_aux_logits`.

    Args:
      inputs: [B, H, W, 3] images, 299 x 299 by default; at least 75 x 75.
      num_classes: number of logits; 0 or None returns the pooled features
        [B, 1, 1, 1792] instead of logits (FaceNet puts its embedding layer there).
      is_training: switches batch norm and dropout to their training behaviour.
      dropout_keep_prob: keep probability of the dropout before the logits.
      reuse: reuse the variables of an earlier build in the same scope.
      scope: variable scope.
      activation_fn: activation after each residual sum.

    Returns:
      (logits [B, num_classes], end_points); see `num_classes` for the features case.
    """
    with tf.variable_scope(scope, 'InceptionResnetV1', [inputs], reuse=reuse) as var_scope:
        with slim.arg_scope([slim.batch_norm, slim.dropout], is_training=is_training):
            net, end_points = inception_resnet_v1_base(inputs, scope=var_scope,
                                                       activation_fn=activation_fn)
            net = _classifier(net, end_points, num_classes, dropout_keep_prob)
    return net, end_points


inception_resnet_v1.default_image_size = 299
