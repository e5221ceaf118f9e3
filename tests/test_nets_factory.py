"""The network factory: names, default sizes, weight decay and training mode."""

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from nets import nets_factory
from preprocessing import preprocessing_factory

DEFAULT_SIZES = {'lenet': 28, 'cifarnet': 32, 'inception_v3': 299, 'resnet_v1_50': 224,
                 'resnet_v2_50': 224, 'mobilenet_v1': 224}


def test_first_networks_are_registered_with_their_default_sizes():
    for name, size in DEFAULT_SIZES.items():
        assert nets_factory.get_network_fn(name, num_classes=10).default_image_size == size


@pytest.mark.parametrize('name', sorted(nets_factory.networks_map))
def test_every_network_has_an_arg_scope_and_a_preprocessing(name):
    assert name in nets_factory.arg_scopes_map
    assert callable(preprocessing_factory.get_preprocessing(name, is_training=True))


def test_unknown_network_lists_valid_names():
    with pytest.raises(ValueError,
                       match=r"Unknown network 'vgg_17'; valid names: alexnet_v2, cifarnet, "):
        nets_factory.get_network_fn('vgg_17', num_classes=10)


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


@pytest.mark.parametrize('name', sorted(set(nets_factory.networks_map) - DEEPER_VARIANTS))
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
