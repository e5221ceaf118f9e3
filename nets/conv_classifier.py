"""The fully connected classifier of AlexNet, OverFeat and VGG, built as convolutions.

fc6 covers the last pooled map with one 'VALID' kernel and fc7 and fc8 are 1x1, so
the default input size gives 1x1 logits and a larger input gives a map of logits.
"""

import tensorflow.compat.v1 as tf
import tf_slim as slim


def _set(**kwargs):
    """The keyword arguments that are not None, so that the others keep the arg scope's."""
    return {key: value for key, value in kwargs.items() if value is not None}


def end_point_recorder(end_points, scope_name):
    """Returns keep(name, net), which stores `net` as end_points['<scope_name>/<name>']
    and returns it."""

    def keep(name, net):
        end_points['%s/%s' % (scope_name, name)] = net
        return net

    return keep


def conv_classifier(net, end_points, scope_name, fc6_depth, fc6_kernel_size, num_classes,
                    is_training, dropout_keep_prob, spatial_squeeze, global_pool,
                    fc6_padding='VALID', weights_initializer=None, biases_initializer=None,
                    logits_biases_initializer=None):
    """fc6 -> dropout6 -> fc7 (4096) -> [global pool] -> dropout7 -> fc8 -> [squeeze].

    Build it inside the network's variable scope, named `scope_name`.

    Args:
      net: the last pooled map, [B, H, W, C].
      end_points: receives '<scope_name>/fc6', '/fc7' and '/fc8', and 'global_pool'.
      scope_name: the network's full variable scope name.
      fc6_depth, fc6_kernel_size, fc6_padding: fc6's output channels, kernel and padding.
      num_classes: fc8's output channels; 0 or None stops after fc7 (or its global
        pool), without dropout7.
      is_training: whether dropout is active.
      dropout_keep_prob: keep probability of dropout6 and dropout7.
      spatial_squeeze: squeeze the logits map from [B, 1, 1, N] to [B, N].
      global_pool: average fc7 over its whole map.
      weights_initializer, biases_initializer: initialisers of fc6-fc8 in place
        of the arg scope's; None keeps the arg scope's.
      logits_biases_initializer: initialiser of fc8's biases in place of
        `biases_initializer`; None keeps that.

    Returns:
      (logits [B, num_classes], or [B, H', W', num_classes] unsqueezed, end_points);
      without num_classes, (fc7 features [B, H', W', 4096], end_points).
    """
    keep = end_point_recorder(end_points, scope_name)
    with slim.arg_scope([slim.conv2d], **_set(weights_initializer=weights_initializer,
                                               biases_initializer=biases_initializer)):
        net = keep('fc6', slim.conv2d(net, fc6_depth, fc6_kernel_size, padding=fc6_padding,
                                      scope='fc6'))
        net = slim.dropout(net, dropout_keep_prob, is_training=is_training, scope='dropout6')
        net = keep('fc7', slim.conv2d(net, 4096, [1, 1], scope='fc7'))
        if global_pool:
            net = tf.reduce_mean(net, [1, 2], keepdims=True, name='global_pool')
            end_points['global_pool'] = net
        if not num_classes:
            return net, end_points

        net = slim.dropout(net, dropout_keep_prob, is_training=is_training, scope='dropout7')
        # No activation and, whatever the arg scope says, no normalisation on the logits.
        net = slim.conv2d(net, num_classes, [1, 1], activation_fn=None, normalizer_fn=None,
                          scope='fc8', **_set(biases_initializer=logits_biases_initializer))
    if spatial_squeeze:
        net = tf.squeeze(net, [1, 2], name='fc8/squeezed')
    return keep('fc8', net), end_points


def relu_conv_arg_scope(weight_decay, initial_bias):
    """The arg scope AlexNet and OverFeat share: ReLU layers with L2 `weight_decay` on
    the weights and biases starting at `initial_bias`; 'SAME' convolutions and 'VALID'
    max pools."""
    with (slim.arg_scope([slim.conv2d, slim.fully_connected],
                         activation_fn=tf.nn.relu,
                         biases_initializer=tf.constant_initializer(initial_bias),
                         weights_regularizer=slim.l2_regularizer(weight_decay)),
          slim.arg_scope([slim.conv2d], padding='SAME'),
          slim.arg_scope([slim.max_pool2d], padding='VALID') as arg_scope):
        return arg_scope
