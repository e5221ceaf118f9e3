"""Tests of nets.mobilenet: the generic builder, its blocks, MobileNet V2, V3 and EdgeTPU.

Each network the factory offers is built once (`networks` fixture, lazily): a
training tower at 224x224 inside its arg scope, called as the factory calls it,
then in the same graph an evaluation tower sharing its variables on input of
unknown batch and spatial size. Sessions run only on small inputs, for a few
networks; the other tests build a handful of layers each.
"""

import types

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
import tf_slim as slim

from nets import nets_factory
from nets.mobilenet import conv_blocks, mobilenet_v2, mobilenet_v3
from nets.mobilenet import mobilenet as lib

# The registry's networks of this family (MobileNet V1 is tested with the ResNets).
NAMES = [name for name in nets_factory.NETWORKS
         if name.startswith(('mobilenet_v2', 'mobilenet_v3', 'mobilenet_edgetpu'))]

# name -> (variable scope, trainable parameters of the published checkpoint, layers of
# its conv_defs)
EXPECTED = {
    'mobilenet_v2': ('MobilenetV2', 3_506_153, 19),
    'mobilenet_v2_140': ('MobilenetV2', 6_110_569, 19),
    'mobilenet_v2_035': ('MobilenetV2', 1_678_409, 19),
    'mobilenet_v3_large': ('MobilenetV3', 5_484_313, 19),
    'mobilenet_v3_small': ('MobilenetV3', 2_543_881, 15),
    'mobilenet_v3_large_minimalistic': ('MobilenetV3', 3_925_569, 19),
    'mobilenet_v3_small_minimalistic': ('MobilenetV3', 2_045_761, 15),
    'mobilenet_edgetpu': ('MobilenetEdgeTPU', 4_092_713, 24),
    'mobilenet_edgetpu_075': ('MobilenetEdgeTPU', 2_989_441, 24),
}

# (side, channels) of some layers at 224x224, then the channels of 'global_pool'.
_V2_SIDES = {1: 112, 2: 112, 3: 56, 5: 28, 8: 14, 12: 14, 15: 7, 18: 7, 19: 7}
_V3_LARGE = {1: (112, 16), 2: (112, 16), 3: (56, 24), 5: (28, 40), 8: (14, 80), 12: (14, 112),
             14: (7, 160), 17: (7, 960), 18: (1, 960), 19: (1, 1280)}
_V3_SMALL = {1: (112, 16), 2: (56, 16), 3: (28, 24), 5: (14, 40), 8: (14, 48), 10: (7, 96),
             13: (7, 576), 14: (1, 576), 15: (1, 1024)}
_EDGETPU_SIDES = {1: 112, 2: 112, 3: 56, 7: 28, 11: 14, 19: 7, 23: 7, 24: 7}


def _with_sides(sides, channels):
    return {layer: (side, depth) for (layer, side), depth in zip(sides.items(), channels,
                                                                 strict=True)}


LAYER_SHAPES = {
    'mobilenet_v2': _with_sides(_V2_SIDES, [32, 16, 24, 32, 64, 96, 160, 320, 1280]),
    # Channels x 1.4 rounded to multiples of 8.
    'mobilenet_v2_140': _with_sides(_V2_SIDES, [48, 24, 32, 48, 88, 136, 224, 448, 1792]),
    # x 0.35, but at least 8 and never 10% below; the last layer keeps 1280.
    'mobilenet_v2_035': _with_sides(_V2_SIDES, [16, 8, 8, 16, 24, 32, 56, 112, 1280]),
    'mobilenet_v3_large': _V3_LARGE,
    'mobilenet_v3_large_minimalistic': _V3_LARGE,
    'mobilenet_v3_small': _V3_SMALL,
    'mobilenet_v3_small_minimalistic': _V3_SMALL,
    'mobilenet_edgetpu': _with_sides(_EDGETPU_SIDES, [32, 16, 32, 48, 96, 160, 192, 1280]),
    'mobilenet_edgetpu_075': _with_sides(_EDGETPU_SIDES, [24, 16, 24, 40, 72, 120, 144, 1280]),
}


def _parameter_count(variables):
    return sum(int(np.prod(v.shape.as_list())) for v in variables)


def _shapes(tensors):
    return {key: tensor.shape.as_list() for key, tensor in tensors.items()}


def _images(*shape, seed=0):
    return np.random.RandomState(seed).uniform(-1, 1, shape).astype(np.float32)


def _batch_norm_modes(graph, prefix):
    """The is_training attributes of the fused batch norms under name scope `prefix`."""
    return {op.get_attr('is_training') for op in graph.get_operations()
            if op.type.startswith('FusedBatchNorm') and op.name.startswith(prefix)}


def _build(name):
    """Training tower at 224 and evaluation tower (reuse) on [None, None, None, 3]."""
    spec = nets_factory.NETWORKS[name]
    network_fn, arg_scope_fn, scope = spec.model_fn, spec.arg_scope_fn, EXPECTED[name][0]
    graph = tf.Graph()
    with graph.as_default():
        train_images = tf.placeholder(tf.float32, [2, 224, 224, 3])
        any_images = tf.placeholder(tf.float32, [None, None, None, 3])
        with slim.arg_scope(arg_scope_fn(weight_decay=0.00004)):
            train_logits, train_end_points = network_fn(train_images, num_classes=1001,
                                                        is_training=True)
            variables = {v.op.name: v.shape.as_list() for v in tf.global_variables()}
            trainable_parameters = _parameter_count(tf.trainable_variables())
            update_ops = len(tf.get_collection(tf.GraphKeys.UPDATE_OPS))
            regularization_losses = len(tf.losses.get_regularization_losses())
            eval_logits, eval_end_points = network_fn(any_images, num_classes=1001,
                                                      is_training=False, reuse=True)
        return types.SimpleNamespace(
            graph=graph, init=tf.global_variables_initializer(), scope=scope,
            train_images=train_images, any_images=any_images,
            train_logits=train_logits, train_end_points=train_end_points,
            eval_logits=eval_logits, eval_end_points=eval_end_points, variables=variables,
            trainable_parameters=trainable_parameters, update_ops=update_ops,
            regularization_losses=regularization_losses,
            variables_after_eval=len(tf.global_variables()),
            update_ops_after_eval=len(tf.get_collection(tf.GraphKeys.UPDATE_OPS)))


@pytest.fixture(scope='module')
def networks():
    """networks(name): the builds of `_build`, each made once for the module."""
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = _build(name)
        return cache[name]

    return get


# -- The factory's networks, built once -----------------------------------------------------


def test_expected_values_cover_the_registered_family():
    assert set(NAMES) == set(EXPECTED) == set(LAYER_SHAPES)


@pytest.mark.parametrize('name', NAMES)
def test_trainable_parameter_count_matches_checkpoint(networks, name):
    assert networks(name).trainable_parameters == EXPECTED[name][1]
    assert nets_factory.NETWORKS[name].default_image_size == 224


@pytest.mark.parametrize('name', NAMES)
def test_training_end_points_at_224(networks, name):
    net = networks(name)
    shapes = _shapes(net.train_end_points)
    num_layers = EXPECTED[name][2]
    expected = {'layer_%d' % layer: [2, side, side, depth]
                for layer, (side, depth) in LAYER_SHAPES[name].items()}
    last_depth = LAYER_SHAPES[name][num_layers][1]
    expected.update({'global_pool': [2, 1, 1, last_depth], 'Logits': [2, 1001],
                     'Predictions': [2, 1001]})
    assert {key: shapes.get(key) for key in expected} == expected
    assert net.train_logits.shape.as_list() == [2, 1001]
    layers = {key for key in shapes if key.startswith('layer_') and '/' not in key}
    assert layers == {'layer_%d' % (i + 1) for i in range(num_layers)}


@pytest.mark.parametrize('name', NAMES)
def test_evaluation_tower_shares_variables_on_unknown_input_size(networks, name):
    net = networks(name)
    assert net.variables_after_eval == len(net.variables)
    assert net.eval_logits.shape.as_list() == [None, 1001]
    depth = LAYER_SHAPES[name][EXPECTED[name][2]][1]
    assert net.eval_end_points['global_pool'].shape.as_list() == [None, 1, 1, depth]
    # is_training given to the network wins over training_scope's is_training=True:
    # batch statistics and dropout only in the training tower, no updates from eval.
    assert net.update_ops_after_eval == net.update_ops
    assert _batch_norm_modes(net.graph, net.scope + '/') == {True}
    assert _batch_norm_modes(net.graph, net.scope + '_1/') == {False}
    random_ops = [op.name for op in net.graph.get_operations() if op.type == 'RandomUniform']
    assert random_ops and all(op.startswith(net.scope + '/Logits/Dropout/') for op in random_ops)


@pytest.mark.parametrize('name', NAMES)
def test_batch_norm_updates_and_weight_decay(networks, name):
    net = networks(name)
    moving_means = [key for key in net.variables if key.endswith('/moving_mean')]
    assert net.update_ops == 2 * len(moving_means) > 0
    # Every full convolution is decayed (logits and squeeze-excite included);
    # depthwise ones ('.../depthwise_weights') are not.
    decayed = [key for key in net.variables if key.endswith('/weights')]
    assert net.regularization_losses == len(decayed)


@pytest.mark.parametrize('name, expected', [
    ('mobilenet_v2', {
        'MobilenetV2/Conv/weights': [3, 3, 3, 32],
        'MobilenetV2/Conv/BatchNorm/gamma': [32],
        'MobilenetV2/Conv/BatchNorm/beta': [32],
        'MobilenetV2/expanded_conv/depthwise/depthwise_weights': [3, 3, 32, 1],
        'MobilenetV2/expanded_conv/depthwise/BatchNorm/moving_mean': [32],
        'MobilenetV2/expanded_conv/project/weights': [1, 1, 32, 16],
        'MobilenetV2/expanded_conv_1/expand/weights': [1, 1, 16, 96],
        'MobilenetV2/expanded_conv_1/expand/BatchNorm/gamma': [96],
        'MobilenetV2/expanded_conv_1/depthwise/depthwise_weights': [3, 3, 96, 1],
        'MobilenetV2/expanded_conv_1/project/BatchNorm/moving_mean': [24],
        'MobilenetV2/expanded_conv_16/project/weights': [1, 1, 960, 320],
        'MobilenetV2/Conv_1/weights': [1, 1, 320, 1280],
        'MobilenetV2/Conv_1/BatchNorm/moving_variance': [1280],
        'MobilenetV2/Logits/Conv2d_1c_1x1/weights': [1, 1, 1280, 1001],
        'MobilenetV2/Logits/Conv2d_1c_1x1/biases': [1001],
    }),
    ('mobilenet_v2_035', {
        'MobilenetV2/Conv/weights': [3, 3, 3, 16],
        'MobilenetV2/expanded_conv/project/weights': [1, 1, 16, 8],
        'MobilenetV2/expanded_conv_16/project/weights': [1, 1, 336, 112],
        'MobilenetV2/Conv_1/weights': [1, 1, 112, 1280],
    }),
    ('mobilenet_v3_large', {
        'MobilenetV3/Conv/weights': [3, 3, 3, 16],
        'MobilenetV3/Conv/BatchNorm/gamma': [16],
        'MobilenetV3/expanded_conv/depthwise/depthwise_weights': [3, 3, 16, 1],
        'MobilenetV3/expanded_conv/project/weights': [1, 1, 16, 16],
        'MobilenetV3/expanded_conv_3/expand/weights': [1, 1, 24, 72],
        'MobilenetV3/expanded_conv_3/depthwise/depthwise_weights': [5, 5, 72, 1],
        'MobilenetV3/expanded_conv_3/squeeze_excite/Conv/weights': [1, 1, 72, 24],
        'MobilenetV3/expanded_conv_3/squeeze_excite/Conv/biases': [24],
        'MobilenetV3/expanded_conv_3/squeeze_excite/Conv_1/weights': [1, 1, 24, 72],
        'MobilenetV3/expanded_conv_3/squeeze_excite/Conv_1/biases': [72],
        'MobilenetV3/expanded_conv_8/expand/weights': [1, 1, 80, 184],
        'MobilenetV3/expanded_conv_14/project/BatchNorm/moving_mean': [160],
        'MobilenetV3/Conv_1/weights': [1, 1, 160, 960],
        'MobilenetV3/Conv_2/weights': [1, 1, 960, 1280],
        'MobilenetV3/Conv_2/biases': [1280],
        'MobilenetV3/Logits/Conv2d_1c_1x1/weights': [1, 1, 1280, 1001],
    }),
    ('mobilenet_v3_small', {
        'MobilenetV3/expanded_conv/depthwise/depthwise_weights': [3, 3, 16, 1],
        'MobilenetV3/expanded_conv/squeeze_excite/Conv/weights': [1, 1, 16, 8],
        'MobilenetV3/expanded_conv/squeeze_excite/Conv_1/weights': [1, 1, 8, 16],
        'MobilenetV3/expanded_conv_1/expand/weights': [1, 1, 16, 72],
        'MobilenetV3/expanded_conv_2/expand/weights': [1, 1, 24, 88],
        'MobilenetV3/Conv_2/weights': [1, 1, 576, 1024],
        'MobilenetV3/Logits/Conv2d_1c_1x1/biases': [1001],
    }),
    ('mobilenet_edgetpu', {
        'MobilenetEdgeTPU/Conv/weights': [3, 3, 3, 32],
        'MobilenetEdgeTPU/expanded_conv/project/weights': [1, 1, 32, 16],
        'MobilenetEdgeTPU/expanded_conv_1/expand/weights': [3, 3, 16, 128],
        'MobilenetEdgeTPU/expanded_conv_1/expand/BatchNorm/beta': [128],
        'MobilenetEdgeTPU/expanded_conv_1/project/weights': [1, 1, 128, 32],
        'MobilenetEdgeTPU/expanded_conv_9/depthwise/depthwise_weights': [3, 3, 384, 1],
        'MobilenetEdgeTPU/expanded_conv_21/depthwise/depthwise_weights': [3, 3, 1280, 1],
        'MobilenetEdgeTPU/Conv_1/weights': [1, 1, 192, 1280],
        'MobilenetEdgeTPU/Conv_1/BatchNorm/moving_variance': [1280],
        'MobilenetEdgeTPU/Logits/Conv2d_1c_1x1/weights': [1, 1, 1280, 1001],
    }),
    ('mobilenet_edgetpu_075', {
        'MobilenetEdgeTPU/Conv/weights': [3, 3, 3, 24],
        'MobilenetEdgeTPU/Conv_1/weights': [1, 1, 144, 1280],
    }),
])
def test_checkpoint_variable_names_and_shapes(networks, name, expected):
    variables = networks(name).variables
    assert {key: variables.get(key) for key in expected} == expected


@pytest.mark.parametrize('name, absent', [
    # No expansion in the first block; batch norm replaces biases; depthwise only.
    ('mobilenet_v2', ['MobilenetV2/expanded_conv/expand/weights', 'MobilenetV2/Conv/biases',
                      'MobilenetV2/expanded_conv/depthwise/pointwise_weights',
                      'MobilenetV2/expanded_conv/depthwise/biases']),
    # The last convolution has biases instead of batch norm; no SE in early blocks.
    ('mobilenet_v3_large', ['MobilenetV3/Conv_2/BatchNorm/gamma',
                            'MobilenetV3/expanded_conv/squeeze_excite/Conv/weights']),
    ('mobilenet_v3_large_minimalistic', ['MobilenetV3/expanded_conv_3/squeeze_excite/Conv/biases']),
    # Fused blocks have no depthwise convolution.
    ('mobilenet_edgetpu', ['MobilenetEdgeTPU/expanded_conv/expand/weights',
                           'MobilenetEdgeTPU/expanded_conv_1/depthwise/depthwise_weights']),
])
def test_no_variables_beyond_the_checkpoint_layout(networks, name, absent):
    variables = networks(name).variables
    assert [key for key in absent if key in variables] == []


def test_inverted_residual_end_points(networks):
    shapes = _shapes(networks('mobilenet_v2').train_end_points)
    assert shapes['layer_3/expansion_output'] == [2, 112, 112, 96]
    assert shapes['layer_3/depthwise_output'] == [2, 56, 56, 96]
    assert shapes['layer_3/output'] == [2, 56, 56, 24]
    # Expansion factor 1: nothing to expand.
    assert 'layer_2/expansion_output' not in shapes
    assert shapes['layer_2/depthwise_output'] == [2, 112, 112, 32]
    v3_shapes = _shapes(networks('mobilenet_v3_large').train_end_points)
    assert v3_shapes['layer_5/depthwise_output'] == [2, 28, 28, 72]


def _run(net, fetches, images, times=1):
    """Runs `fetches` of the evaluation tower on `images` `times` times in one freshly
    initialised session; returns the list of results."""
    with tf.Session(graph=net.graph) as session:
        session.run(net.init)
        return [session.run(fetches, {net.any_images: images}) for _ in range(times)]


@pytest.mark.parametrize('name, batches_and_sizes', [('mobilenet_v2', [(2, 64), (1, 96)]),
                                                     ('mobilenet_edgetpu', [(2, 64)])])
def test_evaluation_runs_on_small_inputs_of_any_size(networks, name, batches_and_sizes):
    net = networks(name)
    depth = LAYER_SHAPES[name][EXPECTED[name][2]][1]
    fetches = {key: net.eval_end_points[key] for key in ('Logits', 'Predictions', 'global_pool')}
    for batch, size in batches_and_sizes:
        images = _images(batch, size, size, 3)
        first, second = _run(net, fetches, images, times=2)
        assert first['Logits'].shape == (batch, 1001)
        assert first['global_pool'].shape == (batch, 1, 1, depth)
        assert np.all(np.isfinite(first['Logits']))
        np.testing.assert_allclose(first['Predictions'].sum(axis=1), np.ones(batch), rtol=1e-5)
        # No dropout in evaluation: the same input gives the same logits.
        np.testing.assert_array_equal(first['Logits'], second['Logits'])


def test_v3_evaluation_runs_on_unknown_input_size_at_default_size(networks):
    # V3 pools its last 7x7 map with a fixed 7x7 kernel when the size is unknown.
    net = networks('mobilenet_v3_small')
    [(logits, pooled)] = _run(net, [net.eval_logits, net.eval_end_points['layer_14']],
                              _images(1, 224, 224, 3))
    assert logits.shape == (1, 1001)
    assert pooled.shape == (1, 1, 1, 576)


# -- The builder: cheap partial builds --------------------------------------------------------


def _v2_base(input_shape=(2, 224, 224, 3), **kwargs):
    inputs = tf.placeholder(tf.float32, input_shape)
    with slim.arg_scope(mobilenet_v2.training_scope()):
        return mobilenet_v2.mobilenet_base(inputs, **kwargs)


def test_base_stops_at_final_endpoint():
    with tf.Graph().as_default():
        net, end_points = _v2_base(final_endpoint='layer_5')
        scopes = {v.op.name.split('/')[1] for v in tf.global_variables()}
    assert net is end_points['layer_5']
    assert net.shape.as_list() == [2, 28, 28, 32]
    assert {key.split('/')[0] for key in end_points} == {'layer_%d' % i for i in range(1, 6)}
    assert scopes == {'Conv', 'expanded_conv', 'expanded_conv_1', 'expanded_conv_2',
                      'expanded_conv_3'}


@pytest.mark.parametrize('kwargs, message', [
    ({'final_endpoint': 'layer_20'}, 'Unknown final endpoint'),
    ({'final_endpoint': 'Conv2d_13_pointwise'}, 'Unknown final endpoint'),
    ({'output_stride': 3}, 'Output stride'),
    ({'output_stride': 0}, 'Output stride'),
    ({'depth_multiplier': 0}, 'multiplier'),
    ({'multiplier': 0.5}, 'depth_multiplier'),
])
def test_base_rejects_bad_arguments_before_building(kwargs, message):
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match=message):
            _v2_base(**kwargs)
        assert tf.global_variables() == []


def test_rank_must_be_4():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match='rank 4'):
            mobilenet_v3.small(tf.placeholder(tf.float32, [224, 224, 3]))


def test_output_stride_turns_later_strides_into_atrous_rates():
    with tf.Graph().as_default() as graph:
        _, end_points = _v2_base(final_endpoint='layer_8', output_stride=4)
        dilated = {op.name.split('/')[1] for op in graph.get_operations()
                   if op.type == 'SpaceToBatchND'}
        residual_adds = {op.name.split('/')[1] for op in graph.get_operations()
                         if op.name.endswith('/add')}
    # Strides 2 (layer_1) and 2 (layer_3) reach the target; layer_5's stride then
    # becomes the rate of layers 6..8 (scopes expanded_conv_4..6).
    assert [end_points['layer_%d' % i].shape.as_list()[1] for i in (1, 3, 5, 8)] == [
        112, 56, 56, 56]
    assert dilated == {'expanded_conv_4', 'expanded_conv_5', 'expanded_conv_6'}
    # Dilated blocks keep their residual connections.
    assert {'expanded_conv_4', 'expanded_conv_5'} <= residual_adds


@pytest.mark.parametrize('conv_defs', [mobilenet_v2.V2_DEF, mobilenet_v3.V3_EDGETPU])
def test_explicit_padding_keeps_same_padding_shapes(conv_defs):
    # EdgeTPU's early blocks are fused: their 3x3 expansion needs the padding.
    shapes = {}
    for explicit in (False, True):
        with tf.Graph().as_default() as graph:
            inputs = tf.placeholder(tf.float32, [1, 65, 65, 3])
            _, end_points = mobilenet_v3.mobilenet_base(
                inputs, final_endpoint='layer_4', use_explicit_padding=explicit,
                conv_defs=conv_defs)
            shapes[explicit] = _shapes(end_points)
            paddings = {op.get_attr('padding') for op in graph.get_operations()
                        if op.type in ('Conv2D', 'DepthwiseConv2dNative')}
        assert paddings == ({b'VALID'} if explicit else {b'SAME'})
    assert shapes[True] == shapes[False]
    assert shapes[True]['layer_4'][1:3] == [17, 17]


def test_depth_multiplier_rounding_options():
    with tf.Graph().as_default():
        _, floored = _v2_base(depth_multiplier=0.1, min_depth=16, final_endpoint='layer_3',
                              scope='Floored')
        _, exact = _v2_base(depth_multiplier=0.3, divisible_by=1, final_endpoint='layer_3',
                            scope='Exact')
    # 3.2, 1.6, 2.4 -> at least min_depth; 9.6, 4.8, 7.2 -> 10, min_depth 8, 8.
    assert [floored['layer_%d' % i].shape.as_list()[3] for i in (1, 2, 3)] == [16, 16, 16]
    assert [exact['layer_%d' % i].shape.as_list()[3] for i in (1, 2, 3)] == [10, 8, 8]


def _short_defs(conv_defs):
    """conv_defs with only its first two layers and its last."""
    return dict(conv_defs, spec=conv_defs['spec'][:2] + conv_defs['spec'][-1:])


@pytest.mark.parametrize('module, depth_multiplier, finegrain, depth', [
    (mobilenet_v2, 0.5, False, 640),
    (mobilenet_v2, 0.5, True, 1280),
    # V2 keeps the last layer only when shrinking; V3 whatever the multiplier.
    (mobilenet_v2, 2.0, True, 2560),
    (mobilenet_v3, 2.0, True, 1280),
    (mobilenet_v3, 0.5, False, 640),
])
def test_finegrain_classification_mode_keeps_last_layer(module, depth_multiplier, finegrain,
                                                        depth):
    conv_defs = _short_defs(module.V2_DEF if module is mobilenet_v2 else module.V3_EDGETPU)
    with tf.Graph().as_default():
        features, _ = module.mobilenet(tf.placeholder(tf.float32, [1, 32, 32, 3]),
                                       num_classes=None, conv_defs=conv_defs,
                                       depth_multiplier=depth_multiplier,
                                       finegrain_classification_mode=finegrain)
    assert features.shape.as_list() == [1, 1, 1, depth]


@pytest.mark.parametrize('module, num_classes', [(mobilenet_v2, None), (mobilenet_v3, 0)])
def test_features_without_classes(module, num_classes):
    conv_defs = _short_defs(module.V2_DEF if module is mobilenet_v2 else module.V3_SMALL)
    with tf.Graph().as_default(), tf.Session() as session:
        images = tf.placeholder(tf.float32, [2, 64, 64, 3])
        features, end_points = module.mobilenet(images, num_classes=num_classes,
                                                conv_defs=conv_defs)
        session.run(tf.global_variables_initializer())
        value = session.run(features, {images: _images(2, 64, 64, 3)})
    depth = 1280 if module is mobilenet_v2 else 1024
    assert features is end_points['global_pool']
    assert features.shape.as_list() == [2, 1, 1, depth]
    assert value.shape == (2, 1, 1, depth)
    assert 'Logits' not in end_points and 'Predictions' not in end_points


def test_v2_activation_fn_replaces_relu6():
    with tf.Graph().as_default() as graph:
        mobilenet_v2.mobilenet(tf.placeholder(tf.float32, [1, 32, 32, 3]), base_only=True,
                               conv_defs=_short_defs(mobilenet_v2.V2_DEF),
                               activation_fn=tf.nn.elu)
        types_ = {op.type for op in graph.get_operations()}
    assert 'Elu' in types_ and 'Relu6' not in types_
    # V2_DEF itself is untouched.
    assert mobilenet_v2.V2_DEF['defaults'][
        (slim.conv2d, slim.fully_connected, slim.separable_conv2d)]['activation_fn'] is tf.nn.relu6


def test_v3_group_norm_replaces_batch_norm():
    with tf.Graph().as_default():
        mobilenet_v3.mobilenet(tf.placeholder(tf.float32, [1, 32, 32, 3]), base_only=True,
                               conv_defs=_short_defs(mobilenet_v3.V3_SMALL), use_groupnorm=True,
                               groups=4)
        names = [v.op.name for v in tf.global_variables()]
    assert 'MobilenetV3/Conv/GroupNorm/gamma' in names
    assert not [name for name in names if 'BatchNorm' in name]


@pytest.mark.parametrize('kwargs, prefix', [({}, 'MobilenetEdgeTPU/'),
                                            ({'scope': 'Custom'}, 'Custom/')])
def test_edge_tpu_scope_is_a_default(kwargs, prefix):
    with tf.Graph().as_default():
        mobilenet_v3.edge_tpu(tf.placeholder(tf.float32, [1, 32, 32, 3]), base_only=True,
                              final_endpoint='layer_2', **kwargs)
        names = [v.op.name for v in tf.global_variables()]
    assert names and all(name.startswith(prefix) for name in names)


@pytest.mark.parametrize('scope_kwargs, model_kwargs, updates, decayed', [
    ({}, {}, True, 4),
    ({'is_training': False}, {}, False, 4),
    ({}, {'is_training': False}, False, 4),
    ({'weight_decay': 0.0}, {'is_training': True}, True, 0),
])
def test_training_scope_modes_and_weight_decay(scope_kwargs, model_kwargs, updates, decayed):
    with tf.Graph().as_default() as graph:
        with slim.arg_scope(mobilenet_v2.training_scope(**scope_kwargs)):
            mobilenet_v2.mobilenet(tf.placeholder(tf.float32, [1, 32, 32, 3]), num_classes=10,
                                   conv_defs=_short_defs(mobilenet_v2.V2_DEF), **model_kwargs)
        # Conv, expanded_conv/project, Conv_1 and the logits are decayed; depthwise is not.
        assert len(tf.losses.get_regularization_losses()) == decayed
        assert bool(tf.get_collection(tf.GraphKeys.UPDATE_OPS)) == updates
        assert _batch_norm_modes(graph, 'MobilenetV2/') == {updates}
        dropout = [op for op in graph.get_operations() if op.type == 'RandomUniform']
        assert bool(dropout) == updates


def test_training_scope_without_mode_keeps_layer_defaults():
    with tf.Graph().as_default() as graph:
        with slim.arg_scope(mobilenet_v2.training_scope(is_training=None)):
            mobilenet_v2.mobilenet_base(tf.placeholder(tf.float32, [1, 32, 32, 3]),
                                        conv_defs=_short_defs(mobilenet_v2.V2_DEF),
                                        is_training=None)
        # slim.batch_norm defaults to training mode.
        assert _batch_norm_modes(graph, 'MobilenetV2/') == {True}


# -- Blocks and helpers -----------------------------------------------------------------------


@pytest.mark.parametrize('value, divisor, min_value, expected', [
    (11.2, 8, None, 16),  # 8 would be 29% below.
    (44.8, 8, None, 48),
    (448.0, 8, None, 448),
    (3.2, 8, None, 8),
    (36.0, 8, None, 40),  # Halves round up.
    (4.8, 1, 8, 8),
    (18.0, 8, None, 24),  # 16 would be 11% below.
])
def test_make_divisible(value, divisor, min_value, expected):
    assert conv_blocks._make_divisible(value, divisor, min_value) == expected


@pytest.mark.parametrize('num, num_ways, expected', [
    (64, 2, [32, 32]), (48, 3, [16, 16, 16]), (40, 3, [16, 16, 8]), (96, 4, [24, 24, 24, 24]),
])
def test_split_divisible(num, num_ways, expected):
    parts = conv_blocks._split_divisible(num, num_ways)
    assert parts == expected and sum(parts) == num


def test_split_conv_groups_channels():
    with tf.Graph().as_default():
        net = conv_blocks.split_conv(tf.zeros([1, 4, 4, 32]), 64, num_ways=2, scope='expand')
        narrow = conv_blocks.split_conv(tf.zeros([1, 4, 4, 8]), 64, num_ways=2, scope='narrow')
        shapes = {v.op.name: v.shape.as_list() for v in tf.global_variables()
                  if v.op.name.endswith('weights')}
    assert net.shape.as_list() == narrow.shape.as_list() == [1, 4, 4, 64]
    assert shapes == {'expand_part_0/weights': [1, 1, 16, 32],
                      'expand_part_1/weights': [1, 1, 16, 32],
                      # Halves of 8 channels would be below 8: one plain convolution.
                      'narrow/weights': [1, 1, 8, 64]}


@pytest.mark.parametrize('location, stride, residual', [
    ('expansion', 1, True), ('expansion', 2, False), ('input', 1, True), ('output', 1, True),
])
def test_expanded_conv_layout(location, stride, residual):
    with tf.Graph().as_default() as graph:
        endpoints = {}
        with slim.arg_scope([conv_blocks.expanded_conv], normalizer_fn=slim.batch_norm):
            net = conv_blocks.expanded_conv(tf.zeros([1, 8, 8, 16]), 16, stride=stride,
                                            depthwise_location=location, endpoints=endpoints)
        variables = {v.op.name: v.shape.as_list() for v in tf.global_variables()
                     if 'weights' in v.op.name}
        adds = [op for op in graph.get_operations() if op.name == 'expanded_conv/add']
    side = 8 // stride
    assert net.op.name == 'expanded_conv/output'
    assert net.shape.as_list() == [1, side, side, 16]
    assert endpoints['expansion_output'].shape.as_list() == [1, 8, 8, 96]
    assert endpoints['projection_output'].shape.as_list()[3] == 16
    depthwise_channels = {'expansion': 96, 'input': 16, 'output': 16}[location]
    assert variables == {'expanded_conv/expand/weights': [1, 1, 16, 96],
                         'expanded_conv/depthwise/depthwise_weights': [3, 3, depthwise_channels,
                                                                       1],
                         'expanded_conv/project/weights': [1, 1, 96, 16]}
    assert bool(adds) == residual


def test_expanded_conv_rejects_bad_arguments():
    with tf.Graph().as_default():
        with pytest.raises(TypeError, match='depthwise_location'):
            conv_blocks.expanded_conv(tf.zeros([1, 8, 8, 16]), 16, depthwise_location='middle')
        with pytest.raises(TypeError, match='use_explicit_padding'):
            conv_blocks.expanded_conv(tf.zeros([1, 8, 8, 16]), 16, use_explicit_padding=True,
                                      padding='VALID')


def test_split_separable_conv2d_v1_scope_names():
    with tf.Graph().as_default():
        net = conv_blocks.split_separable_conv2d(tf.zeros([1, 8, 8, 16]), 32, scope='Conv2d_1',
                                                 stride=2)
        conv_blocks.split_separable_conv2d(tf.zeros([1, 8, 8, 16]), 32)
        names = sorted(v.op.name for v in tf.global_variables())
    assert net.shape.as_list() == [1, 4, 4, 32]
    assert names == ['Conv2d_1_depthwise/biases', 'Conv2d_1_depthwise/depthwise_weights',
                     'Conv2d_1_pointwise/biases', 'Conv2d_1_pointwise/weights',
                     'separable/depthwise/biases', 'separable/depthwise/depthwise_weights',
                     'separable/pointwise/biases', 'separable/pointwise/weights']


def test_hard_activations():
    x = np.array([-4, -3, -1, 0, 1, 3, 4], np.float32)
    with tf.Graph().as_default(), tf.Session() as session:
        swish, sigmoid = session.run([mobilenet_v3.hard_swish(tf.constant(x)),
                                      mobilenet_v3.hard_sigmoid(tf.constant(x))])
    relu6 = np.clip(x + 3, 0, 6)
    np.testing.assert_allclose(swish, x * relu6 / 6, rtol=1e-6)
    np.testing.assert_allclose(sigmoid, relu6 * 0.16667, rtol=1e-6)
    assert swish[0] == 0 and swish[-1] == 4


@pytest.mark.parametrize('shape', [[2, 5, 5, 72], [2, None, None, 72]])
def test_v3_squeeze_excite_gates_channels(shape):
    images = _images(2, 5, 5, 72)
    with tf.Graph().as_default(), tf.Session() as session:
        inputs = tf.placeholder(tf.float32, shape)
        gated = mobilenet_v3.squeeze_excite(inputs)
        variables = {v.op.name: v.shape.as_list() for v in tf.global_variables()}
        # All-zero weights and biases: each gate is hard_sigmoid(0) = 3 * 0.16667.
        session.run(tf.variables_initializer(tf.global_variables()))
        session.run([v.assign(tf.zeros_like(v)) for v in tf.global_variables()])
        value = session.run(gated, {inputs: images})
    assert variables == {'squeeze_excite/Conv/weights': [1, 1, 72, 24],
                         'squeeze_excite/Conv/biases': [24],
                         'squeeze_excite/Conv_1/weights': [1, 1, 24, 72],
                         'squeeze_excite/Conv_1/biases': [72]}
    np.testing.assert_allclose(value, images * 0.50001, rtol=1e-6)


def test_squeeze_excite_with_pool_resizes_gates():
    with tf.Graph().as_default():
        gated = conv_blocks.squeeze_excite(tf.zeros([1, 8, 8, 16]), pool=4)
    assert gated.shape.as_list() == [1, 8, 8, 16]


@pytest.mark.parametrize('shape, kwargs, expected', [
    ([2, 5, 5, 8], {'rate': 2, 'stride': 1, 'padding': 'VALID'}, [2, 1, 1, 8]),
    ([2, 7, 9, 8], {'stride': 1, 'padding': 'VALID'}, [2, 1, 3, 8]),
    ([None, None, None, 8], {'padding': 'VALID'}, [None, None, None, 8]),
])
def test_reduce_to_1x1(shape, kwargs, expected):
    with tf.Graph().as_default():
        net = mobilenet_v3.reduce_to_1x1(tf.placeholder(tf.float32, shape), **kwargs)
    assert net.shape.as_list() == expected


@pytest.mark.parametrize('shape', [[2, 3, 5, 4], [None, None, None, 4]])
def test_global_pool_averages_whole_map(shape):
    images = _images(2, 3, 5, 4)
    with tf.Graph().as_default(), tf.Session() as session:
        inputs = tf.placeholder(tf.float32, shape)
        pooled = lib.global_pool(inputs)
        value = session.run(pooled, {inputs: images})
    assert pooled.shape.as_list() == [shape[0], 1, 1, 4]
    np.testing.assert_allclose(value, images.mean(axis=(1, 2), keepdims=True), rtol=1e-5)


def test_wrapped_partials_keep_name_and_image_size():
    for network_fn in (mobilenet_v2.mobilenet_v2_140, mobilenet_v3.edge_tpu_075):
        assert network_fn.__name__ == 'mobilenet'
        assert network_fn.default_image_size == 224
    assert mobilenet_v2.mobilenet_v2_035.keywords == {
        'depth_multiplier': 0.35, 'finegrain_classification_mode': True}
