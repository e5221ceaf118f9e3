"""Tests for nets.inception_v3 (and nets.inception, nets.inception_utils), nets.lenet
and nets.cifarnet: shapes, checkpoint variable names, parameter counts, modes."""

import types

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
import tf_slim as slim

from nets import cifarnet, inception, inception_utils, inception_v3, lenet

INCEPTION_V3_END_POINTS = [
    'Conv2d_1a_3x3', 'Conv2d_2a_3x3', 'Conv2d_2b_3x3', 'MaxPool_3a_3x3', 'Conv2d_3b_1x1',
    'Conv2d_4a_3x3', 'MaxPool_5a_3x3', 'Mixed_5b', 'Mixed_5c', 'Mixed_5d', 'Mixed_6a',
    'Mixed_6b', 'Mixed_6c', 'Mixed_6d', 'Mixed_6e', 'Mixed_7a', 'Mixed_7b', 'Mixed_7c',
]


def _trainable_parameter_count():
    return sum(int(np.prod(v.shape.as_list())) for v in tf.trainable_variables())


def _variable_shapes():
    return {v.op.name: v.shape.as_list() for v in tf.global_variables()}


def _static_shapes(end_points):
    return {name: tensor.shape.as_list() for name, tensor in end_points.items()}


def _images(batch, height, width, seed=0):
    return np.random.RandomState(seed).uniform(-1, 1, (batch, height, width, 3)).astype(np.float32)


# --- Inception V3 at 299 x 299: built once for the module --------------------------------


@pytest.fixture(scope='module')
def v3():
    """Training-mode Inception V3 at 299 (1001 classes) plus an eval-mode copy sharing its
    weights (reuse=True) on input of unknown batch and spatial size."""
    graph = tf.Graph()
    with graph.as_default():
        train_images = tf.placeholder(tf.float32, [None, 299, 299, 3])
        any_images = tf.placeholder(tf.float32, [None, None, None, 3])
        with slim.arg_scope(inception_v3.inception_v3_arg_scope()):
            train_logits, train_end_points = inception_v3.inception_v3(
                train_images, num_classes=1001, is_training=True)
            variables_after_first_build = len(tf.global_variables())
            update_ops_after_first_build = len(tf.get_collection(tf.GraphKeys.UPDATE_OPS))
            eval_logits, eval_end_points = inception_v3.inception_v3(
                any_images, num_classes=1001, is_training=False, reuse=True)
        session = tf.Session(graph=graph)
        session.run(tf.global_variables_initializer())
    yield types.SimpleNamespace(
        graph=graph, session=session, train_images=train_images, any_images=any_images,
        train_logits=train_logits, train_end_points=train_end_points,
        eval_logits=eval_logits, eval_end_points=eval_end_points,
        variables_after_first_build=variables_after_first_build,
        update_ops_after_first_build=update_ops_after_first_build)
    session.close()


def test_inception_v3_parameter_count(v3):
    with v3.graph.as_default():
        assert _trainable_parameter_count() == 27_145_970


def test_inception_v3_checkpoint_variable_names_and_shapes(v3):
    with v3.graph.as_default():
        shapes = _variable_shapes()
        regularization_losses = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    expected = {
        'InceptionV3/Conv2d_1a_3x3/weights': [3, 3, 3, 32],
        'InceptionV3/Conv2d_1a_3x3/BatchNorm/beta': [32],
        'InceptionV3/Conv2d_1a_3x3/BatchNorm/moving_mean': [32],
        'InceptionV3/Conv2d_1a_3x3/BatchNorm/moving_variance': [32],
        'InceptionV3/Conv2d_4a_3x3/weights': [3, 3, 80, 192],
        'InceptionV3/Mixed_5b/Branch_1/Conv2d_0b_5x5/weights': [5, 5, 48, 64],
        'InceptionV3/Mixed_5b/Branch_3/Conv2d_0b_1x1/weights': [1, 1, 192, 32],
        'InceptionV3/Mixed_5c/Branch_1/Conv2d_0b_1x1/weights': [1, 1, 256, 48],
        'InceptionV3/Mixed_5c/Branch_1/Conv_1_0c_5x5/weights': [5, 5, 48, 64],
        'InceptionV3/Mixed_6a/Branch_0/Conv2d_1a_1x1/weights': [3, 3, 288, 384],
        'InceptionV3/Mixed_6a/Branch_1/Conv2d_1a_1x1/weights': [3, 3, 96, 96],
        'InceptionV3/Mixed_6b/Branch_2/Conv2d_0e_1x7/weights': [1, 7, 128, 192],
        'InceptionV3/Mixed_6e/Branch_1/Conv2d_0c_7x1/weights': [7, 1, 192, 192],
        'InceptionV3/Mixed_7a/Branch_0/Conv2d_1a_3x3/weights': [3, 3, 192, 320],
        'InceptionV3/Mixed_7b/Branch_1/Conv2d_0b_3x1/weights': [3, 1, 384, 384],
        'InceptionV3/Mixed_7c/Branch_1/Conv2d_0c_3x1/weights': [3, 1, 384, 384],
        'InceptionV3/Mixed_7c/Branch_2/Conv2d_0d_3x1/weights': [3, 1, 384, 384],
        'InceptionV3/AuxLogits/Conv2d_1b_1x1/weights': [1, 1, 768, 128],
        'InceptionV3/AuxLogits/Conv2d_2a_5x5/weights': [5, 5, 128, 768],
        'InceptionV3/AuxLogits/Conv2d_2b_1x1/weights': [1, 1, 768, 1001],
        'InceptionV3/AuxLogits/Conv2d_2b_1x1/biases': [1001],
        'InceptionV3/Logits/Conv2d_1c_1x1/weights': [1, 1, 2048, 1001],
        'InceptionV3/Logits/Conv2d_1c_1x1/biases': [1001],
    }
    assert {name: shapes.get(name) for name in expected} == expected
    # 96 batch-normalised convolutions (weights, beta, moving mean and variance) and
    # the two biased 1x1 classifiers: the inception_v3_2016_08_28 variable set.
    assert len(shapes) == 96 * 4 + 2 * 2
    assert not [name for name in shapes if name.endswith('gamma')]
    assert len(regularization_losses) == len([n for n in shapes if n.endswith('/weights')])


def test_inception_v3_reuse_creates_no_variables(v3):
    with v3.graph.as_default():
        assert len(tf.global_variables()) == v3.variables_after_first_build


def test_inception_v3_end_point_shapes_at_299(v3):
    shapes = _static_shapes(v3.train_end_points)
    assert shapes['Conv2d_1a_3x3'] == [None, 149, 149, 32]
    assert shapes['MaxPool_5a_3x3'] == [None, 35, 35, 192]
    assert shapes['Mixed_5b'] == [None, 35, 35, 256]
    assert shapes['Mixed_5d'] == [None, 35, 35, 288]
    assert shapes['Mixed_6a'] == [None, 17, 17, 768]
    assert shapes['Mixed_6e'] == [None, 17, 17, 768]
    assert shapes['Mixed_7a'] == [None, 8, 8, 1280]
    assert shapes['Mixed_7c'] == [None, 8, 8, 2048]
    assert shapes['AuxLogits'] == [None, 1001]
    assert shapes['PreLogits'] == [None, 1, 1, 2048]
    assert shapes['Logits'] == [None, 1001]
    assert shapes['Predictions'] == [None, 1001]
    assert list(v3.train_end_points)[:len(INCEPTION_V3_END_POINTS)] == INCEPTION_V3_END_POINTS
    # Unknown spatial size still gives [batch, classes] logits.
    assert v3.eval_logits.shape.as_list() == [None, 1001]
    assert v3.eval_end_points['AuxLogits'].shape.as_list() == [None, 1001]


def test_inception_v3_training_build_registers_batch_norm_updates(v3):
    with v3.graph.as_default():
        update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
        moving_means = [v for v in tf.global_variables() if v.op.name.endswith('moving_mean')]
    # A moving-mean and a moving-variance update per batch norm, all from the training
    # build: the eval-mode build adds none.
    assert len(update_ops) == v3.update_ops_after_first_build == 2 * len(moving_means) == 192


def test_inception_v3_dropout_only_in_training(v3):
    images = _images(1, 299, 299)
    fetches = [v3.train_logits, v3.train_end_points['AuxLogits'],
               v3.train_end_points['AvgPool_1a'], v3.train_end_points['PreLogits']]
    logits_1, aux_logits, pooled, pre_logits = v3.session.run(
        fetches, {v3.train_images: images})
    logits_2 = v3.session.run(v3.train_logits, {v3.train_images: images})
    assert logits_1.shape == aux_logits.shape == (1, 1001)
    assert not np.allclose(logits_1, logits_2)
    # Training dropout: each feature is either dropped or scaled by 1 / keep_prob.
    kept = pre_logits != 0
    assert 0 < kept.mean() < 1
    np.testing.assert_allclose(pre_logits[kept], pooled[kept] / 0.8, rtol=1e-5)

    eval_fetches = [v3.eval_logits, v3.eval_end_points['Predictions'],
                    v3.eval_end_points['AvgPool_1a'], v3.eval_end_points['PreLogits']]
    eval_logits_1, predictions, eval_pooled, eval_pre_logits = v3.session.run(
        eval_fetches, {v3.any_images: images})
    eval_logits_2 = v3.session.run(v3.eval_logits, {v3.any_images: images})
    assert eval_logits_1.shape == (1, 1001)
    np.testing.assert_array_equal(eval_logits_1, eval_logits_2)
    np.testing.assert_array_equal(eval_pre_logits, eval_pooled)
    np.testing.assert_allclose(predictions.sum(axis=1), [1.0], rtol=1e-5)


# --- Inception V3: cheap builds at small inputs ------------------------------------------


@pytest.mark.parametrize('final_endpoint', INCEPTION_V3_END_POINTS)
def test_inception_v3_base_stops_at_end_point(final_endpoint):
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [2, 75, 75, 3])
        net, end_points = inception_v3.inception_v3_base(images, final_endpoint=final_endpoint)
        built = INCEPTION_V3_END_POINTS[:INCEPTION_V3_END_POINTS.index(final_endpoint) + 1]
        assert list(end_points) == built
        assert net is end_points[final_endpoint]
        scopes = {v.op.name.split('/')[1] for v in tf.global_variables()}
    assert scopes <= set(built)


def test_inception_v3_base_rejects_bad_arguments():
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [1, 299, 299, 3])
        with pytest.raises(ValueError, match='final endpoint'):
            inception_v3.inception_v3_base(images, final_endpoint='Mixed_8a')
        with pytest.raises(ValueError, match='depth_multiplier'):
            inception_v3.inception_v3_base(images, depth_multiplier=0)
        with pytest.raises(ValueError, match='depth_multiplier'):
            inception_v3.inception_v3(images, depth_multiplier=-0.5)
        assert not tf.global_variables()


def test_inception_v3_depth_multiplier_scales_depths_with_floor():
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [1, 75, 75, 3])
        _, half = inception_v3.inception_v3_base(images, depth_multiplier=0.5, scope='Half')
        _, tiny = inception_v3.inception_v3_base(images, final_endpoint='Mixed_5b',
                                                 depth_multiplier=0.1, min_depth=16,
                                                 scope='Tiny')
    assert half['Conv2d_1a_3x3'].shape.as_list()[-1] == 16
    assert half['Mixed_5b'].shape.as_list()[-1] == 128
    assert half['Mixed_6e'].shape.as_list()[-1] == 384
    assert half['Mixed_7c'].shape.as_list()[-1] == 1024
    # Every convolution floors at min_depth: 3.2 -> 16; Mixed_5b's four branches -> 4 x 16.
    assert tiny['Conv2d_1a_3x3'].shape.as_list()[-1] == 16
    assert tiny['Mixed_5b'].shape.as_list()[-1] == 64


def test_inception_v3_small_input_reduces_kernels():
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [2, 75, 75, 3])
        with slim.arg_scope(inception_v3.inception_v3_arg_scope()):
            logits, end_points = inception_v3.inception_v3(images, num_classes=10,
                                                           is_training=False)
        names = {v.op.name for v in tf.global_variables()}
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            values = session.run([logits, end_points['AuxLogits']], {images: _images(2, 75, 75)})
    assert end_points['Mixed_6e'].shape.as_list() == [2, 3, 3, 768]
    assert end_points['Mixed_7c'].shape.as_list() == [2, 1, 1, 2048]
    assert end_points['AvgPool_1a'].shape.as_list() == [2, 1, 1, 2048]
    assert 'InceptionV3/AuxLogits/Conv2d_2a_1x1/weights' in names
    assert [value.shape for value in values] == [(2, 10), (2, 10)]
    assert np.all(np.isfinite(values[0]))


def test_inception_v3_without_classes_returns_pooled_features():
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [2, 75, 75, 3])
        net, end_points = inception_v3.inception_v3(images, num_classes=None)
        scopes = {v.op.name.split('/')[1] for v in tf.global_variables()}
    assert net.shape.as_list() == [2, 1, 1, 2048]
    assert net is end_points['AvgPool_1a']
    assert not {'AuxLogits', 'PreLogits', 'Logits', 'Predictions'} & set(end_points)
    assert not {'AuxLogits', 'Logits'} & scopes


def test_inception_v3_global_pool_handles_any_input_size():
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [None, None, None, 3])
        logits, end_points = inception_v3.inception_v3(images, num_classes=10, is_training=False,
                                                       create_aux_logits=False, global_pool=True)
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            small, large = (session.run([logits, end_points['global_pool']],
                                        {images: _images(1, size, size)}) for size in (100, 160))
    assert 'AuxLogits' not in end_points
    assert small[0].shape == large[0].shape == (1, 10)
    assert small[1].shape == large[1].shape == (1, 1, 1, 2048)


def test_reduced_kernel_size_for_small_input():
    reduce_kernel = inception_v3._reduced_kernel_size_for_small_input
    with tf.Graph().as_default():
        assert reduce_kernel(tf.placeholder(tf.float32, [1, 8, 8, 4]), [8, 8]) == [8, 8]
        assert reduce_kernel(tf.placeholder(tf.float32, [1, 3, 10, 4]), [5, 5]) == [3, 5]
        unknown = tf.placeholder(tf.float32, [None, None, None, 4])
        assert reduce_kernel(unknown, [8, 8]) == [8, 8]


def test_inception_package_interface():
    assert inception.inception_v3 is inception_v3.inception_v3
    assert inception.inception_v3_base is inception_v3.inception_v3_base
    assert inception.inception_v3_arg_scope is inception_utils.inception_arg_scope
    assert inception.inception_arg_scope is inception_utils.inception_arg_scope
    assert inception.inception_v3.default_image_size == 299


@pytest.mark.parametrize(('arg_scope_kwargs', 'expected_suffixes', 'absent_suffixes'), [
    ({}, {'weights', 'BatchNorm/beta', 'BatchNorm/moving_mean'}, {'biases', 'BatchNorm/gamma'}),
    ({'batch_norm_scale': True}, {'BatchNorm/beta', 'BatchNorm/gamma'}, {'biases'}),
    ({'use_batch_norm': False}, {'weights', 'biases'}, {'BatchNorm/beta'}),
])
def test_inception_arg_scope_options(arg_scope_kwargs, expected_suffixes, absent_suffixes):
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [1, 8, 8, 3])
        with slim.arg_scope(inception_utils.inception_arg_scope(**arg_scope_kwargs)):
            slim.conv2d(images, 4, [3, 3], scope='conv')
        suffixes = {v.op.name[len('conv/'):] for v in tf.global_variables()}
        assert len(tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)) == 1
    assert expected_suffixes <= suffixes
    assert not absent_suffixes & suffixes


# --- LeNet and CifarNet ------------------------------------------------------------------


def _build_train_and_eval(network, arg_scope, image_size):
    """Builds `network` in training mode and again in eval mode on the same weights."""
    images = tf.placeholder(tf.float32, [2, image_size, image_size, 3])
    with slim.arg_scope(arg_scope):
        train = network(images, is_training=True)
        with tf.variable_scope(tf.get_variable_scope(), reuse=True):
            evaluation = network(images, is_training=False)
    return images, train, evaluation


def _assert_dropout_only_in_training(images, train, evaluation):
    feed = {images: _images(2, *images.shape.as_list()[1:3])}
    with tf.Session() as session:
        session.run(tf.global_variables_initializer())
        train_runs = [session.run(train[0], feed) for _ in range(2)]
        eval_runs = [session.run(evaluation[0], feed) for _ in range(2)]
    assert not np.allclose(*train_runs)
    np.testing.assert_array_equal(*eval_runs)


def test_lenet_parameters_names_and_shapes():
    with tf.Graph().as_default():
        images, train, evaluation = _build_train_and_eval(
            lenet.lenet, lenet.lenet_arg_scope(), lenet.lenet.default_image_size)
        assert _trainable_parameter_count() == 3_276_234
        assert _variable_shapes() == {
            'LeNet/conv1/weights': [5, 5, 3, 32], 'LeNet/conv1/biases': [32],
            'LeNet/conv2/weights': [5, 5, 32, 64], 'LeNet/conv2/biases': [64],
            'LeNet/fc3/weights': [3136, 1024], 'LeNet/fc3/biases': [1024],
            'LeNet/fc4/weights': [1024, 10], 'LeNet/fc4/biases': [10],
        }
        # The default weight decay of 0 adds no regularisation losses.
        assert not tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
        _assert_dropout_only_in_training(images, train, evaluation)
    assert lenet.lenet.default_image_size == 28
    assert _static_shapes(train[1]) == {
        'conv1': [2, 28, 28, 32], 'pool1': [2, 14, 14, 32], 'conv2': [2, 14, 14, 64],
        'pool2': [2, 7, 7, 64], 'Flatten': [2, 3136], 'fc3': [2, 1024], 'dropout3': [2, 1024],
        'Logits': [2, 10], 'Predictions': [2, 10],
    }


def test_lenet_weight_decay_and_features_only():
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [2, 28, 28, 1])
        with slim.arg_scope(lenet.lenet_arg_scope(weight_decay=0.01)):
            features, end_points = lenet.lenet(images, num_classes=None)
        assert len(tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)) == 3
        assert not [v for v in tf.global_variables() if 'fc4' in v.op.name]
    assert features is end_points['fc3']
    assert features.shape.as_list() == [2, 1024]
    assert 'Logits' not in end_points


def test_cifarnet_parameters_names_and_shapes():
    with tf.Graph().as_default():
        images, train, evaluation = _build_train_and_eval(
            cifarnet.cifarnet, cifarnet.cifarnet_arg_scope(), cifarnet.cifarnet.default_image_size)
        assert _trainable_parameter_count() == 1_756_426
        assert _variable_shapes() == {
            'CifarNet/conv1/weights': [5, 5, 3, 64], 'CifarNet/conv1/biases': [64],
            'CifarNet/conv2/weights': [5, 5, 64, 64], 'CifarNet/conv2/biases': [64],
            'CifarNet/fc3/weights': [4096, 384], 'CifarNet/fc3/biases': [384],
            'CifarNet/fc4/weights': [384, 192], 'CifarNet/fc4/biases': [192],
            'CifarNet/logits/weights': [192, 10], 'CifarNet/logits/biases': [10],
        }
        # Weight decay on fc3 and fc4 only: not on the convolutions, not on the logits.
        losses = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
        assert sorted(loss.op.name.split('/')[1] for loss in losses) == ['fc3', 'fc4']
        _assert_dropout_only_in_training(images, train, evaluation)
    assert cifarnet.cifarnet.default_image_size == 32
    assert _static_shapes(train[1]) == {
        'conv1': [2, 32, 32, 64], 'pool1': [2, 16, 16, 64], 'conv2': [2, 16, 16, 64],
        'pool2': [2, 8, 8, 64], 'Flatten': [2, 4096], 'fc3': [2, 384], 'dropout3': [2, 384],
        'fc4': [2, 192], 'Logits': [2, 10], 'Predictions': [2, 10],
    }


def test_cifarnet_initialisers_and_features_only():
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [2, 32, 32, 3])
        with slim.arg_scope(cifarnet.cifarnet_arg_scope()):
            _, end_points = cifarnet.cifarnet(images)
            features, feature_end_points = cifarnet.cifarnet(images, num_classes=0,
                                                             scope='Features')
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            values = session.run({v.op.name: v for v in tf.global_variables()})
        feature_scopes = {v.op.name.split('/')[1] for v in tf.global_variables()
                          if v.op.name.startswith('Features/')}
    np.testing.assert_array_equal(values['CifarNet/logits/biases'], np.zeros(10))
    assert np.abs(values['CifarNet/logits/weights']).max() <= 2 / 192.0
    np.testing.assert_array_equal(values['CifarNet/fc3/biases'], np.full(384, 0.1, np.float32))
    assert features is feature_end_points['fc4']
    assert features.shape.as_list() == [2, 192]
    assert 'Logits' not in feature_end_points and 'logits' not in feature_scopes
    assert end_points['Predictions'].shape.as_list() == [2, 10]
