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


def _sized(name, units_per_block):
    """TF-Slim's `name` network: ResNet V2 with `units_per_block` bottlenecks per block."""

    def resnet_v2_sized(inputs, num_classes=None, is_training=True, global_pool=True,
                        output_stride=None, spatial_squeeze=True, reuse=None, scope=name):
        """Arguments as in `resnet_v2`."""
        return resnet_v2(inputs, resnet_utils.four_blocks(resnet_v2_block, units_per_block),
                         num_classes, is_training, global_pool, output_stride,
                         include_root_block=True, spatial_squeeze=spatial_squeeze, reuse=reuse,
                         scope=scope)

    return resnet_utils.name_sized_resnet(resnet_v2_sized, name, units_per_block, resnet_v2)


resnet_v2_50 = _sized('resnet_v2_50', [3, 4, 6, 3])
resnet_v2_101 = _sized('resnet_v2_101', [3, 4, 23, 3])
resnet_v2_152 = _sized('resnet_v2_152', [3, 8, 36, 3])
resnet_v2_200 = _sized('resnet_v2_200', [3, 24, 36, 3])
