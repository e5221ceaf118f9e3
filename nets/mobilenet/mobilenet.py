"""The generic MobileNet builder: runs a table of layers (`conv_defs`).

A conv_defs is a dict with
  'spec': list of `op(layer_function, **params)`, built in order; layer i
      (from 1) is end point 'layer_<i>';
  'defaults': {(layer functions,): {argument: value}} arg_scope defaults, for
      arguments that change the architecture (normalizer, activation, ...);
  'overrides' (optional): like 'defaults', applied over them.
Each op's `multiplier_func` (default `depth_multiplier`) scales its
'num_outputs' by the network's multiplier. MobileNet V2 and V3 (see
mobilenet_v2.py and mobilenet_v3.py) are such tables.

Networks are built in inference mode unless `training_scope()` or
is_training=True says otherwise:

    with slim.arg_scope(mobilenet_v2.training_scope(weight_decay=4e-5)):
        logits, end_points = mobilenet_v2.mobilenet(images, is_training=True)
"""

import collections
import contextlib
import functools
import posixpath

import tensorflow.compat.v1 as tf
import tf_slim as slim

from nets.mobilenet.conv_blocks import (  # noqa: F401  (_fixed_padding is part of the API)
    _fixed_padding,
    _make_divisible,
    expanded_conv,
    split_separable_conv2d,
)

# Layer functions that pad for themselves when asked to (use_explicit_padding=True).
_SELF_PADDING_OPS = (expanded_conv, split_separable_conv2d)


@contextlib.contextmanager
def _set_arg_scope_defaults(defaults):
    """Enters one slim.arg_scope per item of `defaults`, a dict or list of
    ((functions,), {argument: value}) pairs; later items win."""
    items = defaults.items() if hasattr(defaults, 'items') else defaults
    with contextlib.ExitStack() as stack:
        for functions, arguments in items:
            stack.enter_context(slim.arg_scope(functions, **arguments))
        yield


@slim.add_arg_scope
def depth_multiplier(output_params, multiplier, divisible_by=8, min_depth=8, **unused_kwargs):
    """Scales output_params['num_outputs'] in place by `multiplier`, rounded by
    `_make_divisible(..., divisible_by, min_depth)`; no-op without 'num_outputs'."""
    if 'num_outputs' not in output_params:
        return
    output_params['num_outputs'] = _make_divisible(output_params['num_outputs'] * multiplier,
                                                   divisible_by, min_depth)


_Op = collections.namedtuple('Op', ['op', 'params', 'multiplier_func'])


def op(opfunc, multiplier_func=depth_multiplier, **params):
    """One layer of a conv_defs 'spec': `opfunc(net, **params)`.

    multiplier_func(params, multiplier) adapts a copy of params to the depth
    multiplier before each build.
    """
    return _Op(opfunc, params=params, multiplier_func=multiplier_func)


def safe_arg_scope(funcs, **kwargs):
    """slim.arg_scope(funcs, **kwargs) without the arguments that are None (so
    None leaves the functions' own defaults in place); a no-op if none remain."""
    kwargs = {key: value for key, value in kwargs.items() if value is not None}
    if not kwargs:
        return contextlib.nullcontext()
    return slim.arg_scope(funcs, **kwargs)


@contextlib.contextmanager
def _scope_all(scope, default_scope=None):
    """Enters variable scope `scope` (or a uniquified `default_scope`) together with
    the name scope it was first opened with; yields the variable scope."""
    with tf.variable_scope(scope, default_name=default_scope) as variable_scope, \
            tf.name_scope(variable_scope.original_name_scope):
        yield variable_scope


class AtrousSchedule:
    """The stride and atrous rate of each layer under an output stride.

    Once the product of the strides applied reaches `output_stride` (None: never), each
    later layer keeps stride 1 and dilates by the strides it would have applied so far.
    """

    def __init__(self, output_stride):
        self._output_stride = output_stride
        self._current_stride = 1
        self._rate = 1

    def next_layer(self, stride):
        """(stride, rate) of the next layer, whose nominal stride is `stride`."""
        if self._output_stride is not None and self._current_stride == self._output_stride:
            layer = (1, self._rate)
            self._rate *= stride
        else:
            layer = (stride, 1)
            self._current_stride *= stride
        return layer


def _layer_params(opdef, multiplier, schedule, use_explicit_padding):
    """(params of `opdef.op` for the next layer, its atrous rate)."""
    params = dict(opdef.params)
    opdef.multiplier_func(params, multiplier)
    params['stride'], rate = schedule.next_layer(params.get('stride', 1))
    if rate > 1:
        params['rate'] = rate
    if use_explicit_padding and opdef.op in _SELF_PADDING_OPS:
        params['use_explicit_padding'] = True
    return params, rate


def _named_outputs(operations, layer_of_name_scope):
    """{'layer_<i>/<name>': tensor} of the `operations` named '...output' directly in a
    layer's name scope (blocks name their noteworthy tensors so; see expanded_conv)."""
    outputs = {}
    for operation in operations:
        name_scope, name = posixpath.split(operation.name)
        if name.endswith('output') and name_scope in layer_of_name_scope:
            outputs[layer_of_name_scope[name_scope] + '/' + name] = operation.outputs[0]
    return outputs


@slim.add_arg_scope
def mobilenet_base(inputs, conv_defs, multiplier=1.0, final_endpoint=None, output_stride=None,
                   use_explicit_padding=False, scope=None, is_training=False):
    """Builds the layers of `conv_defs` on `inputs`, up to `final_endpoint`.

    inputs: [batch, height, width, channels]; batch and spatial size may be unknown
        wherever the layers allow it.
    conv_defs: see the module docstring.
    multiplier: depth multiplier, > 0, handed to each op's multiplier_func.
    final_endpoint: 'layer_<i>' to stop after; None builds every layer.
    output_stride: None, 1 or an even number; strides that would take the
        activations beyond it become atrous rates of the following layers.
    use_explicit_padding: pad with `_fixed_padding` and convolve with 'VALID'
        instead of using 'SAME'.
    scope: variable scope (default 'Mobilenet').
    is_training: batch-norm mode; None keeps the arg_scope's.
    Returns (net, end_points): net is the last layer built; end_points maps
    'layer_<i>' to layer i's output and 'layer_<i>/<name>' to each tensor a
    layer names '...output' in its own scope (e.g. 'layer_3/expansion_output',
    'layer_3/depthwise_output', 'layer_3/output').
    Raises ValueError for a non-positive multiplier, a disallowed output_stride
    or an unknown final_endpoint.
    """
    if multiplier <= 0:
        raise ValueError('multiplier is not greater than zero.')
    if output_stride is not None and (output_stride == 0 or
                                      (output_stride > 1 and output_stride % 2)):
        raise ValueError('Output stride must be None, 1 or a multiple of 2.')
    layer_names = ['layer_%d' % (i + 1) for i in range(len(conv_defs['spec']))]
    if final_endpoint is not None and final_endpoint not in layer_names:
        raise ValueError('Unknown final endpoint %s' % final_endpoint)

    overrides = dict(conv_defs.get('overrides', {}))
    if use_explicit_padding:
        overrides[(slim.conv2d, slim.separable_conv2d)] = {'padding': 'VALID'}

    graph = tf.get_default_graph()
    first_new_op = len(graph.get_operations())
    with _scope_all(scope, default_scope='Mobilenet'), \
            safe_arg_scope([slim.batch_norm], is_training=is_training), \
            _set_arg_scope_defaults(conv_defs.get('defaults', {})), \
            _set_arg_scope_defaults(overrides):
        schedule = AtrousSchedule(output_stride)
        net = inputs
        end_points = {}
        layer_of_name_scope = {}
        for end_point, opdef in zip(layer_names, conv_defs['spec'], strict=True):
            params, rate = _layer_params(opdef, multiplier, schedule, use_explicit_padding)
            if (use_explicit_padding and opdef.op not in _SELF_PADDING_OPS
                    and 'kernel_size' in params):
                net = _fixed_padding(net, params['kernel_size'], rate)
            net = opdef.op(net, **params)
            end_points[end_point] = net
            layer_of_name_scope[posixpath.dirname(net.op.name)] = end_point
            if end_point == final_endpoint:
                break
    end_points.update(_named_outputs(graph.get_operations()[first_new_op:],
                                     layer_of_name_scope))
    return net, end_points


@slim.add_arg_scope
def mobilenet(inputs, num_classes=1001, prediction_fn=slim.softmax, reuse=None, scope='Mobilenet',
              base_only=False, use_reduce_mean_for_pooling=False, **mobilenet_args):
    """MobileNet classifier: `mobilenet_base`, global average pool, dropout, 1x1 logits.

    inputs: [batch, height, width, channels]; batch and spatial size may be unknown
        wherever the layers allow it.
    num_classes: logits size; None or 0 returns the pooled features
        [batch, 1, 1, channels] (end point 'global_pool').
    prediction_fn: maps logits to end_points['Predictions']; None to skip.
    reuse: reuse the variables of `scope` (a second tower).
    scope: variable scope.
    base_only: return mobilenet_base's (net, end_points), with no pooling or logits.
    use_reduce_mean_for_pooling: pool with tf.reduce_mean rather than `global_pool`.
    mobilenet_args: for `mobilenet_base` (conv_defs, multiplier, is_training,
        final_endpoint, output_stride, use_explicit_padding); is_training also
        sets the dropout mode.
    Returns (logits [batch, num_classes], end_points).
    Raises ValueError unless inputs has rank 4.
    """
    is_training = mobilenet_args.get('is_training', False)
    input_rank = len(inputs.get_shape().as_list())
    if input_rank != 4:
        raise ValueError('Expected rank 4 input, was: %d' % input_rank)

    with tf.variable_scope(scope, 'Mobilenet', reuse=reuse) as scope:
        inputs = tf.identity(inputs, 'input')
        net, end_points = mobilenet_base(inputs, scope=scope, **mobilenet_args)
        if base_only:
            return net, end_points
        net = tf.identity(net, name='embedding')
        with tf.variable_scope('Logits'):
            if use_reduce_mean_for_pooling:
                net = tf.reduce_mean(net, [1, 2], keepdims=True, name='global_pool')
            else:
                net = global_pool(net)
            end_points['global_pool'] = net
            if not num_classes:
                return net, end_points
            net = slim.dropout(net, scope='Dropout', is_training=is_training)
            # 'Conv2d_1c_1x1': the scope name of the published checkpoints.
            logits = slim.conv2d(net, num_classes, [1, 1], activation_fn=None,
                                 normalizer_fn=None, biases_initializer=tf.zeros_initializer(),
                                 scope='Conv2d_1c_1x1')
            logits = tf.squeeze(logits, [1, 2])
            logits = tf.identity(logits, name='output')
        end_points['Logits'] = logits
        if prediction_fn:
            end_points['Predictions'] = prediction_fn(logits, 'Predictions')
    return logits, end_points


def global_pool(input_tensor, pool_op=tf.nn.avg_pool2d):
    """Averages each channel over the whole map: [batch, h, w, c] -> [batch, 1, 1, c].

    Uses pool_op (an average pool, well supported by inference hardware) when h
    and w are known at graph-build time, tf.reduce_mean (same values) otherwise.
    """
    height, width = input_tensor.get_shape().as_list()[1:3]
    if height is None or width is None:
        return tf.reduce_mean(input_tensor, [1, 2], keepdims=True)
    return pool_op(input_tensor, ksize=[1, height, width, 1], strides=[1, 1, 1, 1],
                   padding='VALID')


def wrapped_partial(func, *args, **kwargs):
    """functools.partial that keeps func's name, docstring and attributes
    (default_image_size in particular)."""
    partial_func = functools.partial(func, *args, **kwargs)
    functools.update_wrapper(partial_func, func)
    return partial_func


def reject_generic_multiplier(kwargs, network):
    """Raises ValueError if kwargs has 'multiplier': MobileNet V2 and V3 (`network`)
    take depth_multiplier, which their finegrain_classification_mode adjusts."""
    if 'multiplier' in kwargs:
        raise ValueError('%s doesn\'t support generic multiplier parameter use '
                         '"depth_multiplier" instead.' % network)


def training_scope(is_training=True, weight_decay=0.00004, stddev=0.09, dropout_keep_prob=0.8,
                   bn_decay=0.997):
    """The arg_scope MobileNet V2 and V3 were trained in.

    is_training: batch-norm and dropout mode of `mobilenet` / `mobilenet_base`
        called without one (an explicit is_training argument wins); None
        leaves every mode to its default.
    weight_decay: L2 decay of the (full) convolutions' weights; depthwise
        weights are not decayed.
    stddev: of the truncated-normal weight initializer; negative for Xavier.
    dropout_keep_prob: keep probability of the dropout before the logits.
    bn_decay: decay of the batch-norm moving averages.
    Returns an arg_scope for `slim.arg_scope`. Arguments that change the
    architecture live in the conv_defs, not here.
    """
    if stddev < 0:
        initializer = slim.initializers.xavier_initializer()
    else:
        initializer = tf.truncated_normal_initializer(stddev=stddev)
    with slim.arg_scope([slim.conv2d, slim.fully_connected, slim.separable_conv2d],
                        weights_initializer=initializer, normalizer_fn=slim.batch_norm), \
            slim.arg_scope([mobilenet_base, mobilenet], is_training=is_training), \
            safe_arg_scope([slim.batch_norm], is_training=is_training, decay=bn_decay), \
            safe_arg_scope([slim.dropout], is_training=is_training, keep_prob=dropout_keep_prob), \
            slim.arg_scope([slim.conv2d], weights_regularizer=slim.l2_regularizer(weight_decay)), \
            slim.arg_scope([slim.separable_conv2d], weights_regularizer=None) as scope:
        return scope
