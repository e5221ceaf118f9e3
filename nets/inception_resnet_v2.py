"""Inception-ResNet-V2 (Szegedy et al., "Inception-v4, Inception-ResNet and the
Impact of Residual Connections on Learning", 2016).

Inception blocks whose concatenated branches are projected back to the input depth
by a biased 1x1 convolution, scaled down, and added to the input. Scopes and
variable names follow TF-Slim, so the published checkpoint
inception_resnet_v2_2016_08_30 (1001 classes) restores into this graph unchanged.
Spatial sizes in the comments are for the default 299 x 299 input.
"""

import tensorflow.compat.v1 as tf
import tf_slim as slim

from nets import inception_utils
from nets.inception_utils import branches, inception_block, reduction_block, stride_1_same


def _residual_block(net, towers, scale, activation_fn, scope, default_scope, reuse):
    """Adds scaled Inception branches to `net`: [B, H, W, C] -> [B, H, W, C].

    towers: one list of (depth, kernel_size, scope) convolutions per branch
    ('Branch_0', 'Branch_1', ...). Their concatenation is projected back to C
    channels by a biased 1x1 convolution without batch norm or activation.
    The block is built in variable scope `scope` (`default_scope` if None).
    """
    with stride_1_same(), tf.variable_scope(scope, default_scope, [net], reuse=reuse):
        mixed = tf.concat(branches(net, towers), 3)
        up = slim.conv2d(mixed, net.get_shape()[3], [1, 1], normalizer_fn=None,
                         activation_fn=None, scope='Conv2d_1x1')
        scaled_up = up * scale
        if activation_fn == tf.nn.relu6:
            # Keeps the sum within relu6's range, which quantised inference relies on.
            scaled_up = tf.clip_by_value(scaled_up, -6.0, 6.0)
        net += scaled_up
        if activation_fn:
            net = activation_fn(net)
        return net


def block35(net, scale=1.0, activation_fn=tf.nn.relu, scope=None, reuse=None):
    """Inception-ResNet-A: [B, 35, 35, 320] -> [B, 35, 35, 320]."""
    return _residual_block(net, [
        [(32, [1, 1], 'Conv2d_1x1')],
        [(32, [1, 1], 'Conv2d_0a_1x1'), (32, [3, 3], 'Conv2d_0b_3x3')],
        [(32, [1, 1], 'Conv2d_0a_1x1'), (48, [3, 3], 'Conv2d_0b_3x3'),
         (64, [3, 3], 'Conv2d_0c_3x3')],
    ], scale, activation_fn, scope, 'Block35', reuse)


def block17(net, scale=1.0, activation_fn=tf.nn.relu, scope=None, reuse=None):
    """Inception-ResNet-B: [B, 17, 17, 1088] -> [B, 17, 17, 1088]."""
    return _residual_block(net, [
        [(192, [1, 1], 'Conv2d_1x1')],
        [(128, [1, 1], 'Conv2d_0a_1x1'), (160, [1, 7], 'Conv2d_0b_1x7'),
         (192, [7, 1], 'Conv2d_0c_7x1')],
    ], scale, activation_fn, scope, 'Block17', reuse)


def block8(net, scale=1.0, activation_fn=tf.nn.relu, scope=None, reuse=None):
    """Inception-ResNet-C: [B, 8, 8, 2080] -> [B, 8, 8, 2080]."""
    return _residual_block(net, [
        [(192, [1, 1], 'Conv2d_1x1')],
        [(192, [1, 1], 'Conv2d_0a_1x1'), (224, [1, 3], 'Conv2d_0b_1x3'),
         (256, [3, 1], 'Conv2d_0c_3x1')],
    ], scale, activation_fn, scope, 'Block8', reuse)


def _reduction_a(net, filters, stride=2, padding='VALID'):
    """Reduction-A: [B, H, W, C] -> [B, H', W', C + m + n].

    filters: the paper's (k, l, m, n): branch 0 is a strided 3x3 of n; branch 1 a
    1x1 of k, a 3x3 of l and a strided 3x3 of m; branch 2 max-pools.
    """
    k, l, m, n = filters  # noqa: E741  (the paper's names)
    return reduction_block(net, [
        ([], n, 'Conv2d_1a_3x3'),
        ([(k, [1, 1], 'Conv2d_0a_1x1'), (l, [3, 3], 'Conv2d_0b_3x3')], m, 'Conv2d_1a_3x3'),
    ], stride=stride, padding=padding)


def _reduction_b(net, depth_0, depth_1, depths_2, padding='VALID'):
    """Reduction-B: [B, H, W, C] -> [B, H', W', C + depth_0 + depth_1 + depths_2[1]].

    Branches 0 and 1 are a 1x1 of 256 then a stride-2 3x3 of depth_0 / depth_1;
    branch 2 is a 1x1 of 256, a 3x3 of depths_2[0] and a stride-2 3x3 of
    depths_2[1]; branch 3 max-pools.
    """
    reduce_1x1 = (256, [1, 1], 'Conv2d_0a_1x1')
    return reduction_block(net, [
        ([reduce_1x1], depth_0, 'Conv2d_1a_3x3'),
        ([reduce_1x1], depth_1, 'Conv2d_1a_3x3'),
        ([reduce_1x1, (depths_2[0], [3, 3], 'Conv2d_0b_3x3')], depths_2[1], 'Conv2d_1a_3x3'),
    ], padding=padding)


def _max_pool_layer(padding):
    """A 3x3 / 2 max pool as a (net, scope) -> net layer."""
    return lambda net, scope: slim.max_pool2d(net, [3, 3], stride=2, padding=padding,
                                              scope=scope)


def _stem(padding):
    """The layers both Inception-ResNets start with: [B, 299, 299, 3] -> [B, 71, 71, 192].

    `padding` applies to every layer but Conv2d_2b_3x3, which is always 'SAME'.
    """

    def conv(num_outputs, kernel_size, stride=1, padding=padding):
        return lambda net, scope: slim.conv2d(net, num_outputs, kernel_size, stride=stride,
                                              padding=padding, scope=scope)

    return [
        ('Conv2d_1a_3x3', conv(32, [3, 3], stride=2)),  # 149 x 149 x 32
        ('Conv2d_2a_3x3', conv(32, [3, 3])),  # 147 x 147 x 32
        ('Conv2d_2b_3x3', conv(64, [3, 3], padding='SAME')),  # 147 x 147 x 64
        ('MaxPool_3a_3x3', _max_pool_layer(padding)),  # 73 x 73 x 64
        ('Conv2d_3b_1x1', conv(80, [1, 1])),  # 73 x 73 x 80
        ('Conv2d_4a_3x3', conv(192, [3, 3])),  # 71 x 71 x 192
    ]


def _mixed_5b(net, scope):
    """[B, 35, 35, 192] -> [B, 35, 35, 320]."""
    with tf.variable_scope(scope):
        return inception_block(net, [
            [(96, [1, 1], 'Conv2d_1x1')],
            [(48, [1, 1], 'Conv2d_0a_1x1'), (64, [5, 5], 'Conv2d_0b_5x5')],
            [(64, [1, 1], 'Conv2d_0a_1x1'), (96, [3, 3], 'Conv2d_0b_3x3'),
             (96, [3, 3], 'Conv2d_0c_3x3')],
        ], 64)


def _layers(padding, use_atrous, activation_fn):
    """The base network as an ordered list of (end point, build(net, scope) -> net)."""

    def mixed_6a(net, scope):
        net = slim.repeat(net, 10, block35, scale=0.17, activation_fn=activation_fn)
        with tf.variable_scope(scope):
            # With output stride 8 this stage keeps its input's grid (less 2 if unaligned).
            return _reduction_a(net, (256, 256, 384, 384), stride=1 if use_atrous else 2,
                                padding=padding)

    def pre_aux_logits(net, _):
        # An end point without a scope of its own: 'Repeat_1/block17_<i>'.
        with slim.arg_scope([slim.conv2d], rate=2 if use_atrous else 1):
            return slim.repeat(net, 20, block17, scale=0.10, activation_fn=activation_fn)

    def mixed_7a(net, scope):
        with tf.variable_scope(scope):
            return _reduction_b(net, 384, 288, (288, 320), padding=padding)

    def conv2d_7b_1x1(net, scope):
        net = slim.repeat(net, 9, block8, scale=0.20, activation_fn=activation_fn)
        net = block8(net, activation_fn=None)
        return slim.conv2d(net, 1536, [1, 1], scope=scope)

    return _stem(padding) + [
        ('MaxPool_5a_3x3', _max_pool_layer(padding)),  # 35 x 35 x 192
        ('Mixed_5b', _mixed_5b),  # 35 x 35 x 320
        ('Mixed_6a', mixed_6a),  # 17 x 17 x 1088
        ('PreAuxLogits', pre_aux_logits),  # 17 x 17 x 1088
        ('Mixed_7a', mixed_7a),  # 8 x 8 x 2080
        ('Conv2d_7b_1x1', conv2d_7b_1x1),  # 8 x 8 x 1536
    ]


def _classifier(net, end_points, num_classes, dropout_keep_prob):
    """The 'Logits' head of both Inception-ResNets: [B, H, W, C] -> [B, num_classes].

    Averages the whole grid, flattens, drops out and applies a fully connected
    layer, adding the end points on the way. With `num_classes` 0 or None it
    returns the pooled features [B, 1, 1, C] instead.
    """
    with tf.variable_scope('Logits'):
        net = inception_utils.global_average(net, scope='AvgPool_1a_8x8')
        end_points['global_pool'] = net
        if not num_classes:
            return net
        net = slim.flatten(net)
        net = slim.dropout(net, dropout_keep_prob, scope='Dropout')
        end_points['PreLogitsFlatten'] = net
        logits = slim.fully_connected(net, num_classes, activation_fn=None, scope='Logits')
        end_points['Logits'] = logits
        end_points['Predictions'] = tf.nn.softmax(logits, name='Predictions')
    return logits


def inception_resnet_v2_base(inputs,
                             final_endpoint='Conv2d_7b_1x1',
                             output_stride=16,
                             align_feature_maps=False,
                             scope=None,
                             activation_fn=tf.nn.relu):
    """Builds Inception-ResNet-V2 from the input up to `final_endpoint`.

    Args:
      inputs: [B, H, W, 3] images; 299 x 299 gives Conv2d_7b_1x1 of 8 x 8 x 1536.
      final_endpoint: the end point to stop at, 'Conv2d_1a_3x3' ... 'Conv2d_7b_1x1'.
      output_stride: 16, or 8 to keep the 17 x 17 stage at 35 x 35 with atrous
        (rate 2) convolutions; 8 is only supported up to 'PreAuxLogits'.
      align_feature_maps: 'SAME' instead of 'VALID' padding in the stem and the
        reductions, so each grid is exactly the input size / its stride (rounded
        up): 150, 75, 38, 19, 10 for 299.
      scope: variable scope, 'InceptionResnetV2' by default.
      activation_fn: activation after each residual sum.

    Returns:
      (net, end_points): the `final_endpoint` tensor and a dict of every end point
      built so far.

    Raises:
      ValueError: unknown `final_endpoint`, `output_stride` other than 8 or 16, or
        output stride 8 past 'PreAuxLogits'.
    """
    if output_stride not in (8, 16):
        raise ValueError(f'output_stride must be 8 or 16, got {output_stride}.')
    padding = 'SAME' if align_feature_maps else 'VALID'
    layers = _layers(padding, use_atrous=output_stride == 8, activation_fn=activation_fn)
    if output_stride == 8:
        names = [name for name, _ in layers]
        if final_endpoint in names[names.index('PreAuxLogits') + 1:]:
            raise ValueError('output_stride=8 is only supported up to the PreAuxLogits end '
                             f'point, not {final_endpoint!r}.')

    with stride_1_same(), tf.variable_scope(scope, 'InceptionResnetV2', [inputs]):
        return inception_utils.build_up_to(inputs, layers, final_endpoint)


def inception_resnet_v2(inputs,
                        num_classes=1001,
                        is_training=True,
                        dropout_keep_prob=0.8,
                        reuse=None,
                        scope='InceptionResnetV2',
                        create_aux_logits=True,
                        activation_fn=tf.nn.relu):
    """Inception-ResNet-V2 classifier; build it inside `inception_resnet_v2_arg_scope()`.

    Args:
      inputs: [B, H, W, 3] images, 299 x 299 by default; at least 75 x 75.
      num_classes: number of logits; 0 or None returns the pooled features
        [B, 1, 1, 1536] instead of logits.
      is_training: switches batch norm and dropout to their training behaviour.
      dropout_keep_prob: keep probability of the dropout before the logits.
      reuse: reuse the variables of an earlier build in the same scope.
      scope: variable scope.
      create_aux_logits: add the auxiliary head on PreAuxLogits ('AuxLogits' end
        point); it needs a known spatial input size.
      activation_fn: activation after each residual sum.

    Returns:
      (logits [B, num_classes], end_points); see `num_classes` for the features case.
    """
    with tf.variable_scope(scope, 'InceptionResnetV2', [inputs], reuse=reuse) as var_scope:
        with slim.arg_scope([slim.batch_norm, slim.dropout], is_training=is_training):
            net, end_points = inception_resnet_v2_base(inputs, scope=var_scope,
                                                       activation_fn=activation_fn)
            if create_aux_logits and num_classes:
                # The average pool is named like a convolution in the checkpoint's graph.
                end_points['AuxLogits'] = inception_utils.aux_logits(
                    end_points['PreAuxLogits'], num_classes, pool_scope='Conv2d_1a_3x3',
                    conv_scope='Conv2d_2a_5x5', logits_scope='Logits')
            net = _classifier(net, end_points, num_classes, dropout_keep_prob)
    return net, end_points


inception_resnet_v2.default_image_size = 299


def inception_resnet_v2_arg_scope(weight_decay=0.00004,
                                  batch_norm_decay=0.9997,
                                  batch_norm_epsilon=0.001,
                                  activation_fn=tf.nn.relu,
                                  batch_norm_updates_collections=tf.GraphKeys.UPDATE_OPS,
                                  batch_norm_scale=False):
    """Returns the arg scope the Inception-ResNets are built (and were trained) in.

    Like `inception_utils.inception_arg_scope` but with the layers' default
    (Xavier) initialiser and weight decay on biases too: the residual projections
    and the classifiers are biased.

    Args:
      weight_decay: L2 regularisation strength for conv and fully connected
        weights and biases.
      batch_norm_decay: decay of the batch-norm moving averages.
      batch_norm_epsilon: added to the variance before dividing by it.
      activation_fn: activation applied after each convolution.
      batch_norm_updates_collections: collection that receives the moving-average
        update ops (run them with the train op), or None to update in place.
      batch_norm_scale: whether batch norm learns a gamma. The published checkpoint
        has none.
    """
    regularizer = slim.l2_regularizer(weight_decay)
    with slim.arg_scope([slim.conv2d, slim.fully_connected],
                        weights_regularizer=regularizer, biases_regularizer=regularizer):
        batch_norm_params = {
            'decay': batch_norm_decay,
            'epsilon': batch_norm_epsilon,
            'updates_collections': batch_norm_updates_collections,
            'scale': batch_norm_scale,
        }
        with slim.arg_scope([slim.conv2d], activation_fn=activation_fn,
                            normalizer_fn=slim.batch_norm,
                            normalizer_params=batch_norm_params) as scope:
            return scope
