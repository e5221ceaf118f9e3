"""Arg scope, layer chaining and heads shared by the Inception family (and MobileNet V1).

Layers are built as ordered lists of (end point, build(net, scope) -> net) pairs;
`build_up_to` chains them. A tower is a list of (depth, kernel_size, scope)
stride-1 convolutions.
"""

import tensorflow.compat.v1 as tf
import tf_slim as slim


def inception_arg_scope(weight_decay=0.00004,
                        use_batch_norm=True,
                        batch_norm_decay=0.9997,
                        batch_norm_epsilon=0.001,
                        activation_fn=tf.nn.relu,
                        batch_norm_updates_collections=tf.GraphKeys.UPDATE_OPS,
                        batch_norm_scale=False):
    """Returns the arg_scope the Inception networks are built (and were trained) in.

    Convolutions get L2 weight decay, He (variance-scaling) initialisation and, when
    `use_batch_norm`, batch normalisation in place of biases. Fully connected layers
    get the same weight decay.

    Args:
      weight_decay: L2 regularisation strength for conv and fully connected weights.
      use_batch_norm: whether each convolution is followed by batch normalisation.
      batch_norm_decay: decay of the batch-norm moving averages.
      batch_norm_epsilon: added to the variance before dividing by it.
      activation_fn: activation applied after each convolution.
      batch_norm_updates_collections: collection that receives the moving-average
        update ops (run them with the train op), or None to update in place.
      batch_norm_scale: whether batch norm learns a gamma. The published checkpoints
        have none, because a ReLU follows every batch norm.
    """
    batch_norm_params = {
        'decay': batch_norm_decay,
        'epsilon': batch_norm_epsilon,
        'updates_collections': batch_norm_updates_collections,
        'scale': batch_norm_scale,
    }
    if use_batch_norm:
        normalizer_fn = slim.batch_norm
        normalizer_params = batch_norm_params
    else:
        normalizer_fn = None
        normalizer_params = {}
    with slim.arg_scope([slim.conv2d, slim.fully_connected],
                        weights_regularizer=slim.l2_regularizer(weight_decay)):
        with slim.arg_scope([slim.conv2d],
                            weights_initializer=slim.variance_scaling_initializer(),
                            activation_fn=activation_fn,
                            normalizer_fn=normalizer_fn,
                            normalizer_params=normalizer_params) as scope:
            return scope


def stride_1_same(**kwargs):
    """Arg scope in which convolutions and pools keep the grid size unless told otherwise.

    Slim's pools default to stride 2 and 'VALID'. `kwargs` are further arguments
    for the same layers (e.g. data_format).
    """
    return slim.arg_scope([slim.conv2d, slim.max_pool2d, slim.avg_pool2d],
                          stride=1, padding='SAME', **kwargs)


def build_up_to(inputs, layers, final_endpoint):
    """Chains `layers`, (end point, build(net, scope) -> net) pairs, up to `final_endpoint`.

    Returns (net, end_points). An unknown end point raises ValueError before any
    variable is created.
    """
    names = [name for name, _ in layers]
    if final_endpoint not in names:
        raise ValueError(f'Unknown final endpoint {final_endpoint!r}; expected one of {names}.')
    end_points = {}
    net = inputs
    for name, build in layers:
        net = build(net, name)
        end_points[name] = net
        if name == final_endpoint:
            break
    return net, end_points


def depth_fn(depth_multiplier, min_depth):
    """Returns depth(d): d scaled by `depth_multiplier`, never below `min_depth`."""
    if depth_multiplier <= 0:
        raise ValueError(f'depth_multiplier must be greater than zero, got {depth_multiplier}.')
    return lambda d: max(int(d * depth_multiplier), min_depth)


def _nominal(num_outputs):
    """The depth of a layer in a network without depth multiplier."""
    return num_outputs


def tower(net, convs, depth=_nominal):
    """Stacks convolutions given as (depth, kernel_size, scope) triples.

    depth: maps each nominal depth to the one built (see `depth_fn`).
    """
    for num_outputs, kernel_size, scope in convs:
        net = slim.conv2d(net, depth(num_outputs), kernel_size, scope=scope)
    return net


def pool_projection(net, num_outputs):
    """The pooling branch of a block: 3x3 average pool, then a 1x1 projection."""
    net = slim.avg_pool2d(net, [3, 3], scope='AvgPool_0a_3x3')
    return slim.conv2d(net, num_outputs, [1, 1], scope='Conv2d_0b_1x1')


def expanded_pair(net, num_outputs, scope_1x3, scope_3x1):
    """Parallel 1x3 and 3x1 convolutions of `num_outputs`, concatenated:
    [B, H, W, C] -> [B, H, W, 2 * num_outputs]."""
    return tf.concat([slim.conv2d(net, num_outputs, [1, 3], scope=scope_1x3),
                      slim.conv2d(net, num_outputs, [3, 1], scope=scope_3x1)], 3)


def branches(net, towers, depth=_nominal):
    """Builds one `tower` of `net` per list of `towers`, in scopes 'Branch_0', 'Branch_1', ...

    Returns the towers' outputs.
    """
    outputs = []
    for index, convs in enumerate(towers):
        with tf.variable_scope(f'Branch_{index}'):
            outputs.append(tower(net, convs, depth))
    return outputs


def inception_block(net, towers, pool_depth, depth=_nominal):
    """The `branches` of `towers`, then a `pool_projection` branch, concatenated.

    [B, H, W, C] -> [B, H, W, sum of the last tower depths + pool_depth].
    """
    outputs = branches(net, towers, depth)
    with tf.variable_scope(f'Branch_{len(towers)}'):
        outputs.append(pool_projection(net, depth(pool_depth)))
    return tf.concat(outputs, 3)


def reduction_block(net, conv_branches, stride=2, padding='VALID', depth=_nominal):
    """A grid-reducing block: strided 3x3 convolutions and a 3x3 max pool in parallel.

    conv_branches: one (tower, num_outputs, scope) per convolution branch ('Branch_0',
    'Branch_1', ...): the `tower`'s convolutions, then a 3x3 convolution of
    num_outputs with `stride` and `padding`. The last branch max-pools alike.
    Returns [B, H', W', C + the branches' num_outputs], H' = H / stride ('SAME')
    or (H - 3) / stride + 1 ('VALID').
    """
    outputs = []
    for index, (convs, num_outputs, scope) in enumerate(conv_branches):
        with tf.variable_scope(f'Branch_{index}'):
            branch = tower(net, convs, depth)
            outputs.append(slim.conv2d(branch, depth(num_outputs), [3, 3], stride=stride,
                                       padding=padding, scope=scope))
    with tf.variable_scope(f'Branch_{len(conv_branches)}'):
        outputs.append(slim.max_pool2d(net, [3, 3], stride=stride, padding=padding,
                                       scope='MaxPool_1a_3x3'))
    return tf.concat(outputs, 3)


def reduced_kernel_size_for_small_input(input_tensor, kernel_size):
    """Shrinks a [kh, kw] kernel to the H, W of a [B, H, W, C] tensor.

    Lets the fixed-size pools of the heads run on inputs smaller than the default.
    An unknown H or W leaves the kernel as given.
    """
    height, width = input_tensor.get_shape().as_list()[1:3]
    if height is None or width is None:
        return kernel_size
    return [min(height, kernel_size[0]), min(width, kernel_size[1])]


def pooled_conv_logits(net, end_points, num_classes, dropout_keep_prob, spatial_squeeze,
                       prediction_fn, global_pool, pool_kernel_size, pool_scope, pool_end_point,
                       pool_stride=2, layer_scopes=('Dropout_1b', 'Conv2d_1c_1x1'),
                       global_pool_name='global_pool', pre_logits=False):
    """The head of Inception V1-V3 and MobileNet V1: [B, H, W, C] -> [B, num_classes].

    In scope 'Logits': an average pool to 1 x 1, dropout and a 1x1 convolution
    without activation or normalisation, then the 'Predictions' end point.

    Args:
      net: the last feature map, [B, H, W, C].
      end_points: receives 'global_pool' or `pool_end_point`, 'PreLogits' (with
        `pre_logits`), 'Logits' and 'Predictions'.
      num_classes: logits size; 0 or None stops after the pool.
      dropout_keep_prob: keep probability of the dropout.
      spatial_squeeze: squeeze the logits from [B, 1, 1, N] to [B, N].
      prediction_fn: maps logits to 'Predictions'; None leaves that end point out.
      global_pool: average the whole map (op `global_pool_name`) instead of a
        `pool_kernel_size` 'VALID' window, which is shrunk for small inputs.
      pool_scope: scope of the window pool, formatted with the kernel's height
        and width (checkpoints name it after the kernel).
      pool_stride: stride of the window pool; it matters for inputs larger than
        the default only.
      layer_scopes: scopes of the dropout and of the logits convolution.
      pre_logits: record the dropout's output as 'PreLogits'.

    Returns:
      logits [B, num_classes] ([B, 1, 1, num_classes] unsqueezed), or the pooled
      features [B, 1, 1, C] without num_classes.
    """
    dropout_scope, logits_scope = layer_scopes
    with tf.variable_scope('Logits'):
        if global_pool:
            net = tf.reduce_mean(net, [1, 2], keepdims=True, name=global_pool_name)
            end_points['global_pool'] = net
        else:
            kernel_size = reduced_kernel_size_for_small_input(net, pool_kernel_size)
            net = slim.avg_pool2d(net, kernel_size, stride=pool_stride, padding='VALID',
                                  scope=pool_scope.format(*kernel_size))
            end_points[pool_end_point] = net
        if not num_classes:
            return net
        net = slim.dropout(net, keep_prob=dropout_keep_prob, scope=dropout_scope)
        if pre_logits:
            end_points['PreLogits'] = net
        logits = slim.conv2d(net, num_classes, [1, 1], activation_fn=None, normalizer_fn=None,
                             scope=logits_scope)
        if spatial_squeeze:
            logits = tf.squeeze(logits, [1, 2], name='SpatialSqueeze')
    end_points['Logits'] = logits
    if prediction_fn:
        end_points['Predictions'] = prediction_fn(logits, scope='Predictions')
    return logits


def global_average(net, scope):
    """[B, H, W, C] -> [B, 1, 1, C]: a 'VALID' average pool when H and W are known, else a mean."""
    kernel_size = net.get_shape()[1:3]
    if kernel_size.is_fully_defined():
        return slim.avg_pool2d(net, kernel_size, padding='VALID', scope=scope)
    return tf.reduce_mean(net, [1, 2], keepdims=True, name='global_pool')


def aux_logits(net, num_classes, pool_scope, conv_scope, logits_scope):
    """The auxiliary classifier of Inception V4 and Inception-ResNet-V2, in scope 'AuxLogits'.

    [B, 17, 17, C] -> 5x5/3 average pool -> 1x1 conv of 128 -> conv of 768 over the
    whole (5 x 5) grid -> fully connected [B, num_classes]. Only the scopes differ
    between the two networks.
    """
    if not net.get_shape()[1:3].is_fully_defined():
        raise ValueError('The auxiliary head needs a known spatial input size; build '
                         'with create_aux_logits=False for inputs of unknown size.')
    with tf.variable_scope('AuxLogits'):
        # TF-Slim pools a fixed 5 x 5; shrinking it lets smaller inputs build.
        net = slim.avg_pool2d(net, reduced_kernel_size_for_small_input(net, [5, 5]), stride=3,
                              padding='VALID', scope=pool_scope)
        net = slim.conv2d(net, 128, [1, 1], scope='Conv2d_1b_1x1')
        net = slim.conv2d(net, 768, net.get_shape()[1:3], padding='VALID', scope=conv_scope)
        net = slim.flatten(net)
        return slim.fully_connected(net, num_classes, activation_fn=None, scope=logits_scope)
