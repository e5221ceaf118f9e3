"""VGG (Simonyan and Zisserman, "Very Deep Convolutional Networks for Large-Scale
Image Recognition", 2014): configurations A, D (16 layers) and E (19 layers).

Scopes and variable names match TF-Slim's published vgg_16 / vgg_19 checkpoints
(1000 classes, no background class). The fully connected layers are
convolutions: fc6 is 7x7 ('VALID' by default, so a 224x224 input gives 1x1
logits and larger inputs give a map of logits), fc7 and fc8 are 1x1.

Typical use, logits for a 224x224 batch:

    with slim.arg_scope(vgg.vgg_arg_scope()):
        logits, end_points = vgg.vgg_16(images, is_training=False)
"""

import tensorflow.compat.v1 as tf
import tf_slim as slim

from nets.conv_classifier import conv_classifier, end_point_recorder

# Output channels of the five convolution blocks, each followed by a 2x2 max pool.
_BLOCK_DEPTHS = (64, 128, 256, 512, 512)


def vgg_arg_scope(weight_decay=0.0005):
    """ReLU layers with L2 `weight_decay` on the weights and zero-initialised biases;
    'SAME' padding for convolutions (max pools keep slim's 'VALID')."""
    with (slim.arg_scope([slim.conv2d, slim.fully_connected],
                         activation_fn=tf.nn.relu,
                         weights_regularizer=slim.l2_regularizer(weight_decay),
                         biases_initializer=tf.zeros_initializer()),
          slim.arg_scope([slim.conv2d], padding='SAME') as arg_scope):
        return arg_scope


def _vgg(inputs, convs_per_block, num_classes, is_training, dropout_keep_prob, spatial_squeeze,
         reuse, scope, default_scope, fc_conv_padding, global_pool):
    """Five blocks of 3x3 convolutions (`convs_per_block[i]` in block i + 1) and the
    convolutional classifier fc6-fc8. Arguments as in `vgg_16`."""
    with tf.variable_scope(scope, default_scope, [inputs], reuse=reuse) as sc:
        # Keys are full variable-scope names, e.g. 'vgg_16/conv1/conv1_1'.
        end_points = {}
        keep = end_point_recorder(end_points, sc.name)

        net = inputs
        for block, (num_convs, depth) in enumerate(zip(convs_per_block, _BLOCK_DEPTHS,
                                                       strict=True), start=1):
            block_scope = 'conv%d' % block
            with tf.variable_scope(block_scope):
                for i in range(1, num_convs + 1):
                    conv_scope = '%s_%d' % (block_scope, i)
                    net = keep('%s/%s' % (block_scope, conv_scope),
                               slim.conv2d(net, depth, [3, 3], scope=conv_scope))
            net = keep('pool%d' % block, slim.max_pool2d(net, [2, 2], scope='pool%d' % block))

        return conv_classifier(net, end_points, sc.name, 4096, [7, 7], num_classes, is_training,
                               dropout_keep_prob, spatial_squeeze, global_pool,
                               fc6_padding=fc_conv_padding)


def vgg_a(inputs, num_classes=1000, is_training=True, dropout_keep_prob=0.5,
          spatial_squeeze=True, reuse=None, scope='vgg_a', fc_conv_padding='VALID',
          global_pool=False):
    """VGG configuration A (11 layers): 1, 1, 2, 2, 2 convolutions per block.

    Arguments and results as in `vgg_16`.
    """
    return _vgg(inputs, (1, 1, 2, 2, 2), num_classes, is_training, dropout_keep_prob,
                spatial_squeeze, reuse, scope, 'vgg_a', fc_conv_padding, global_pool)


def vgg_16(inputs, num_classes=1000, is_training=True, dropout_keep_prob=0.5,
           spatial_squeeze=True, reuse=None, scope='vgg_16', fc_conv_padding='VALID',
           global_pool=False):
    """VGG configuration D (16 layers): 2, 2, 3, 3, 3 convolutions per block.

    Build it inside `vgg_arg_scope()`.

    Args:
      inputs: [B, H, W, 3]; batch and spatial size may be unknown. With 'VALID'
        fc6 the input must be at least 224x224 (pool5 at least 7x7).
      num_classes, is_training, dropout_keep_prob, spatial_squeeze, global_pool:
        see `conv_classifier`; without num_classes the result is the fc7 features,
        [B, 1, 1, 4096] at 224x224.
      reuse: reuse the variables of an earlier build (a second tower).
      scope: variable scope.
      fc_conv_padding: padding of fc6, 'VALID' or 'SAME' (H/32 x W/32 map).

    Returns:
      (logits [B, num_classes], end_points) where end_points maps full scope
      names ('vgg_16/conv1/conv1_1', ..., 'vgg_16/pool5', 'vgg_16/fc6',
      'vgg_16/fc7', 'vgg_16/fc8') to activations.
    """
    return _vgg(inputs, (2, 2, 3, 3, 3), num_classes, is_training, dropout_keep_prob,
                spatial_squeeze, reuse, scope, 'vgg_16', fc_conv_padding, global_pool)


def vgg_19(inputs, num_classes=1000, is_training=True, dropout_keep_prob=0.5,
           spatial_squeeze=True, reuse=None, scope='vgg_19', fc_conv_padding='VALID',
           global_pool=False):
    """VGG configuration E (19 layers): 2, 2, 4, 4, 4 convolutions per block.

    Arguments and results as in `vgg_16`.
    """
    return _vgg(inputs, (2, 2, 4, 4, 4), num_classes, is_training, dropout_keep_prob,
                spatial_squeeze, reuse, scope, 'vgg_19', fc_conv_padding, global_pool)


vgg_a.default_image_size = 224
vgg_16.default_image_size = 224
vgg_19.default_image_size = 224

# Names of the configurations in the paper.
vgg_d = vgg_16
vgg_e = vgg_19
