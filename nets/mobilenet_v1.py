"""MobileNet V1 (Howard et al., "MobileNets: Efficient Convolutional Neural
Networks for Mobile Vision Applications", 2017).

A 3x3 convolution followed by 13 depthwise-separable convolutions (3x3
depthwise + 1x1 pointwise, each with batch norm and ReLU6). `depth_multiplier`
scales every layer's channel count (the paper's width multiplier).

Scopes and variable names match TF-Slim's published MobilenetV1 checkpoints,
which have 1001 classes (class 0 is background).

Typical use, 1001-way logits for a 224x224 batch:

    with slim.arg_scope(mobilenet_v1.mobilenet_v1_arg_scope(is_training=False)):
        logits, end_points = mobilenet_v1.mobilenet_v1(images, 1001, is_training=False)
"""

import collections
import functools

import tensorflow.compat.v1 as tf
import tf_slim as slim

from nets import inception_utils
from nets.mobilenet import mobilenet
from nets.mobilenet.conv_blocks import _fixed_padding

# TF-Slim's name, kept importable.
_reduced_kernel_size_for_small_input = inception_utils.reduced_kernel_size_for_small_input

# kernel: [height, width]; stride: int; depth: output channels before the
# depth multiplier is applied.
Conv = collections.namedtuple('Conv', ['kernel', 'stride', 'depth'])
DepthSepConv = collections.namedtuple('DepthSepConv', ['kernel', 'stride', 'depth'])

# Table 1 of the paper: layer i gets the scope 'Conv2d_<i>' (full convolution) or
# 'Conv2d_<i>_depthwise' and 'Conv2d_<i>_pointwise' (separable convolution).
MOBILENETV1_CONV_DEFS = [
    Conv(kernel=[3, 3], stride=2, depth=32),
    DepthSepConv(kernel=[3, 3], stride=1, depth=64),
    DepthSepConv(kernel=[3, 3], stride=2, depth=128),
    DepthSepConv(kernel=[3, 3], stride=1, depth=128),
    DepthSepConv(kernel=[3, 3], stride=2, depth=256),
    DepthSepConv(kernel=[3, 3], stride=1, depth=256),
    DepthSepConv(kernel=[3, 3], stride=2, depth=512),
    DepthSepConv(kernel=[3, 3], stride=1, depth=512),
    DepthSepConv(kernel=[3, 3], stride=1, depth=512),
    DepthSepConv(kernel=[3, 3], stride=1, depth=512),
    DepthSepConv(kernel=[3, 3], stride=1, depth=512),
    DepthSepConv(kernel=[3, 3], stride=1, depth=512),
    DepthSepConv(kernel=[3, 3], stride=2, depth=1024),
    DepthSepConv(kernel=[3, 3], stride=1, depth=1024),
]


def mobilenet_v1_base(inputs, final_endpoint='Conv2d_13_pointwise', min_depth=8,
                      depth_multiplier=1.0, conv_defs=None, output_stride=None,
                      use_explicit_padding=False, scope=None):
    """The convolutional trunk of MobileNet V1, up to `final_endpoint`.

    inputs: [batch, height, width, channels]; batch and spatial size may be unknown.
    final_endpoint: last layer to build, 'Conv2d_0' or 'Conv2d_<i>_depthwise' /
        'Conv2d_<i>_pointwise' for i in 1..13 (with the default conv_defs).
    min_depth: lower bound on every layer's channel count once depth_multiplier
        is applied.
    depth_multiplier: channel scale, > 0.
    conv_defs: list of `Conv` / `DepthSepConv`; MOBILENETV1_CONV_DEFS if None.
    output_stride: None (nominal stride 32) or 8 or 16; strides beyond it turn
        into atrous rates of the depthwise convolutions.
    use_explicit_padding: pad with `_fixed_padding` and convolve with 'VALID'
        instead of using 'SAME'.
    Returns (net, end_points); net is [batch, height / s, width / s, channels]
    (rounded up), s being the stride reached at final_endpoint.
    Raises ValueError for a non-positive depth_multiplier, an unsupported
    output_stride or an unknown final_endpoint.
    """
    if depth_multiplier <= 0:
        raise ValueError('depth_multiplier is not greater than zero.')
    if output_stride is not None and output_stride not in [8, 16, 32]:
        raise ValueError('Only allowed output_stride values are 8, 16, 32.')
    if conv_defs is None:
        conv_defs = MOBILENETV1_CONV_DEFS

    def depth(channels):
        return max(int(channels * depth_multiplier), min_depth)

    padding = 'VALID' if use_explicit_padding else 'SAME'
    end_points = {}
    with tf.variable_scope(scope, 'MobilenetV1', [inputs]):
        with slim.arg_scope([slim.conv2d, slim.separable_conv2d], padding=padding):
            schedule = mobilenet.AtrousSchedule(output_stride)
            net = inputs
            for i, conv_def in enumerate(conv_defs):
                stride, rate = schedule.next_layer(conv_def.stride)
                for end_point, layer in _layers(i, conv_def, depth, stride, rate,
                                                use_explicit_padding):
                    net = layer(net)
                    end_points[end_point] = net
                    if end_point == final_endpoint:
                        return net, end_points
    raise ValueError('Unknown final endpoint %s' % final_endpoint)


def _layers(index, conv_def, depth, stride, rate, use_explicit_padding):
    """[(end point, fn(net) -> net)] of layer `index`, as `conv_def` describes it;
    `depth(channels)` applies the depth multiplier."""
    if isinstance(conv_def, Conv):
        def conv(net):
            if use_explicit_padding:
                net = _fixed_padding(net, conv_def.kernel)
            return slim.conv2d(net, depth(conv_def.depth), conv_def.kernel, stride=stride,
                               scope='Conv2d_%d' % index)

        return [('Conv2d_%d' % index, conv)]
    if isinstance(conv_def, DepthSepConv):
        def depthwise(net):
            if use_explicit_padding:
                net = _fixed_padding(net, conv_def.kernel, rate)
            # num_outputs=None: depthwise only; the 1x1 pointwise layer mixes channels.
            return slim.separable_conv2d(net, None, conv_def.kernel, depth_multiplier=1,
                                         stride=stride, rate=rate,
                                         scope='Conv2d_%d_depthwise' % index)

        def pointwise(net):
            return slim.conv2d(net, depth(conv_def.depth), [1, 1], stride=1,
                               scope='Conv2d_%d_pointwise' % index)

        return [('Conv2d_%d_depthwise' % index, depthwise),
                ('Conv2d_%d_pointwise' % index, pointwise)]
    raise ValueError('Unknown convolution type %s for layer %d' % (type(conv_def).__name__, index))


def mobilenet_v1(inputs, num_classes=1000, dropout_keep_prob=0.999, is_training=True,
                 min_depth=8, depth_multiplier=1.0, conv_defs=None, prediction_fn=slim.softmax,
                 spatial_squeeze=True, reuse=None, scope='MobilenetV1', global_pool=False):
    """MobileNet V1 classifier: trunk, average pool, dropout and 1x1 logits.

    inputs: [batch, height, width, channels]; batch and spatial size may be unknown.
    num_classes: logits size; None or 0 returns the pooled features.
    dropout_keep_prob: keep probability of the dropout before the logits.
    is_training: batch-norm and dropout mode.
    min_depth, depth_multiplier, conv_defs: see `mobilenet_v1_base`.
    prediction_fn: maps logits to end_points['Predictions']; None to skip.
    spatial_squeeze: squeeze 1x1 logits to [batch, num_classes].
    global_pool: average over the whole feature map; otherwise a 7x7 'VALID'
        average pool, shrunk for inputs whose last map is smaller than 7x7.
    Returns (logits, end_points); logits is [batch, num_classes] when squeezed.
    With num_classes None or 0, returns (features, end_points), features being
    [batch, 1, 1, channels] for a 224x224 input.
    Raises ValueError unless inputs has rank 4.
    """
    input_shape = inputs.get_shape().as_list()
    if len(input_shape) != 4:
        raise ValueError('Invalid input tensor rank, expected 4, was: %d' % len(input_shape))

    with tf.variable_scope(scope, 'MobilenetV1', [inputs], reuse=reuse) as scope:
        with slim.arg_scope([slim.batch_norm, slim.dropout], is_training=is_training):
            net, end_points = mobilenet_v1_base(inputs, scope=scope, min_depth=min_depth,
                                                depth_multiplier=depth_multiplier,
                                                conv_defs=conv_defs)
            net = inception_utils.pooled_conv_logits(
                net, end_points, num_classes, dropout_keep_prob, spatial_squeeze, prediction_fn,
                global_pool, [7, 7], pool_scope='AvgPool_1a', pool_end_point='AvgPool_1a')
    return net, end_points


mobilenet_v1.default_image_size = 224


def _wrapped_partial(func, *args, **kwargs):
    """functools.partial that also keeps func's name, docstring and attributes
    (default_image_size in particular)."""
    partial_func = functools.partial(func, *args, **kwargs)
    functools.update_wrapper(partial_func, func)
    return partial_func


mobilenet_v1_075 = _wrapped_partial(mobilenet_v1, depth_multiplier=0.75)
mobilenet_v1_050 = _wrapped_partial(mobilenet_v1, depth_multiplier=0.50)
mobilenet_v1_025 = _wrapped_partial(mobilenet_v1, depth_multiplier=0.25)

def mobilenet_v1_arg_scope(is_training=True, weight_decay=0.00004, stddev=0.09,
                           regularize_depthwise=False, batch_norm_decay=0.9997,
                           batch_norm_epsilon=0.001,
                           batch_norm_updates_collections=tf.GraphKeys.UPDATE_OPS,
                           normalizer_fn=slim.batch_norm):
    """Default layer arguments for MobileNet V1, as used to train the published checkpoints.

    Convolutions get truncated-normal initialisation, ReLU6 and `normalizer_fn`;
    pointwise and full convolutions get L2 weight decay, depthwise ones only
    if regularize_depthwise (the paper advises little or no decay on them, as
    they hold very few parameters).
    is_training: batch-norm mode for layers built outside `mobilenet_v1`, which
    sets its own; None keeps batch norm's default.
    Returns an arg_scope for `slim.arg_scope`.
    """
    batch_norm_params = {
        'center': True,
        'scale': True,
        'decay': batch_norm_decay,
        'epsilon': batch_norm_epsilon,
        'updates_collections': batch_norm_updates_collections,
    }
    if is_training is not None:
        batch_norm_params['is_training'] = is_training

    regularizer = slim.l2_regularizer(weight_decay)
    depthwise_regularizer = regularizer if regularize_depthwise else None
    with slim.arg_scope([slim.conv2d, slim.separable_conv2d],
                        weights_initializer=tf.truncated_normal_initializer(stddev=stddev),
                        activation_fn=tf.nn.relu6, normalizer_fn=normalizer_fn):
        with slim.arg_scope([slim.batch_norm], **batch_norm_params):
            with slim.arg_scope([slim.conv2d], weights_regularizer=regularizer):
                with slim.arg_scope([slim.separable_conv2d],
                                    weights_regularizer=depthwise_regularizer) as sc:
                    return sc
