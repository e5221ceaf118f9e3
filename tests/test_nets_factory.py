"""The network registry and factory: records, names, default sizes, weight decay and
training mode."""

import dataclasses

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from nets import nets_factory
from preprocessing import preprocessing_factory

DEFAULT_SIZES = {'lenet': 28, 'cifarnet': 32, 'inception_v3': 299, 'resnet_v1_50': 224,
                 'resnet_v2_50': 224, 'mobilenet_v1': 224}


def test_first_networks_are_registered_with_their_default_sizes():
    for name, size in DEFAULT_SIZES.items():
        assert nets_factory.NETWORKS[name].default_image_size == size
        assert nets_factory.get_network_fn(name, num_classes=10).default_image_size == size


@pytest.mark.parametrize('name', sorted(nets_factory.NETWORKS))
def test_every_record_has_sane_fields(name):
    spec = nets_factory.NETWORKS[name]
    assert callable(spec.model_fn) and callable(spec.arg_scope_fn)
    # get_network_fn calls the arg scope function with the weight decay alone.
    with tf.Graph().as_default():
        assert isinstance(spec.arg_scope_fn(weight_decay=0.001), dict)
    assert spec.preprocessing in preprocessing_factory.STYLE_MODULES
    assert spec.num_classes in {10, 1000, 1001}
    # Only a 1000-class ImageNet head lacks the background label 0 of the dataset.
    assert spec.labels_offset == {10: 0, 1000: 1, 1001: 0}[spec.num_classes]
    size = spec.default_image_size
    assert isinstance(size, int) and not isinstance(size, bool) and size > 0
    assert size == spec.model_fn.default_image_size
    assert 1 <= spec.min_image_size <= size
    assert callable(preprocessing_factory.get_preprocessing(name, is_training=True))
    assert preprocessing_factory.PREPROCESSING_MODULES[name] is \
        preprocessing_factory.STYLE_MODULES[spec.preprocessing]


# Networks that build fast enough to check both sides of their minimum input size.
@pytest.mark.parametrize('name', ['lenet', 'cifarnet', 'alexnet_v2', 'inception_v3'])
def test_the_minimum_image_size_builds_and_one_less_is_explained(name):
    spec = nets_factory.NETWORKS[name]
    network_fn = nets_factory.get_network_fn(name, num_classes=10, is_training=True)
    with tf.Graph().as_default():
        logits, _ = network_fn(tf.zeros([1, spec.min_image_size, spec.min_image_size, 3]))
        assert logits.shape.as_list() == [1, 10]
    size = spec.min_image_size - 1
    with tf.Graph().as_default(), pytest.raises(
            ValueError, match=r'Images of %d x %d are too small for %s: its layers shrink them '
                              r'below one pixel' % (size, size, name)):
        network_fn(tf.zeros([1, size, size, 3]))
    with pytest.raises(ValueError, match=r'--train_image_size=%d is too small for %s: its '
                                         r'smallest input is %d' % (size, name, size + 1)):
        nets_factory.check_image_size(name, size, 'train_image_size')
    nets_factory.check_image_size(name, None, 'train_image_size')


def test_public_maps_hold_the_records_functions():
    assert list(nets_factory.networks_map) == list(nets_factory.NETWORKS)
    assert list(nets_factory.arg_scopes_map) == list(nets_factory.NETWORKS)
    for name, spec in nets_factory.NETWORKS.items():
        assert nets_factory.networks_map[name] is spec.model_fn
        assert nets_factory.arg_scopes_map[name] is spec.arg_scope_fn


@pytest.mark.parametrize('name, num_classes, labels_offset', [
    ('lenet', 10, 0), ('cifarnet', 10, 0), ('nasnet_cifar', 1001, 0), ('alexnet_v2', 1000, 1),
    ('overfeat', 1000, 1), ('vgg_16', 1000, 1), ('resnet_v1_50', 1000, 1),
    ('resnet_v2_50', 1001, 0), ('inception_v3', 1001, 0), ('mobilenet_v1', 1001, 0),
])
def test_published_class_counts(name, num_classes, labels_offset):
    assert nets_factory.published_num_classes(name) == num_classes
    assert nets_factory.NETWORKS[name].labels_offset == labels_offset


def test_records_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        nets_factory.NETWORKS['lenet'].num_classes = 1001


@pytest.mark.parametrize('lookup', [
    lambda name: nets_factory.get_network_fn(name, num_classes=10),
    nets_factory.network_spec, nets_factory.published_num_classes])
def test_unknown_network_lists_valid_names(lookup):
    with pytest.raises(ValueError,
                       match=r"Unknown network 'vgg_17'; valid names: alexnet_v2, cifarnet, "):
        lookup('vgg_17')


def test_a_network_registered_the_tf_slim_way_is_built(monkeypatch):
    # TF-Slim code adds its own networks to the two public maps.
    lenet = nets_factory.NETWORKS['lenet']
    monkeypatch.setitem(nets_factory.networks_map, 'my_lenet', lenet.model_fn)
    monkeypatch.setitem(nets_factory.arg_scopes_map, 'my_lenet', lenet.arg_scope_fn)
    network_fn = nets_factory.get_network_fn('my_lenet', num_classes=7)
    assert network_fn.default_image_size == 28
    with tf.Graph().as_default():
        logits, _ = network_fn(tf.zeros([2, 28, 28, 1]))
    assert logits.shape.as_list() == [2, 7]


@pytest.mark.parametrize('weight_decay, expect_regularization', [(0.0, False), (0.01, True)])
def test_weight_decay_adds_regularization_losses(weight_decay, expect_regularization):
    with tf.Graph().as_default():
        network_fn = nets_factory.get_network_fn('lenet', 10, weight_decay=weight_decay)
        logits, end_points = network_fn(tf.zeros([2, 28, 28, 1]))
        assert logits.shape.as_list() == [2, 10]
        assert end_points['Predictions'].shape.as_list() == [2, 10]
        regularization = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
        assert bool(regularization) == expect_regularization


@pytest.mark.parametrize('is_training', [True, False])
def test_is_training_switches_dropout(is_training):
    with tf.Graph().as_default():
        tf.set_random_seed(1)
        network_fn = nets_factory.get_network_fn('lenet', 10, is_training=is_training)
        images = tf.constant(np.random.RandomState(0).rand(4, 28, 28, 1), tf.float32)
        logits, _ = network_fn(images)
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            first, second = session.run(logits), session.run(logits)
    assert first.shape == (4, 10)
    # Dropout draws a new mask per run in training only.
    assert np.array_equal(first, second) != is_training


# The smallest input each network takes; VGG, AlexNet and OverFeat end in VALID
# fully-connected convolutions and MobileNet V3 Large/Small in a fixed 7x7 pooling.
SMALL_SIZES = {'lenet': 28, 'cifarnet': 32, 'nasnet_cifar': 32, 'vgg_a': 224, 'vgg_16': 224,
               'vgg_19': 224, 'alexnet_v2': 224, 'overfeat': 231, 'mobilenet_v3_small': 224,
               'mobilenet_v3_large': 224}


# Deeper variants of a family member built below call the same function with another
# block count; their own full builds are in the family test modules.
DEEPER_VARIANTS = {'resnet_v1_152', 'resnet_v1_200', 'resnet_v2_152', 'resnet_v2_200'}


# The four largest take 50 s together; their family modules build them in `make test` too.
LARGEST = {'inception_resnet_v2', 'inception_v4', 'nasnet_large', 'pnasnet_large'}


@pytest.mark.parametrize('name', [
    pytest.param(name, marks=pytest.mark.slow) if name in LARGEST else name
    for name in sorted(set(nets_factory.NETWORKS) - DEEPER_VARIANTS)])
def test_every_network_classifies_a_small_image_through_the_factory(name):
    size = SMALL_SIZES.get(name, 96)
    with tf.Graph().as_default():
        network_fn = nets_factory.get_network_fn(name, num_classes=7, weight_decay=0.001)
        logits, end_points = network_fn(tf.random.uniform([1, size, size, 3]))
        assert logits.shape.as_list() == [1, 7]
        assert tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            assert np.all(np.isfinite(session.run(logits)))
