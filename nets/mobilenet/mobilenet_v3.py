"""MobileNet V3 (Howard et al., "Searching for MobileNetV3", 2019) and MobileNet EdgeTPU.

V3 Large and Small (Tables 1 and 2 of the paper) add squeeze-excite and the
hard-swish activation to V2's inverted residual blocks and end with a pooled
1x1 convolution without batch norm. The "minimalistic" variants drop
squeeze-excite, hard-swish and 5x5 kernels. EdgeTPU replaces the early
depthwise blocks with fused ones (a full 3x3 expansion, no depthwise).
Scopes and variable names match TF-Slim's published checkpoints (1001
classes), e.g. 'MobilenetV3/expanded_conv_3/squeeze_excite/Conv/weights';
EdgeTPU networks live in scope 'MobilenetEdgeTPU'.

    with slim.arg_scope(mobilenet_v3.training_scope(is_training=False)):
        logits, end_points = mobilenet_v3.large(images)
"""

import copy
import functools

import numpy as np
import tensorflow.compat.v1 as tf
import tf_slim as slim

from nets.mobilenet import conv_blocks as ops
from nets.mobilenet import mobilenet as lib

op = lib.op
expand_input = ops.expand_input_by_factor


def hard_sigmoid(x):
    """relu6(x + 3) / 6, a piecewise-linear sigmoid; 0.16667 is the factor the
    published checkpoints were trained with."""
    return tf.nn.relu6(x + 3) * 0.16667


def hard_swish(x):
    """x * relu6(x + 3) / 6, a piecewise-polynomial swish."""
    with tf.name_scope('hard_swish'):
        return x * tf.nn.relu6(x + np.float32(3)) * np.float32(1. / 6.)


squeeze_excite = functools.partial(ops.squeeze_excite, squeeze_factor=4,
                                   inner_activation_fn=tf.nn.relu, gating_fn=hard_sigmoid)


def _se4(expansion_tensor, input_tensor):
    """An `expansion_transform`: squeeze-excite of the depthwise output, squeezed 4x."""
    del input_tensor  # The gate depends on the expanded features only.
    return squeeze_excite(expansion_tensor)


def reduce_to_1x1(input_tensor, default_size=7, **kwargs):
    """Average pool over a square map ([batch, h, h, c] -> [batch, 1, 1, c] with
    padding='VALID'), or with a default_size kernel if the map is not square or
    its size is unknown. kwargs go to slim.avg_pool2d."""
    # The builder dilates every layer after output_stride is reached; this pool
    # covers the whole map and has nothing to dilate.
    kwargs.pop('rate', None)
    height, width = input_tensor.get_shape().as_list()[1:3]
    if height is not None and height == width:
        kernel_size = [height, height]
    else:
        kernel_size = [default_size, default_size]
    return slim.avg_pool2d(input_tensor, kernel_size=kernel_size, **kwargs)


def mbv3_op(ef, n, k, s=1, act=tf.nn.relu, se=None, **kwargs):
    """One inverted residual block: expansion factor ef, n output channels, k x k
    depthwise kernel, stride s, inner activation act, expansion_transform se;
    kwargs go to expanded_conv. Returns an op for a conv_defs 'spec'."""
    return op(ops.expanded_conv, expansion_size=expand_input(ef), kernel_size=(k, k), stride=s,
              num_outputs=n, inner_activation_fn=act, expansion_transform=se, **kwargs)


def mbv3_fused(ef, n, k, s=1, **kwargs):
    """A fused block: k x k convolution expanding by ef (stride s), then the 1x1
    projection to n channels; no depthwise. kwargs go to mbv3_op."""
    return mbv3_op(ef, n, k, s=s, depthwise_location=None,
                   expansion_fn=functools.partial(slim.conv2d, kernel_size=(k, k)), **kwargs)


mbv3_op_se = functools.partial(mbv3_op, se=_se4)

DEFAULTS = {
    (ops.expanded_conv,): {'normalizer_fn': slim.batch_norm, 'residual': True},
    (slim.conv2d, slim.fully_connected, slim.separable_conv2d): {
        'normalizer_fn': slim.batch_norm, 'activation_fn': tf.nn.relu,
    },
    # Part of the architecture: the checkpoints have batch-norm beta and gamma.
    (slim.batch_norm,): {'center': True, 'scale': True},
}

DEFAULTS_GROUP_NORM = {
    (ops.expanded_conv,): {'normalizer_fn': slim.group_norm, 'residual': True},
    (slim.conv2d, slim.fully_connected, slim.separable_conv2d): {
        'normalizer_fn': slim.group_norm, 'activation_fn': tf.nn.relu,
    },
    (slim.group_norm,): {'groups': 8},
}


def _head(pre_pool_channels, channels, activation_fn=None):
    """The last layers of V3 Large and Small: 1x1 convolution, pool to 1x1, 1x1
    convolution without batch norm (hence with biases)."""
    activation = {} if activation_fn is None else {'activation_fn': activation_fn}
    return [
        op(slim.conv2d, stride=1, kernel_size=[1, 1], num_outputs=pre_pool_channels,
           **activation),
        op(reduce_to_1x1, default_size=7, stride=1, padding='VALID'),
        op(slim.conv2d, stride=1, kernel_size=[1, 1], num_outputs=channels, normalizer_fn=None,
           **activation),
    ]


V3_LARGE = dict(
    defaults=dict(DEFAULTS),
    spec=[
        op(slim.conv2d, stride=2, num_outputs=16, kernel_size=(3, 3), activation_fn=hard_swish),
        mbv3_op(ef=1, n=16, k=3),
        mbv3_op(ef=4, n=24, k=3, s=2),
        mbv3_op(ef=3, n=24, k=3, s=1),
        mbv3_op_se(ef=3, n=40, k=5, s=2),
        mbv3_op_se(ef=3, n=40, k=5, s=1),
        mbv3_op_se(ef=3, n=40, k=5, s=1),
        mbv3_op(ef=6, n=80, k=3, s=2, act=hard_swish),
        mbv3_op(ef=2.5, n=80, k=3, s=1, act=hard_swish),
        mbv3_op(ef=184 / 80., n=80, k=3, s=1, act=hard_swish),
        mbv3_op(ef=184 / 80., n=80, k=3, s=1, act=hard_swish),
        mbv3_op_se(ef=6, n=112, k=3, s=1, act=hard_swish),
        mbv3_op_se(ef=6, n=112, k=3, s=1, act=hard_swish),
        mbv3_op_se(ef=6, n=160, k=5, s=2, act=hard_swish),
        mbv3_op_se(ef=6, n=160, k=5, s=1, act=hard_swish),
        mbv3_op_se(ef=6, n=160, k=5, s=1, act=hard_swish),
        *_head(960, 1280, activation_fn=hard_swish),
    ])

V3_SMALL = dict(
    defaults=dict(DEFAULTS),
    spec=[
        op(slim.conv2d, stride=2, num_outputs=16, kernel_size=(3, 3), activation_fn=hard_swish),
        mbv3_op_se(ef=1, n=16, k=3, s=2),
        mbv3_op(ef=72. / 16, n=24, k=3, s=2),
        mbv3_op(ef=88. / 24, n=24, k=3, s=1),
        mbv3_op_se(ef=4, n=40, k=5, s=2, act=hard_swish),
        mbv3_op_se(ef=6, n=40, k=5, s=1, act=hard_swish),
        mbv3_op_se(ef=6, n=40, k=5, s=1, act=hard_swish),
        mbv3_op_se(ef=3, n=48, k=5, s=1, act=hard_swish),
        mbv3_op_se(ef=3, n=48, k=5, s=1, act=hard_swish),
        mbv3_op_se(ef=6, n=96, k=5, s=2, act=hard_swish),
        mbv3_op_se(ef=6, n=96, k=5, s=1, act=hard_swish),
        mbv3_op_se(ef=6, n=96, k=5, s=1, act=hard_swish),
        *_head(576, 1024, activation_fn=hard_swish),
    ])


def _minimalistic(conv_defs):
    """A copy of a V3 conv_defs without squeeze-excite, hard-swish and 5x5 kernels:
    3x3 ReLU blocks, and the convolutions' default activation (ReLU)."""
    defs = copy.deepcopy(conv_defs)
    for layer in defs['spec']:
        if layer.op is ops.expanded_conv:
            layer.params.update(kernel_size=(3, 3), inner_activation_fn=tf.nn.relu,
                                expansion_transform=None)
        else:
            layer.params.pop('activation_fn', None)
    return defs


V3_LARGE_MINIMALISTIC = _minimalistic(V3_LARGE)
V3_SMALL_MINIMALISTIC = _minimalistic(V3_SMALL)

V3_EDGETPU = dict(
    defaults=dict(DEFAULTS),
    spec=[
        op(slim.conv2d, stride=2, num_outputs=32, kernel_size=(3, 3)),
        # Expansion factor 1 leaves nothing to expand: just the 1x1 projection.
        mbv3_fused(k=3, s=1, ef=1, n=16),
        mbv3_fused(k=3, s=2, ef=8, n=32),
        mbv3_fused(k=3, s=1, ef=4, n=32),
        mbv3_fused(k=3, s=1, ef=4, n=32),
        mbv3_fused(k=3, s=1, ef=4, n=32),
        mbv3_fused(k=3, s=2, ef=8, n=48),
        mbv3_fused(k=3, s=1, ef=4, n=48),
        mbv3_fused(k=3, s=1, ef=4, n=48),
        mbv3_fused(k=3, s=1, ef=4, n=48),
        mbv3_op(k=3, s=2, ef=8, n=96),
        mbv3_op(k=3, s=1, ef=4, n=96),
        mbv3_op(k=3, s=1, ef=4, n=96),
        mbv3_op(k=3, s=1, ef=4, n=96),
        mbv3_op(k=3, s=1, ef=8, n=96, residual=False),
        mbv3_op(k=3, s=1, ef=4, n=96),
        mbv3_op(k=3, s=1, ef=4, n=96),
        mbv3_op(k=3, s=1, ef=4, n=96),
        mbv3_op(k=5, s=2, ef=8, n=160),
        mbv3_op(k=5, s=1, ef=4, n=160),
        mbv3_op(k=5, s=1, ef=4, n=160),
        mbv3_op(k=5, s=1, ef=4, n=160),
        mbv3_op(k=3, s=1, ef=8, n=192),
        op(slim.conv2d, stride=1, num_outputs=1280, kernel_size=(1, 1)),
    ])


def _keep_depth(params, multiplier):
    """A multiplier_func that leaves the layer's channels as they are."""
    del params, multiplier


@slim.add_arg_scope
def mobilenet(input_tensor, num_classes=1001, depth_multiplier=1.0, scope='MobilenetV3',
              conv_defs=None, finegrain_classification_mode=False, use_groupnorm=False,
              **kwargs):
    """MobileNet V3 classifier (inference mode unless is_training or training_scope says so).

    input_tensor: [batch, height, width, 3]; batch and spatial size may be unknown
        (at run time V3 Large and Small then need a last map of at least 7x7).
    num_classes: logits size; None or 0 returns the pooled features
        [batch, 1, 1, channels of the last layer].
    depth_multiplier: scales every layer's channels (rounded to multiples of 8).
    scope: variable scope.
    conv_defs: layer table; V3_LARGE if None.
    finegrain_classification_mode: keep the last layer's channels whatever
        the depth_multiplier.
    use_groupnorm: group normalisation (kwarg `groups`, default 8) instead of
        batch norm.
    kwargs, results and errors: as mobilenet_v2.mobilenet's, with a 'layer_<i>'
    end point per layer of conv_defs.
    """
    if conv_defs is None:
        conv_defs = V3_LARGE
    lib.reject_generic_multiplier(kwargs, 'mobilenetv3')
    if finegrain_classification_mode:
        conv_defs = copy.deepcopy(conv_defs)
        conv_defs['spec'][-1] = conv_defs['spec'][-1]._replace(multiplier_func=_keep_depth)
    if use_groupnorm:
        conv_defs = copy.deepcopy(conv_defs)
        conv_defs['defaults'] = dict(DEFAULTS_GROUP_NORM)
        conv_defs['defaults'][(slim.group_norm,)] = {'groups': kwargs.pop('groups', 8)}
    return lib.mobilenet(input_tensor, num_classes=num_classes, conv_defs=conv_defs,
                         scope=scope, multiplier=depth_multiplier, **kwargs)


mobilenet.default_image_size = 224
training_scope = lib.training_scope


@slim.add_arg_scope
def mobilenet_base(input_tensor, depth_multiplier=1.0, **kwargs):
    """MobileNet V3 without the logits layer: `mobilenet(..., base_only=True)`."""
    return mobilenet(input_tensor, depth_multiplier=depth_multiplier, base_only=True, **kwargs)


def wrapped_partial(func, new_defaults=None, **kwargs):
    """lib.wrapped_partial(func, **kwargs); new_defaults are further keyword
    defaults, overridable like the others."""
    return lib.wrapped_partial(func, **dict(new_defaults or {}, **kwargs))


large = wrapped_partial(mobilenet, conv_defs=V3_LARGE)
small = wrapped_partial(mobilenet, conv_defs=V3_SMALL)
edge_tpu = wrapped_partial(mobilenet, new_defaults={'scope': 'MobilenetEdgeTPU'},
                           conv_defs=V3_EDGETPU)
edge_tpu_075 = wrapped_partial(mobilenet, new_defaults={'scope': 'MobilenetEdgeTPU'},
                               conv_defs=V3_EDGETPU, depth_multiplier=0.75,
                               finegrain_classification_mode=True)
large_minimalistic = wrapped_partial(mobilenet, conv_defs=V3_LARGE_MINIMALISTIC)
small_minimalistic = wrapped_partial(mobilenet, conv_defs=V3_SMALL_MINIMALISTIC)


def _reduce_consecutive_layers(conv_defs, start_id, end_id, multiplier=0.5):
    """A copy of conv_defs whose layers start_id..end_id (0-based, inclusive)
    have num_outputs scaled by multiplier (rounded).
    Raises KeyError if one of them has no 'num_outputs'."""
    defs = copy.deepcopy(conv_defs)
    for layer in defs['spec'][start_id:end_id + 1]:
        layer.params['num_outputs'] = int(np.round(layer.params['num_outputs'] * multiplier))
    return defs


# Lighter last stages for object detection backbones.
V3_LARGE_DETECTION = _reduce_consecutive_layers(V3_LARGE, 13, 16)
V3_SMALL_DETECTION = _reduce_consecutive_layers(V3_SMALL, 9, 12)

__all__ = ['training_scope', 'mobilenet', 'V3_LARGE', 'V3_SMALL', 'large', 'small',
           'V3_LARGE_DETECTION', 'V3_SMALL_DETECTION']
