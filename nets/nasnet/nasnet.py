"""NASNet-A (Zoph et al., "Learning Transferable Architectures for Scalable Image
Recognition", 2017) for CIFAR-10 and ImageNet.

A stem, then `num_cells` normal cells in three equal stacks, a reduction cell
before the second and the third stack doubling the filters and halving the size.
In training, an auxiliary classifier reads the last cell before the second
reduction. Global average pooling, dropout and a fully connected layer end it.

As in TF-Slim, the variables sit under no model scope ('conv0/weights',
'cell_0/comb_iter_0/left/separable_5x5_1/depthwise_weights',
'final_layer/FC/weights'), so the published checkpoints nasnet-a_mobile_04_10_2017
and nasnet-a_large_04_10_2017 (1001 classes) restore unchanged. A second tower
sharing the weights is built inside
`tf.variable_scope(tf.get_variable_scope(), reuse=True)`.

The cells wire themselves by comparing static sizes, so the height and width of
the input must be known when the graph is built; the batch size may be unknown.

Typical use, 1001-way logits for a batch of 224 x 224 images:

    with slim.arg_scope(nasnet.nasnet_mobile_arg_scope()):
        logits, end_points = nasnet.build_nasnet_mobile(images, 1001, is_training=False)
"""

import contextlib
import copy

import tensorflow.compat.v1 as tf
import tf_slim as slim

from nets.nasnet import nasnet_utils


def _config(stem_multiplier, num_cells, num_conv_filters, drop_path_keep_prob,
            skip_reduction_layer_input, dense_dropout_keep_prob=0.5,
            total_training_steps=250000):
    """HParams of a published NASNet or PNASNet: the arguments, and what all of them
    share (two reductions doubling the filters, an auxiliary head, NHWC, ReLU)."""
    return nasnet_utils.HParams(
        stem_multiplier=stem_multiplier,
        num_cells=num_cells,
        num_conv_filters=num_conv_filters,
        drop_path_keep_prob=drop_path_keep_prob,
        skip_reduction_layer_input=skip_reduction_layer_input,
        dense_dropout_keep_prob=dense_dropout_keep_prob,
        total_training_steps=total_training_steps,
        filter_scaling_rate=2.0,
        num_reduction_layers=2,
        use_aux_head=1,
        data_format='NHWC',
        use_bounded_activation=False,
    )


# Training notes of the published model: batch size 32, learning rate 0.025 with a
# single-period cosine decay, auxiliary loss weight 0.4, gradients clipped to a global
# norm of 5.
def cifar_config():
    """Hyper-parameters of NASNet-A 6 @ 768 for CIFAR-10."""
    # 600 epochs at batch size 32; drop path gets stronger over these steps.
    return _config(stem_multiplier=3.0, num_cells=18, num_conv_filters=32,
                   drop_path_keep_prob=0.6, skip_reduction_layer_input=0,
                   dense_dropout_keep_prob=1.0, total_training_steps=937500)


# Training notes: batch size 16 on each of 100 synchronous replicas, learning rate
# 0.015 * 100 decayed by 0.97 every 2.4 epochs, auxiliary loss weight 0.4, label
# smoothing 0.1, gradients clipped to a global norm of 10.
def large_imagenet_config():
    """Hyper-parameters of NASNet-A 6 @ 4032 (NASNet Large) for ImageNet at 331 x 331."""
    return _config(stem_multiplier=3.0, num_cells=18, num_conv_filters=168,
                   drop_path_keep_prob=0.7, skip_reduction_layer_input=1)


# Training notes: batch size 32 on each of 50 synchronous replicas, learning rate
# 0.04 * 50 decayed by 0.97 every 2.4 epochs, auxiliary loss weight 0.4, label
# smoothing 0.1, gradients clipped to a global norm of 10.
def mobile_imagenet_config():
    """Hyper-parameters of NASNet-A 4 @ 1056 (NASNet Mobile) for ImageNet at 224 x 224."""
    return _config(stem_multiplier=1.0, num_cells=12, num_conv_filters=44,
                   drop_path_keep_prob=1.0, skip_reduction_layer_input=0)


def _nasnet_arg_scope(weight_decay, batch_norm_decay, batch_norm_epsilon):
    """Convolutions without biases or activation (batch norm follows each, and the
    cells apply the activations themselves), initialised by fan-out and L2-decayed."""
    batch_norm_params = {
        'decay': batch_norm_decay,
        'epsilon': batch_norm_epsilon,
        'scale': True,
        'fused': True,
    }
    with slim.arg_scope([slim.fully_connected, slim.conv2d, slim.separable_conv2d],
                        weights_regularizer=slim.l2_regularizer(weight_decay),
                        weights_initializer=slim.variance_scaling_initializer(mode='FAN_OUT')):
        with slim.arg_scope([slim.fully_connected], activation_fn=None, scope='FC'):
            with slim.arg_scope([slim.conv2d, slim.separable_conv2d],
                                activation_fn=None, biases_initializer=None):
                with slim.arg_scope([slim.batch_norm], **batch_norm_params) as scope:
                    return scope


def nasnet_cifar_arg_scope(weight_decay=5e-4, batch_norm_decay=0.9, batch_norm_epsilon=1e-5):
    """The arg scope of NASNet-A for CIFAR-10; see `_nasnet_arg_scope`."""
    return _nasnet_arg_scope(weight_decay, batch_norm_decay, batch_norm_epsilon)


def nasnet_mobile_arg_scope(weight_decay=4e-5, batch_norm_decay=0.9997,
                            batch_norm_epsilon=1e-3):
    """The arg scope of NASNet Mobile; see `_nasnet_arg_scope`."""
    return _nasnet_arg_scope(weight_decay, batch_norm_decay, batch_norm_epsilon)


def nasnet_large_arg_scope(weight_decay=5e-5, batch_norm_decay=0.9997,
                           batch_norm_epsilon=1e-3):
    """The arg scope of NASNet Large; see `_nasnet_arg_scope`."""
    return _nasnet_arg_scope(weight_decay, batch_norm_decay, batch_norm_epsilon)


def _build_aux_head(net, end_points, num_classes, hparams, scope):
    """Adds end_points['AuxLogits'], [B, num_classes], computed from `net`.

    The 768-filter convolution covers the whole map left by the pooling: 4 x 4 for
    NASNet Mobile at 224, 6 x 6 for NASNet Large at 331.
    """
    activation_fn = nasnet_utils.get_activation_fn(hparams.use_bounded_activation)
    with tf.variable_scope(scope), tf.variable_scope('aux_logits'):
        aux_logits = slim.avg_pool2d(net, [5, 5], stride=3, padding='VALID')
        aux_logits = slim.conv2d(aux_logits, 128, [1, 1], scope='proj')
        aux_logits = activation_fn(slim.batch_norm(aux_logits, scope='aux_bn0'))
        if hparams.data_format == nasnet_utils.DATA_FORMAT_NHWC:
            kernel_size = aux_logits.shape[1:3].as_list()
        else:
            kernel_size = aux_logits.shape[2:4].as_list()
        aux_logits = slim.conv2d(aux_logits, 768, kernel_size, padding='VALID', scope='Conv')
        aux_logits = activation_fn(slim.batch_norm(aux_logits, scope='aux_bn1'))
        aux_logits = slim.flatten(aux_logits)
        end_points['AuxLogits'] = slim.fully_connected(aux_logits, num_classes, scope='FC')


def _imagenet_stem(inputs, hparams, stem_cell, current_step=None):
    """A stride-2 3x3 convolution ('conv0') and two stride-2 cells ('cell_stem_0/1'),
    the first at a quarter, the second at half of the filters: 331 -> 165 -> 83 -> 42.

    Returns (net, cell_outputs): the second stem cell's output, and the list
    [None, conv0 output, cell_stem_0 output, cell_stem_1 output].
    """
    num_stem_cells = 2
    net = slim.conv2d(inputs, int(32 * hparams.stem_multiplier), [3, 3], stride=2,
                      padding='VALID', scope='conv0')
    net = slim.batch_norm(net, scope='conv0_bn')
    cell_outputs = [None, net]
    filter_scaling = 1.0 / (hparams.filter_scaling_rate ** num_stem_cells)
    for cell_num in range(num_stem_cells):
        net = stem_cell(net, scope='cell_stem_%d' % cell_num,
                        filter_scaling=filter_scaling, stride=2, prev_layer=cell_outputs[-2],
                        cell_num=cell_num, current_step=current_step)
        cell_outputs.append(net)
        filter_scaling *= hparams.filter_scaling_rate
    return net, cell_outputs


def _cifar_stem(inputs, hparams):
    """A 3x3 convolution ('l1_stem_3x3') keeping the 32 x 32 size.

    Returns (net, [None, net]).
    """
    net = slim.conv2d(inputs, int(hparams.num_conv_filters * hparams.stem_multiplier), 3,
                      scope='l1_stem_3x3')
    net = slim.batch_norm(net, scope='l1_stem_bn')
    return net, [None, net]


def _check_final_endpoint(final_endpoint, end_point_names):
    """Raises ValueError unless final_endpoint is None or one of end_point_names."""
    if final_endpoint is not None and final_endpoint not in end_point_names:
        raise ValueError('Unknown final endpoint %s; valid: %s'
                         % (final_endpoint, ', '.join(end_point_names)))


def _build_classifier(net, end_points, num_classes, hparams, final_endpoint):
    """The final layer shared by NASNet and PNASNet: activation, global average pool
    ('global_pool', [B, C]), dropout, then fully connected ('final_layer/FC').

    Returns (net, end_points): logits [B, num_classes], 'Logits' and 'Predictions'
    added to end_points; or the pooled features when num_classes is 0 or None;
    or the tensor of final_endpoint.
    """
    with tf.variable_scope('final_layer'):
        net = nasnet_utils.get_activation_fn(hparams.use_bounded_activation)(net)
        net = nasnet_utils.global_avg_pool(net)
        end_points['global_pool'] = net
        if final_endpoint == 'global_pool' or not num_classes:
            return net, end_points
        net = slim.dropout(net, hparams.dense_dropout_keep_prob, scope='dropout')
        logits = slim.fully_connected(net, num_classes, scope='FC')
        end_points['Logits'] = logits
        if final_endpoint == 'Logits':
            return logits, end_points
        end_points['Predictions'] = tf.nn.softmax(logits, name='predictions')
        if final_endpoint == 'Predictions':
            return end_points['Predictions'], end_points
    return logits, end_points


def _build_nasnet_base(images, normal_cell, reduction_cell, num_classes, hparams,
                       is_training, stem_type, final_endpoint=None, current_step=None):
    """Builds the network from its cells; see `build_nasnet_mobile`.

    reduction_cell: NASNet's cell before the second and the third stack; None for
    PNASNet, whose normal cell runs there with stride 2 instead.
    stem_type: 'imagenet' (convolution and two stride-2 cells: the reduction cell,
    or PNASNet's normal cell) or 'cifar' (one convolution).
    """
    reduction_indices = nasnet_utils.calc_reduction_layers(
        hparams.num_cells, hparams.num_reduction_layers)
    reduction_names = [] if reduction_cell is None else [
        'Reduction_Cell_%d' % i for i in range(len(reduction_indices))]
    _check_final_endpoint(final_endpoint, (
        ['Stem'] + reduction_names + ['Cell_%d' % i for i in range(hparams.num_cells)]
        + ['global_pool', 'Logits', 'Predictions']))
    end_points = {}

    def reached(name, net):
        end_points[name] = net
        return name == final_endpoint

    if stem_type == 'imagenet':
        stem_cell = normal_cell if reduction_cell is None else reduction_cell
        net, cell_outputs = _imagenet_stem(images, hparams, stem_cell, current_step)
        # Drop path numbers the cells from the first stem cell.
        true_cell_num = 2
    elif stem_type == 'cifar':
        net, cell_outputs = _cifar_stem(images, hparams)
        true_cell_num = 0
    else:
        raise ValueError('Unknown stem_type: %s' % stem_type)
    if reached('Stem', net):
        return net, end_points

    # The auxiliary head reads the last cell before the second reduction.
    aux_head_cell_idxes = [index - 1 for index in reduction_indices[1:2]]
    filter_scaling = 1.0
    for cell_num in range(hparams.num_cells):
        stride = 1
        # With skip_reduction_layer_input, the first normal cell after a reduction
        # reads the reduction's input's predecessor rather than the reduction's input.
        if hparams.skip_reduction_layer_input:
            prev_layer = cell_outputs[-2]
        if cell_num in reduction_indices:
            filter_scaling *= hparams.filter_scaling_rate
            if reduction_cell is None:
                stride = 2
            else:
                reduction_num = reduction_indices.index(cell_num)
                net = reduction_cell(net, scope='reduction_cell_%d' % reduction_num,
                                     filter_scaling=filter_scaling, stride=2,
                                     prev_layer=cell_outputs[-2], cell_num=true_cell_num,
                                     current_step=current_step)
                if reached('Reduction_Cell_%d' % reduction_num, net):
                    return net, end_points
                true_cell_num += 1
                cell_outputs.append(net)
        # Without skip_reduction_layer_input, a strided normal cell (PNASNet) keeps
        # the prev_layer of the cell before it, as in TF-Slim.
        if not hparams.skip_reduction_layer_input and stride == 1:
            prev_layer = cell_outputs[-2]
        net = normal_cell(net, scope='cell_%d' % cell_num, filter_scaling=filter_scaling,
                          stride=stride, prev_layer=prev_layer, cell_num=true_cell_num,
                          current_step=current_step)
        if reached('Cell_%d' % cell_num, net):
            return net, end_points
        true_cell_num += 1
        if (hparams.use_aux_head and cell_num in aux_head_cell_idxes and num_classes
                and is_training):
            aux_net = nasnet_utils.get_activation_fn(hparams.use_bounded_activation)(net)
            _build_aux_head(aux_net, end_points, num_classes, hparams,
                            scope='aux_%d' % cell_num)
        cell_outputs.append(net)
    return _build_classifier(net, end_points, num_classes, hparams, final_endpoint)


@contextlib.contextmanager
def _model_arg_scope(hparams, is_training):
    """The arg scope every NASNet and PNASNet model function builds in: training
    mode for batch norm, dropout and drop path; hparams.data_format for the layers."""
    with slim.arg_scope([slim.dropout, nasnet_utils.drop_path, slim.batch_norm],
                        is_training=is_training):
        with slim.arg_scope(
                [slim.avg_pool2d, slim.max_pool2d, slim.conv2d, slim.batch_norm,
                 slim.separable_conv2d, nasnet_utils.factorized_reduction,
                 nasnet_utils.global_avg_pool, nasnet_utils.get_channel_index,
                 nasnet_utils.get_channel_dim],
                data_format=hparams.data_format):
            yield


def _prepare_images(images, hparams):
    """Checks that `images` is [batch, height, width, channels] with a known height
    and width, which the cells need to wire themselves; transposes it to NCHW if
    hparams.data_format asks."""
    if images.shape.ndims != 4 or not images.shape[1:3].is_fully_defined():
        raise ValueError('NASNet and PNASNet need images of shape [batch, height, width, '
                         'channels] with a known height and width, got %s.' % images.shape)
    if hparams.data_format == nasnet_utils.DATA_FORMAT_NCHW:
        return tf.transpose(images, [0, 3, 1, 2])
    return images


def _build_nasnet(images, num_classes, is_training, config, stem_type, final_endpoint,
                  current_step, normal_cell_class=nasnet_utils.NasNetANormalCell,
                  reduction_cell_class=nasnet_utils.NasNetAReductionCell,
                  drop_path_keep_prob=None):
    """Shared body of the build_nasnet_* and build_pnasnet_* functions.

    config is copied, not changed; drop_path_keep_prob, unless None, replaces its
    drop_path_keep_prob. reduction_cell_class: None for PNASNet, whose normal cell also
    does the reductions. Returns (net, end_points).
    """
    hparams = copy.deepcopy(config)
    if drop_path_keep_prob is not None:
        hparams.set_hparam('drop_path_keep_prob', drop_path_keep_prob)
    # Drop path only regularises training.
    if not is_training:
        hparams.set_hparam('drop_path_keep_prob', 1.0)
    images = _prepare_images(images, hparams)
    # Drop path's schedule counts every cell: NASNet's two reduction cells, and the
    # two stem cells on ImageNet.
    total_num_cells = hparams.num_cells
    if reduction_cell_class is not None:
        total_num_cells += 2
    if stem_type == 'imagenet':
        total_num_cells += 2
    cell_args = (hparams.num_conv_filters, hparams.drop_path_keep_prob, total_num_cells,
                 hparams.total_training_steps, hparams.use_bounded_activation)
    normal_cell = normal_cell_class(*cell_args)
    reduction_cell = None if reduction_cell_class is None else reduction_cell_class(*cell_args)
    with _model_arg_scope(hparams, is_training):
        return _build_nasnet_base(images, normal_cell, reduction_cell, num_classes, hparams,
                                  is_training, stem_type, final_endpoint, current_step)


def build_nasnet_cifar(images, num_classes, is_training=True, config=None, current_step=None,
                       drop_path_keep_prob=None):
    """NASNet-A for CIFAR-10: 18 normal cells, 32 x 32 -> 8 x 8 x 768.

    Arguments and results as `build_nasnet_mobile`, without final_endpoint.
    """
    config = cifar_config() if config is None else config
    return _build_nasnet(images, num_classes, is_training, config, 'cifar', None, current_step,
                         drop_path_keep_prob=drop_path_keep_prob)


build_nasnet_cifar.default_image_size = 32


def build_nasnet_mobile(images, num_classes, is_training=True, final_endpoint=None,
                        config=None, current_step=None, drop_path_keep_prob=None):
    """NASNet Mobile for ImageNet: 12 normal cells, 224 x 224 -> 7 x 7 x 1056.

    images: [batch, height, width, 3] with a known height and width.
    num_classes: outputs of the classifier; 0 or None returns the pooled features
        [batch, 1056] instead of logits.
    is_training: training mode of batch norm, dropout and drop path; the auxiliary
        head (end_points['AuxLogits']) is built in training only.
    final_endpoint: None, or the end point to stop at and return: 'Stem', 'Cell_<i>',
        'Reduction_Cell_<i>', 'global_pool', 'Logits' or 'Predictions'.
    config: hyper-parameters, mobile_imagenet_config() if None; copied, not changed.
    current_step: the step drop path's schedule follows; None uses the global step.
    drop_path_keep_prob: drop path's keep probability in the last cell, replacing the
        config's (which stays unchanged); None keeps the config's.
    Returns (logits [batch, num_classes], end_points).
    Raises ValueError for an unknown final_endpoint or an unknown height or width.
    """
    config = mobile_imagenet_config() if config is None else config
    return _build_nasnet(images, num_classes, is_training, config, 'imagenet', final_endpoint,
                         current_step, drop_path_keep_prob=drop_path_keep_prob)


build_nasnet_mobile.default_image_size = 224


def build_nasnet_large(images, num_classes, is_training=True, final_endpoint=None,
                       config=None, current_step=None, drop_path_keep_prob=None):
    """NASNet Large for ImageNet: 18 normal cells, 331 x 331 -> 11 x 11 x 4032.

    Arguments and results as `build_nasnet_mobile`; config defaults to
    large_imagenet_config().
    """
    config = large_imagenet_config() if config is None else config
    return _build_nasnet(images, num_classes, is_training, config, 'imagenet', final_endpoint,
                         current_step, drop_path_keep_prob=drop_path_keep_prob)


build_nasnet_large.default_image_size = 331
