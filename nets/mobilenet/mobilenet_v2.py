"""MobileNet V2 (Sandler et al., "MobileNetV2: Inverted Residuals and Linear
Bottlenecks", 2018).

A 3x3 convolution, 17 inverted residual blocks (`conv_blocks.expanded_conv`)
and a 1x1 convolution to 1280 channels, all with batch norm and ReLU6 except
the linear projections. Scopes and variable names match TF-Slim's published
MobilenetV2 checkpoints (1001 classes, class 0 is background), e.g.
'MobilenetV2/expanded_conv_1/expand/weights'.

    with slim.arg_scope(mobilenet_v2.training_scope(is_training=False)):
        logits, end_points = mobilenet_v2.mobilenet(images)
"""

import copy

import tensorflow.compat.v1 as tf
import tf_slim as slim

from nets.mobilenet import conv_blocks as ops
from nets.mobilenet import mobilenet as lib

op = lib.op
expand_input = ops.expand_input_by_factor

# Table 2 of the paper: expansion factor t, output channels c, repeats n and the
# stride s of the first repeat.
_BOTTLENECKS = [
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
]


def _bottleneck_ops():
    """The expanded_conv ops of `_BOTTLENECKS`. Blocks with t=6 take the default
    expansion (so a conv_defs copy can change it); t=1 means no expansion layer."""
    ops_list = []
    for expansion, channels, repeats, first_stride in _BOTTLENECKS:
        extra = {} if expansion == 6 else {'expansion_size': expand_input(expansion,
                                                                          divisible_by=1)}
        for i in range(repeats):
            ops_list.append(op(ops.expanded_conv, stride=first_stride if i == 0 else 1,
                               num_outputs=channels, **extra))
    return ops_list


V2_DEF = dict(
    defaults={
        # Batch-norm centre and scale are part of the architecture (the checkpoint
        # has beta and gamma), hence here rather than in training_scope.
        (slim.batch_norm,): {'center': True, 'scale': True},
        (slim.conv2d, slim.fully_connected, slim.separable_conv2d): {
            'normalizer_fn': slim.batch_norm, 'activation_fn': tf.nn.relu6,
        },
        (ops.expanded_conv,): {
            'expansion_size': expand_input(6),
            'split_expansion': 1,
            'normalizer_fn': slim.batch_norm,
            'residual': True,
        },
        (slim.conv2d, slim.separable_conv2d): {'padding': 'SAME'},
    },
    spec=[
        op(slim.conv2d, stride=2, num_outputs=32, kernel_size=[3, 3]),
        *_bottleneck_ops(),
        op(slim.conv2d, stride=1, kernel_size=[1, 1], num_outputs=1280),
    ],
)


@slim.add_arg_scope
def mobilenet(input_tensor, num_classes=1001, depth_multiplier=1.0, scope='MobilenetV2',
              conv_defs=None, finegrain_classification_mode=False, min_depth=None,
              divisible_by=None, activation_fn=None, **kwargs):
    """MobileNet V2 classifier (inference mode unless is_training or training_scope says so).

    input_tensor: [batch, height, width, 3]; batch and spatial size may be unknown.
    num_classes: logits size; None or 0 returns the pooled features
        [batch, 1, 1, 1280 * depth_multiplier].
    depth_multiplier: scales every layer's channels (rounded to multiples of 8).
    scope: variable scope.
    conv_defs: layer table; V2_DEF if None.
    finegrain_classification_mode: keep the last layer at 1280 channels when
        depth_multiplier < 1 (better for classification).
    min_depth, divisible_by: bounds on the scaled channel counts (defaults 8
        and 8, see lib.depth_multiplier).
    activation_fn: replaces ReLU6 in every convolution.
    kwargs: for lib.mobilenet and lib.mobilenet_base: is_training, reuse,
        prediction_fn, base_only, final_endpoint, output_stride,
        use_explicit_padding, use_reduce_mean_for_pooling.
    Returns (logits [batch, num_classes], end_points): 'layer_1' ... 'layer_19',
    their '/output', '/expansion_output' and '/depthwise_output', 'global_pool',
    'Logits', 'Predictions'.
    Raises ValueError for a `multiplier` argument (use depth_multiplier) and
    the errors of lib.mobilenet.
    """
    if conv_defs is None:
        conv_defs = V2_DEF
    lib.reject_generic_multiplier(kwargs, 'mobilenetv2')
    if finegrain_classification_mode and depth_multiplier < 1:
        conv_defs = copy.deepcopy(conv_defs)
        last = conv_defs['spec'][-1]
        # Divided here, multiplied back by the builder: the last layer keeps its size.
        last.params['num_outputs'] /= depth_multiplier
    if activation_fn:
        conv_defs = copy.deepcopy(conv_defs)
        conv_defs['defaults'][(slim.conv2d, slim.fully_connected, slim.separable_conv2d)][
            'activation_fn'] = activation_fn

    # Only what the caller gave, so an outer arg_scope on depth_multiplier still applies.
    depth_args = {}
    if min_depth is not None:
        depth_args['min_depth'] = min_depth
    if divisible_by is not None:
        depth_args['divisible_by'] = divisible_by
    with slim.arg_scope([lib.depth_multiplier], **depth_args):
        return lib.mobilenet(input_tensor, num_classes=num_classes, conv_defs=conv_defs,
                             scope=scope, multiplier=depth_multiplier, **kwargs)


mobilenet.default_image_size = 224


wrapped_partial = lib.wrapped_partial

# Below width 1 the published checkpoints keep the 1280-channel last layer.
mobilenet_v2_140 = wrapped_partial(mobilenet, depth_multiplier=1.4)
mobilenet_v2_050 = wrapped_partial(mobilenet, depth_multiplier=0.50,
                                   finegrain_classification_mode=True)
mobilenet_v2_035 = wrapped_partial(mobilenet, depth_multiplier=0.35,
                                   finegrain_classification_mode=True)


@slim.add_arg_scope
def mobilenet_base(input_tensor, depth_multiplier=1.0, **kwargs):
    """MobileNet V2 without pooling and logits: `mobilenet(..., base_only=True)`.

    Returns (net, end_points); net is [batch, height / 32, width / 32, 1280]
    (rounded up) unless final_endpoint or output_stride say otherwise.
    """
    return mobilenet(input_tensor, depth_multiplier=depth_multiplier, base_only=True, **kwargs)


def training_scope(**kwargs):
    """MobileNet V2's arg_scope: lib.training_scope(is_training=True,
    weight_decay=0.00004, stddev=0.09, dropout_keep_prob=0.8, bn_decay=0.997)."""
    return lib.training_scope(**kwargs)


__all__ = ['training_scope', 'mobilenet_base', 'mobilenet', 'V2_DEF']
