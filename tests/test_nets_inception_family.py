"""Tests of nets.inception_v1, inception_v2, inception_v4, inception_resnet_v2,
inception_resnet_v1 and the nets.inception package interface.

Building these graphs takes seconds (mostly variable creation), so each network is
built once, in training mode at its default size inside its arg scope as the
factory does it, and the same graph gets two reuse towers (no new variables):
evaluation on input of unknown size, and features (num_classes=None) at a small
size. Sessions only run on small inputs through the evaluation tower, and not for
the two largest networks, whose variables alone take seconds to initialise.
"""

import collections
import types

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
import tf_slim as slim

from nets import (
    inception,
    inception_resnet_v1,
    inception_resnet_v2,
    inception_utils,
    inception_v1,
    inception_v2,
    inception_v4,
    nets_factory,
)

# Expected facts of a network, beside its registry record.
Network = collections.namedtuple('Network', [
    'base_fn',
    'parameters',  # trainable parameters with 1001 classes at the default size
    'end_points',  # every end point at the default size, in build order: name -> shape
    'variables',  # a few checkpoint variables: name -> shape
    'biased_layers',  # layers with biases instead of batch norm
    'small_size',  # a small input side the network builds and runs on
    'feature_depth',  # channels of the pooled features
    'eval_kwargs',  # what the unknown-size evaluation tower needs
])


def _shapes(*pairs):
    """(name, [H, W, C]) pairs -> ordered {name: [None, H, W, C]}; [N] stays [None, N]."""
    return {name: [None, *shape] for name, shape in pairs}


def _mixed(prefix, letters, shape):
    return [(prefix + letter, shape) for letter in letters]


# The registry's networks of this family; Inception V3 has its own module of tests.
NAMES = [name for name in nets_factory.NETWORKS
         if name.startswith('inception') and name != 'inception_v3']

EXPECTED = {
    'inception_v1': Network(
        inception_v1.inception_v1_base, 6_618_649,
        _shapes(('Conv2d_1a_7x7', [112, 112, 64]), ('MaxPool_2a_3x3', [56, 56, 64]),
                ('Conv2d_2b_1x1', [56, 56, 64]), ('Conv2d_2c_3x3', [56, 56, 192]),
                ('MaxPool_3a_3x3', [28, 28, 192]), ('Mixed_3b', [28, 28, 256]),
                ('Mixed_3c', [28, 28, 480]), ('MaxPool_4a_3x3', [14, 14, 480]),
                ('Mixed_4b', [14, 14, 512]), ('Mixed_4c', [14, 14, 512]),
                ('Mixed_4d', [14, 14, 512]), ('Mixed_4e', [14, 14, 528]),
                ('Mixed_4f', [14, 14, 832]), ('MaxPool_5a_2x2', [7, 7, 832]),
                ('Mixed_5b', [7, 7, 832]), ('Mixed_5c', [7, 7, 1024]),
                ('AvgPool_0a_7x7', [1, 1, 1024]), ('Logits', [1001]), ('Predictions', [1001])),
        {
            'InceptionV1/Conv2d_1a_7x7/weights': [7, 7, 3, 64],
            'InceptionV1/Conv2d_1a_7x7/BatchNorm/moving_variance': [64],
            'InceptionV1/Mixed_3b/Branch_3/Conv2d_0b_1x1/weights': [1, 1, 192, 32],
            # Mixed_5b's second 3x3 is 'Conv2d_0a_3x3' in the checkpoint.
            'InceptionV1/Mixed_5b/Branch_2/Conv2d_0a_3x3/weights': [3, 3, 32, 128],
            'InceptionV1/Mixed_5c/Branch_2/Conv2d_0b_3x3/weights': [3, 3, 48, 128],
            'InceptionV1/Logits/Conv2d_0c_1x1/weights': [1, 1, 1024, 1001],
            'InceptionV1/Logits/Conv2d_0c_1x1/biases': [1001],
        },
        ['InceptionV1/Logits/Conv2d_0c_1x1'], 64, 1024, {'global_pool': True}),
    'inception_v2': Network(
        inception_v2.inception_v2_base, 11_179_361,
        _shapes(('Conv2d_1a_7x7', [112, 112, 64]), ('MaxPool_2a_3x3', [56, 56, 64]),
                ('Conv2d_2b_1x1', [56, 56, 64]), ('Conv2d_2c_3x3', [56, 56, 192]),
                ('MaxPool_3a_3x3', [28, 28, 192]), ('Mixed_3b', [28, 28, 256]),
                ('Mixed_3c', [28, 28, 320]), ('Mixed_4a', [14, 14, 576]),
                *_mixed('Mixed_4', 'bcde', [14, 14, 576]), ('Mixed_5a', [7, 7, 1024]),
                ('Mixed_5b', [7, 7, 1024]), ('Mixed_5c', [7, 7, 1024]),
                ('AvgPool_1a', [1, 1, 1024]), ('Logits', [1001]), ('Predictions', [1001])),
        {
            # Separable: 3 channels x 8, then 1x1 to 64.
            'InceptionV2/Conv2d_1a_7x7/depthwise_weights': [7, 7, 3, 8],
            'InceptionV2/Conv2d_1a_7x7/pointwise_weights': [1, 1, 24, 64],
            'InceptionV2/Conv2d_1a_7x7/biases': [64],
            'InceptionV2/Mixed_3b/Branch_2/Conv2d_0c_3x3/weights': [3, 3, 96, 96],
            'InceptionV2/Mixed_4a/Branch_0/Conv2d_1a_3x3/weights': [3, 3, 128, 160],
            'InceptionV2/Mixed_5c/Branch_3/Conv2d_0b_1x1/weights': [1, 1, 1024, 128],
            'InceptionV2/Logits/Conv2d_1c_1x1/weights': [1, 1, 1024, 1001],
        },
        ['InceptionV2/Conv2d_1a_7x7', 'InceptionV2/Logits/Conv2d_1c_1x1'], 64, 1024,
        {'global_pool': True}),
    'inception_v4': Network(
        inception_v4.inception_v4_base, 46_009_106,
        _shapes(('Conv2d_1a_3x3', [149, 149, 32]), ('Conv2d_2a_3x3', [147, 147, 32]),
                ('Conv2d_2b_3x3', [147, 147, 64]), ('Mixed_3a', [73, 73, 160]),
                ('Mixed_4a', [71, 71, 192]), ('Mixed_5a', [35, 35, 384]),
                *_mixed('Mixed_5', 'bcde', [35, 35, 384]), ('Mixed_6a', [17, 17, 1024]),
                *_mixed('Mixed_6', 'bcdefgh', [17, 17, 1024]), ('Mixed_7a', [8, 8, 1536]),
                *_mixed('Mixed_7', 'bcd', [8, 8, 1536]), ('AuxLogits', [1001]),
                ('global_pool', [1, 1, 1536]), ('PreLogitsFlatten', [1536]),
                ('Logits', [1001]), ('Predictions', [1001])),
        {
            'InceptionV4/Mixed_3a/Branch_1/Conv2d_0a_3x3/weights': [3, 3, 64, 96],
            'InceptionV4/Mixed_4a/Branch_1/Conv2d_1a_3x3/weights': [3, 3, 64, 96],
            'InceptionV4/Mixed_6a/Branch_1/Conv2d_1a_3x3/weights': [3, 3, 224, 256],
            'InceptionV4/Mixed_6h/Branch_2/Conv2d_0e_1x7/weights': [1, 7, 224, 256],
            'InceptionV4/Mixed_7d/Branch_2/Conv2d_0e_3x1/weights': [3, 1, 512, 256],
            'InceptionV4/AuxLogits/Conv2d_1b_1x1/weights': [1, 1, 1024, 128],
            'InceptionV4/AuxLogits/Conv2d_2a/weights': [5, 5, 128, 768],
            'InceptionV4/AuxLogits/Aux_logits/weights': [768, 1001],
            'InceptionV4/Logits/Logits/weights': [1536, 1001],
        },
        ['InceptionV4/AuxLogits/Aux_logits', 'InceptionV4/Logits/Logits'], 75, 1536,
        {'create_aux_logits': False}),
    'inception_resnet_v2': Network(
        inception_resnet_v2.inception_resnet_v2_base, 59_182_258,
        _shapes(('Conv2d_1a_3x3', [149, 149, 32]), ('Conv2d_2a_3x3', [147, 147, 32]),
                ('Conv2d_2b_3x3', [147, 147, 64]), ('MaxPool_3a_3x3', [73, 73, 64]),
                ('Conv2d_3b_1x1', [73, 73, 80]), ('Conv2d_4a_3x3', [71, 71, 192]),
                ('MaxPool_5a_3x3', [35, 35, 192]), ('Mixed_5b', [35, 35, 320]),
                ('Mixed_6a', [17, 17, 1088]), ('PreAuxLogits', [17, 17, 1088]),
                ('Mixed_7a', [8, 8, 2080]), ('Conv2d_7b_1x1', [8, 8, 1536]),
                ('AuxLogits', [1001]), ('global_pool', [1, 1, 1536]),
                ('PreLogitsFlatten', [1536]), ('Logits', [1001]), ('Predictions', [1001])),
        {
            'InceptionResnetV2/Mixed_5b/Branch_1/Conv2d_0b_5x5/weights': [5, 5, 48, 64],
            'InceptionResnetV2/Repeat/block35_1/Branch_0/Conv2d_1x1/weights': [1, 1, 320, 32],
            'InceptionResnetV2/Repeat/block35_10/Conv2d_1x1/biases': [320],
            'InceptionResnetV2/Mixed_6a/Branch_1/Conv2d_1a_3x3/weights': [3, 3, 256, 384],
            'InceptionResnetV2/Repeat_1/block17_1/Branch_1/Conv2d_0b_1x7/weights':
                [1, 7, 128, 160],
            'InceptionResnetV2/Repeat_1/block17_20/Conv2d_1x1/weights': [1, 1, 384, 1088],
            'InceptionResnetV2/Mixed_7a/Branch_2/Conv2d_1a_3x3/weights': [3, 3, 288, 320],
            'InceptionResnetV2/Repeat_2/block8_9/Branch_1/Conv2d_0c_3x1/weights':
                [3, 1, 224, 256],
            'InceptionResnetV2/Block8/Conv2d_1x1/weights': [1, 1, 448, 2080],
            'InceptionResnetV2/Block8/Conv2d_1x1/biases': [2080],
            'InceptionResnetV2/Conv2d_7b_1x1/weights': [1, 1, 2080, 1536],
            'InceptionResnetV2/AuxLogits/Conv2d_1b_1x1/weights': [1, 1, 1088, 128],
            'InceptionResnetV2/AuxLogits/Conv2d_2a_5x5/weights': [5, 5, 128, 768],
            'InceptionResnetV2/AuxLogits/Logits/weights': [768, 1001],
            'InceptionResnetV2/Logits/Logits/weights': [1536, 1001],
            'InceptionResnetV2/Logits/Logits/biases': [1001],
        },
        [*(f'InceptionResnetV2/Repeat/block35_{i}/Conv2d_1x1' for i in range(1, 11)),
         *(f'InceptionResnetV2/Repeat_1/block17_{i}/Conv2d_1x1' for i in range(1, 21)),
         *(f'InceptionResnetV2/Repeat_2/block8_{i}/Conv2d_1x1' for i in range(1, 10)),
         'InceptionResnetV2/Block8/Conv2d_1x1', 'InceptionResnetV2/AuxLogits/Logits',
         'InceptionResnetV2/Logits/Logits'],
        75, 1536, {'create_aux_logits': False}),
    'inception_resnet_v1': Network(
        inception_resnet_v1.inception_resnet_v1_base, 24_344_601,
        _shapes(('Conv2d_1a_3x3', [149, 149, 32]), ('Conv2d_2a_3x3', [147, 147, 32]),
                ('Conv2d_2b_3x3', [147, 147, 64]), ('MaxPool_3a_3x3', [73, 73, 64]),
                ('Conv2d_3b_1x1', [73, 73, 80]), ('Conv2d_4a_3x3', [71, 71, 192]),
                ('Conv2d_4b_3x3', [35, 35, 256]), ('Mixed_5a', [35, 35, 256]),
                ('Mixed_6a', [17, 17, 896]), ('Mixed_6b', [17, 17, 896]),
                ('Mixed_7a', [8, 8, 1792]), ('Mixed_8a', [8, 8, 1792]),
                ('Mixed_8b', [8, 8, 1792]), ('global_pool', [1, 1, 1792]),
                ('PreLogitsFlatten', [1792]), ('Logits', [1001]), ('Predictions', [1001])),
        {
            'InceptionResnetV1/Conv2d_4b_3x3/weights': [3, 3, 192, 256],
            'InceptionResnetV1/Repeat/block35_5/Branch_2/Conv2d_0c_3x3/weights':
                [3, 3, 32, 32],
            'InceptionResnetV1/Repeat/block35_5/Conv2d_1x1/weights': [1, 1, 96, 256],
            'InceptionResnetV1/Mixed_6a/Branch_0/Conv2d_1a_3x3/weights': [3, 3, 256, 384],
            'InceptionResnetV1/Mixed_6a/Branch_1/Conv2d_1a_3x3/weights': [3, 3, 192, 256],
            'InceptionResnetV1/Repeat_1/block17_10/Conv2d_1x1/weights': [1, 1, 256, 896],
            'InceptionResnetV1/Mixed_7a/Branch_0/Conv2d_1a_3x3/weights': [3, 3, 256, 384],
            'InceptionResnetV1/Mixed_7a/Branch_2/Conv2d_0b_3x3/weights': [3, 3, 256, 256],
            'InceptionResnetV1/Repeat_2/block8_5/Branch_1/Conv2d_0c_3x1/weights':
                [3, 1, 192, 192],
            'InceptionResnetV1/Block8/Conv2d_1x1/biases': [1792],
            'InceptionResnetV1/Logits/Logits/weights': [1792, 1001],
        },
        [*(f'InceptionResnetV1/Repeat/block35_{i}/Conv2d_1x1' for i in range(1, 6)),
         *(f'InceptionResnetV1/Repeat_1/block17_{i}/Conv2d_1x1' for i in range(1, 11)),
         *(f'InceptionResnetV1/Repeat_2/block8_{i}/Conv2d_1x1' for i in range(1, 6)),
         'InceptionResnetV1/Block8/Conv2d_1x1', 'InceptionResnetV1/Logits/Logits'],
        75, 1792, {}),
}

WEIGHT_DECAY = 0.00004


def _trainable_parameter_count():
    return sum(int(np.prod(v.shape.as_list())) for v in tf.trainable_variables())


def _images(batch, size, seed=0):
    return np.random.RandomState(seed).uniform(-1, 1, (batch, size, size, 3)).astype(np.float32)


def _base_end_points(network):
    """The base network's end points, in build order (the head's come after Mixed/Conv)."""
    head = {'AvgPool_0a_7x7', 'AvgPool_1a', 'AuxLogits', 'global_pool', 'PreLogitsFlatten',
            'Logits', 'Predictions'}
    return [name for name in network.end_points if name not in head]


RUN_IN_SESSION = ['inception_v1', 'inception_v2', 'inception_resnet_v1']


@pytest.fixture(scope='module')
def build():
    """build(name) -> the network's graph (built on first use, then cached), with the
    factory-style training build at the default size, reuse towers for evaluation on
    any input size and for small-input features, and for RUN_IN_SESSION networks an
    initialised session."""
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = _build(name)
        return cache[name]

    yield get
    for built in cache.values():
        if built.session:
            built.session.close()


def _build(name):
    network = EXPECTED[name]
    spec = nets_factory.NETWORKS[name]
    size = spec.default_image_size
    graph = tf.Graph()
    with graph.as_default():
        train_images = tf.placeholder(tf.float32, [None, size, size, 3])
        any_images = tf.placeholder(tf.float32, [None, None, None, 3])
        small_images = tf.placeholder(tf.float32, [2, network.small_size, network.small_size, 3])
        with slim.arg_scope(spec.arg_scope_fn(weight_decay=WEIGHT_DECAY)):
            train_logits, train_end_points = spec.model_fn(
                train_images, num_classes=1001, is_training=True)
            variable_count = len(tf.global_variables())
            update_op_count = len(tf.get_collection(tf.GraphKeys.UPDATE_OPS))
            eval_logits, eval_end_points = spec.model_fn(
                any_images, num_classes=1001, is_training=False, reuse=True,
                **network.eval_kwargs)
            features, feature_end_points = spec.model_fn(
                small_images, num_classes=None, is_training=False, reuse=True)
        session = None
        if name in RUN_IN_SESSION:
            session = tf.Session(graph=graph)
            session.run(tf.global_variables_initializer())
    return types.SimpleNamespace(
        name=name, network=network, graph=graph, session=session, any_images=any_images,
        train_logits=train_logits, train_end_points=train_end_points,
        eval_logits=eval_logits, eval_end_points=eval_end_points,
        features=features, feature_end_points=feature_end_points,
        variable_count=variable_count, update_op_count=update_op_count)


def test_expected_values_cover_the_registered_family():
    assert set(NAMES) == set(EXPECTED)


@pytest.mark.parametrize('name', NAMES)
def test_trainable_parameter_count(build, name):
    built = build(name)
    with built.graph.as_default():
        assert _trainable_parameter_count() == built.network.parameters


@pytest.mark.parametrize('name', NAMES)
def test_end_points_at_default_size_in_training(build, name):
    built = build(name)
    shapes = {end_point: t.shape.as_list() for end_point, t in built.train_end_points.items()}
    assert shapes == built.network.end_points
    assert list(shapes) == list(built.network.end_points)  # build order
    assert built.train_logits is built.train_end_points['Logits']


@pytest.mark.parametrize('name', NAMES)
def test_checkpoint_variable_names_and_shapes(build, name):
    built = build(name)
    with built.graph.as_default():
        shapes = {v.op.name: v.shape.as_list() for v in tf.global_variables()}
    expected = built.network.variables
    assert {variable: shapes.get(variable) for variable in expected} == expected
    # Every layer normalises with beta and moving statistics (no gamma) unless it has biases.
    layers = {name.rsplit('/', 1)[0] for name in shapes if name.endswith('weights')}
    biased = {layer for layer in layers if layer + '/biases' in shapes}
    assert sorted(biased) == sorted(built.network.biased_layers)
    for layer in layers - biased:
        assert {f'{layer}/BatchNorm/{v}' for v in ('beta', 'moving_mean', 'moving_variance')} \
            <= set(shapes), layer
    assert not [variable for variable in shapes if 'gamma' in variable]


@pytest.mark.parametrize('name', NAMES)
def test_weight_decay_and_batch_norm_updates(build, name):
    built = build(name)
    with built.graph.as_default():
        losses = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
        names = [v.op.name for v in tf.global_variables()]
        update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    decayed = [variable for variable in names if variable.endswith('/weights')]
    if name.startswith('inception_resnet'):
        decayed += [variable for variable in names if variable.endswith('/biases')]
    # Inception V2's separable convolution is outside inception_arg_scope.
    assert len(losses) == len(decayed)
    moving_means = [variable for variable in names if variable.endswith('moving_mean')]
    # Only the training build registers the moving-average updates.
    assert len(update_ops) == built.update_op_count == 2 * len(moving_means)


@pytest.mark.parametrize('name', NAMES)
def test_reuse_towers_create_no_variables(build, name):
    built = build(name)
    with built.graph.as_default():
        assert len(tf.global_variables()) == built.variable_count


@pytest.mark.parametrize('name', NAMES)
def test_evaluation_tower_on_unknown_input_size(build, name):
    built = build(name)
    assert built.eval_logits.shape.as_list() == [None, 1001]
    assert built.eval_end_points['Predictions'].shape.as_list() == [None, 1001]


@pytest.mark.parametrize('name', RUN_IN_SESSION)
def test_evaluation_runs_on_a_small_input(build, name):
    built = build(name)
    size = built.network.small_size
    images = _images(1, size)
    fetches = [built.eval_logits, built.eval_end_points['Predictions']]
    logits_1, predictions = built.session.run(fetches, {built.any_images: images})
    logits_2 = built.session.run(built.eval_logits, {built.any_images: images})
    assert logits_1.shape == predictions.shape == (1, 1001)
    assert np.all(np.isfinite(logits_1))
    np.testing.assert_array_equal(logits_1, logits_2)  # no dropout when evaluating
    np.testing.assert_allclose(predictions.sum(axis=1), [1.0], rtol=1e-5)


@pytest.mark.parametrize('name', NAMES)
def test_features_without_classes_at_small_size(build, name):
    # Inception V1 and V2 end on a 2 x 2 grid here: their 7 x 7 pool must shrink.
    built = build(name)
    assert built.features.shape.as_list() == [2, 1, 1, built.network.feature_depth]
    assert not {'AuxLogits', 'PreLogitsFlatten', 'Logits', 'Predictions'} \
        & set(built.feature_end_points)


def test_default_image_sizes():
    assert inception_v1.inception_v1.default_image_size == 224
    assert inception_v2.inception_v2.default_image_size == 224
    assert inception_v4.inception_v4.default_image_size == 299
    assert inception_resnet_v2.inception_resnet_v2.default_image_size == 299
    assert inception_resnet_v1.inception_resnet_v1.default_image_size == 299


# --- Base networks: cheap partial builds --------------------------------------------------


@pytest.mark.parametrize(('name', 'final_endpoint', 'size'), [
    ('inception_v1', 'Mixed_3b', 64),
    ('inception_v2', 'Mixed_4a', 64),
    ('inception_v4', 'Mixed_5b', 75),
    ('inception_resnet_v2', 'Mixed_5b', 75),
    ('inception_resnet_v1', 'Conv2d_4b_3x3', 75),
])
def test_base_stops_at_end_point(name, final_endpoint, size):
    network = EXPECTED[name]
    names = _base_end_points(network)
    built_names = names[:names.index(final_endpoint) + 1]
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [1, size, size, 3])
        net, end_points = network.base_fn(images, final_endpoint=final_endpoint)
        scopes = {v.op.name.split('/')[1] for v in tf.global_variables()}
    assert list(end_points) == built_names
    assert net is end_points[final_endpoint]
    assert scopes <= set(built_names)


@pytest.mark.parametrize('name', NAMES)
def test_base_rejects_unknown_end_point_before_building(name):
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [1, 64, 64, 3])
        with pytest.raises(ValueError, match='final endpoint'):
            EXPECTED[name].base_fn(images, final_endpoint='Mixed_9z')
        assert not tf.global_variables()


# --- Inception V1 and V2 ---------------------------------------------------------------


def test_inception_v1_without_root_block_starts_at_mixed_3b():
    with tf.Graph().as_default():
        features = tf.placeholder(tf.float32, [1, 28, 28, 192])
        _, end_points = inception_v1.inception_v1_base(features, final_endpoint='Mixed_3c',
                                                       include_root_block=False)
    assert list(end_points) == ['Mixed_3b', 'Mixed_3c']
    assert end_points['Mixed_3c'].shape.as_list() == [1, 28, 28, 480]


def test_inception_v2_depth_multiplier_and_full_first_convolution():
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [1, 64, 64, 3])
        _, thin = inception_v2.inception_v2_base(images, final_endpoint='Mixed_3b',
                                                 depth_multiplier=0.25, scope='Thin')
        _, full = inception_v2.inception_v2_base(images, final_endpoint='Conv2d_1a_7x7',
                                                 use_separable_conv=False, scope='Full')
        shapes = {v.op.name: v.shape.as_list() for v in tf.global_variables()}
    # depth(64) = 16, so the depthwise multiplier drops to int(16 / 3) = 5.
    assert shapes['Thin/Conv2d_1a_7x7/depthwise_weights'] == [7, 7, 3, 5]
    assert shapes['Thin/Conv2d_1a_7x7/pointwise_weights'] == [1, 1, 15, 16]
    # min_depth 16 floors each of Mixed_3b's branches: 16 + 16 + 24 + 16.
    assert thin['Mixed_3b'].shape.as_list() == [1, 8, 8, 72]
    assert shapes['Full/Conv2d_1a_7x7/weights'] == [7, 7, 3, 64]
    assert full['Conv2d_1a_7x7'].shape.as_list() == [1, 32, 32, 64]


def test_inception_v2_channels_first_layout():
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [1, 3, 64, 64])
        net, _ = inception_v2.inception_v2_base(images, final_endpoint='Mixed_4a',
                                                use_separable_conv=False, data_format='NCHW')
    assert net.shape.as_list() == [1, 576, 4, 4]


@pytest.mark.parametrize(('kwargs', 'message'), [
    ({'depth_multiplier': 0}, 'depth_multiplier'),
    ({'data_format': 'HWCN'}, 'data_format'),
    ({'data_format': 'NCHW'}, 'use_separable_conv=False'),
])
def test_inception_v2_base_rejects_bad_arguments(kwargs, message):
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [1, 64, 64, 3])
        with pytest.raises(ValueError, match=message):
            inception_v2.inception_v2_base(images, **kwargs)
        assert not tf.global_variables()


def test_inception_v2_reduced_kernel_size_for_small_input():
    reduce_kernel = inception_v2._reduced_kernel_size_for_small_input
    with tf.Graph().as_default():
        assert reduce_kernel(tf.placeholder(tf.float32, [1, 3, 9, 4]), [7, 7]) == [3, 7]
        assert reduce_kernel(tf.placeholder(tf.float32, [1, None, None, 4]), [7, 7]) == [7, 7]


# --- Inception V4 and the Inception-ResNets ------------------------------------------------


@pytest.mark.parametrize(('block', 'depth'), [
    (inception_v4.block_inception_a, 384), (inception_v4.block_inception_b, 1024),
    (inception_v4.block_inception_c, 1536),
])
def test_inception_v4_blocks_keep_their_input_shape(block, depth):
    with tf.Graph().as_default():
        inputs = tf.placeholder(tf.float32, [1, 5, 5, depth])
        assert block(inputs).shape.as_list() == [1, 5, 5, depth]


def test_inception_v4_reduction_blocks_halve_the_grid():
    with tf.Graph().as_default():
        assert inception_v4.block_reduction_a(
            tf.placeholder(tf.float32, [1, 9, 9, 384])).shape.as_list() == [1, 4, 4, 1024]
        assert inception_v4.block_reduction_b(
            tf.placeholder(tf.float32, [1, 9, 9, 1024])).shape.as_list() == [1, 4, 4, 1536]
        scopes = sorted({v.op.name.split('/')[0] for v in tf.global_variables()})
    assert scopes == ['BlockReductionA', 'BlockReductionB']


def test_aux_head_needs_a_known_input_size():
    with tf.Graph().as_default():
        features = tf.placeholder(tf.float32, [None, None, None, 1024])
        with pytest.raises(ValueError, match='create_aux_logits=False'):
            inception_v4._aux_logits(features, 10, 'Pool', 'Conv', 'Logits')


@pytest.mark.parametrize(('block', 'depth'), [
    (inception_resnet_v2.block35, 320), (inception_resnet_v2.block17, 1088),
    (inception_resnet_v1.block8, 1792),
])
def test_residual_blocks_add_the_scaled_branches(block, depth):
    """With zero weights and unit biases every branch gives 1, and so does the 1x1
    projection: the block adds `scale` to its input."""
    inputs = np.random.RandomState(0).uniform(-1, 1, (1, 3, 3, depth)).astype(np.float32)
    with tf.Graph().as_default():
        net = tf.constant(inputs)
        with slim.arg_scope([slim.conv2d], weights_initializer=tf.zeros_initializer(),
                            biases_initializer=tf.ones_initializer()):
            shifted = block(net, scale=0.5, activation_fn=None, scope='Shifted')
        block(net, activation_fn=tf.nn.relu6, scope='Relu6')
        clips = {op.name.split('/')[0] for op in tf.get_default_graph().get_operations()
                 if 'clip_by_value' in op.name}
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            shifted_value = session.run(shifted)
    np.testing.assert_allclose(shifted_value, inputs + 0.5, rtol=1e-6)
    # Only relu6 blocks clip the scaled residual to its range.
    assert clips == {'Relu6'}


def test_inception_resnet_v2_aligned_feature_maps_and_output_stride_8():
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [1, 299, 299, 3])
        _, end_points = inception_resnet_v2.inception_resnet_v2_base(
            images, final_endpoint='Mixed_6a', output_stride=8, align_feature_maps=True)
    shapes = {name: t.shape.as_list()[1] for name, t in end_points.items()}
    # 'SAME' padding makes each grid the input / stride, rounded up; stride 8 keeps
    # Mixed_6a at MaxPool_5a_3x3's size.
    assert shapes == {'Conv2d_1a_3x3': 150, 'Conv2d_2a_3x3': 150, 'Conv2d_2b_3x3': 150,
                      'MaxPool_3a_3x3': 75, 'Conv2d_3b_1x1': 75, 'Conv2d_4a_3x3': 75,
                      'MaxPool_5a_3x3': 38, 'Mixed_5b': 38, 'Mixed_6a': 38}


@pytest.mark.parametrize(('kwargs', 'message'), [
    ({'output_stride': 32}, 'output_stride must be 8 or 16'),
    ({'output_stride': 8}, 'PreAuxLogits'),
])
def test_inception_resnet_v2_base_rejects_bad_output_stride(kwargs, message):
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [1, 299, 299, 3])
        with pytest.raises(ValueError, match=message):
            inception_resnet_v2.inception_resnet_v2_base(images, **kwargs)
        assert not tf.global_variables()


@pytest.mark.parametrize(('kwargs', 'expected', 'absent'), [
    ({}, {'weights', 'BatchNorm/beta', 'BatchNorm/moving_mean'}, {'biases', 'BatchNorm/gamma'}),
    ({'batch_norm_scale': True}, {'BatchNorm/beta', 'BatchNorm/gamma'}, {'biases'}),
])
def test_inception_resnet_v2_arg_scope(kwargs, expected, absent):
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [1, 8, 8, 3])
        with slim.arg_scope(inception_resnet_v2.inception_resnet_v2_arg_scope(**kwargs)):
            slim.conv2d(images, 4, [3, 3], scope='conv')
            slim.fully_connected(tf.zeros([1, 4]), 2, scope='fc')
        suffixes = {v.op.name[len('conv/'):] for v in tf.global_variables()
                    if v.op.name.startswith('conv/')}
        losses = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    assert expected <= suffixes
    assert not absent & suffixes
    assert len(losses) == 3  # conv weights, fc weights and fc biases
    assert inception_resnet_v1.inception_resnet_v1_arg_scope \
        is inception_resnet_v2.inception_resnet_v2_arg_scope


# --- The nets.inception package ----------------------------------------------------------


def test_inception_package_interface():
    modules = {'inception_v1': inception_v1, 'inception_v2': inception_v2,
               'inception_v4': inception_v4, 'inception_resnet_v2': inception_resnet_v2}
    for name, module in modules.items():
        for suffix in ('', '_base', '_arg_scope'):
            assert getattr(inception, name + suffix) is getattr(module, name + suffix)
    for name in ('inception_v1', 'inception_v2', 'inception_v4'):
        assert getattr(inception, name + '_arg_scope') is inception_utils.inception_arg_scope
