"""Cells and helpers shared by NASNet-A and PNASNet-5.

NASNet-A: Zoph et al., "Learning Transferable Architectures for Scalable Image
Recognition", 2017. PNASNet-5: Liu et al., "Progressive Neural Architecture
Search", 2017.

A cell reads two hidden states, the outputs of the two cells before it, and runs
five combinations. Each combination applies an operation (a stack of separable
convolutions, a pooling or the identity) to each of two hidden states chosen
among those so far and adds the two results, making one more hidden state. The
cell's output concatenates the hidden states no combination consumed.

The functions taking `data_format` get it from the arg scope the model functions
open; their default, INVALID, makes a call outside such a scope fail loudly.
"""

import tensorflow.compat.v1 as tf
import tf_slim as slim

DATA_FORMAT_NCHW = 'NCHW'
DATA_FORMAT_NHWC = 'NHWC'
INVALID = 'null'
# With use_bounded_activation, operation outputs are clipped to [-6, 6], the range
# most activations fall in, so that they quantise well.
CLIP_BY_VALUE_CAP = 6


class HParams:
    """Named hyper-parameters read as attributes, standing in for the removed
    tf.contrib.training.HParams.

    Only the names given to the constructor exist; `set_hparam` changes one of them.
    """

    def __init__(self, **hparams):
        vars(self).update(hparams)

    def set_hparam(self, name, value):
        """Sets hyper-parameter `name`; KeyError if there is none of that name."""
        if name not in vars(self):
            raise KeyError('Unknown hyper-parameter %r; known: %s'
                           % (name, ', '.join(sorted(vars(self)))))
        setattr(self, name, value)

    def values(self):
        """Returns a dict of every hyper-parameter name -> value."""
        return dict(vars(self))

    def __repr__(self):
        return 'HParams(%s)' % ', '.join('%s=%r' % item for item in sorted(vars(self).items()))


def calc_reduction_layers(num_cells, num_reduction_layers):
    """Indices of the cells that reduction cells precede, evenly spread over the
    `num_cells` normal cells: calc_reduction_layers(18, 2) == [6, 12]."""
    return [int(float(pool_num) / (num_reduction_layers + 1) * num_cells)
            for pool_num in range(1, num_reduction_layers + 1)]


def get_activation_fn(use_bounded_activation):
    """ReLU6 for networks meant to be quantised (use_bounded_activation), else ReLU."""
    return tf.nn.relu6 if use_bounded_activation else tf.nn.relu


def _check_data_format(data_format):
    if data_format not in (DATA_FORMAT_NHWC, DATA_FORMAT_NCHW):
        raise ValueError("data_format must be 'NHWC' or 'NCHW' (the NASNet model functions "
                         "set it with an arg scope), got %r." % (data_format,))


@slim.add_arg_scope
def get_channel_index(data_format=INVALID):
    """The channel axis of a 4-D tensor: 3 for 'NHWC', 1 for 'NCHW'."""
    _check_data_format(data_format)
    return 3 if data_format == DATA_FORMAT_NHWC else 1


@slim.add_arg_scope
def get_channel_dim(shape, data_format=INVALID):
    """The number of channels of a 4-D `shape` (TensorShape or list)."""
    if len(shape) != 4:
        raise ValueError('Expected a 4-D shape, got %s.' % (shape,))
    return int(shape[get_channel_index(data_format=data_format)])


@slim.add_arg_scope
def global_avg_pool(x, data_format=INVALID):
    """Averages away the spatial dimensions: [B, H, W, C] (or NCHW) -> [B, C]."""
    if x.shape.ndims != 4:
        raise ValueError('Expected a 4-D tensor, got shape %s.' % x.shape)
    _check_data_format(data_format)
    return tf.reduce_mean(x, [1, 2] if data_format == DATA_FORMAT_NHWC else [2, 3])


@slim.add_arg_scope
def factorized_reduction(net, output_filters, stride, data_format=INVALID):
    """Maps `net` to `output_filters` channels, downsampling by `stride`.

    Stride 1 is a 1x1 convolution ('path_conv') and batch norm ('path_bn'). A
    strided 1x1 convolution would never see half of the pixels, so stride s > 1
    runs two of them on sampling grids one pixel apart ('path1_conv' and
    'path2_conv', half of the filters each, the odd one to the second) and batch
    normalises their concatenation ('final_path_bn').

    net: [B, H, W, C] (or NCHW). Returns [B, ceil(H / s), ceil(W / s), output_filters].
    """
    _check_data_format(data_format)
    if stride == 1:
        net = slim.conv2d(net, output_filters, 1, scope='path_conv')
        return slim.batch_norm(net, scope='path_bn')

    def sample(x, offset):
        grid = slice(offset, None, stride)
        if data_format == DATA_FORMAT_NHWC:
            return x[:, grid, grid, :]
        return x[:, :, grid, grid]

    path1 = slim.conv2d(sample(net, 0), output_filters // 2, 1, scope='path1_conv')
    # The second grid starts one pixel down and right; on an odd-sized input its
    # last row and column fall on this zero padding.
    if data_format == DATA_FORMAT_NHWC:
        padded = tf.pad(net, [[0, 0], [0, 1], [0, 1], [0, 0]])
    else:
        padded = tf.pad(net, [[0, 0], [0, 0], [0, 1], [0, 1]])
    path2 = slim.conv2d(sample(padded, 1), output_filters - output_filters // 2, 1,
                        scope='path2_conv')
    net = tf.concat([path1, path2], axis=get_channel_index(data_format=data_format))
    return slim.batch_norm(net, scope='final_path_bn')


@slim.add_arg_scope
def drop_path(net, keep_prob, is_training=True):
    """In training, zeroes each example of `net` with probability 1 - keep_prob and
    scales the others by 1 / keep_prob; the identity otherwise.

    net: [B, H, W, C]; keep_prob: a float or a scalar float32 tensor.
    """
    if not is_training:
        return net
    noise_shape = [tf.shape(net)[0], 1, 1, 1]
    keep = tf.floor(keep_prob + tf.random_uniform(noise_shape, dtype=tf.float32))
    return net * tf.cast(1.0 / keep_prob, net.dtype) * tf.cast(keep, net.dtype)


def _square_kernel_size(token):
    """'5x5' -> 5."""
    height, width = token.split('x')
    if height != width:
        raise ValueError('Rectangular filters not supported: %s' % token)
    return int(height)


def _operation_to_filter_shape(operation):
    """'separable_5x5_2' -> 5."""
    return _square_kernel_size(next(part for part in operation.split('_') if 'x' in part))


def _operation_to_num_layers(operation):
    """'separable_5x5_2' -> 2 stacked layers; 'separable_5x5' -> 1."""
    last = operation.split('_')[-1]
    return 1 if 'x' in last else int(last)


def _operation_to_info(operation):
    """'separable_3x3_4' -> (4, 3): (number of layers, kernel size)."""
    return _operation_to_num_layers(operation), _operation_to_filter_shape(operation)


def _operation_to_pooling_type(operation):
    """'avg_pool_3x3' -> 'avg'."""
    return operation.split('_')[0]


def _operation_to_pooling_shape(operation):
    """'avg_pool_3x3' -> 3."""
    return _square_kernel_size(operation.split('_')[-1])


def _operation_to_pooling_info(operation):
    """'max_pool_3x3' -> ('max', 3)."""
    return _operation_to_pooling_type(operation), _operation_to_pooling_shape(operation)


def _stacked_separable_conv(net, stride, operation, filter_size, use_bounded_activation):
    """'separable_KxK_N': N x (activation, KxK separable convolution, batch norm).

    Only the first layer strides. Scopes 'separable_KxK_<i>' and 'bn_sep_KxK_<i>'.
    Returns [B, H / stride, W / stride, filter_size].
    """
    num_layers, kernel_size = _operation_to_info(operation)
    activation_fn = get_activation_fn(use_bounded_activation)
    for layer in range(1, num_layers + 1):
        net = activation_fn(net)
        net = slim.separable_conv2d(
            net, filter_size, kernel_size, depth_multiplier=1, stride=stride if layer == 1 else 1,
            scope='separable_%dx%d_%d' % (kernel_size, kernel_size, layer))
        net = slim.batch_norm(net, scope='bn_sep_%dx%d_%d' % (kernel_size, kernel_size, layer))
    return net


def _pooling(net, stride, operation, use_bounded_activation):
    """'avg_pool_KxK' or 'max_pool_KxK' with 'SAME' padding: [B, H / stride, W / stride, C]."""
    pooling_type, kernel_size = _operation_to_pooling_info(operation)
    if use_bounded_activation:
        net = tf.nn.relu6(net)
    if pooling_type == 'avg':
        return slim.avg_pool2d(net, kernel_size, stride=stride, padding='SAME')
    if pooling_type == 'max':
        return slim.max_pool2d(net, kernel_size, stride=stride, padding='SAME')
    raise ValueError('Unimplemented pooling type: %s' % pooling_type)


def _global_step():
    """The global step, created at the root scope if missing: created inside a
    cell's scope it would be named e.g. 'cell_stem_0/comb_iter_0/left/global_step',
    a name no checkpoint has."""
    with tf.variable_scope(tf.VariableScope(reuse=tf.AUTO_REUSE)):
        return tf.train.get_or_create_global_step()


def _summary(name, value):
    # Summary ops have CPU kernels only.
    with tf.device('/cpu:0'):
        tf.summary.scalar(name, value)


class NasNetABaseCell:
    """A NASNet-style cell; the subclasses fix its operations and wiring.

    num_conv_filters: filters of every operation at filter_scaling 1.
    operations: one (left, right) pair of operation names per combination, among
        'separable_KxK_N', 'avg_pool_KxK', 'max_pool_KxK' and 'none' (identity).
    used_hiddenstates: a 0/1 flag per hidden state (the 2 inputs, then one per
        combination); the cell's output concatenates the states flagged 0.
    hiddenstate_indices: the hidden state each operation reads, in the order of
        `operations`; 0 is the cell's input, 1 the output of the cell before it.
    drop_path_keep_prob: keep probability of drop path in the last cell at the
        end of training; 1.0 disables drop path.
    total_num_cells: cells in the network, stem cells included, and
    total_training_steps: steps of training; both set drop path's schedule.
    use_bounded_activation: ReLU6 and clipping instead of ReLU, for quantisation.
    """

    def __init__(self, num_conv_filters, operations, used_hiddenstates, hiddenstate_indices,
                 drop_path_keep_prob, total_num_cells, total_training_steps,
                 use_bounded_activation=False):
        self._num_conv_filters = num_conv_filters
        self._operations = operations
        self._used_hiddenstates = used_hiddenstates
        self._hiddenstate_indices = hiddenstate_indices
        self._drop_path_keep_prob = drop_path_keep_prob
        self._total_num_cells = total_num_cells
        self._total_training_steps = total_training_steps
        self._use_bounded_activation = use_bounded_activation

    def __call__(self, net, scope=None, filter_scaling=1, stride=1, prev_layer=None,
                 cell_num=-1, current_step=None):
        """Builds the cell in variable scope `scope`.

        net: [B, H, W, C], the output of the previous cell; prev_layer: the output
            of the cell before that, or None to use `net` in its place.
        filter_scaling: multiplies num_conv_filters; stride: 2 in reduction cells.
        cell_num: the cell's index in the network, stem cells included, and
        current_step: the training step (None: the global step); both set drop
            path's keep probability.
        Returns [B, H / stride, W / stride, filters * number of unused states],
        filters being int(num_conv_filters * filter_scaling).
        """
        self._filter_size = int(self._num_conv_filters * filter_scaling)
        with tf.variable_scope(scope):
            keep_prob = self._drop_path_keep_prob_of_cell(cell_num, current_step)
            states = self._cell_base(net, prev_layer)
            for iteration in range(len(self._operations) // 2):
                with tf.variable_scope('comb_iter_%d' % iteration):
                    outputs = []
                    for side, k in (('left', 2 * iteration), ('right', 2 * iteration + 1)):
                        index = self._hiddenstate_indices[k]
                        with tf.variable_scope(side):
                            outputs.append(self._apply_conv_operation(
                                states[index], self._operations[k], stride, index < 2,
                                keep_prob))
                    with tf.variable_scope('combine'):
                        combined = outputs[0] + outputs[1]
                        if self._use_bounded_activation:
                            combined = tf.nn.relu6(combined)
                    states.append(combined)
            with tf.variable_scope('cell_output'):
                return self._combine_unused_states(states)

    def _reduce_prev_layer(self, prev_layer, curr_layer):
        """Brings `prev_layer` to the size and filters of this cell's hidden states.

        It is larger than `curr_layer` when a reduction cell ran in between.
        """
        if prev_layer is None:
            return curr_layer
        activation_fn = get_activation_fn(self._use_bounded_activation)
        # Index 2 is a spatial axis in both data formats.
        if int(curr_layer.shape[2]) != int(prev_layer.shape[2]):
            return factorized_reduction(activation_fn(prev_layer), self._filter_size, stride=2)
        if self._filter_size != get_channel_dim(prev_layer.shape):
            prev_layer = slim.conv2d(activation_fn(prev_layer), self._filter_size, 1,
                                     scope='prev_1x1')
            prev_layer = slim.batch_norm(prev_layer, scope='prev_bn')
        return prev_layer

    def _cell_base(self, net, prev_layer):
        """The cell's two input hidden states: [projected net, adjusted prev_layer]."""
        prev_layer = self._reduce_prev_layer(prev_layer, net)
        net = get_activation_fn(self._use_bounded_activation)(net)
        net = slim.conv2d(net, self._filter_size, 1, scope='1x1')
        net = slim.batch_norm(net, scope='beginning_bn')
        return [net, prev_layer]

    def _clip(self, net):
        if self._use_bounded_activation:
            return tf.clip_by_value(net, -CLIP_BY_VALUE_CAP, CLIP_BY_VALUE_CAP)
        return net

    def _apply_conv_operation(self, net, operation, stride, is_from_original_input,
                              drop_path_keep_prob):
        """Runs `operation` on one hidden state, then drop path unless the operation
        is the identity or drop_path_keep_prob is None; returns [B, H', W', filters].

        Only the cell's inputs are downsampled: the states the combinations make
        already have the reduced size.
        """
        if not is_from_original_input:
            stride = 1
        input_filters = get_channel_dim(net.shape)
        filter_size = self._filter_size
        if 'separable' in operation:
            net = _stacked_separable_conv(net, stride, operation, filter_size,
                                          self._use_bounded_activation)
            net = self._clip(net)
        elif operation == 'none':
            if self._use_bounded_activation:
                net = tf.nn.relu6(net)
            if stride > 1 or input_filters != filter_size:
                if not self._use_bounded_activation:
                    net = tf.nn.relu(net)
                net = slim.conv2d(net, filter_size, 1, stride=stride, scope='1x1')
                net = slim.batch_norm(net, scope='bn_1')
                net = self._clip(net)
        elif 'pool' in operation:
            net = _pooling(net, stride, operation, self._use_bounded_activation)
            if input_filters != filter_size:
                net = slim.conv2d(net, filter_size, 1, stride=1, scope='1x1')
                net = slim.batch_norm(net, scope='bn_1')
            net = self._clip(net)
        else:
            raise ValueError('Unimplemented operation: %s' % operation)
        if operation != 'none' and drop_path_keep_prob is not None:
            net = drop_path(net, drop_path_keep_prob)
        return net

    def _combine_unused_states(self, states):
        """Concatenates the unused hidden states along channels, first reducing any
        whose size or filters differ from the last state's ('reduction_<i>')."""
        if len(states) != len(self._used_hiddenstates):
            raise ValueError('used_hiddenstates has %d flags for %d hidden states.'
                             % (len(self._used_hiddenstates), len(states)))
        final_height = int(states[-1].shape[2])
        final_filters = get_channel_dim(states[-1].shape)
        for index, used in enumerate(self._used_hiddenstates):
            height = int(states[index].shape[2])
            if used or (height == final_height
                        and get_channel_dim(states[index].shape) == final_filters):
                continue
            with tf.variable_scope('reduction_%d' % index):
                states[index] = factorized_reduction(
                    states[index], final_filters, 2 if height != final_height else 1)
        unused = [state for state, used in zip(states, self._used_hiddenstates, strict=True)
                  if not used]
        return tf.concat(unused, axis=get_channel_index())

    def _drop_path_keep_prob_of_cell(self, cell_num, current_step=None, use_summaries=False,
                                     drop_connect_version='v3'):
        """The keep probability of drop path in cell `cell_num`; None if drop path is off.

        The drop probability, 1 - drop_path_keep_prob at most, grows linearly with
        the cell's depth ('v2'), with training progress up to total_training_steps
        ('v1'), or with both ('v3'). It is the same for every operation of the cell,
        so it is computed once per cell.
        current_step: a scalar step tensor; None uses the global step.
        """
        keep_prob = self._drop_path_keep_prob
        if keep_prob >= 1.0:
            return None
        if drop_connect_version not in ('v1', 'v2', 'v3'):
            raise ValueError('drop_connect_version must be v1, v2 or v3, got %r.'
                             % (drop_connect_version,))
        if drop_connect_version in ('v2', 'v3'):
            if cell_num == -1:
                raise ValueError('Drop path scaled by depth needs the cell_num of the cell.')
            layer_ratio = (cell_num + 1) / float(self._total_num_cells)
            if use_summaries:
                _summary('layer_ratio', layer_ratio)
            keep_prob = 1 - layer_ratio * (1 - keep_prob)
        if drop_connect_version in ('v1', 'v3'):
            if current_step is None:
                current_step = _global_step()
            current_ratio = tf.minimum(
                1.0, tf.cast(current_step, tf.float32) / self._total_training_steps)
            if use_summaries:
                _summary('current_ratio', current_ratio)
            keep_prob = 1 - current_ratio * (1 - keep_prob)
        if use_summaries:
            _summary('drop_path_keep_prob', keep_prob)
        return keep_prob


class FixedCell(NasNetABaseCell):
    """A cell whose operations and wiring are its class's OPERATIONS,
    USED_HIDDENSTATES and HIDDENSTATE_INDICES (see NasNetABaseCell)."""

    def __init__(self, num_conv_filters, drop_path_keep_prob, total_num_cells,
                 total_training_steps, use_bounded_activation=False):
        super().__init__(num_conv_filters, self.OPERATIONS, self.USED_HIDDENSTATES,
                         self.HIDDENSTATE_INDICES, drop_path_keep_prob, total_num_cells,
                         total_training_steps, use_bounded_activation)


class NasNetANormalCell(FixedCell):
    """The NASNet-A normal cell (Figure 4 of the paper, left): keeps the size."""

    OPERATIONS = ['separable_5x5_2', 'separable_3x3_2',
                  'separable_5x5_2', 'separable_3x3_2',
                  'avg_pool_3x3', 'none',
                  'avg_pool_3x3', 'avg_pool_3x3',
                  'separable_3x3_2', 'none']
    USED_HIDDENSTATES = [1, 0, 0, 0, 0, 0, 0]
    HIDDENSTATE_INDICES = [0, 1, 1, 1, 0, 1, 1, 1, 0, 0]


class NasNetAReductionCell(FixedCell):
    """The NASNet-A reduction cell (Figure 4 of the paper, right): meant for stride 2."""

    OPERATIONS = ['separable_5x5_2', 'separable_7x7_2',
                  'max_pool_3x3', 'separable_7x7_2',
                  'avg_pool_3x3', 'separable_5x5_2',
                  'none', 'avg_pool_3x3',
                  'separable_3x3_2', 'max_pool_3x3']
    USED_HIDDENSTATES = [1, 1, 1, 0, 0, 0, 0]
    HIDDENSTATE_INDICES = [0, 1, 0, 1, 0, 1, 3, 2, 2, 0]
