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

    inputs: [batch, height, width, channels]; batch and spatial size may be unknown.
    blocks: list of `resnet_utils.Block`.
    num_classes: logits size; None or 0 returns the features before the logits.
    is_training: batch-norm mode (batch statistics and moving-average updates).
    global_pool: average the last feature map to 1x1.
    output_stride: see `resnet_utils.stack_blocks_dense`; with the root block
        it must be a multiple of 4.
    include_root_block: add the 7x7/2 convolution and 3x3/2 max pool.
    spatial_squeeze: squeeze 1x1 logits to [batch, num_classes].
    Returns (net, end_points). net is [batch, num_classes] when the logits are
    squeezed, [batch, 1, 1, C] with global pooling, else
    [batch, height / s, width / s, C], s being the output stride.
    """
    with tf.variable_scope(scope, 'resnet_v2', [inputs], reuse=reuse) as sc:
        end_points_collection = sc.original_name_scope + '_end_points'
        with slim.arg_scope([slim.conv2d, bottleneck, resnet_utils.stack_blocks_dense],
                            outputs_collections=end_points_collection):
            with slim.arg_scope([slim.batch_norm], is_training=is_training):
                net = inputs
                if include_root_block:
                    if output_stride is not None:
                        if output_stride % 4 != 0:
                            raise ValueError('The output_stride needs to be a multiple of 4.')
                        # The root block already divides the resolution by 4.
                        output_stride //= 4
                    # Normalisation and activation come from the first unit's preact.
                    with slim.arg_scope([slim.conv2d], activation_fn=None, normalizer_fn=None):
                        net = resnet_utils.conv2d_same(net, 64, 7, stride=2, scope='conv1')
                    net = slim.max_pool2d(net, [3, 3], stride=2, scope='pool1')
                net = resnet_utils.stack_blocks_dense(net, blocks, output_stride)
                net = slim.batch_norm(net, activation_fn=tf.nn.relu, scope='postnorm')
                end_points = slim.utils.convert_collection_to_dict(end_points_collection)
                if global_pool:
                    net = tf.reduce_mean(net, [1, 2], name='pool5', keepdims=True)
                    end_points['global_pool'] = net
                if num_classes:
                    net = slim.conv2d(net, num_classes, [1, 1], activation_fn=None,
                                      normalizer_fn=None, scope='logits')
                    end_points[sc.name + '/logits'] = net
                    if spatial_squeeze:
                        net = tf.squeeze(net, [1, 2], name='SpatialSqueeze')
                        end_points[sc.name + '/spatial_squeeze'] = net
                    end_points['predictions'] = slim.softmax(net, scope='predictions')
                return net, end_points


resnet_v2.default_image_size = 224


def resnet_v2_block(scope, base_depth, num_units, stride):
    """A block of `num_units` bottlenecks of output depth 4 * base_depth.

    Only the last unit is strided, so the block's shortcut projection happens
    at full resolution in its first unit.
    """
    unit = {'depth': base_depth * 4, 'depth_bottleneck': base_depth, 'stride': 1}
    return resnet_utils.Block(scope, bottleneck,
                              [unit] * (num_units - 1) + [dict(unit, stride=stride)])


def _resnet_v2_sized(units_per_block, inputs, num_classes, is_training, global_pool,
                     output_stride, spatial_squeeze, reuse, scope):
    """ResNet V2 with four blocks of base depth 64, 128, 256, 512."""
    blocks = []
    for i, num_units in enumerate(units_per_block):
        # The last block keeps stride 1: the nominal output stride is 32.
        stride = 2 if i < len(units_per_block) - 1 else 1
        blocks.append(resnet_v2_block('block%d' % (i + 1), base_depth=64 * 2 ** i,
                                      num_units=num_units, stride=stride))
    return resnet_v2(inputs, blocks, num_classes, is_training, global_pool=global_pool,
                     output_stride=output_stride, include_root_block=True,
                     spatial_squeeze=spatial_squeeze, reuse=reuse, scope=scope)


def resnet_v2_50(inputs, num_classes=None, is_training=True, global_pool=True,
                 output_stride=None, spatial_squeeze=True, reuse=None, scope='resnet_v2_50'):
    """ResNet-50 V2, blocks of [3, 4, 6, 3] units; arguments as in `resnet_v2`."""
    return _resnet_v2_sized([3, 4, 6, 3], inputs, num_classes, is_training, global_pool,
                            output_stride, spatial_squeeze, reuse, scope)


resnet_v2_50.default_image_size = resnet_v2.default_image_size


def resnet_v2_101(inputs, num_classes=None, is_training=True, global_pool=True,
                  output_stride=None, spatial_squeeze=True, reuse=None, scope='resnet_v2_101'):
    """ResNet-101 V2, blocks of [3, 4, 23, 3] units; arguments as in `resnet_v2`."""
    return _resnet_v2_sized([3, 4, 23, 3], inputs, num_classes, is_training, global_pool,
                            output_stride, spatial_squeeze, reuse, scope)


resnet_v2_101.default_image_size = resnet_v2.default_image_size


def resnet_v2_152(inputs, num_classes=None, is_training=True, global_pool=True,
                  output_stride=None, spatial_squeeze=True, reuse=None, scope='resnet_v2_152'):
    """ResNet-152 V2, blocks of [3, 8, 36, 3] units; arguments as in `resnet_v2`."""
    return _resnet_v2_sized([3, 8, 36, 3], inputs, num_classes, is_training, global_pool,
                            output_stride, spatial_squeeze, reuse, scope)


resnet_v2_152.default_image_size = resnet_v2.default_image_size


def resnet_v2_200(inputs, num_classes=None, is_training=True, global_pool=True,
                  output_stride=None, spatial_squeeze=True, reuse=None, scope='resnet_v2_200'):
    """ResNet-200 V2, blocks of [3, 24, 36, 3] units; arguments as in `resnet_v2`."""
    return _resnet_v2_sized([3, 24, 36, 3], inputs, num_classes, is_training, global_pool,
                            output_stride, spatial_squeeze, reuse, scope)


resnet_v2_200.default_image_size = resnet_v2.default_image_size
