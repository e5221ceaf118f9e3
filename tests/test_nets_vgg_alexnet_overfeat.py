"""Tests of nets.vgg, nets.alexnet and nets.overfeat.

These networks have 50M-146M parameters, so each is built once per module (`built`)
in training mode at its default size, with eval-mode towers sharing its weights on
other inputs; most checks are static shapes. Sessions run only for alexnet_v2 and
vgg_16 (the latter on 32x32 inputs, which a 'SAME' fc6 or a global pool allows).
"""

import types

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
import tf_slim as slim

from nets import alexnet, nets_factory, overfeat, vgg

# The registry's networks of this family; the tables below hold their expected values.
NAMES = [name for name in nets_factory.NETWORKS
         if name.startswith(('alexnet_', 'overfeat', 'vgg_'))]

PARAMETER_COUNTS = {
    'alexnet_v2': 50_303_912,
    'overfeat': 145_704_424,
    'vgg_a': 132_863_336,
    'vgg_16': 138_357_544,
    'vgg_19': 143_667_240,
}

DEFAULT_IMAGE_SIZES = {'alexnet_v2': 224, 'overfeat': 231, 'vgg_a': 224, 'vgg_16': 224,
                       'vgg_19': 224}

VGG_CONVS_PER_BLOCK = {'vgg_a': (1, 1, 2, 2, 2), 'vgg_16': (2, 2, 3, 3, 3),
                       'vgg_19': (2, 2, 4, 4, 4)}

# Inputs for the fully convolutional check (spatial_squeeze=False) and the logits map.
DENSE_INPUTS = {
    'alexnet_v2': ((300, 400), (4, 7)),
    'overfeat': ((281, 281), (2, 2)),
    'vgg_a': ((256, 256), (2, 2)),
    'vgg_16': ((256, 320), (2, 4)),
    'vgg_19': ((256, 256), (2, 2)),
}

WEIGHT_DECAY = 0.0004
BATCH = 2


def _parameter_count(variables):
    return sum(int(np.prod(v.shape.as_list())) for v in variables)


def _shapes(end_points):
    return {key: tensor.shape.as_list() for key, tensor in end_points.items()}


def _images(batch, height, width, seed=0):
    return np.random.RandomState(seed).uniform(-1, 1, (batch, height, width, 3)).astype(np.float32)


def _build(name):
    """Builds `name` as the factory does (training mode, 1000 classes, default size,
    inside its arg scope), then eval-mode towers with reuse=True on other inputs."""
    spec = nets_factory.NETWORKS[name]
    network_fn, arg_scope_fn = spec.model_fn, spec.arg_scope_fn
    graph = tf.Graph()
    towers = {}
    with graph.as_default(), slim.arg_scope(arg_scope_fn(weight_decay=WEIGHT_DECAY)):
        size = network_fn.default_image_size
        images = tf.placeholder(tf.float32, [BATCH, size, size, 3])
        logits, end_points = network_fn(images, num_classes=1000, is_training=True)
        variables = {v.op.name: v.shape.as_list() for v in tf.global_variables()}
        regularization_losses = tf.losses.get_regularization_losses()

        def tower(key, input_shape, **kwargs):
            placeholder = tf.placeholder(tf.float32, input_shape)
            kwargs.setdefault('is_training', False)
            towers[key] = (placeholder, *network_fn(placeholder, reuse=True, **kwargs))

        tower('any_size', [None, None, None, 3])
        tower('features', [None, None, None, 3], num_classes=None, global_pool=True)
        (height, width), _ = DENSE_INPUTS[name]
        tower('dense', [1, height, width, 3], spatial_squeeze=False)
        if name in VGG_CONVS_PER_BLOCK:
            # A 'SAME' fc6 runs on a 1x1 pool5, so 32x32 inputs work.
            tower('small', [1, 32, 32, 3], fc_conv_padding='SAME')
            tower('small_training', [1, 32, 32, 3], fc_conv_padding='SAME', is_training=True)
            tower('pooled', [None, None, None, 3], fc_conv_padding='SAME', global_pool=True)
        variables_after_towers = len(tf.global_variables())
    return types.SimpleNamespace(
        graph=graph, images=images, logits=logits, end_points=end_points, towers=towers,
        variables=variables, regularization_losses=regularization_losses,
        trainable_parameters=_parameter_count(graph.get_collection('trainable_variables')),
        variables_after_towers=variables_after_towers)


@pytest.fixture(scope='module')
def built():
    """`built(name)`: the module's one build of network `name` (see `_build`)."""
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = _build(name)
        return cache[name]

    yield get
    cache.clear()


def _vgg_end_point_shapes(name, batch, size):
    shapes = {}
    for block, (num_convs, depth) in enumerate(zip(VGG_CONVS_PER_BLOCK[name],
                                                   (64, 128, 256, 512, 512), strict=True),
                                               start=1):
        for i in range(1, num_convs + 1):
            shapes['%s/conv%d/conv%d_%d' % (name, block, block, i)] = [
                batch, size >> (block - 1), size >> (block - 1), depth]
        shapes['%s/pool%d' % (name, block)] = [batch, size >> block, size >> block, depth]
    shapes[name + '/fc6'] = shapes[name + '/fc7'] = [batch, 1, 1, 4096]
    shapes[name + '/fc8'] = [batch, 1000]
    return shapes


EXPECTED_END_POINT_SHAPES = {
    'alexnet_v2': {
        'alexnet_v2/conv1': [BATCH, 54, 54, 64], 'alexnet_v2/pool1': [BATCH, 26, 26, 64],
        'alexnet_v2/conv2': [BATCH, 26, 26, 192], 'alexnet_v2/pool2': [BATCH, 12, 12, 192],
        'alexnet_v2/conv3': [BATCH, 12, 12, 384], 'alexnet_v2/conv4': [BATCH, 12, 12, 384],
        'alexnet_v2/conv5': [BATCH, 12, 12, 256], 'alexnet_v2/pool5': [BATCH, 5, 5, 256],
        'alexnet_v2/fc6': [BATCH, 1, 1, 4096], 'alexnet_v2/fc7': [BATCH, 1, 1, 4096],
        'alexnet_v2/fc8': [BATCH, 1000],
    },
    'overfeat': {
        'overfeat/conv1': [BATCH, 56, 56, 64], 'overfeat/pool1': [BATCH, 28, 28, 64],
        'overfeat/conv2': [BATCH, 24, 24, 256], 'overfeat/pool2': [BATCH, 12, 12, 256],
        'overfeat/conv3': [BATCH, 12, 12, 512], 'overfeat/conv4': [BATCH, 12, 12, 1024],
        'overfeat/conv5': [BATCH, 12, 12, 1024], 'overfeat/pool5': [BATCH, 6, 6, 1024],
        'overfeat/fc6': [BATCH, 1, 1, 3072], 'overfeat/fc7': [BATCH, 1, 1, 4096],
        'overfeat/fc8': [BATCH, 1000],
    },
    **{name: _vgg_end_point_shapes(name, BATCH, 224) for name in VGG_CONVS_PER_BLOCK},
}


# -- Static checks on the module's builds --------------------------------------------


def test_expected_values_cover_the_registered_family():
    assert set(NAMES) == set(PARAMETER_COUNTS) == set(DEFAULT_IMAGE_SIZES) == set(DENSE_INPUTS)


@pytest.mark.parametrize('name', NAMES)
def test_parameter_count_default_size_and_regularisation(name, built):
    network = built(name)
    assert network.trainable_parameters == PARAMETER_COUNTS[name]
    assert nets_factory.NETWORKS[name].default_image_size == DEFAULT_IMAGE_SIZES[name]
    assert network.logits.shape.as_list() == [BATCH, 1000]
    # Weights and biases only, each weight tensor L2-regularised once.
    weights = [v for v in network.variables if v.endswith('/weights')]
    assert len(network.variables) == 2 * len(weights)
    assert len(network.regularization_losses) == len(weights)
    # The reusing towers create nothing.
    assert network.variables_after_towers == len(network.variables)


@pytest.mark.parametrize('name', NAMES)
def test_end_point_names_order_and_shapes(name, built):
    end_points = built(name).end_points
    expected = EXPECTED_END_POINT_SHAPES[name]
    assert list(end_points) == list(expected)
    assert _shapes(end_points) == expected
    assert built(name).logits is end_points[name + '/fc8']


def _layer_shapes(layers):
    """{'scope/weights': shape, 'scope/biases': [depth]} for (scope, kernel shape) pairs."""
    shapes = {}
    for scope, kernel in layers:
        shapes[scope + '/weights'] = kernel
        shapes[scope + '/biases'] = kernel[-1:]
    return shapes


def test_alexnet_v2_variables(built):
    assert built('alexnet_v2').variables == _layer_shapes([
        ('alexnet_v2/conv1', [11, 11, 3, 64]), ('alexnet_v2/conv2', [5, 5, 64, 192]),
        ('alexnet_v2/conv3', [3, 3, 192, 384]), ('alexnet_v2/conv4', [3, 3, 384, 384]),
        ('alexnet_v2/conv5', [3, 3, 384, 256]), ('alexnet_v2/fc6', [5, 5, 256, 4096]),
        ('alexnet_v2/fc7', [1, 1, 4096, 4096]), ('alexnet_v2/fc8', [1, 1, 4096, 1000]),
    ])


def test_overfeat_variables(built):
    assert built('overfeat').variables == _layer_shapes([
        ('overfeat/conv1', [11, 11, 3, 64]), ('overfeat/conv2', [5, 5, 64, 256]),
        ('overfeat/conv3', [3, 3, 256, 512]), ('overfeat/conv4', [3, 3, 512, 1024]),
        ('overfeat/conv5', [3, 3, 1024, 1024]), ('overfeat/fc6', [6, 6, 1024, 3072]),
        ('overfeat/fc7', [1, 1, 3072, 4096]), ('overfeat/fc8', [1, 1, 4096, 1000]),
    ])


@pytest.mark.parametrize('name', list(VGG_CONVS_PER_BLOCK))
def test_vgg_variables(name, built):
    layers = []
    depth_in = 3
    for block, (num_convs, depth) in enumerate(zip(VGG_CONVS_PER_BLOCK[name],
                                                   (64, 128, 256, 512, 512), strict=True),
                                               start=1):
        for i in range(1, num_convs + 1):
            layers.append(('%s/conv%d/conv%d_%d' % (name, block, block, i),
                           [3, 3, depth_in, depth]))
            depth_in = depth
    layers += [(name + '/fc6', [7, 7, 512, 4096]), (name + '/fc7', [1, 1, 4096, 4096]),
               (name + '/fc8', [1, 1, 4096, 1000])]
    assert built(name).variables == _layer_shapes(layers)


def test_vgg_16_checkpoint_names_spelled_out(built):
    variables = built('vgg_16').variables
    expected = {
        'vgg_16/conv1/conv1_1/weights': [3, 3, 3, 64],
        'vgg_16/conv1/conv1_1/biases': [64],
        'vgg_16/conv3/conv3_3/weights': [3, 3, 256, 256],
        'vgg_16/conv5/conv5_3/biases': [512],
        'vgg_16/fc6/weights': [7, 7, 512, 4096],
        'vgg_16/fc7/weights': [1, 1, 4096, 4096],
        'vgg_16/fc8/biases': [1000],
    }
    assert {key: variables.get(key) for key in expected} == expected


@pytest.mark.parametrize('name', NAMES)
def test_towers_on_other_input_sizes(name, built):
    towers = built(name).towers
    _, logits, end_points = towers['any_size']
    assert logits.shape.as_list() == [None, 1000]
    # Keys stay the variable-scope names in a reusing tower.
    assert list(end_points) == list(EXPECTED_END_POINT_SHAPES[name])

    _, features, end_points = towers['features']
    assert features.shape.as_list() == [None, 1, 1, 4096]
    assert features is end_points['global_pool']
    assert name + '/fc7' in end_points and name + '/fc8' not in end_points

    (height, width), (rows, columns) = DENSE_INPUTS[name]
    _, logits_map, end_points = towers['dense']
    assert logits_map.shape.as_list() == [1, rows, columns, 1000]
    assert logits_map is end_points[name + '/fc8']


# -- Sessions --------------------------------------------------------------------------


def _assert_dropout_only_in_training(session, training, evaluation):
    """Runs each (tensor, feed) pair twice: training outputs differ, eval outputs match."""
    first, second = (session.run(*training) for _ in range(2))
    assert not np.allclose(first, second)
    first, second = (session.run(*evaluation) for _ in range(2))
    np.testing.assert_array_equal(first, second)
    assert np.all(np.isfinite(first))


def test_vgg_16_small_inputs_run(built):
    network = built('vgg_16')
    small_images, small_logits, small_end_points = network.towers['small']
    training_images, training_logits, _ = network.towers['small_training']
    pooled_images, pooled_logits, pooled_end_points = network.towers['pooled']
    feed = {small_images: _images(1, 32, 32)}
    with tf.Session(graph=network.graph) as session:
        session.run(tf.variables_initializer(network.graph.get_collection('variables')))
        _assert_dropout_only_in_training(
            session, (training_logits, {training_images: feed[small_images]}),
            (small_logits, feed))
        pool5, fc6 = session.run([small_end_points['vgg_16/pool5'],
                                  small_end_points['vgg_16/fc6']], feed)
        pooled = [session.run([pooled_logits, pooled_end_points['global_pool']],
                              {pooled_images: _images(1, height, width)})
                  for height, width in ((32, 32), (64, 96))]
        fc8_biases = session.run(network.graph.get_tensor_by_name('vgg_16/fc8/biases:0'))
    assert pool5.shape == (1, 1, 1, 512)
    assert fc6.shape == (1, 1, 1, 4096)
    assert fc6.min() >= 0
    for logits, pool in pooled:
        assert logits.shape == (1, 1000)
        assert pool.shape == (1, 1, 1, 4096)
    np.testing.assert_array_equal(fc8_biases, np.zeros(1000))


def test_alexnet_v2_runs_and_initialises_as_published(built):
    network = built('alexnet_v2')
    any_images, eval_logits, _ = network.towers['any_size']
    images = _images(BATCH, 224, 224)
    graph = network.graph
    with tf.Session(graph=graph) as session:
        session.run(tf.variables_initializer(graph.get_collection('variables')))
        _assert_dropout_only_in_training(session, (network.logits, {network.images: images}),
                                         (eval_logits, {any_images: images[:1]}))
        values = session.run({v.op.name: v for v in graph.get_collection('variables')})
        fc8_loss = session.run([loss for loss in network.regularization_losses
                                if loss.op.name.startswith('alexnet_v2/fc8/')])
    for layer in ('conv1', 'conv5', 'fc6', 'fc7'):
        np.testing.assert_array_equal(values['alexnet_v2/%s/biases' % layer], np.float32(0.1))
    np.testing.assert_array_equal(values['alexnet_v2/fc8/biases'], 0)
    # The classifier starts from truncated normals of stddev 0.005 (cut at 2 stddevs).
    for layer in ('fc6', 'fc7', 'fc8'):
        assert np.abs(values['alexnet_v2/%s/weights' % layer]).max() <= 0.01
    assert np.abs(values['alexnet_v2/conv1/weights']).max() > 0.01
    fc8_weights = values['alexnet_v2/fc8/weights']
    np.testing.assert_allclose(fc8_loss, [WEIGHT_DECAY * np.sum(fc8_weights ** 2) / 2],
                               rtol=1e-4)


def test_overfeat_initial_values():
    """Evaluates only the initial values of the small variables: no 146M-float init."""
    with tf.Graph().as_default() as graph:
        images = tf.placeholder(tf.float32, [1, 231, 231, 3])
        with slim.arg_scope(overfeat.overfeat_arg_scope()):
            overfeat.overfeat(images)
        small = {v.op.name: v.initial_value for v in graph.get_collection('variables')
                 if v.op.name.endswith('biases') or v.op.name.startswith('overfeat/fc8/')}
        with tf.Session() as session:
            values = session.run(small)
    for layer in ('conv1', 'conv5', 'fc8'):
        np.testing.assert_array_equal(values['overfeat/%s/biases' % layer], 0)
    for layer in ('fc6', 'fc7'):
        np.testing.assert_array_equal(values['overfeat/%s/biases' % layer], np.float32(0.1))
    assert np.abs(values['overfeat/fc8/weights']).max() <= 0.01
    assert 0.003 < values['overfeat/fc8/weights'].std() < 0.005


# -- Cheap separate builds ---------------------------------------------------------------


@pytest.mark.parametrize('name, num_classes', [
    ('alexnet_v2', 0), ('overfeat', None), ('vgg_a', 0), ('vgg_19', None)])
def test_without_classes_returns_fc7_and_creates_no_logits(name, num_classes):
    spec = nets_factory.NETWORKS[name]
    network_fn, arg_scope_fn = spec.model_fn, spec.arg_scope_fn
    size = network_fn.default_image_size
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [None, size, size, 3])
        with slim.arg_scope(arg_scope_fn()):
            net, end_points = network_fn(images, num_classes=num_classes)
        scopes = {v.op.name.split('/')[1] for v in tf.global_variables()}
    assert net is end_points[name + '/fc7']
    assert net.shape.as_list() == [None, 1, 1, 4096]
    assert list(end_points)[-1] == name + '/fc7'
    assert 'fc8' not in scopes and 'fc7' in scopes


@pytest.mark.parametrize('arg_scope_fn, biases', [
    (vgg.vgg_arg_scope, 0.0), (alexnet.alexnet_v2_arg_scope, 0.1),
    (overfeat.overfeat_arg_scope, 0.0)])
def test_arg_scopes(arg_scope_fn, biases):
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [1, 5, 5, 3])
        with slim.arg_scope(arg_scope_fn(weight_decay=0.25)):
            conv = slim.conv2d(images, 4, [3, 3], weights_initializer=tf.ones_initializer(),
                               scope='conv')
            pool = slim.max_pool2d(conv, [2, 2], scope='pool')
            dense = slim.fully_connected(tf.ones([1, 2]), 3, scope='dense')
        [loss, _] = tf.losses.get_regularization_losses()
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            values = session.run([loss, dense, 'conv/biases:0'], {images: -np.ones((1, 5, 5, 3))})
    assert conv.shape.as_list() == [1, 5, 5, 4]  # 'SAME' convolutions
    assert pool.shape.as_list() == [1, 2, 2, 4]  # 'VALID' pools
    assert conv.op.type == 'Relu'
    # 0.25 * l2_loss of 3 * 3 * 3 * 4 ones.
    assert values[0] == pytest.approx(0.25 * 108 / 2)
    assert values[1].min() >= 0
    np.testing.assert_array_equal(values[2], np.full(4, biases, np.float32))


def test_vgg_aliases_and_default_scopes():
    assert vgg.vgg_d is vgg.vgg_16 and vgg.vgg_e is vgg.vgg_19
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [1, 32, 32, 3])
        _, end_points = vgg.vgg_a(images, num_classes=5, scope=None, fc_conv_padding='SAME')
        names = {v.op.name for v in tf.global_variables()}
    assert 'vgg_a/fc8/weights' in names
    assert end_points['vgg_a/fc8'].shape.as_list() == [1, 5]
