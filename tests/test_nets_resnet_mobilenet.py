"""Tests of nets.resnet_v1, nets.resnet_v2, nets.resnet_utils and nets.mobilenet_v1.

Building a deep ResNet graph takes seconds (mostly variable creation, all of it
single-threaded Python), so each network is built once (`_network`) and the
tests read facts from that build; the SMALLEST networks also get reuse towers in
the same graph, which cost no new variables. Sessions only run on 64x64 and 96x96 inputs
or on tiny hand-made ResNets.
"""

import functools

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
import tf_slim as slim

from nets import mobilenet_v1, nets_factory, resnet_utils, resnet_v1, resnet_v2

# The registry's networks of this family; they are built with the published checkpoint's
# number of classes.
NAMES = [name for name in nets_factory.NETWORKS
         if name.startswith(('resnet_v1_', 'resnet_v2_', 'mobilenet_v1'))]

# Trainable parameters of the published checkpoints.
PARAMETER_COUNTS = {
    'resnet_v1_50': 25_557_032,
    'resnet_v1_101': 44_549_160,
    'resnet_v1_152': 60_192_808,
    'resnet_v1_200': 64_673_832,
    'resnet_v2_50': 25_570_409,
    'resnet_v2_101': 44_579_945,
    'resnet_v2_152': 60_238_953,
    'resnet_v2_200': 64_728_169,
    'mobilenet_v1': 4_233_001,
    'mobilenet_v1_075': 2_586_329,
    'mobilenet_v1_050': 1_332_105,
    'mobilenet_v1_025': 470_329,
}

RESNETS = [name for name in NAMES if name.startswith('resnet')]
MOBILENETS = [name for name in NAMES if name.startswith('mobilenet')]
# The cheapest network of each family: built in this process, with reuse towers.
SMALLEST = ['resnet_v1_50', 'resnet_v2_50', 'mobilenet_v1']

MOBILENET_DEPTH_MULTIPLIERS = {
    'mobilenet_v1': 1.0, 'mobilenet_v1_075': 0.75, 'mobilenet_v1_050': 0.5,
    'mobilenet_v1_025': 0.25,
}


def _build(name, input_shape, **kwargs):
    """Builds network `name` in the default graph inside its family's arg scope.

    Returns (inputs placeholder, net, end_points); num_classes defaults to the
    checkpoint's.
    """
    spec = nets_factory.NETWORKS[name]
    inputs = tf.placeholder(tf.float32, input_shape)
    kwargs.setdefault('num_classes', spec.num_classes)
    with slim.arg_scope(spec.arg_scope_fn()):
        net, end_points = spec.model_fn(inputs, **kwargs)
    return inputs, net, end_points


def _shapes(tensors):
    return {key: tensor.shape.as_list() for key, tensor in tensors.items()}


def _parameter_count(variables):
    return sum(int(np.prod(v.shape.as_list())) for v in variables)


def _add_towers(name, inputs):
    """Adds reuse towers of `name` to the default graph and runs the small ones.

    inputs is the [2, 224, 224, 3] placeholder of the default build, whose
    variables every tower reuses. Towers:
      train_64: default arguments on a [2, 64, 64, 3] input, run with its own
        update ops;
      eval_64: is_training=False on that input, run;
      eval_224: is_training=False on `inputs`, static shapes only;
      any_size: is_training=False on a [None, None, None, 3] input, static
        shapes only;
      features: is_training=False, no logits, global pooling, on that input,
        run at 64x64 and 96x96;
      atrous_224 (ResNets): is_training=False, no logits or pooling,
        output_stride=16, on `inputs`, static shapes only.
    Returns a dict of static shapes, fetched values and graph bookkeeping.
    """
    spec = nets_factory.NETWORKS[name]
    network_fn, arg_scope_fn, num_classes = spec.model_fn, spec.arg_scope_fn, spec.num_classes
    graph = tf.get_default_graph()
    variable_count = len(tf.global_variables())
    update_count = len(tf.get_collection(tf.GraphKeys.UPDATE_OPS))
    small = tf.placeholder(tf.float32, [2, 64, 64, 3])
    any_size = tf.placeholder(tf.float32, [None, None, None, 3])
    towers = {}
    with slim.arg_scope(arg_scope_fn()):
        towers['train_64'] = network_fn(small, num_classes=num_classes, reuse=True)
        train_update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)[update_count:]
        towers['eval_64'] = network_fn(small, num_classes=num_classes, is_training=False,
                                       reuse=True)
        towers['eval_224'] = network_fn(inputs, num_classes=num_classes, is_training=False,
                                        reuse=True)
        towers['any_size'] = network_fn(any_size, num_classes=num_classes, is_training=False,
                                        reuse=True)
        towers['features'] = network_fn(any_size, num_classes=None, is_training=False,
                                        global_pool=True, reuse=True)
        if name.startswith('resnet'):
            op_count = len(graph.get_operations())
            towers['atrous_224'] = network_fn(inputs, num_classes=None, is_training=False,
                                              global_pool=False, output_stride=16, reuse=True)
            # Dilated convolutions are built as SpaceToBatchND + Conv2D + BatchToSpaceND.
            dilated_blocks = {op.name.split('/')[1] for op in graph.get_operations()[op_count:]
                              if op.type == 'SpaceToBatchND'}
    record = {
        'static': {key: net.shape.as_list() for key, (net, _) in towers.items()},
        'static_end_points': {key: _shapes(end_points)
                              for key, (_, end_points) in towers.items()},
        'new_variables': len(tf.global_variables()) - variable_count,
        'new_update_ops': len(train_update_ops),
        'all_new_update_ops': len(tf.get_collection(tf.GraphKeys.UPDATE_OPS)) - update_count,
    }
    if name.startswith('resnet'):
        record['dilated_blocks'] = dilated_blocks
    moving_means = [v for v in tf.global_variables() if v.op.name.endswith('/moving_mean')]
    images = np.random.RandomState(0).uniform(-1, 1, [2, 64, 64, 3]).astype(np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        record['eval_64'] = sess.run(towers['eval_64'][1], {small: images})
        record['train_64'], _ = sess.run([towers['train_64'][1], train_update_ops],
                                         {small: images})
        record['moving_means'] = sess.run(moving_means)
        record['feature_shapes'] = [
            sess.run(towers['features'][0],
                     {any_size: np.zeros([2, size, size, 3], np.float32)}).shape
            for size in (64, 96)]
    return record


def _network_facts(name, with_towers=False):
    """`name` built with default arguments on a [2, 224, 224, 3] input, in its own graph.

    Returns a dict of static facts; with_towers adds 'towers', the result of
    `_add_towers` on the same graph.
    """
    with tf.Graph().as_default():
        inputs, net, end_points = _build(name, [2, 224, 224, 3])
        record = {
            'net': net.shape.as_list(),
            'end_points': _shapes(end_points),
            'variables': {v.op.name: v.shape.as_list() for v in tf.global_variables()},
            'trainable_parameters': _parameter_count(tf.trainable_variables()),
            'update_ops': len(tf.get_collection(tf.GraphKeys.UPDATE_OPS)),
            'regularization_losses': len(tf.losses.get_regularization_losses()),
        }
        if with_towers:
            record['towers'] = _add_towers(name, inputs)
        return record


@functools.cache
def _network(name):
    """Facts of `name` (see `_network_facts`), with towers for SMALLEST networks."""
    return _network_facts(name, with_towers=name in SMALLEST)


def _resnet_end_point_shapes(name, num_classes, batch, size):
    """End points every ResNet has at output stride 32 on a square input of `size`."""
    return {
        name + '/conv1': [batch, size // 2, size // 2, 64],
        name + '/block1': [batch, size // 8, size // 8, 256],
        name + '/block2': [batch, size // 16, size // 16, 512],
        name + '/block3': [batch, size // 32, size // 32, 1024],
        name + '/block4': [batch, size // 32, size // 32, 2048],
        'global_pool': [batch, 1, 1, 2048],
        name + '/logits': [batch, 1, 1, num_classes],
        name + '/spatial_squeeze': [batch, num_classes],
        'predictions': [batch, num_classes],
    }


def _mobilenet_end_point_shapes(depth_multiplier, num_classes, batch, size):
    """MobileNet V1 end points on a square input of `size` (a multiple of 32)."""
    depth = int(32 * depth_multiplier)
    shapes = {'Conv2d_0': [batch, size // 2, size // 2, depth]}
    stride = 2
    for i, conv_def in enumerate(mobilenet_v1.MOBILENETV1_CONV_DEFS[1:], start=1):
        stride *= conv_def.stride
        side = size // stride
        shapes['Conv2d_%d_depthwise' % i] = [batch, side, side, depth]
        depth = int(conv_def.depth * depth_multiplier)
        shapes['Conv2d_%d_pointwise' % i] = [batch, side, side, depth]
    shapes['AvgPool_1a'] = [batch, 1, 1, int(1024 * depth_multiplier)]
    shapes['Logits'] = [batch, num_classes]
    shapes['Predictions'] = [batch, num_classes]
    return shapes


def _tiny_blocks(block_fn):
    """Three blocks of output depths 4, 8, 16 and strides 2, 2, 1: nominal stride 4.

    block1 has a projection shortcut then a strided identity one; block2 has a
    single, strided projection unit.
    """
    return [block_fn('block1', base_depth=1, num_units=2, stride=2),
            block_fn('block2', base_depth=2, num_units=1, stride=2),
            block_fn('block3', base_depth=4, num_units=1, stride=1)]


# -- The smallest network of each family ---------------------------------------------


@pytest.mark.parametrize('name, expected', [
    ('resnet_v1_50', {
        'resnet_v1_50/conv1/weights': [7, 7, 3, 64],
        'resnet_v1_50/conv1/BatchNorm/gamma': [64],
        'resnet_v1_50/block1/unit_1/bottleneck_v1/shortcut/weights': [1, 1, 64, 256],
        'resnet_v1_50/block1/unit_1/bottleneck_v1/shortcut/BatchNorm/beta': [256],
        'resnet_v1_50/block1/unit_1/bottleneck_v1/conv1/BatchNorm/moving_mean': [64],
        'resnet_v1_50/block1/unit_3/bottleneck_v1/conv2/weights': [3, 3, 64, 64],
        'resnet_v1_50/block4/unit_3/bottleneck_v1/conv3/BatchNorm/moving_variance': [2048],
        'resnet_v1_50/logits/weights': [1, 1, 2048, 1000],
        'resnet_v1_50/logits/biases': [1000],
    }),
    ('resnet_v2_50', {
        'resnet_v2_50/conv1/weights': [7, 7, 3, 64],
        'resnet_v2_50/conv1/biases': [64],
        'resnet_v2_50/block1/unit_1/bottleneck_v2/preact/gamma': [64],
        'resnet_v2_50/block1/unit_1/bottleneck_v2/preact/moving_mean': [64],
        'resnet_v2_50/block1/unit_1/bottleneck_v2/shortcut/biases': [256],
        'resnet_v2_50/block1/unit_1/bottleneck_v2/conv1/BatchNorm/beta': [64],
        'resnet_v2_50/block1/unit_1/bottleneck_v2/conv3/biases': [256],
        'resnet_v2_50/block2/unit_1/bottleneck_v2/preact/beta': [256],
        'resnet_v2_50/postnorm/beta': [2048],
        'resnet_v2_50/postnorm/moving_variance': [2048],
        'resnet_v2_50/logits/weights': [1, 1, 2048, 1001],
        'resnet_v2_50/logits/biases': [1001],
    }),
    ('mobilenet_v1', {
        'MobilenetV1/Conv2d_0/weights': [3, 3, 3, 32],
        'MobilenetV1/Conv2d_0/BatchNorm/gamma': [32],
        'MobilenetV1/Conv2d_1_depthwise/depthwise_weights': [3, 3, 32, 1],
        'MobilenetV1/Conv2d_1_depthwise/BatchNorm/moving_mean': [32],
        'MobilenetV1/Conv2d_1_pointwise/weights': [1, 1, 32, 64],
        'MobilenetV1/Conv2d_1_pointwise/BatchNorm/beta': [64],
        'MobilenetV1/Conv2d_13_pointwise/weights': [1, 1, 1024, 1024],
        'MobilenetV1/Logits/Conv2d_1c_1x1/weights': [1, 1, 1024, 1001],
        'MobilenetV1/Logits/Conv2d_1c_1x1/biases': [1001],
    }),
])
def test_checkpoint_variable_names_and_shapes(name, expected):
    variables = _network(name)['variables']
    assert {key: variables.get(key) for key in expected} == expected


@pytest.mark.parametrize('name, absent', [
    # Batch norm replaces the biases of every convolution but the logits...
    ('resnet_v1_50', ['resnet_v1_50/conv1/biases',
                      'resnet_v1_50/block1/unit_1/bottleneck_v1/conv3/biases']),
    # ...except in V2, where the root conv, shortcuts and conv3 are not normalised.
    ('resnet_v2_50', ['resnet_v2_50/conv1/BatchNorm/gamma',
                      'resnet_v2_50/block1/unit_1/bottleneck_v2/shortcut/BatchNorm/beta',
                      'resnet_v2_50/block1/unit_1/bottleneck_v2/conv3/BatchNorm/beta']),
    ('mobilenet_v1', ['MobilenetV1/Conv2d_1_depthwise/biases',
                      'MobilenetV1/Conv2d_1_depthwise/pointwise_weights']),
])
def test_no_variables_beyond_the_checkpoint_layout(name, absent):
    variables = _network(name)['variables']
    assert [key for key in absent if key in variables] == []


@pytest.mark.parametrize('name, regularized', [
    # conv1, 16 units x 3 convolutions, 4 shortcuts, logits.
    ('resnet_v1_50', 1 + 16 * 3 + 4 + 1),
    ('resnet_v2_50', 1 + 16 * 3 + 4 + 1),
    # Conv2d_0, 13 pointwise convolutions and the logits; depthwise ones are exempt.
    ('mobilenet_v1', 1 + 13 + 1),
])
def test_weight_decay_covers_the_expected_layers(name, regularized):
    assert _network(name)['regularization_losses'] == regularized


@pytest.mark.parametrize('name', SMALLEST)
def test_end_points_at_64_in_training_and_evaluation(name):
    towers = _network(name)['towers']
    num_classes = nets_factory.NETWORKS[name].num_classes
    if name.startswith('resnet'):
        expected = _resnet_end_point_shapes(name, num_classes, batch=2, size=64)
        logits_key, predictions_key = name + '/spatial_squeeze', 'predictions'
    else:
        # The 2x2 last feature map gets a 2x2 pool rather than the 7x7 one.
        expected = _mobilenet_end_point_shapes(1.0, num_classes, batch=2, size=64)
        logits_key, predictions_key = 'Logits', 'Predictions'
    for tower in ('train_64', 'eval_64'):
        assert towers['static'][tower] == [2, num_classes]
        values = towers[tower]
        assert {key: list(values[key].shape) for key in expected} == expected
        assert all(np.all(np.isfinite(value)) for value in values.values())
        np.testing.assert_allclose(values[predictions_key].sum(axis=1), [1, 1], rtol=1e-5)
    # Training normalises with batch statistics, evaluation with moving averages.
    assert not np.allclose(towers['train_64'][logits_key], towers['eval_64'][logits_key])


@pytest.mark.parametrize('name', SMALLEST)
def test_end_points_at_224_in_evaluation_match_training(name):
    network = _network(name)
    assert network['towers']['static']['eval_224'] == network['net']
    assert network['towers']['static_end_points']['eval_224'] == network['end_points']


@pytest.mark.parametrize('name', SMALLEST)
def test_reuse_shares_variables_and_only_training_updates(name):
    towers = _network(name)['towers']
    assert towers['new_variables'] == 0
    # The second training tower updates the same moving averages; the
    # evaluation towers add no updates.
    assert towers['new_update_ops'] == towers['all_new_update_ops'] == _network(name)['update_ops']
    # Running the update ops moved the moving means off their initial zeros.
    assert any(np.any(mean != 0) for mean in towers['moving_means'])


@pytest.mark.parametrize('name, depth', [
    ('resnet_v1_50', 2048), ('resnet_v2_50', 2048), ('mobilenet_v1', 1024),
])
def test_unknown_input_size_builds_and_features_without_classes(name, depth):
    towers = _network(name)['towers']
    assert towers['static']['any_size'] == [None, nets_factory.NETWORKS[name].num_classes]
    assert towers['static']['features'] == [None, 1, 1, depth]
    assert towers['feature_shapes'] == [(2, 1, 1, depth)] * 2


@pytest.mark.parametrize('name', ['resnet_v1_50', 'resnet_v2_50'])
def test_resnet_output_stride_16_makes_the_last_block_atrous(name):
    towers = _network(name)['towers']
    assert towers['static']['atrous_224'] == [2, 14, 14, 2048]
    end_points = towers['static_end_points']['atrous_224']
    assert {block: end_points[name + '/' + block][1:3]
            for block in ('block1', 'block2', 'block3', 'block4')} == {
        'block1': [28, 28], 'block2': [14, 14], 'block3': [14, 14], 'block4': [14, 14]}
    # Only block4 follows the stride that was turned into a rate.
    assert towers['dilated_blocks'] == {'block4'}


def test_resnet_v1_depth_multiplier_and_min_base_depth():
    with tf.Graph().as_default():
        _, net, end_points = _build('resnet_v1_50', [2, 64, 64, 3], num_classes=None,
                                    depth_multiplier=0.125, min_base_depth=16)
        # Base depths 64, 128, 256, 512 become max(8, 16), 16, 32, 64.
        assert [end_points['resnet_v1_50/block%d' % i].shape.as_list()[3]
                for i in range(1, 5)] == [64, 64, 128, 256]
        assert net.shape.as_list() == [2, 1, 1, 256]


# -- Tiny ResNets: atrous equivalence, strides, errors --------------------------------


@pytest.mark.parametrize('resnet, block_fn', [
    (resnet_v1.resnet_v1, resnet_v1.resnet_v1_block),
    (resnet_v2.resnet_v2, resnet_v2.resnet_v2_block),
])
def test_atrous_output_equals_subsampled_dense_output(resnet, block_fn):
    blocks = _tiny_blocks(block_fn)
    rng = np.random.RandomState(1)
    with tf.Graph().as_default():
        inputs = tf.constant(rng.normal(size=[2, 19, 19, 3]).astype(np.float32))
        with slim.arg_scope(resnet_utils.resnet_arg_scope()):
            dense, _ = resnet(inputs, blocks, is_training=False, global_pool=False,
                              include_root_block=False, scope='tiny')
            atrous = {}
            for output_stride in (1, 2, 4):
                net, _ = resnet(inputs, blocks, is_training=False, global_pool=False,
                                output_stride=output_stride, include_root_block=False,
                                reuse=True, scope='tiny')
                atrous[output_stride] = resnet_utils.subsample(net, 4 // output_stride)
            # Random moving statistics make batch norm more than an identity.
            randomize = [v.assign(rng.uniform(0.5, 1.5, v.shape.as_list()))
                         for v in tf.global_variables() if 'moving_' in v.op.name]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(randomize)
            dense_value, atrous_values = sess.run([dense, atrous])
    assert dense_value.shape == (2, 5, 5, 16)
    for output_stride, value in atrous_values.items():
        np.testing.assert_allclose(value, dense_value, rtol=1e-4, atol=1e-4,
                                   err_msg='output_stride=%d' % output_stride)


def test_store_non_strided_activations_keeps_block_resolution():
    blocks = _tiny_blocks(resnet_v1.resnet_v1_block)
    with tf.Graph().as_default():
        inputs = tf.zeros([2, 32, 32, 3])
        with slim.arg_scope(resnet_utils.resnet_arg_scope()):
            plain, plain_end_points = resnet_v1.resnet_v1(
                inputs, blocks, global_pool=False, include_root_block=False, scope='tiny')
            stored, stored_end_points = resnet_v1.resnet_v1(
                inputs, blocks, global_pool=False, include_root_block=False,
                store_non_strided_activations=True, reuse=True, scope='tiny')
    assert plain.shape.as_list() == stored.shape.as_list() == [2, 8, 8, 16]
    assert [plain_end_points['tiny/block%d' % i].shape.as_list()[1] for i in (1, 2, 3)] == [
        16, 8, 8]
    # The stride moves past each block's end point.
    assert [stored_end_points['tiny/block%d' % i].shape.as_list()[1] for i in (1, 2, 3)] == [
        32, 16, 8]


@pytest.mark.parametrize('output_stride', [3, 8])
def test_unreachable_output_stride_raises(output_stride):
    with tf.Graph().as_default():
        with pytest.raises(ValueError):
            resnet_v1.resnet_v1(tf.zeros([1, 32, 32, 3]), _tiny_blocks(resnet_v1.resnet_v1_block),
                                include_root_block=False, output_stride=output_stride)


def test_root_block_needs_output_stride_multiple_of_4():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match='multiple of 4'):
            resnet_v2.resnet_v2(tf.zeros([1, 32, 32, 3]), _tiny_blocks(resnet_v2.resnet_v2_block),
                                output_stride=6)


def test_bounded_activations_stay_within_six():
    with tf.Graph().as_default():
        inputs = tf.constant(np.full([1, 4, 4, 8], 100.0, np.float32))
        with slim.arg_scope(resnet_utils.resnet_arg_scope(use_batch_norm=False)):
            net = resnet_v1.bottleneck(inputs, depth=8, depth_bottleneck=2, stride=1,
                                       use_bounded_activations=True)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            value = sess.run(net)
    assert value.max() <= 6.0
    # The identity shortcut alone would be 100: the sum was clipped, not just the residual.
    assert value.max() == 6.0


# -- MobileNet specifics -----------------------------------------------------------


@pytest.mark.parametrize('shape, expected', [
    ([2, 3, 5, 8], [3, 5]),
    ([2, 10, 10, 8], [7, 7]),
    ([2, None, None, 8], [7, 7]),
])
def test_reduced_kernel_size_for_small_input(shape, expected):
    with tf.Graph().as_default():
        tensor = tf.placeholder(tf.float32, shape)
        assert mobilenet_v1._reduced_kernel_size_for_small_input(tensor, [7, 7]) == expected


def _mobilenet_base(input_size=224, **kwargs):
    inputs = tf.placeholder(tf.float32, [2, input_size, input_size, 3])
    with slim.arg_scope(mobilenet_v1.mobilenet_v1_arg_scope()):
        return mobilenet_v1.mobilenet_v1_base(inputs, **kwargs)


def test_mobilenet_base_stops_at_final_endpoint():
    with tf.Graph().as_default():
        net, end_points = _mobilenet_base(final_endpoint='Conv2d_5_depthwise')
        assert net.shape.as_list() == [2, 28, 28, 256]
        assert sorted(end_points) == sorted(
            ['Conv2d_0'] + ['Conv2d_%d_%s' % (i, kind) for i in range(1, 5)
                            for kind in ('depthwise', 'pointwise')] + ['Conv2d_5_depthwise'])
        with pytest.raises(ValueError, match='Unknown final endpoint'):
            _mobilenet_base(final_endpoint='Conv2d_0_pointwise', scope='other')


@pytest.mark.parametrize('output_stride, use_explicit_padding, side', [
    (None, True, 7), (16, False, 14), (8, True, 28),
])
def test_mobilenet_base_output_stride_and_padding(output_stride, use_explicit_padding, side):
    with tf.Graph().as_default():
        net, end_points = _mobilenet_base(output_stride=output_stride,
                                          use_explicit_padding=use_explicit_padding)
        assert net.shape.as_list() == [2, side, side, 1024]
        # The first layers stride as usual whatever the target.
        assert end_points['Conv2d_3_pointwise'].shape.as_list() == [2, 56, 56, 128]


@pytest.mark.parametrize('kwargs', [
    {'output_stride': 4}, {'depth_multiplier': 0},
])
def test_mobilenet_base_rejects_bad_arguments(kwargs):
    with tf.Graph().as_default():
        with pytest.raises(ValueError):
            _mobilenet_base(**kwargs)


@pytest.mark.parametrize('regularize_depthwise, regularized', [(False, 4), (True, 7)])
def test_mobilenet_depthwise_weight_decay_is_optional(regularize_depthwise, regularized):
    with tf.Graph().as_default():
        inputs = tf.placeholder(tf.float32, [1, 32, 32, 3])
        arg_scope = mobilenet_v1.mobilenet_v1_arg_scope(regularize_depthwise=regularize_depthwise)
        with slim.arg_scope(arg_scope):
            mobilenet_v1.mobilenet_v1_base(inputs, final_endpoint='Conv2d_3_pointwise')
        # Conv2d_0 and three pointwise convolutions, plus three depthwise ones.
        assert len(tf.losses.get_regularization_losses()) == regularized


def test_mobilenet_min_depth_bounds_thin_layers():
    with tf.Graph().as_default():
        _, end_points = _mobilenet_base(depth_multiplier=0.1, min_depth=8,
                                        final_endpoint='Conv2d_3_pointwise')
        # 32 * 0.1 and 64 * 0.1 fall below min_depth; 128 * 0.1 = 12.8 does not.
        assert [end_points[key].shape.as_list()[3] for key in
                ('Conv2d_0', 'Conv2d_1_pointwise', 'Conv2d_3_pointwise')] == [8, 8, 12]


def test_mobilenet_rejects_inputs_not_of_rank_4():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match='rank'):
            mobilenet_v1.mobilenet_v1(tf.placeholder(tf.float32, [224, 224, 3]))


# -- All twelve networks (last, so the child builds while the tests above run) -----


def test_expected_values_cover_the_registered_family():
    assert set(NAMES) == set(PARAMETER_COUNTS)
    assert set(MOBILENETS) == set(MOBILENET_DEPTH_MULTIPLIERS)


@pytest.mark.parametrize('name', NAMES)
def test_trainable_parameter_count_matches_checkpoint(name):
    assert _network(name)['trainable_parameters'] == PARAMETER_COUNTS[name]
    assert nets_factory.NETWORKS[name].default_image_size == 224


@pytest.mark.parametrize('name', RESNETS)
def test_resnet_end_points_in_training_mode_at_224(name):
    build = _network(name)
    num_classes = nets_factory.NETWORKS[name].num_classes
    assert build['net'] == [2, num_classes]
    expected = _resnet_end_point_shapes(name, num_classes, batch=2, size=224)
    assert {key: build['end_points'].get(key) for key in expected} == expected


@pytest.mark.parametrize('name', MOBILENETS)
def test_mobilenet_end_points_in_training_mode_at_224(name):
    build = _network(name)
    assert build['net'] == [2, 1001]
    expected = _mobilenet_end_point_shapes(MOBILENET_DEPTH_MULTIPLIERS[name], 1001, 2, 224)
    assert build['end_points'] == expected


@pytest.mark.parametrize('name', NAMES)
def test_batch_norm_updates_land_in_update_ops_when_training(name):
    build = _network(name)
    batch_norms = [key for key in build['variables'] if key.endswith('/moving_mean')]
    # Each batch norm updates its moving mean and its moving variance.
    assert build['update_ops'] == 2 * len(batch_norms) > 0

