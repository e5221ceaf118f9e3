"""Maps network names to their model functions and arg scopes."""

import functools

import tf_slim as slim

from nets import cifarnet, inception, lenet, mobilenet_v1, resnet_v1, resnet_v2

networks_map = {
    'cifarnet': cifarnet.cifarnet,
    'inception_v3': inception.inception_v3,
    'lenet': lenet.lenet,
    'mobilenet_v1': mobilenet_v1.mobilenet_v1,
    'mobilenet_v1_075': mobilenet_v1.mobilenet_v1_075,
    'mobilenet_v1_050': mobilenet_v1.mobilenet_v1_050,
    'mobilenet_v1_025': mobilenet_v1.mobilenet_v1_025,
    'resnet_v1_50': resnet_v1.resnet_v1_50,
    'resnet_v1_101': resnet_v1.resnet_v1_101,
    'resnet_v1_152': resnet_v1.resnet_v1_152,
    'resnet_v1_200': resnet_v1.resnet_v1_200,
    'resnet_v2_50': resnet_v2.resnet_v2_50,
    'resnet_v2_101': resnet_v2.resnet_v2_101,
    'resnet_v2_152': resnet_v2.resnet_v2_152,
    'resnet_v2_200': resnet_v2.resnet_v2_200,
}

arg_scopes_map = {
    'cifarnet': cifarnet.cifarnet_arg_scope,
    'inception_v3': inception.inception_v3_arg_scope,
    'lenet': lenet.lenet_arg_scope,
    'mobilenet_v1': mobilenet_v1.mobilenet_v1_arg_scope,
    'mobilenet_v1_075': mobilenet_v1.mobilenet_v1_arg_scope,
    'mobilenet_v1_050': mobilenet_v1.mobilenet_v1_arg_scope,
    'mobilenet_v1_025': mobilenet_v1.mobilenet_v1_arg_scope,
    'resnet_v1_50': resnet_v1.resnet_arg_scope,
    'resnet_v1_101': resnet_v1.resnet_arg_scope,
    'resnet_v1_152': resnet_v1.resnet_arg_scope,
    'resnet_v1_200': resnet_v1.resnet_arg_scope,
    'resnet_v2_50': resnet_v2.resnet_arg_scope,
    'resnet_v2_101': resnet_v2.resnet_arg_scope,
    'resnet_v2_152': resnet_v2.resnet_arg_scope,
    'resnet_v2_200': resnet_v2.resnet_arg_scope,
}


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
