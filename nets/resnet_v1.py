"""ResNet V1 (He et al., "Deep Residual Learning for Image Recognition", 2015).

Scopes and variable names match TF-Slim's published resnet_v1 checkpoints,
which have 1000 classes (no background class). As in those checkpoints the
stride of a bottleneck sits on its 3x3 convolution, not on the first 1x1.

Typical use, features for a 224x224 batch:

    with slim.arg_scope(resnet_v1.resnet_arg_scope()):
        net, end_points = resnet_v1.resnet_v1_50(images, num_classes=None,
                                                 is_training=False)
"""

import tensorflow.compat.v1 as tf
import tf_slim as slim

from nets import resnet_utils

resnet_arg_scope = resnet_utils.resnet_arg_scope


@slim.add_arg_scope
def bottleneck(inputs, depth, depth_bottleneck, stride, rate=1, outputs_collections=None,
               scope=None, use_bounded_activations=False):
    """Post-activation bottleneck unit: 1x1 -> 3x3 (strided) -> 1x1, plus shortcut.

    inputs: [batch, height, width, channels].
    depth: output channels; depth_bottleneck: channels of the inner convolutions.
    rate: atrous rate of the 3x3 convolution.
    use_bounded_activations: clip the residual to [-6, 6] and use relu6, which
        suits quantised inference.
    Returns [batch, ceil(height / stride), ceil(width / stride), depth].
    """
    with tf.variable_scope(scope, 'bottleneck_v1', [inputs]) as sc:
        depth_in = slim.utils.last_dimension(inputs.get_shape(), min_rank=4)
        if depth == depth_in:
            shortcut = resnet_utils.subsample(inputs, stride, 'shortcut')
        else:
            shortcut = slim.conv2d(inputs, depth, [1, 1], stride=stride,
                                   activation_fn=tf.nn.relu6 if use_bounded_activations else None,
                                   scope='shortcut')

        residual = slim.conv2d(inputs, depth_bottleneck, [1, 1], stride=1, scope='conv1')
        residual = resnet_utils.conv2d_same(residual, depth_bottleneck, 3, stride, rate=rate,
                                            scope='conv2')
        residual = slim.conv2d(residual, depth, [1, 1], stride=1, activation_fn=None,
                               scope='conv3')

        if use_bounded_activations:
            residual = tf.clip_by_value(residual, -6.0, 6.0)
            output = tf.nn.relu6(shortcut + residual)
        else:
            output = tf.nn.relu(shortcut + residual)
        return slim.utils.collect_named_outputs(outputs_collections, sc.name, output)


def resnet_v1(inputs, blocks, num_classes=None, is_training=True, global_pool=True,
              output_stride=None, include_root_block=True, spatial_squeeze=True,
              store_non_strided_activations=False, reuse=None, scope=None):
    """Generic ResNet V1: root, `blocks`, optional global pool and 1x1 logits.

    Arguments and results as in `resnet_utils.build_resnet`.
    """
    return resnet_utils.build_resnet(inputs, blocks, num_classes, is_training, global_pool,
                                     output_stride, include_root_block, spatial_squeeze,
                                     store_non_strided_activations, reuse, scope,
                                     default_scope='resnet_v1', unit_fn=bottleneck,
                                     preactivation=False)


resnet_v1.default_image_size = 224


def resnet_v1_block(scope, base_depth, num_units, stride):
    """A block of `num_units` bottlenecks of output depth 4 * base_depth; see
    `resnet_utils.bottleneck_block`."""
    return resnet_utils.bottleneck_block(scope, bottleneck, base_depth, num_units, stride)


def _resnet_v1_sized(units_per_block, inputs, num_classes, is_training, global_pool,
                     output_stride, spatial_squeeze, store_non_strided_activations,
                     min_base_depth, depth_multiplier, reuse, scope):
    """`resnet_v1` on `resnet_utils.four_blocks` of `units_per_block` bottlenecks; the body
    of the sized networks below."""
    blocks = resnet_utils.four_blocks(resnet_v1_block, units_per_block, depth_multiplier,
                                      min_base_depth)
    return resnet_v1(inputs, blocks, num_classes, is_training, global_pool, output_stride,
                     include_root_block=True, spatial_squeeze=spatial_squeeze,
                     store_non_strided_activations=store_non_strided_activations,
                     reuse=reuse, scope=scope)


# TF-Slim's sized networks: min_base_depth and depth_multiplier are as in
# `resnet_utils.four_blocks`, the other arguments as in `resnet_v1`.


def resnet_v1_50(inputs, num_classes=None, is_training=True, global_pool=True,
                 output_stride=None, spatial_squeeze=True, store_non_strided_activations=False,
                 min_base_depth=8, depth_multiplier=1, reuse=None, scope='resnet_v1_50'):
    """ResNet-50 V1 (blocks of 3, 4, 6 and 3 bottlenecks): images [batch, height, width, 3] ->
    (logits [batch, num_classes] or features [batch, 1, 1, channels], end_points)."""
    return _resnet_v1_sized([3, 4, 6, 3], inputs, num_classes, is_training, global_pool,
                            output_stride, spatial_squeeze, store_non_strided_activations,
                            min_base_depth, depth_multiplier, reuse, scope)


def resnet_v1_101(inputs, num_classes=None, is_training=True, global_pool=True,
                  output_stride=None, spatial_squeeze=True, store_non_strided_activations=False,
                  min_base_depth=8, depth_multiplier=1, reuse=None, scope='resnet_v1_101'):
    """ResNet-101 V1 (blocks of 3, 4, 23 and 3 bottlenecks): images [batch, height, width, 3] ->
    (logits [batch, num_classes] or features [batch, 1, 1, channels], end_points)."""
    return _resnet_v1_sized([3, 4, 23, 3], inputs, num_classes, is_training, global_pool,
                            output_stride, spatial_squeeze, store_non_strided_activations,
                            min_base_depth, depth_multiplier, reuse, scope)


def resnet_v1_152(inputs, num_classes=None, is_training=True, global_pool=True,
                  output_stride=None, spatial_squeeze=True, store_non_strided_activations=False,
                  min_base_depth=8, depth_multiplier=1, reuse=None, scope='resnet_v1_152'):
    """ResNet-152 V1 (blocks of 3, 8, 36 and 3 bottlenecks): images [batch, height, width, 3] ->
    (logits [batch, num_classes] or features [batch, 1, 1, channels], end_points)."""
    return _resnet_v1_sized([3, 8, 36, 3], inputs, num_classes, is_training, global_pool,
                            output_stride, spatial_squeeze, store_non_strided_activations,
                            min_base_depth, depth_multiplier, reuse, scope)


def resnet_v1_200(inputs, num_classes=None, is_training=True, global_pool=True,
                  output_stride=None, spatial_squeeze=True, store_non_strided_activations=False,
                  min_base_depth=8, depth_multiplier=1, reuse=None, scope='resnet_v1_200'):
    """ResNet-200 V1 (blocks of 3, 24, 36 and 3 bottlenecks): images [batch, height, width, 3] ->
    (logits [batch, num_classes] or features [batch, 1, 1, channels], end_points)."""
    return _resnet_v1_sized([3, 24, 36, 3], inputs, num_classes, is_training, global_pool,
                            output_stride, spatial_squeeze, store_non_strided_activations,
                            min_base_depth, depth_multiplier, reuse, scope)


resnet_v1_50.default_image_size = resnet_v1.default_image_size
resnet_v1_101.default_image_size = resnet_v1.default_image_size
resnet_v1_152.default_image_size = resnet_v1.default_image_size
resnet_v1_200.default_image_size = resnet_v1.default_image_size
