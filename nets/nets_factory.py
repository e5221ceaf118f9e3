"""Maps network names to their model functions and arg scopes."""

import functools

import tf_slim as slim

from nets import (
    alexnet,
    cifarnet,
    inception,
    inception_resnet_v1,
    inception_resnet_v2,
    lenet,
    mobilenet_v1,
    overfeat,
    resnet_v1,
    resnet_v2,
    vgg,
)
from nets.mobilenet import mobilenet_v2, mobilenet_v3
from nets.nasnet import nasnet, pnasnet

# name -> (model function, arg scope function)
_NETWORKS = {
    'alexnet_v2': (alexnet.alexnet_v2, alexnet.alexnet_v2_arg_scope),
    'cifarnet': (cifarnet.cifarnet, cifarnet.cifarnet_arg_scope),
    'overfeat': (overfeat.overfeat, overfeat.overfeat_arg_scope),
    'vgg_a': (vgg.vgg_a, vgg.vgg_arg_scope),
    'vgg_16': (vgg.vgg_16, vgg.vgg_arg_scope),
    'vgg_19': (vgg.vgg_19, vgg.vgg_arg_scope),
    'inception_v1': (inception.inception_v1, inception.inception_v1_arg_scope),
    'inception_v2': (inception.inception_v2, inception.inception_v2_arg_scope),
    'inception_v3': (inception.inception_v3, inception.inception_v3_arg_scope),
    'inception_v4': (inception.inception_v4, inception.inception_v4_arg_scope),
    'inception_resnet_v1': (inception_resnet_v1.inception_resnet_v1,
                            inception_resnet_v1.inception_resnet_v1_arg_scope),
    'inception_resnet_v2': (inception_resnet_v2.inception_resnet_v2,
                            inception_resnet_v2.inception_resnet_v2_arg_scope),
    'lenet': (lenet.lenet, lenet.lenet_arg_scope),
    'resnet_v1_50': (resnet_v1.resnet_v1_50, resnet_v1.resnet_arg_scope),
    'resnet_v1_101': (resnet_v1.resnet_v1_101, resnet_v1.resnet_arg_scope),
    'resnet_v1_152': (resnet_v1.resnet_v1_152, resnet_v1.resnet_arg_scope),
    'resnet_v1_200': (resnet_v1.resnet_v1_200, resnet_v1.resnet_arg_scope),
    'resnet_v2_50': (resnet_v2.resnet_v2_50, resnet_v2.resnet_arg_scope),
    'resnet_v2_101': (resnet_v2.resnet_v2_101, resnet_v2.resnet_arg_scope),
    'resnet_v2_152': (resnet_v2.resnet_v2_152, resnet_v2.resnet_arg_scope),
    'resnet_v2_200': (resnet_v2.resnet_v2_200, resnet_v2.resnet_arg_scope),
    'mobilenet_v1': (mobilenet_v1.mobilenet_v1, mobilenet_v1.mobilenet_v1_arg_scope),
    'mobilenet_v1_075': (mobilenet_v1.mobilenet_v1_075, mobilenet_v1.mobilenet_v1_arg_scope),
    'mobilenet_v1_050': (mobilenet_v1.mobilenet_v1_050, mobilenet_v1.mobilenet_v1_arg_scope),
    'mobilenet_v1_025': (mobilenet_v1.mobilenet_v1_025, mobilenet_v1.mobilenet_v1_arg_scope),
    'mobilenet_v2': (mobilenet_v2.mobilenet, mobilenet_v2.training_scope),
    'mobilenet_v2_140': (mobilenet_v2.mobilenet_v2_140, mobilenet_v2.training_scope),
    'mobilenet_v2_035': (mobilenet_v2.mobilenet_v2_035, mobilenet_v2.training_scope),
    'mobilenet_v3_small': (mobilenet_v3.small, mobilenet_v3.training_scope),
    'mobilenet_v3_large': (mobilenet_v3.large, mobilenet_v3.training_scope),
    'mobilenet_v3_small_minimalistic': (mobilenet_v3.small_minimalistic,
                                        mobilenet_v3.training_scope),
    'mobilenet_v3_large_minimalistic': (mobilenet_v3.large_minimalistic,
                                        mobilenet_v3.training_scope),
    'mobilenet_edgetpu': (mobilenet_v3.edge_tpu, mobilenet_v3.training_scope),
    'mobilenet_edgetpu_075': (mobilenet_v3.edge_tpu_075, mobilenet_v3.training_scope),
    'nasnet_cifar': (nasnet.build_nasnet_cifar, nasnet.nasnet_cifar_arg_scope),
    'nasnet_mobile': (nasnet.build_nasnet_mobile, nasnet.nasnet_mobile_arg_scope),
    'nasnet_large': (nasnet.build_nasnet_large, nasnet.nasnet_large_arg_scope),
    'pnasnet_mobile': (pnasnet.build_pnasnet_mobile, pnasnet.pnasnet_mobile_arg_scope),
    'pnasnet_large': (pnasnet.build_pnasnet_large, pnasnet.pnasnet_large_arg_scope),
}

# TF-Slim's public maps, kept for code written against them.
networks_map = {name: model_fn for name, (model_fn, _) in _NETWORKS.items()}
arg_scopes_map = {name: arg_scope for name, (_, arg_scope) in _NETWORKS.items()}


def get_network_fn(name, num_classes, weight_decay=0.0, is_training=False):
    """Returns `network_fn(images, **kwargs) -> (logits, end_points)` for a network name.

    Args:
      name: a key of `networks_map`.
      num_classes: outputs of the classification layer; 0 or None returns features.
      weight_decay: the L2 weight decay of the network's arg scope.
      is_training: whether batch norm and dropout run in training mode.
    Returns:
      The function, with `default_image_size`, the side of its default square input.
    Raises:
      ValueError: for an unknown name; the message lists the valid names.
    """
    if name not in networks_map:
        raise ValueError('Unknown network %r; valid names: %s (set --model_name).'
                         % (name, ', '.join(sorted(networks_map))))
    model_fn = networks_map[name]

    @functools.wraps(model_fn)
    def network_fn(images, **kwargs):
        with slim.arg_scope(arg_scopes_map[name](weight_decay=weight_decay)):
            return model_fn(images, num_classes=num_classes, is_training=is_training, **kwargs)

    network_fn.default_image_size = model_fn.default_image_size
    return network_fn
