"""The registry of networks: one `NetworkSpec` record per network name.

Adding a network means adding its module and one record to `NETWORKS`; the
network factory, the preprocessing factory and the benchmarks read it from there.
"""

import dataclasses
import functools
from collections.abc import Callable

import tf_slim as slim

from common.errors import ConfigurationError
from common.session import SlowerInBfloat16
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


@dataclasses.dataclass(frozen=True)
class NetworkSpec:
    """What the tree knows of one network.

    model_fn: (images [batch, height, width, channels], num_classes=..., is_training=...,
        **kwargs) -> (logits [batch, num_classes], end_points); it carries the TF-Slim
        attribute `default_image_size`.
    arg_scope_fn: (weight_decay=...) -> the arg scope the network is built in.
    preprocessing: the preprocessing style, a key of `preprocessing_factory.STYLE_MODULES`
        ('inception', 'vgg', 'lenet' or 'cifarnet').
    min_image_size: the smallest input side the network builds for (its layers would shrink
        a smaller image below one pixel); measured by building each network in training mode,
        auxiliary heads included.
    num_classes: classes of the published checkpoint (for a network without one, of its
        family's): 1001 for ImageNet with class 0 as background, 1000 for ImageNet without
        it, 10 for the digit and CIFAR networks.
    slower_in_bfloat16: for a network that measured slower in bfloat16 than in float32 (in
        the forward pass, the train step or both) on a CPU with native bfloat16, that
        measurement (`common.session.SlowerInBfloat16`): its bfloat16 requests for the
        slower use (training, or evaluation and classification) then compute in float32.
        None where bfloat16 is faster in both, or not measured.
    """

    model_fn: Callable
    arg_scope_fn: Callable
    preprocessing: str
    num_classes: int
    min_image_size: int = 1
    slower_in_bfloat16: SlowerInBfloat16 | None = None

    @property
    def labels_offset(self):
        """The --labels_offset of the published checkpoint on ImageNet's 1001 labels: 1 for
        a 1000-class head, which has no background class, else 0."""
        # Derived rather than stored, so the record cannot contradict itself.
        return 1 if self.num_classes == 1000 else 0

    @property
    def default_image_size(self):
        """The side of the network's default square input, from `model_fn`."""
        return self.model_fn.default_image_size


# Where each `slower_in_bfloat16` comes from: one run of benchmark_nets.py on this project's
# 2-core Zen 4 (avx512_bf16), float32 and bfloat16 alternating (README, "Mixed precision").
_MEASURED = 'benchmark_nets.py, batch 16, 2026-12-07'
# Two train steps of the large NASNets at batch 16 do not fit in 24 GB together.
_MEASURED_LARGE = 'benchmark_nets.py, batch 16, train step batch 8, 2026-12-07'

# Network name (--model_name) -> its record.
NETWORKS = {
    'alexnet_v2': NetworkSpec(alexnet.alexnet_v2, alexnet.alexnet_v2_arg_scope, 'vgg', 1000,
                              min_image_size=195),
    'cifarnet': NetworkSpec(cifarnet.cifarnet, cifarnet.cifarnet_arg_scope, 'cifarnet', 10,
                            min_image_size=4),
    'overfeat': NetworkSpec(overfeat.overfeat, overfeat.overfeat_arg_scope, 'vgg', 1000,
                            min_image_size=231),
    'vgg_a': NetworkSpec(vgg.vgg_a, vgg.vgg_arg_scope, 'vgg', 1000, min_image_size=224),
    'vgg_16': NetworkSpec(vgg.vgg_16, vgg.vgg_arg_scope, 'vgg', 1000, min_image_size=224),
    'vgg_19': NetworkSpec(vgg.vgg_19, vgg.vgg_arg_scope, 'vgg', 1000, min_image_size=224),
    'inception_v1': NetworkSpec(inception.inception_v1, inception.inception_v1_arg_scope,
                                'inception', 1001),
    'inception_v2': NetworkSpec(inception.inception_v2, inception.inception_v2_arg_scope,
                                'inception', 1001),
    'inception_v3': NetworkSpec(inception.inception_v3, inception.inception_v3_arg_scope,
                                'inception', 1001, min_image_size=75),
    'inception_v4': NetworkSpec(inception.inception_v4, inception.inception_v4_arg_scope,
                                'inception', 1001, min_image_size=75),
    'inception_resnet_v1': NetworkSpec(inception_resnet_v1.inception_resnet_v1,
                                       inception_resnet_v1.inception_resnet_v1_arg_scope,
                                       'inception', 1001, min_image_size=75),
    'inception_resnet_v2': NetworkSpec(inception_resnet_v2.inception_resnet_v2,
                                       inception_resnet_v2.inception_resnet_v2_arg_scope,
                                       'inception', 1001, min_image_size=75),
    'lenet': NetworkSpec(lenet.lenet, lenet.lenet_arg_scope, 'lenet', 10, min_image_size=4,
                         slower_in_bfloat16=SlowerInBfloat16(0.92, 1.13, _MEASURED)),
    'resnet_v1_50': NetworkSpec(resnet_v1.resnet_v1_50, resnet_v1.resnet_arg_scope, 'vgg', 1000),
    'resnet_v1_101': NetworkSpec(resnet_v1.resnet_v1_101, resnet_v1.resnet_arg_scope, 'vgg',
                                 1000),
    'resnet_v1_152': NetworkSpec(resnet_v1.resnet_v1_152, resnet_v1.resnet_arg_scope, 'vgg',
                                 1000),
    'resnet_v1_200': NetworkSpec(resnet_v1.resnet_v1_200, resnet_v1.resnet_arg_scope, 'vgg',
                                 1000),
    'resnet_v2_50': NetworkSpec(resnet_v2.resnet_v2_50, resnet_v2.resnet_arg_scope, 'vgg', 1001),
    'resnet_v2_101': NetworkSpec(resnet_v2.resnet_v2_101, resnet_v2.resnet_arg_scope, 'vgg',
                                 1001),
    'resnet_v2_152': NetworkSpec(resnet_v2.resnet_v2_152, resnet_v2.resnet_arg_scope, 'vgg',
                                 1001),
    'resnet_v2_200': NetworkSpec(resnet_v2.resnet_v2_200, resnet_v2.resnet_arg_scope, 'vgg',
                                 1001),
    'mobilenet_v1': NetworkSpec(mobilenet_v1.mobilenet_v1, mobilenet_v1.mobilenet_v1_arg_scope,
                                'inception', 1001,
                                slower_in_bfloat16=SlowerInBfloat16(1.05, 0.94, _MEASURED)),
    'mobilenet_v1_075': NetworkSpec(mobilenet_v1.mobilenet_v1_075,
                                    mobilenet_v1.mobilenet_v1_arg_scope, 'inception', 1001,
                                    slower_in_bfloat16=SlowerInBfloat16(0.87, 0.95, _MEASURED)),
    'mobilenet_v1_050': NetworkSpec(mobilenet_v1.mobilenet_v1_050,
                                    mobilenet_v1.mobilenet_v1_arg_scope, 'inception', 1001,
                                    slower_in_bfloat16=SlowerInBfloat16(1.01, 0.81, _MEASURED)),
    'mobilenet_v1_025': NetworkSpec(mobilenet_v1.mobilenet_v1_025,
                                    mobilenet_v1.mobilenet_v1_arg_scope, 'inception', 1001,
                                    slower_in_bfloat16=SlowerInBfloat16(0.67, 0.59, _MEASURED)),
    'mobilenet_v2': NetworkSpec(mobilenet_v2.mobilenet, mobilenet_v2.training_scope,
                                'inception', 1001,
                                slower_in_bfloat16=SlowerInBfloat16(0.69, 0.74, _MEASURED)),
    'mobilenet_v2_140': NetworkSpec(mobilenet_v2.mobilenet_v2_140, mobilenet_v2.training_scope,
                                    'inception', 1001,
                                    slower_in_bfloat16=SlowerInBfloat16(0.77, 0.72, _MEASURED)),
    'mobilenet_v2_035': NetworkSpec(mobilenet_v2.mobilenet_v2_035, mobilenet_v2.training_scope,
                                    'inception', 1001,
                                    slower_in_bfloat16=SlowerInBfloat16(0.68, 0.79, _MEASURED)),
    'mobilenet_v3_small': NetworkSpec(mobilenet_v3.small, mobilenet_v3.training_scope,
                                      'inception', 1001,
                                      slower_in_bfloat16=SlowerInBfloat16(0.78, 0.51, _MEASURED)),
    'mobilenet_v3_large': NetworkSpec(mobilenet_v3.large, mobilenet_v3.training_scope,
                                      'inception', 1001,
                                      slower_in_bfloat16=SlowerInBfloat16(0.85, 0.39, _MEASURED)),
    'mobilenet_v3_small_minimalistic': NetworkSpec(mobilenet_v3.small_minimalistic,
                                                   mobilenet_v3.training_scope, 'inception',
                                                   1001,
                                                   slower_in_bfloat16=SlowerInBfloat16(
                                                       0.97, 0.69, _MEASURED)),
    'mobilenet_v3_large_minimalistic': NetworkSpec(mobilenet_v3.large_minimalistic,
                                                   mobilenet_v3.training_scope, 'inception',
                                                   1001,
                                                   slower_in_bfloat16=SlowerInBfloat16(
                                                       0.94, 0.66, _MEASURED)),
    'mobilenet_edgetpu': NetworkSpec(mobilenet_v3.edge_tpu, mobilenet_v3.training_scope,
                                     'inception', 1001),
    'mobilenet_edgetpu_075': NetworkSpec(mobilenet_v3.edge_tpu_075, mobilenet_v3.training_scope,
                                         'inception', 1001,
                                         slower_in_bfloat16=SlowerInBfloat16(
                                             1.27, 0.98, _MEASURED)),
    # No checkpoint is published: it keeps the 1001 classes of the NASNet family.
    'nasnet_cifar': NetworkSpec(nasnet.build_nasnet_cifar, nasnet.nasnet_cifar_arg_scope,
                                'cifarnet', 1001, min_image_size=9,
                                slower_in_bfloat16=SlowerInBfloat16(1.15, 0.64, _MEASURED)),
    'nasnet_mobile': NetworkSpec(nasnet.build_nasnet_mobile, nasnet.nasnet_mobile_arg_scope,
                                 'inception', 1001, min_image_size=67,
                                 slower_in_bfloat16=SlowerInBfloat16(0.71, 0.53, _MEASURED)),
    'nasnet_large': NetworkSpec(nasnet.build_nasnet_large, nasnet.nasnet_large_arg_scope,
                                'inception', 1001, min_image_size=67,
                                slower_in_bfloat16=SlowerInBfloat16(1.38, 0.82,
                                                                    _MEASURED_LARGE)),
    'pnasnet_mobile': NetworkSpec(pnasnet.build_pnasnet_mobile, pnasnet.pnasnet_mobile_arg_scope,
                                  'inception', 1001, min_image_size=67,
                                  slower_in_bfloat16=SlowerInBfloat16(0.62, 0.59, _MEASURED)),
    'pnasnet_large': NetworkSpec(pnasnet.build_pnasnet_large, pnasnet.pnasnet_large_arg_scope,
                                 'inception', 1001, min_image_size=67,
                                 slower_in_bfloat16=SlowerInBfloat16(1.18, 0.81,
                                                                     _MEASURED_LARGE)),
}

# TF-Slim's public maps, kept for code written against them.
networks_map = {name: spec.model_fn for name, spec in NETWORKS.items()}
arg_scopes_map = {name: spec.arg_scope_fn for name, spec in NETWORKS.items()}


def network_spec(name):
    """The `NetworkSpec` of network `name`.

    Raises:
      ValueError: for an unknown name; the message lists the valid names.
    """
    if name not in NETWORKS:
        raise ConfigurationError('Unknown network %r; valid names: %s (set --model_name).'
                                 % (name, ', '.join(sorted(NETWORKS))))
    return NETWORKS[name]


def check_image_size(name, image_size, flag):
    """Raises ValueError if `image_size` (the value of --`flag`; None for the default) is
    below network `name`'s `min_image_size`."""
    spec = network_spec(name)
    if image_size is not None and image_size < spec.min_image_size:
        raise ConfigurationError('--%s=%d is too small for %s: its smallest input is %d (its '
                                 'default %d).'
                                 % (flag, image_size, name, spec.min_image_size,
                                    spec.default_image_size))


def published_num_classes(name):
    """The class count of network `name`'s published checkpoint; ValueError if unknown."""
    return network_spec(name).num_classes


def get_network_fn(name, num_classes, weight_decay=0.0, is_training=False):
    """Returns `network_fn(images, **kwargs) -> (logits, end_points)` for a network name.

    Args:
      name: a key of `NETWORKS` (or of `networks_map`, where TF-Slim code registers its own).
      num_classes: outputs of the classification layer; 0 or None returns features.
      weight_decay: the L2 weight decay of the network's arg scope.
      is_training: whether batch norm and dropout run in training mode.
    Returns:
      The function, with `default_image_size`, the side of its default square input.
    Raises:
      ValueError: for an unknown name; the message lists the valid names.
    """
    # TF-Slim's maps, not NETWORKS: code written for TF-Slim adds its own networks to them.
    if name not in networks_map:
        network_spec(name)  # Raises, listing the valid names.
    model_fn, arg_scope_fn = networks_map[name], arg_scopes_map[name]

    @functools.wraps(model_fn)
    def network_fn(images, **kwargs):
        with slim.arg_scope(arg_scope_fn(weight_decay=weight_decay)):
            try:
                return model_fn(images, num_classes=num_classes, is_training=is_training,
                                **kwargs)
            except ValueError as error:
                # Shape inference reports an image too small as a negative dimension.
                if 'Negative dimension size' not in str(error):
                    raise
                raise ConfigurationError(
                    'Images of %s x %s are too small for %s: its layers shrink them below one '
                    'pixel. Use a larger image size (--train_image_size, --eval_image_size or '
                    '--image_size); the network\'s default is %d.'
                    % (*images.shape.as_list()[1:3], name, model_fn.default_image_size)) from None

    network_fn.default_image_size = model_fn.default_image_size
    return network_fn
