"""Building blocks shared by ResNet V1 and ResNet V2.

A ResNet is a root (7x7 conv + max pool) followed by a list of `Block`s, each a
sequence of residual units. `stack_blocks_dense` chains the units and, when an
`output_stride` is requested, swaps the remaining strides for atrous rates so
the feature map keeps a resolution of input_size / output_stride.
"""

import collections

import tensorflow.compat.v1 as tf
import tf_slim as slim


class Block(collections.namedtuple('Block', ['scope', 'unit_fn', 'args'])):
    """A group of residual units sharing a variable scope.

    scope: name of the block, e.g. 'block1'.
    unit_fn: residual unit builder, called as
        unit_fn(net, rate=..., **args[i]); it must accept `stride` and `rate`.
    args: one dict of keyword arguments per unit, e.g.
        {'depth': 256, 'depth_bottleneck': 64, 'stride': 1}.
    """


def subsample(inputs, factor, scope=None):
    """Keeps every `factor`-th row and column.

    inputs: [batch, height, width, channels].
    Returns [batch, ceil(height / factor), ceil(width / factor), channels];
    `inputs` itself when factor is 1.
    """
    if factor == 1:
        return inputs
    # A 1x1 window makes max pooling a plain strided pick of pixels.
    return slim.max_pool2d(inputs, [1, 1], stride=factor, scope=scope)


def conv2d_same(inputs, num_outputs, kernel_size, stride, rate=1, scope=None):
    """Strided 2-D convolution whose padding does not depend on the input size.

    With stride > 1, 'SAME' padding puts the extra zero row at the bottom or at
    the top depending on the parity of the input size. Padding explicitly by
    (effective_kernel - 1) split as evenly as possible, then convolving with
    'VALID', gives the same alignment for every input size; this is what makes
    a strided layer agree with its atrous counterpart.

    inputs: [batch, height, width, channels].
    Returns [batch, ceil(height / stride), ceil(width / stride), num_outputs].
    """
    if stride == 1:
        return slim.conv2d(inputs, num_outputs, kernel_size, stride=1, rate=rate,
                           padding='SAME', scope=scope)
    effective_kernel = kernel_size + (kernel_size - 1) * (rate - 1)
    pad_total = effective_kernel - 1
    pad_begin = pad_total // 2
    pad_end = pad_total - pad_begin
    padded = tf.pad(inputs, [[0, 0], [pad_begin, pad_end], [pad_begin, pad_end], [0, 0]])
    return slim.conv2d(padded, num_outputs, kernel_size, stride=stride, rate=rate,
                       padding='VALID', scope=scope)


def _plan_stride(stride, current_stride, rate, output_stride):
    """Decides how a layer asking for `stride` runs under the output_stride target.

    Returns (layer_stride, layer_rate, current_stride, rate): the stride and atrous
    rate the layer should use, then the network's stride and the rate of the next
    layers once it has run.
    """
    if output_stride is not None and current_stride == output_stride:
        # The target resolution is reached: keep it, and widen the receptive
        # field of every later layer by dilating instead of striding.
        return 1, rate, current_stride, rate * stride
    current_stride *= stride
    if output_stride is not None and current_stride > output_stride:
        raise ValueError('The target output_stride cannot be reached.')
    return stride, 1, current_stride, rate


@slim.add_arg_scope
def stack_blocks_dense(net, blocks, output_stride=None, store_non_strided_activations=False,
                       outputs_collections=None):
    """Chains the residual units of `blocks`.

    net: [batch, height, width, channels].
    blocks: list of `Block`.
    output_stride: None for the nominal stride (the product of all unit
        strides), else the wanted ratio of input to output resolution; strides
        beyond it become atrous rates. It must be reachable as a product of the
        leading unit strides.
    store_non_strided_activations: if True, each block runs its last unit
        unstrided and subsamples after the block end point is recorded, so the
        end point keeps the block's full resolution.
    outputs_collections: collection that receives each block's output, aliased
        by the block's scope name.
    Returns [batch, height / s, width / s, depth of the last unit], s being
    output_stride or the nominal stride (rounded up for sizes not divisible).
    Raises ValueError when output_stride cannot be reached.
    """
    current_stride = 1
    rate = 1
    for block in blocks:
        with tf.variable_scope(block.scope, 'block', [net]) as sc:
            units = list(block.args)
            block_stride = 1
            if store_non_strided_activations:
                block_stride = units[-1].get('stride', 1)
                units[-1] = dict(units[-1], stride=1)
            for i, unit in enumerate(units):
                with tf.variable_scope('unit_%d' % (i + 1), values=[net]):
                    layer_stride, layer_rate, current_stride, rate = _plan_stride(
                        unit.get('stride', 1), current_stride, rate, output_stride)
                    net = block.unit_fn(net, rate=layer_rate, **dict(unit, stride=layer_stride))
            net = slim.utils.collect_named_outputs(outputs_collections, sc.name, net)
            layer_stride, _, current_stride, rate = _plan_stride(
                block_stride, current_stride, rate, output_stride)
            net = subsample(net, layer_stride)
    if output_stride is not None and current_stride != output_stride:
        raise ValueError('The target output_stride cannot be reached.')
    return net


def build_resnet(inputs, blocks, num_classes, is_training, global_pool, output_stride,
                 include_root_block, spatial_squeeze, store_non_strided_activations, reuse, scope,
                 *, default_scope, unit_fn, preactivation):
    """The body of `resnet_v1` and `resnet_v2`: root, `blocks`, global pool and 1x1 logits.

    inputs: [batch, height, width, channels]; batch and spatial size may be unknown.
    blocks: list of `Block`.
    num_classes: logits size; None or 0 returns the features before the logits.
    is_training: batch-norm mode (batch statistics and moving-average updates).
    global_pool: average the last feature map to 1x1.
    output_stride: see `stack_blocks_dense`; with the root block it must be a
        multiple of 4.
    include_root_block: add the 7x7/2 convolution and 3x3/2 max pool.
    spatial_squeeze: squeeze 1x1 logits to [batch, num_classes].
    store_non_strided_activations: see `stack_blocks_dense`.
    reuse, scope: of the network's variable scope; default_scope names it when
        scope is None.
    unit_fn: the residual unit of `blocks`, which receives the end points collection.
    preactivation: ResNet V2's layout: the root convolution leaves batch norm and
        activation to the first unit's preact, and a batch norm + ReLU
        ('postnorm') follows the last block.
    Returns (net, end_points). net is [batch, num_classes] when the logits are
    squeezed, [batch, 1, 1, C] with global pooling, else
    [batch, height / s, width / s, C], s being the output stride.
    """
    with tf.variable_scope(scope, default_scope, [inputs], reuse=reuse) as sc:
        end_points_collection = sc.original_name_scope + '_end_points'
        with slim.arg_scope([slim.conv2d, unit_fn, stack_blocks_dense],
                            outputs_collections=end_points_collection):
            with slim.arg_scope([slim.batch_norm], is_training=is_training):
                net = inputs
                if include_root_block:
                    if output_stride is not None:
                        if output_stride % 4 != 0:
                            raise ValueError('The output_stride needs to be a multiple of 4.')
                        # The root block already divides the resolution by 4.
                        output_stride //= 4
                    # V2 leaves normalisation and activation to the first unit's preact.
                    root_args = ({'activation_fn': None, 'normalizer_fn': None}
                                 if preactivation else {})
                    with slim.arg_scope([slim.conv2d], **root_args):
                        net = conv2d_same(net, 64, 7, stride=2, scope='conv1')
                    net = slim.max_pool2d(net, [3, 3], stride=2, scope='pool1')
                net = stack_blocks_dense(net, blocks, output_stride, store_non_strided_activations)
                if preactivation:
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


def bottleneck_block(scope, unit_fn, base_depth, num_units, stride):
    """A `Block` of `num_units` bottleneck units of output depth 4 * base_depth.

    Only the last unit is strided, so the block's shortcut projection happens
    at full resolution in its first unit.
    """
    unit = {'depth': base_depth * 4, 'depth_bottleneck': base_depth, 'stride': 1}
    return Block(scope, unit_fn, [unit] * (num_units - 1) + [dict(unit, stride=stride)])


def four_blocks(block_fn, units_per_block, depth_multiplier=1, min_base_depth=8):
    """'block1' to 'block4' of the standard ResNets, made by block_fn(scope, base_depth,
    num_units, stride).

    Base depths are 64, 128, 256 and 512 times `depth_multiplier`, at least
    `min_base_depth`; block i has units_per_block[i] units.
    """
    blocks = []
    for i, num_units in enumerate(units_per_block):
        base_depth = max(int(64 * 2 ** i * depth_multiplier), min_base_depth)
        # The last block keeps stride 1: the nominal output stride is 32.
        stride = 2 if i < len(units_per_block) - 1 else 1
        blocks.append(block_fn('block%d' % (i + 1), base_depth=base_depth,
                               num_units=num_units, stride=stride))
    return blocks


def resnet_arg_scope(weight_decay=0.0001, batch_norm_decay=0.997, batch_norm_epsilon=1e-5,
                     batch_norm_scale=True, activation_fn=tf.nn.relu, use_batch_norm=True,
                     batch_norm_updates_collections=tf.GraphKeys.UPDATE_OPS):
    """Default layer arguments for ResNets, as used to train the published checkpoints.

    Convolutions get L2 weight decay, He initialisation, `activation_fn` and
    batch norm; max pooling uses 'SAME' padding so a 3x3/2 pool halves the size
    (rounding up). Training mode of batch norm is set by the network itself.
    Returns an arg_scope for `slim.arg_scope`.
    """
    batch_norm_params = {
        'decay': batch_norm_decay,
        'epsilon': batch_norm_epsilon,
        'scale': batch_norm_scale,
        'updates_collections': batch_norm_updates_collections,
        'fused': None,  # fused kernel whenever the input allows it
    }
    with slim.arg_scope(
            [slim.conv2d],
            weights_regularizer=slim.l2_regularizer(weight_decay),
            weights_initializer=slim.variance_scaling_initializer(),
            activation_fn=activation_fn,
            normalizer_fn=slim.batch_norm if use_batch_norm else None,
            normalizer_params=batch_norm_params):
        with slim.arg_scope([slim.batch_norm], **batch_norm_params):
            with slim.arg_scope([slim.max_pool2d], padding='SAME') as arg_sc:
                return arg_sc
