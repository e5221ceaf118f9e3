"""Convolution blocks of the MobileNet family.

The inverted residual block of MobileNet V2 (`expanded_conv`), with the
options MobileNet V3 and MobileNet EdgeTPU add to it (squeeze-excite as an
`expansion_transform`, other activations, fused expansion), the split 1x1
convolution it uses for expansion and projection, and the V1-style separable
convolution. Scope names match TF-Slim's, so published checkpoints load.
"""

import contextlib
import functools

import tensorflow.compat.v1 as tf
import tf_slim as slim


def _fixed_padding(inputs, kernel_size, rate=1):
    """Zero-pads so a 'VALID' convolution gives the output size of a 'SAME' one.

    The padding depends only on the kernel, never on the input size.
    inputs: [batch, height, width, channels]; kernel_size: [kh, kw].
    Returns [batch, height + kh_eff - 1, width + kw_eff - 1, channels], where
    k_eff = k + (k - 1) * (rate - 1) is the dilated kernel size.
    """
    paddings = [[0, 0]]
    for size in kernel_size:
        pad_total = size + (size - 1) * (rate - 1) - 1
        paddings.append([pad_total // 2, pad_total - pad_total // 2])
    paddings.append([0, 0])
    return tf.pad(inputs, paddings)


def _make_divisible(v, divisor, min_value=None):
    """Rounds channel count `v` to the nearest multiple of `divisor` (an int).

    The result is at least `min_value` (default `divisor`) and, so that thin
    layers do not lose too much, never more than 10% below `v`.
    """
    if min_value is None:
        min_value = divisor
    rounded = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * v:
        rounded += divisor
    return rounded


def _split_divisible(num, num_ways, divisible_by=8):
    """Splits `num` into `num_ways` near-equal parts, each a multiple of `divisible_by`.

    Returns the list of part sizes, summing to `num`.
    Raises ValueError if `num` is not a multiple of `divisible_by` or the parts
    would be smaller than `divisible_by`.
    """
    if num % divisible_by or num / num_ways < divisible_by:
        raise ValueError('Cannot split %d into %d parts divisible by %d.'
                         % (num, num_ways, divisible_by))
    base = num // num_ways // divisible_by * divisible_by
    parts = []
    total = 0
    for i in range(num_ways):
        part = base
        # Grow each part until the running total catches up with the exact share.
        while total + part < num * (i + 1) / num_ways:
            part += divisible_by
        parts.append(part)
        total += part
    return parts


@slim.add_arg_scope
def split_separable_conv2d(input_tensor, num_outputs, scope=None, normalizer_fn=None, stride=1,
                           rate=1, endpoints=None, use_explicit_padding=False):
    """MobileNet V1 separable convolution: 3x3 depthwise, then 1x1 pointwise.

    Unlike `slim.separable_conv2d` with outputs, the depthwise convolution gets its
    own normalizer and activation. Scopes are '<scope>_depthwise' and
    '<scope>_pointwise' (V1 checkpoint names), or 'separable[_N]/depthwise' and
    '.../pointwise' when scope is None.
    input_tensor: [batch, height, width, channels].
    endpoints: optional dict that receives both outputs under their scope names.
    use_explicit_padding: pad with `_fixed_padding` and convolve with 'VALID'.
    Returns [batch, height / stride, width / stride, num_outputs] (rounded up).
    """
    if endpoints is None:
        endpoints = {}
    with contextlib.ExitStack() as stack:
        if scope is None:
            block_scope = stack.enter_context(
                tf.variable_scope(None, default_name='separable'))
            stack.enter_context(tf.name_scope(block_scope.original_name_scope))
            prefix = ''
        else:
            prefix = scope + '_'
        kernel_size = [3, 3]
        padding = 'SAME'
        if use_explicit_padding:
            padding = 'VALID'
            input_tensor = _fixed_padding(input_tensor, kernel_size, rate)
        depthwise_scope = prefix + 'depthwise'
        net = slim.separable_conv2d(input_tensor, None, kernel_size, depth_multiplier=1,
                                    stride=stride, rate=rate, normalizer_fn=normalizer_fn,
                                    padding=padding, scope=depthwise_scope)
        endpoints[depthwise_scope] = net
        pointwise_scope = prefix + 'pointwise'
        net = slim.conv2d(net, num_outputs, [1, 1], stride=1, normalizer_fn=normalizer_fn,
                          scope=pointwise_scope)
        endpoints[pointwise_scope] = net
    return net


def expand_input_by_factor(n, divisible_by=8):
    """An `expansion_size` for `expanded_conv`: n times the block's input channels,
    rounded by `_make_divisible`."""
    return lambda num_inputs, **_: _make_divisible(num_inputs * n, divisible_by)


# The default expansion of `expanded_conv`, MobileNet V2's.
_EXPAND_BY_6 = expand_input_by_factor(6)


def split_conv(input_tensor, num_outputs, num_ways, scope, divisible_by=8, **kwargs):
    """1x1 convolution as `num_ways` independent groups of channels.

    Input and output channels are split alike (`_split_divisible`) and group i
    only sees input group i; the groups' scopes are '<scope>_part_<i>'. With one
    way, or if a group would get fewer than `divisible_by` channels, this is a
    plain 1x1 `slim.conv2d` in `scope`.
    input_tensor: [batch, height, width, channels]; kwargs go to slim.conv2d.
    Returns [batch, height, width, num_outputs] (for stride 1).
    """
    in_channels = input_tensor.get_shape().as_list()[3]
    if num_ways == 1 or min(in_channels // num_ways, num_outputs // num_ways) < divisible_by:
        return slim.conv2d(input_tensor, num_outputs, [1, 1], scope=scope, **kwargs)
    input_parts = tf.split(input_tensor, _split_divisible(in_channels, num_ways, divisible_by),
                           axis=3, name='split_' + scope)
    output_sizes = _split_divisible(num_outputs, num_ways, divisible_by)
    outputs = []
    for i, (part, size) in enumerate(zip(input_parts, output_sizes, strict=True)):
        part_scope = '%s_part_%d' % (scope, i)
        net = slim.conv2d(part, size, [1, 1], scope=part_scope, **kwargs)
        outputs.append(tf.identity(net, part_scope + '_output'))
    return tf.concat(outputs, 3, name=scope + '_concat')


@slim.add_arg_scope
def expanded_conv(input_tensor, num_outputs, expansion_size=_EXPAND_BY_6, stride=1,
                  rate=1, kernel_size=(3, 3), residual=True, normalizer_fn=None,
                  split_projection=1, split_expansion=1, split_divisible_by=8,
                  expansion_transform=None, depthwise_location='expansion',
                  depthwise_channel_multiplier=1, endpoints=None, use_explicit_padding=False,
                  padding='SAME', inner_activation_fn=None, depthwise_activation_fn=None,
                  project_activation_fn=tf.identity, depthwise_fn=slim.separable_conv2d,
                  expansion_fn=split_conv, projection_fn=split_conv, scope=None):
    """Inverted residual block: 1x1 expansion, k x k depthwise, linear 1x1 projection.

    input_tensor: [batch, height, width, channels].
    num_outputs: channels of the projection (the block's output).
    expansion_size: channels after expansion, or a callable of `num_inputs`
        (see `expand_input_by_factor`); no expansion layer ('expand') is built
        unless it exceeds the input channels.
    stride, rate, kernel_size, padding: of the depthwise convolution ('depthwise').
    residual: add the input to the output when stride is 1 and the channels
        match; or a callable(input_tensor=, output_tensor=) returning the output.
    normalizer_fn: of every convolution of the block.
    split_expansion, split_projection, split_divisible_by: see `split_conv`.
    expansion_transform: callable(expansion_tensor=, input_tensor=) applied
        after the depthwise convolution, e.g. squeeze-excite.
    depthwise_location: 'expansion' (V2), 'input', 'output' or None. Depthwise
        convolutions at the input or output are linear. With None, an
        `expansion_fn` other than `split_conv` is the block's spatial
        convolution and gets its stride, rate, padding and (when
        use_explicit_padding) pre-padding for `kernel_size`.
    depthwise_channel_multiplier: depthwise outputs per input channel.
    endpoints: optional dict that receives 'expansion_output',
        'depthwise_output' and 'projection_output'.
    use_explicit_padding: pad with `_fixed_padding` and convolve with 'VALID';
        requires padding='SAME'.
    inner_activation_fn: activation of the expansion and depthwise
        convolutions; None keeps the arg_scope's.
    depthwise_activation_fn: overrides inner_activation_fn for the depthwise.
    project_activation_fn: of the projection (linear by default).
    depthwise_fn, expansion_fn, projection_fn: the layer functions.
    scope: default 'expanded_conv' (uniquified).
    Returns [batch, height / stride, width / stride, num_outputs] (rounded up),
    named '<scope>/output'.
    Raises TypeError for an unknown depthwise_location, or for
    use_explicit_padding with a padding other than 'SAME'.
    """
    if depthwise_location not in (None, 'input', 'output', 'expansion'):
        raise TypeError('%r is unknown value for depthwise_location' % depthwise_location)
    if use_explicit_padding:
        if padding != 'SAME':
            raise TypeError('`use_explicit_padding` should only be used with "SAME" padding.')
        padding = 'VALID'
    conv_args = {} if inner_activation_fn is None else {'activation_fn': inner_activation_fn}
    depthwise_args = dict(conv_args) if depthwise_activation_fn is None else {
        'activation_fn': depthwise_activation_fn}
    endpoints = {} if endpoints is None else endpoints

    def pad(net):
        return _fixed_padding(net, kernel_size, rate) if use_explicit_padding else net

    def depthwise(net, **activation):
        net = depthwise_fn(pad(net), num_outputs=None, kernel_size=kernel_size,
                           depth_multiplier=depthwise_channel_multiplier, stride=stride,
                           rate=rate, normalizer_fn=normalizer_fn, padding=padding,
                           scope='depthwise', **activation)
        endpoints['depthwise_output'] = tf.identity(net, name='depthwise_output')
        return endpoints['depthwise_output']

    with tf.variable_scope(scope, default_name='expanded_conv') as block_scope, \
            tf.name_scope(block_scope.original_name_scope), \
            slim.arg_scope([slim.conv2d], **conv_args):
        input_tensor = tf.identity(input_tensor, 'input')
        in_channels = input_tensor.get_shape().as_list()[3]
        net = input_tensor
        if depthwise_location == 'input':
            net = depthwise(net, activation_fn=None)

        inner_size = (expansion_size(num_inputs=in_channels) if callable(expansion_size)
                      else expansion_size)
        if inner_size > net.get_shape().as_list()[3]:
            if expansion_fn is split_conv:
                expand = functools.partial(split_conv, num_ways=split_expansion,
                                           divisible_by=split_divisible_by, stride=1)
            elif depthwise_location is None:
                # A fused block: the expansion does the block's spatial convolution.
                net = pad(net)
                expand = functools.partial(expansion_fn, stride=stride, rate=rate,
                                           padding=padding)
            else:
                expand = expansion_fn
            net = expand(net, inner_size, scope='expand', normalizer_fn=normalizer_fn)
            endpoints['expansion_output'] = tf.identity(net, 'expansion_output')
            net = endpoints['expansion_output']

        if depthwise_location == 'expansion':
            net = depthwise(net, **depthwise_args)
        if expansion_transform:
            net = expansion_transform(expansion_tensor=net, input_tensor=input_tensor)

        if projection_fn is split_conv:
            projection_fn = functools.partial(split_conv, num_ways=split_projection,
                                              divisible_by=split_divisible_by, stride=1)
        net = projection_fn(net, num_outputs, scope='project', normalizer_fn=normalizer_fn,
                            activation_fn=project_activation_fn)
        endpoints['projection_output'] = net
        if depthwise_location == 'output':
            net = depthwise(net, activation_fn=None)

        return tf.identity(_add_residual(residual, input_tensor, net, stride), name='output')


def _add_residual(residual, input_tensor, output_tensor, stride):
    """`output_tensor` plus the shortcut that `residual` asks for (see expanded_conv)."""
    if callable(residual):
        return residual(input_tensor=input_tensor, output_tensor=output_tensor)
    if (residual and stride == 1
            and output_tensor.get_shape().as_list()[3] == input_tensor.get_shape().as_list()[3]):
        # stride == 1 also covers dilated blocks, whose output keeps the input's size.
        return output_tensor + input_tensor
    return output_tensor


@slim.add_arg_scope
def squeeze_excite(input_tensor, divisible_by=8, squeeze_factor=3, inner_activation_fn=tf.nn.relu,
                   gating_fn=tf.sigmoid, squeeze_input_tensor=None, pool=None):
    """Squeeze-and-excitation: rescales each channel by a gate computed from pooled features.

    Scope 'squeeze_excite' with two 1x1 convolutions with biases: 'Conv' squeezes
    to `_make_divisible(channels / squeeze_factor, divisible_by)` channels with
    inner_activation_fn, 'Conv_1' restores the channels of input_tensor with
    gating_fn.
    input_tensor: [batch, height, width, channels], the tensor gated.
    squeeze_input_tensor: the tensor the gate is computed from; input_tensor if None.
    pool: None averages over the whole map (any spatial size). An int averages
        pool x pool windows with stride pool (whole map if it is smaller) and
        resizes the gates bilinearly back to input_tensor's size; this needs
        static spatial shapes.
    Returns input_tensor * gates, same shape as input_tensor.
    """
    with tf.variable_scope('squeeze_excite'):
        if squeeze_input_tensor is None:
            squeeze_input_tensor = input_tensor
        in_channels = squeeze_input_tensor.get_shape().as_list()[3]
        out_channels = input_tensor.get_shape().as_list()[3]
        if pool is None:
            pooled = tf.reduce_mean(squeeze_input_tensor, [1, 2], keepdims=True)
        else:
            height, width = squeeze_input_tensor.get_shape().as_list()[1:3]
            stride = 1
            if height >= pool:
                height, width, stride = pool, pool, pool
            pooled = tf.nn.avg_pool2d(squeeze_input_tensor, [1, height, width, 1],
                                      [1, stride, stride, 1], 'VALID')
        squeeze_channels = _make_divisible(in_channels / squeeze_factor, divisible_by)
        squeezed = slim.conv2d(pooled, squeeze_channels, [1, 1], normalizer_fn=None,
                               activation_fn=inner_activation_fn)
        gates = slim.conv2d(squeezed, out_channels, [1, 1], normalizer_fn=None,
                            activation_fn=gating_fn)
        if pool is not None:
            gates = tf.image.resize_images(gates, input_tensor.get_shape().as_list()[1:3],
                                           align_corners=True)
        return input_tensor * gates
