"""PNASNet-5 (Liu et al., "Progressive Neural Architecture Search", 2017) for ImageNet.

NASNet's ImageNet stem and classifier around a single kind of cell, the PNASNet-5
cell found by progressive search: the cells at the two reduction points simply
run with stride 2 and twice the filters.

As in TF-Slim, the variables sit under no model scope ('cell_0/...',
'final_layer/FC/weights'), so the published checkpoint pnasnet-5_large_2017_12_13
(1001 classes) restores unchanged; see nasnet.py for reuse and input sizes.
"""

from nets.nasnet import nasnet, nasnet_utils


def large_imagenet_config():
    """Hyper-parameters of PNASNet-5 Large for ImageNet at 331 x 331."""
    return nasnet._config(stem_multiplier=3.0, num_cells=12, num_conv_filters=216,
                          drop_path_keep_prob=0.6, skip_reduction_layer_input=1)


def mobile_imagenet_config():
    """Hyper-parameters of PNASNet-5 Mobile for ImageNet at 224 x 224."""
    return nasnet._config(stem_multiplier=1.0, num_cells=9, num_conv_filters=54,
                          drop_path_keep_prob=1.0, skip_reduction_layer_input=1)


def pnasnet_large_arg_scope(weight_decay=4e-5, batch_norm_decay=0.9997,
                            batch_norm_epsilon=0.001):
    """The arg scope of PNASNet Large: NASNet Large's, with its own default weight decay."""
    return nasnet.nasnet_large_arg_scope(weight_decay, batch_norm_decay, batch_norm_epsilon)


# PNASNet Mobile trains with NASNet Mobile's arg scope, defaults included.
pnasnet_mobile_arg_scope = nasnet.nasnet_mobile_arg_scope


def _build_pnasnet(images, num_classes, is_training, final_endpoint, config,
                   drop_path_keep_prob):
    """NASNet's ImageNet network with PNASNet's cell everywhere; config is copied."""
    return nasnet._build_nasnet(images, num_classes, is_training, config, 'imagenet',
                                final_endpoint, current_step=None,
                                normal_cell_class=PNasNetNormalCell, reduction_cell_class=None,
                                drop_path_keep_prob=drop_path_keep_prob)


def build_pnasnet_large(images, num_classes, is_training=True, final_endpoint=None,
                        config=None, drop_path_keep_prob=None):
    """PNASNet-5 Large for ImageNet: 12 cells, 331 x 331 -> 11 x 11 x 4320.

    Arguments and results as `nasnet.build_nasnet_mobile`, without current_step
    and without 'Reduction_Cell_<i>' end points (the cells there are 'Cell_<i>');
    config defaults to large_imagenet_config().
    """
    config = large_imagenet_config() if config is None else config
    return _build_pnasnet(images, num_classes, is_training, final_endpoint, config,
                          drop_path_keep_prob)


build_pnasnet_large.default_image_size = 331


def build_pnasnet_mobile(images, num_classes, is_training=True, final_endpoint=None,
                         config=None, drop_path_keep_prob=None):
    """PNASNet-5 Mobile for ImageNet: 9 cells, 224 x 224 -> 7 x 7 x 1080.

    Arguments and results as `build_pnasnet_large`; config defaults to
    mobile_imagenet_config().
    """
    config = mobile_imagenet_config() if config is None else config
    return _build_pnasnet(images, num_classes, is_training, final_endpoint, config,
                          drop_path_keep_prob)


build_pnasnet_mobile.default_image_size = 224


class PNasNetNormalCell(nasnet_utils.FixedCell):
    """The PNASNet-5 cell (Figure 2 of the paper); a reduction cell when run with stride 2."""

    OPERATIONS = ['separable_5x5_2', 'max_pool_3x3',
                  'separable_7x7_2', 'max_pool_3x3',
                  'separable_5x5_2', 'separable_3x3_2',
                  'separable_3x3_2', 'max_pool_3x3',
                  'separable_3x3_2', 'none']
    USED_HIDDENSTATES = [1, 1, 0, 0, 0, 0, 0]
    HIDDENSTATE_INDICES = [1, 1, 0, 0, 0, 0, 4, 0, 1, 0]
