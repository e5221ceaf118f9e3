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

    inputs: [batch, height, width, channels]; batch and spatial size may be unknown.
    blocks: list of `resnet_utils.Block`.
    num_classes: logits size; None or 0 returns the features before the logits.
    is_training: batch-norm mode (batch statistics and moving-average updates).
    global_pool: average the last feature map to 1x1.
    output_stride: see `resnet_utils.stack_blocks_dense`; with the root block
        it must be a multiple of 4.
    include_root_block: add the 7x7/2 convolution and 3x3/2 max pool.
    spatial_squeeze: squeeze 1x1 logits to [batch, num_classes].
    store_non_strided_activations: see `resnet_utils.stack_blocks_dense`.
    Returns (net, end_points). net is [batch, num_classes] when the logits are
    squeezed, [batch, 1, 1, C] with global pooling, else
    [batch, height / s, width / s, C], s being the output stride.
    """
    with tf.variable_scope(scope, 'resnet_v1', [inputs], reuse=reuse) as sc:
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
                    net = resnet_utils.conv2d_same(net, 64, 7, stride=2, scope='conv1')
                    net = slim.max_pool2d(net, [3, 3], stride=2, scope='pool1')
                net = resnet_utils.stack_blocks_dense(net, blocks, output_stride,
                                                      store_non_strided_activations)
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


resnet_v1.default_image_size = 224


def resnet_v1_block(scope, base_depth, num_units, stride):
    """A block of `num_units` bottlenecks of output depth 4 * base_depth.

    Only the last unit is strided, so the block's shortcut projection happens
    at full resolution in its first unit.
    """
    unit = {'depth': base_depth * 4, 'depth_bottleneck': base_depth, 'stride': 1}
    return resnet_utils.Block(scope, bottleneck,
                              [unit] * (num_units - 1) + [dict(unit, stride=stride)])


def _resnet_v1_sized(units_per_block, inputs, num_classes, is_training, global_pool,
                     output_stride, spatial_squeeze, store_non_strided_activations,
                     min_base_depth, depth_multiplier, reuse, scope):
    """ResNet V1 with four blocks of base depth 64, 128, 256, 512 (times depth_multiplier)."""
    blocks = []
    for i, num_units in enumerate(units_per_block):
        base_depth = max(int(64 * 2 ** i * depth_multiplier), min_base_depth)
        # The last block keeps stride 1: the nominal output stride is 32.
        stride = 2 if i < len(units_per_block) - 1 else 1
        blocks.append(resnet_v1_block('block%d' % (i + 1), base_depth=base_depth,
                                      num_units=num_units, stride=stride))
    return resnet_v1(inputs, blocks, num_classes, is_training, global_pool=global_pool,
                     output_stride=output_stride, include_root_block=True,
                     spatial_squeeze=spatial_squeeze,
                     store_non_strided_activations=store_non_strided_activations,
                     reuse=reuse, scope=scope)


def resnet_v1_50(inputs, num_classes=None, is_training=True, global_pool=True,
                 output_stride=None, spatial_squeeze=True, store_non_strided_activations=False,
                 min_base_depth=8, depth_multiplier=1, reuse=None, scope='resnet_v1_50'):
    """ResNet-50 V1, blocks of [3, 4, 6, 3] units; arguments as in `resnet_v1`."""
    return _resnet_v1_sized([3, 4, 6, 3], inputs, num_classes, is_training, global_pool,
                            output_stride, spatial_squeeze, store_non_strided_activations,
                            min_base_depth, depth_multiplier, reuse, scope)


resnet_v1_50.default_image_size = resnet_v1.default_image_size


def resnet_v1_101(inputs, num_classes=None, is_training=True, global_pool=True,
                  output_stride=None, spatial_squeeze=True, store_non_strided_activations=False,
                  min_base_depth=8, depth_multiplier=1, reuse=None, scope='resnet_v1_101'):
    """ResNet-101 V1, blocks of [3, 4, 23, 3] units; arguments as in `resnet_v1`."""
    return _resnet_v1_sized([3, 4, 23, 3], inputs, num_classes, is_training, global_pool,
                            output_stride, spatial_squeeze, store_non_strided_activations,
                            min_base_depth, depth_multiplier, reuse, scope)


resnet_v1_101.default_image_size = resnet_v1.default_image_size


def resnet_v1_152(inputs, num_classes=None, is_training=True, global_pool=True,
                  output_stride=None, spatial_squeeze=True, store_non_strided_activations=False,
                  min_base_depth=8, depth_multiplier=1, reuse=None, scope='resnet_v1_152'):
    """ResNet-152 V1, blocks of [3, 8, 36, 3] units; arguments as in `resnet_v1`."""
    return _resnet_v1_sized([3, 8, 36, 3], inputs, num_classes, is_training, global_pool,
                            output_stride, spatial_squeeze, store_non_strided_activations,
                            min_base_depth, depth_multiplier, reuse, scope)


resnet_v1_152.default_image_size = resnet_v1.default_image_size


def resnet_v1_200(inputs, num_classes=None, is_training=True, global_pool=True,
                  output_stride=None, spatial_squeeze=True, store_non_strided_activations=False,
                  min_base_depth=8, depth_multiplier=1, reuse=None, scope='resnet_v1_200'):
    """ResNet-200 V1, blocks of [3, 24, 36, 3] units; arguments as in `resnet_v1`."""
    return _resnet_v1_sized([3, 24, 36, 3], inputs, num_classes, is_training, global_pool,
                            output_stride, spatial_squeeze, store_non_strided_activations,
                            min_base_depth, depth_multiplier, reuse, scope)


resnet_v1_200.default_image_size = resnet_v1.default_image_size
