"""PNASNet-5 (Liu et al., "Progressive Neural Architecture Search", 2017) for ImageNet.

NASNet's ImageNet stem and classifier around a single kind of cell, the PNASNet-5
cell found by progressive search: the cells at the two reduction points simply
run with stride 2 and twice the filters.

As in TF-Slim, the variables sit under no model scope ('cell_0/...',
'final_layer/FC/weights'), so the published checkpoint pnasnet-5_large_2017_12_13
(1001 classes) restores unchanged; see nasnet.py for reuse and input sizes.
"""

import copy

from nets.nasnet import nasnet, nasnet_utils


def large_imagenet_config():
    """Hyper-parameters of PNASNet-5 Large for ImageNet at 331 x 331."""
    return nasnet_utils.HParams(
        stem_multiplier=3.0,
        dense_dropout_keep_prob=0.5,
        num_cells=12,
        filter_scaling_rate=2.0,
        num_conv_filters=216,
        drop_path_keep_prob=0.6,
        use_aux_head=1,
        num_reduction_layers=2,
        data_format='NHWC',
        skip_reduction_layer_input=1,
        total_training_steps=250000,
        use_bounded_activation=False,
    )


def mobile_imagenet_config():
    """Hyper-parameters of PNASNet-5 Mobile for ImageNet at 224 x 224."""
    return nasnet_utils.HParams(
        stem_multiplier=1.0,
        dense_dropout_keep_prob=0.5,
        num_cells=9,
        filter_scaling_rate=2.0,
        num_conv_filters=54,
        drop_path_keep_prob=1.0,
        use_aux_head=1,
        num_reduction_layers=2,
        data_format='NHWC',
        skip_reduction_layer_input=1,
        total_training_steps=250000,
        use_bounded_activation=False,
    )


def pnasnet_large_arg_scope(weight_decay=4e-5, batch_norm_decay=0.9997,
                            batch_norm_epsilon=0.001):
    """The arg scope of PNASNet Large: NASNet Large's, with its own default weight decay."""
    return nasnet.nasnet_large_arg_scope(weight_decay, batch_norm_decay, batch_norm_epsilon)


def pnasnet_mobile_arg_scope(weight_decay=4e-5, batch_norm_decay=0.9997,
                             batch_norm_epsilon=0.001):
    """The arg scope of PNASNet Mobile: NASNet Mobile's."""
    return nasnet.nasnet_mobile_arg_scope(weight_decay, batch_norm_decay, batch_norm_epsilon)


def _build_pnasnet_base(images, normal_cell, num_classes, hparams, is_training,
                        final_endpoint=None):
    """Builds the network from its cell; see `build_pnasnet_large`."""
    reduction_indices = nasnet_utils.calc_reduction_layers(
        hparams.num_cells, hparams.num_reduction_layers)
    nasnet._check_final_endpoint(final_endpoint, (
        ['Stem'] + ['Cell_%d' % i for i in range(hparams.num_cells)]
        + ['global_pool', 'Logits', 'Predictions']))
    end_points = {}

    def reached(name, net):
        end_points[name] = net
        return name == final_endpoint

    net, cell_outputs = nasnet._imagenet_stem(images, hparams, normal_cell)
    if reached('Stem', net):
        return net, end_points

    # The auxiliary head reads the last cell before the second reduction.
    aux_head_cell_idxes = [index - 1 for index in reduction_indices[1:2]]
    filter_scaling = 1.0
    # Drop path numbers the cells from the first stem cell.
    true_cell_num = 2
    for cell_num in range(hparams.num_cells):
        is_reduction = cell_num in reduction_indices
        if is_reduction:
            filter_scaling *= hparams.filter_scaling_rate
        # Without skip_reduction_layer_input, a reduction cell keeps the prev_layer
        # of the cell before it.
        if hparams.skip_reduction_layer_input or not is_reduction:
            prev_layer = cell_outputs[-2]
        net = normal_cell(net, scope='cell_%d' % cell_num, filter_scaling=filter_scaling,
                          stride=2 if is_reduction else 1, prev_layer=prev_layer,
                          cell_num=true_cell_num)
        if reached('Cell_%d' % cell_num, net):
            return net, end_points
        true_cell_num += 1
        cell_outputs.append(net)
        if (hparams.use_aux_head and cell_num in aux_head_cell_idxes and num_classes
                and is_training):
            aux_net = nasnet_utils.get_activation_fn(hparams.use_bounded_activation)(net)
            nasnet._build_aux_head(aux_net, end_points, num_classes, hparams,
                                   scope='aux_%d' % cell_num)
    return nasnet._build_classifier(net, end_points, num_classes, hparams, final_endpoint)


def _build_pnasnet(images, num_classes, is_training, final_endpoint, hparams):
    """Shared body of the build_pnasnet_* functions; `hparams` is already a private copy."""
    nasnet._update_hparams(hparams, is_training)
    images = nasnet._prepare_images(images, hparams)
    # PNASNet has no separate reduction cells: its cells plus the two stem cells.
    total_num_cells = hparams.num_cells + 2
    normal_cell = PNasNetNormalCell(hparams.num_conv_filters, hparams.drop_path_keep_prob,
                                    total_num_cells, hparams.total_training_steps,
                                    hparams.use_bounded_activation)
    with nasnet._model_arg_scope(hparams, is_training):
        return _build_pnasnet_base(images, normal_cell, num_classes, hparams, is_training,
                                   final_endpoint)


def build_pnasnet_large(images, num_classes, is_training=True, final_endpoint=None,
                        config=None):
    """PNASNet-5 Large for ImageNet: 12 cells, 331 x 331 -> 11 x 11 x 4320.

    images: [batch, height, width, 3] with a known height and width.
    num_classes: outputs of the classifier; 0 or None returns the pooled features
        [batch, 4320] instead of logits.
    is_training: training mode of batch norm, dropout and drop path; the auxiliary
        head (end_points['AuxLogits']) is built in training only.
    final_endpoint: None, or the end point to stop at and return: 'Stem',
        'Cell_<i>', 'global_pool', 'Logits' or 'Predictions'.
    config: hyper-parameters, large_imagenet_config() if None; copied, not changed.
    Returns (logits [batch, num_classes], end_points).
    Raises ValueError for an unknown final_endpoint or an unknown height or width.
    """
    hparams = large_imagenet_config() if config is None else copy.deepcopy(config)
    return _build_pnasnet(images, num_classes, is_training, final_endpoint, hparams)


build_pnasnet_large.default_image_size = 331


def build_pnasnet_mobile(images, num_classes, is_training=True, final_endpoint=None,
                         config=None):
    """PNASNet-5 Mobile for ImageNet: 9 cells, 224 x 224 -> 7 x 7 x 1080.

    Arguments and results as `build_pnasnet_large`; config defaults to
    mobile_imagenet_config().
    """
    hparams = mobile_imagenet_config() if config is None else copy.deepcopy(config)
    return _build_pnasnet(images, num_classes, is_training, final_endpoint, hparams)


build_pnasnet_mobile.default_image_size = 224


class PNasNetNormalCell(nasnet_utils.NasNetABaseCell):
    """The PNASNet-5 cell (Figure 2 of the paper); a reduction cell when run with stride 2."""

    def __init__(self, num_conv_filters, drop_path_keep_prob, total_num_cells,
                 total_training_steps, use_bounded_activation=False):
        operations = ['separable_5x5_2', 'max_pool_3x3',
                      'separable_7x7_2', 'max_pool_3x3',
                      'separable_5x5_2', 'separable_3x3_2',
                      'separable_3x3_2', 'max_pool_3x3',
                      'separable_3x3_2', 'none']
        used_hiddenstates = [1, 1, 0, 0, 0, 0, 0]
        hiddenstate_indices = [1, 1, 0, 0, 0, 0, 4, 0, 1, 0]
        super().__init__(num_conv_filters, operations, used_hiddenstates, hiddenstate_indices,
                         drop_path_keep_prob, total_num_cells, total_training_steps,
                         use_bounded_activation)
