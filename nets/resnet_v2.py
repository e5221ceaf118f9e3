"""ResNet V2 (He et al., "Identity Mappings in Deep Residual Networks", 2016).

Pre-activation ResNet: each unit starts with batch norm + ReLU ('preact') and
its residual branch ends on a plain convolution, so the shortcut path carries
no non-linearity. Because the last unit's output is not normalised, the network
adds one batch norm + ReLU ('postnorm') after the last block. The root 7x7
convolution has no batch norm or activation of its own (the first unit's
preact provides them).

Scopes and variable names match TF-Slim's published resnet_v2 checkpoints,
which have 1001 classes (class 0 is background).

Typical use, 1001-way logits for a 224x224 batch:

    with slim.arg_scope(resnet_v2.resnet_arg_scope()):
        logits, end_points = resnet_v2.resnet_v2_50(images, 1001, is_training=False)
"""

import tensorflow.compat.v1 as tf
import tf_slim as slim

from nets import resnet_utils

resnet_arg_scope = resnet_utils.resnet_arg_scope


@slim.add_arg_scope
def bottleneck(inputs, depth, depth_bottleneck, stride, rate=1, outputs_collections=None,
               scope=None):
    """Pre-activation bottleneck unit: BN-ReLU, then 1x1 -> 3x3 (strided) -> 1x1, plus shortcut.

    inputs: [batch, height, width, channels].
    depth: output channels; depth_bottleneck: channels of the inner convolutions.
    rate: atrous rate of the 3x3 convolution.
    Returns [batch, ceil(height / stride), ceil(width / stride), depth].
    """
    with tf.variable_scope(scope, 'bottleneck_v2', [inputs]) as sc:
        depth_in = slim.utils.last_dimension(inputs.get_shape(), min_rank=4)
        preact = slim.batch_norm(inputs, activation_fn=tf.nn.relu, scope='preact')
        if depth == depth_in:
            # An identity shortcut takes the raw input, keeping the path clean.
            shortcut = resnet_utils.subsample(inputs, stride, 'shortcut')
        else:
            shortcut = slim.conv2d(preact, depth, [1, 1], stride=stride, normalizer_fn=None,
                                   activation_fn=None, scope='shortcut')

        residual = slim.conv2d(preact, depth_bottleneck, [1, 1], stride=1, scope='conv1')
        residual = resnet_utils.conv2d_same(residual, depth_bottleneck, 3, stride, rate=rate,
                                            scope='conv2')
        residual = slim.conv2d(residual, depth, [1, 1], stride=1, normalizer_fn=None,
                               activation_fn=None, scope='conv3')

        output = shortcut + residual
        return slim.utils.collect_named_outputs(outputs_collections, sc.name, output)


def resnet_v2(inputs, blocks, num_classes=None, is_training=True, global_pool=True,
              output_stride=None, include_root_block=True, spatial_squeeze=True, reuse=None,
              scope=None):
    """Generic ResNet V2: root, `blocks`, postnorm, optional global pool and 1x1 logits.

    Arguments and results as in `resnet_utils.build_resnet`.
    """
    return resnet_utils.build_resnet(inputs, blocks, num_classes, is_training, global_pool,
                                     output_stride, include_root_block, spatial_squeeze,
                                     store_non_strided_activations=False, reuse=reuse,
                                     scope=scope, default_scope='resnet_v2', unit_fn=bottleneck,
                                     preactivation=True)


resnet_v2.default_image_size = 224


def resnet_v2_block(scope, base_depth, num_units, stride):
    """A block of `num_units` bottlenecks of output depth 4 * base_depth; see
    `resnet_utils.bottleneck_block`."""
    return resnet_utils.bottleneck_block(scope, bottleneck, base_depth, num_units, stride)


def _resnet_v2_sized(units_per_block, inputs, num_classes, is_training, global_pool,
                     output_stride, spatial_squeeze, reuse, scope):
    """`resnet_v2` on `resnet_utils.four_blocks` of `units_per_block` bottlenecks; the body
    of the sized networks below."""
    return resnet_v2(inputs, resnet_utils.four_blocks(resnet_v2_block, units_per_block),
                     num_classes, is_training, global_pool, output_stride,
                     include_root_block=True, spatial_squeeze=spatial_squeeze, reuse=reuse,
                     scope=scope)


# TF-Slim's sized networks, with the arguments of `resnet_v2`.


def resnet_v2_50(inputs, num_classes=None, is_training=True, global_pool=True,
                 output_stride=None, spatial_squeeze=True, reuse=None, scope='resnet_v2_50'):
    """ResNet-50 V2 (blocks of 3, 4, 6 and 3 bottlenecks): images [batch, height, width, 3] ->
    (logits [batch, num_classes] or features [batch, 1, 1, channels], end_points)."""
    return _resnet_v2_sized([3, 4, 6, 3], inputs, num_classes, is_training, global_pool,
                            output_stride, spatial_squeeze, reuse, scope)


def resnet_v2_101(inputs, num_classes=None, is_training=True, global_pool=True,
                  output_stride=None, spatial_squeeze=True, reuse=None, scope='resnet_v2_101'):
    """ResNet-101 V2 (blocks of 3, 4, 23 and 3 bottlenecks): images [batch, height, width, 3] ->
    (logits [batch, num_classes] or features [batch, 1, 1, channels], end_points)."""
    return _resnet_v2_sized([3, 4, 23, 3], inputs, num_classes, is_training, global_pool,
                            output_stride, spatial_squeeze, reuse, scope)


def resnet_v2_152(inputs, num_classes=None, is_training=True, global_pool=True,
                  output_stride=None, spatial_squeeze=True, reuse=None, scope='resnet_v2_152'):
    """ResNet-152 V2 (blocks of 3, 8, 36 and 3 bottlenecks): images [batch, height, width, 3] ->
    (logits [batch, num_classes] or features [batch, 1, 1, channels], end_points)."""
    return _resnet_v2_sized([3, 8, 36, 3], inputs, num_classes, is_training, global_pool,
                            output_stride, spatial_squeeze, reuse, scope)


def resnet_v2_200(inputs, num_classes=None, is_training=True, global_pool=True,
                  output_stride=None, spatial_squeeze=True, reuse=None, scope='resnet_v2_200'):
    """ResNet-200 V2 (blocks of 3, 24, 36 and 3 bottlenecks): images [batch, height, width, 3] ->
    (logits [batch, num_classes] or features [batch, 1, 1, channels], end_points)."""
    return _resnet_v2_sized([3, 24, 36, 3], inputs, num_classes, is_training, global_pool,
                            output_stride, spatial_squeeze, reuse, scope)


resnet_v2_50.default_image_size = resnet_v2.default_image_size
resnet_v2_101.default_image_size = resnet_v2.default_image_size
resnet_v2_152.default_image_size = resnet_v2.default_image_size
resnet_v2_200.default_image_size = resnet_v2.default_image_size
