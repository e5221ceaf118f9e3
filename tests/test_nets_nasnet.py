"""Tests of nets.nasnet: NASNet-A (nasnet_utils, nasnet) and PNASNet-5 (pnasnet).

A default NASNet graph has 8,000 to 18,000 ops and takes 10 to 40 seconds to
build here, so each network is built once, in training mode at its default size
(`_default_build`, cached); the mobile networks get an eval tower sharing its
weights in the same graph. Sessions only run networks of a tiny configuration.
"""

import functools
import inspect
import re

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
import tf_slim as slim

from nets import nets_factory
from nets.nasnet import nasnet, nasnet_utils, pnasnet

# The registry's networks of this family; the tables below hold their expected values.
NAMES = [name for name in nets_factory.NETWORKS if name.startswith(('nasnet_', 'pnasnet_'))]

DEFAULT_IMAGE_SIZES = {'nasnet_cifar': 32, 'nasnet_mobile': 224, 'nasnet_large': 331,
                       'pnasnet_mobile': 224, 'pnasnet_large': 331}

# Trainable parameters with 1001 classes, auxiliary head included.
PARAMETER_COUNTS = {
    'nasnet_cifar': 6_502_194,
    'nasnet_mobile': 7_703_044,
    'nasnet_large': 93_325_736,
    'pnasnet_mobile': 7_479_113,
    'pnasnet_large': 90_648_974,
}

# The layout at the default size: Stem (side, depth); per stack of normal cells
# (cells, side, depth); the reduction cells before stacks 2 and 3 (side, depth),
# which PNASNet has not: its cells at those points are ordinary, strided 'Cell_<i>'.
LAYOUTS = {
    'nasnet_cifar': ((32, 96), [(6, 32, 192), (6, 16, 384), (6, 8, 768)],
                     [(16, 256), (8, 512)]),
    'nasnet_mobile': ((28, 88), [(4, 28, 264), (4, 14, 528), (4, 7, 1056)],
                      [(14, 352), (7, 704)]),
    'nasnet_large': ((42, 336), [(6, 42, 1008), (6, 21, 2016), (6, 11, 4032)],
                     [(21, 1344), (11, 2688)]),
    'pnasnet_mobile': ((28, 135), [(3, 28, 270), (3, 14, 540), (3, 7, 1080)], []),
    'pnasnet_large': ((42, 540), [(4, 42, 1080), (4, 21, 2160), (4, 11, 4320)], []),
}

# The mobile networks also get an eval tower on a small input of unknown batch size.
EVAL_TOWER_SIZE = 96
EVAL_TOWERS = ['nasnet_mobile', 'pnasnet_mobile']

BATCH = 2

TOP_LEVEL_SCOPES = re.compile(r'(conv0|conv0_bn|l1_stem_3x3|l1_stem_bn|cell_stem_\d+|cell_\d+|'
                              r'reduction_cell_\d+|aux_\d+|final_layer)/|global_step$')


def _expected_end_points(name, batch, num_classes):
    (stem_side, stem_depth), stacks, reductions = LAYOUTS[name]
    shapes = {'Stem': [batch, stem_side, stem_side, stem_depth]}
    cell = 0
    for stack, (cells, side, depth) in enumerate(stacks):
        if stack and reductions:
            reduction_side, reduction_depth = reductions[stack - 1]
            shapes['Reduction_Cell_%d' % (stack - 1)] = [
                batch, reduction_side, reduction_side, reduction_depth]
        for _ in range(cells):
            shapes['Cell_%d' % cell] = [batch, side, side, depth]
            cell += 1
    shapes['global_pool'] = [batch, stacks[-1][2]]
    for logits in ('AuxLogits', 'Logits', 'Predictions'):
        shapes[logits] = [batch, num_classes]
    return shapes


def _shapes(tensors):
    return {key: tensor.shape.as_list() for key, tensor in tensors.items()}


def _parameter_count(variables):
    return sum(int(np.prod(v.shape.as_list())) for v in variables)


@functools.cache
def _default_build(name):
    """Static facts of `name` built as the factory does (inside its arg scope, with the
    factory's default weight decay 0), in training mode at its default size, 1001
    classes; for EVAL_TOWERS, then an eval tower sharing the weights."""
    spec = nets_factory.NETWORKS[name]
    network_fn, arg_scope_fn, size = spec.model_fn, spec.arg_scope_fn, spec.default_image_size
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [BATCH, size, size, 3])
        with slim.arg_scope(arg_scope_fn(weight_decay=0.0)):
            logits, end_points = network_fn(images, num_classes=1001, is_training=True)
        facts = {
            'logits': logits.shape.as_list(),
            'end_points': _shapes(end_points),
            'variables': {v.op.name: v.shape.as_list() for v in tf.global_variables()},
            'trainable_parameters': _parameter_count(tf.trainable_variables()),
        }
        if name in EVAL_TOWERS:
            update_ops = len(tf.get_collection(tf.GraphKeys.UPDATE_OPS))
            small = tf.placeholder(tf.float32, [None, EVAL_TOWER_SIZE, EVAL_TOWER_SIZE, 3])
            with tf.variable_scope(tf.get_variable_scope(), reuse=True):
                with slim.arg_scope(arg_scope_fn()):
                    eval_logits, eval_end_points = network_fn(small, num_classes=1001,
                                                              is_training=False)
            facts.update(
                eval_logits=eval_logits.shape.as_list(),
                eval_end_points=_shapes(eval_end_points),
                variables_added_by_eval=len(tf.global_variables()) - len(facts['variables']),
                update_ops_added_by_eval=(len(tf.get_collection(tf.GraphKeys.UPDATE_OPS))
                                          - update_ops))
        return facts


def _tiny_config(config_fn, num_cells=3, num_conv_filters=8, **overrides):
    """A network of the family with `num_cells` cells of few filters, cheap to build and run."""
    config = config_fn()
    config.set_hparam('num_cells', num_cells)
    config.set_hparam('num_conv_filters', num_conv_filters)
    for name, value in overrides.items():
        config.set_hparam(name, value)
    return config


def _images(batch, size, seed=0):
    return np.random.RandomState(seed).uniform(-1, 1, (batch, size, size, 3)).astype(np.float32)


# -- The default builds -----------------------------------------------------------------


def test_expected_values_cover_the_registered_family():
    assert set(NAMES) == set(DEFAULT_IMAGE_SIZES) == set(PARAMETER_COUNTS) == set(LAYOUTS)


@pytest.mark.parametrize('name', NAMES)
def test_trainable_parameter_count_and_default_image_size(name):
    assert nets_factory.NETWORKS[name].default_image_size == DEFAULT_IMAGE_SIZES[name]
    assert _default_build(name)['trainable_parameters'] == PARAMETER_COUNTS[name]


@pytest.mark.parametrize('name', NAMES)
def test_end_point_shapes_in_training(name):
    build = _default_build(name)
    assert build['end_points'] == _expected_end_points(name, BATCH, 1001)
    assert build['logits'] == [BATCH, 1001]


@pytest.mark.parametrize('name, expected', [
    ('nasnet_cifar', {
        'l1_stem_3x3/weights': [3, 3, 3, 96],
        'l1_stem_bn/moving_variance': [96],
        'cell_0/1x1/weights': [1, 1, 96, 32],
        'cell_0/beginning_bn/gamma': [32],
        # The first cell reads the stem twice; the unused copy is projected to concatenate.
        'cell_0/cell_output/reduction_1/path_conv/weights': [1, 1, 96, 32],
        'cell_0/comb_iter_0/left/separable_5x5_1/depthwise_weights': [5, 5, 32, 1],
        'cell_0/comb_iter_0/right/separable_3x3_1/pointwise_weights': [1, 1, 96, 32],
        'reduction_cell_0/1x1/weights': [1, 1, 192, 64],
        'cell_6/path1_conv/weights': [1, 1, 192, 32],
        'cell_6/final_path_bn/beta': [64],
        'aux_11/aux_logits/Conv/weights': [4, 4, 128, 768],
        'final_layer/FC/weights': [768, 1001],
    }),
    ('nasnet_mobile', {
        'conv0/weights': [3, 3, 3, 32],
        'conv0_bn/gamma': [32],
        'cell_stem_0/1x1/weights': [1, 1, 32, 11],
        'cell_stem_0/comb_iter_0/left/separable_5x5_1/depthwise_weights': [5, 5, 11, 1],
        'cell_stem_0/comb_iter_0/left/separable_5x5_1/pointwise_weights': [1, 1, 11, 11],
        'cell_stem_0/comb_iter_0/left/bn_sep_5x5_2/moving_mean': [11],
        'cell_stem_1/path1_conv/weights': [1, 1, 32, 11],
        'cell_stem_1/path2_conv/weights': [1, 1, 32, 11],
        'cell_stem_1/final_path_bn/moving_variance': [22],
        'cell_0/path1_conv/weights': [1, 1, 44, 22],
        'cell_1/prev_1x1/weights': [1, 1, 88, 44],
        'cell_1/prev_bn/beta': [44],
        'cell_0/comb_iter_4/left/bn_sep_3x3_2/gamma': [44],
        'reduction_cell_0/comb_iter_0/left/separable_5x5_1/depthwise_weights': [5, 5, 88, 1],
        'reduction_cell_1/comb_iter_1/right/separable_7x7_2/pointwise_weights': [1, 1, 176, 176],
        'cell_11/comb_iter_4/left/separable_3x3_2/depthwise_weights': [3, 3, 176, 1],
        'aux_7/aux_logits/proj/weights': [1, 1, 528, 128],
        'aux_7/aux_logits/aux_bn0/beta': [128],
        'aux_7/aux_logits/Conv/weights': [4, 4, 128, 768],
        'aux_7/aux_logits/aux_bn1/moving_mean': [768],
        'aux_7/aux_logits/FC/weights': [768, 1001],
        'aux_7/aux_logits/FC/biases': [1001],
        'final_layer/FC/weights': [1056, 1001],
        'final_layer/FC/biases': [1001],
    }),
    ('nasnet_large', {
        'conv0/weights': [3, 3, 3, 96],
        'cell_stem_0/1x1/weights': [1, 1, 96, 42],
        'cell_stem_1/final_path_bn/gamma': [84],
        'cell_0/path2_conv/weights': [1, 1, 168, 84],
        'cell_17/comb_iter_0/left/separable_5x5_1/depthwise_weights': [5, 5, 672, 1],
        'aux_11/aux_logits/proj/weights': [1, 1, 2016, 128],
        'aux_11/aux_logits/Conv/weights': [6, 6, 128, 768],
        'final_layer/FC/weights': [4032, 1001],
    }),
    ('pnasnet_mobile', {
        'conv0/weights': [3, 3, 3, 32],
        'cell_stem_0/1x1/weights': [1, 1, 32, 13],
        # The first operation reads the raw stem convolution.
        'cell_stem_0/comb_iter_0/left/separable_5x5_1/pointwise_weights': [1, 1, 32, 13],
        # 27 filters do not halve: the second path takes the odd one.
        'cell_stem_1/path1_conv/weights': [1, 1, 32, 13],
        'cell_stem_1/path2_conv/weights': [1, 1, 32, 14],
        'cell_3/prev_1x1/weights': [1, 1, 270, 108],
        'aux_5/aux_logits/Conv/weights': [4, 4, 128, 768],
        'final_layer/FC/weights': [1080, 1001],
    }),
    ('pnasnet_large', {
        'conv0/weights': [3, 3, 3, 96],
        'cell_stem_0/comb_iter_0/left/separable_5x5_1/depthwise_weights': [5, 5, 96, 1],
        'cell_stem_0/comb_iter_0/left/separable_5x5_1/pointwise_weights': [1, 1, 96, 54],
        'cell_11/comb_iter_2/left/separable_5x5_2/pointwise_weights': [1, 1, 864, 864],
        'aux_7/aux_logits/proj/weights': [1, 1, 2160, 128],
        'aux_7/aux_logits/FC/weights': [768, 1001],
        'final_layer/FC/weights': [4320, 1001],
    }),
])
def test_checkpoint_variable_names_and_shapes(name, expected):
    variables = _default_build(name)['variables']
    assert {key: variables.get(key) for key in expected} == expected


@pytest.mark.parametrize('name', NAMES)
def test_no_model_scope_no_biases_and_a_root_global_step(name):
    variables = _default_build(name)['variables']
    # Top-level scopes as in the published checkpoints: no model scope.
    assert [v for v in variables if not TOP_LEVEL_SCOPES.match(v)] == []
    # Batch norm follows every convolution: the only biases are the classifiers'.
    assert sorted(v for v in variables if v.endswith('biases')) == sorted(
        v for v in variables if v.endswith('FC/biases'))
    # Drop path (training with keep probability < 1) creates the global step if
    # missing, at the root where checkpoints have it, not inside the first cell.
    assert not [v for v in variables if v.endswith('/global_step')]
    assert ('global_step' in variables) == (name in ('nasnet_cifar', 'nasnet_large',
                                                     'pnasnet_large'))


@pytest.mark.parametrize('name', EVAL_TOWERS)
def test_eval_tower_shares_weights_on_a_small_input(name):
    build = _default_build(name)
    assert build['variables_added_by_eval'] == 0
    assert build['update_ops_added_by_eval'] == 0
    (_, stem_depth), stacks, _ = LAYOUTS[name]
    last_cell = 'Cell_%d' % (sum(cells for cells, _, _ in stacks) - 1)
    # 96 -> 47 (conv0) -> 24 -> 12 (stem cells) -> 6 -> 3.
    assert build['eval_end_points']['Stem'] == [None, 12, 12, stem_depth]
    assert build['eval_end_points'][last_cell] == [None, 3, 3, stacks[-1][2]]
    assert build['eval_logits'] == [None, 1001]
    assert 'AuxLogits' not in build['eval_end_points']


# -- Cheap checks on tiny configurations ------------------------------------------------


def test_tiny_cifar_session_drop_path_in_training_only():
    """Training (drop path at full strength, so two runs differ) and an eval tower
    sharing its weights (deterministic, no random ops), batch 1."""
    config = _tiny_config(nasnet.cifar_config)
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [None, 32, 32, 3])
        with slim.arg_scope(nasnet.nasnet_cifar_arg_scope()):
            train_logits, train_end_points = nasnet.build_nasnet_cifar(
                images, 10, config=config, current_step=tf.constant(10 ** 6))
            variables = len(tf.global_variables())
            with tf.variable_scope(tf.get_variable_scope(), reuse=True):
                with tf.name_scope('eval'):
                    eval_logits, eval_end_points = nasnet.build_nasnet_cifar(
                        images, 10, is_training=False, config=config)
        assert len(tf.global_variables()) == variables
        assert config.drop_path_keep_prob == 0.6  # the network got a copy
        graph = tf.get_default_graph()
        assert [op for op in graph.get_operations()
                if op.type == 'RandomUniform' and op.name.startswith('eval/')] == []
        assert sorted(train_end_points) == sorted(
            ['Stem', 'Cell_0', 'Reduction_Cell_0', 'Cell_1', 'AuxLogits', 'Reduction_Cell_1',
             'Cell_2', 'global_pool', 'Logits', 'Predictions'])
        assert 'AuxLogits' not in eval_end_points
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            feed = {images: _images(1, 32)}
            train_runs = [session.run(train_logits, feed) for _ in range(2)]
            eval_runs = [session.run([eval_logits, eval_end_points['Predictions']], feed)
                         for _ in range(2)]
    assert not np.allclose(train_runs[0], train_runs[1])
    np.testing.assert_array_equal(eval_runs[0][0], eval_runs[1][0])
    assert eval_runs[0][0].shape == (1, 10) and np.all(np.isfinite(eval_runs[0][0]))
    np.testing.assert_allclose(eval_runs[0][1].sum(), 1.0, rtol=1e-5)


def test_tiny_mobile_session_features_without_classes_and_weight_decay():
    config = _tiny_config(nasnet.mobile_imagenet_config)
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [1, 64, 64, 3])
        with slim.arg_scope(nasnet.nasnet_mobile_arg_scope()):
            features, end_points = nasnet.build_nasnet_mobile(images, 0, is_training=False,
                                                              config=config)
        assert sorted(end_points) == ['Cell_0', 'Cell_1', 'Cell_2', 'Reduction_Cell_0',
                                      'Reduction_Cell_1', 'Stem', 'global_pool']
        assert not [v for v in tf.global_variables() if 'FC' in v.op.name]
        # Every convolution, separable ones included, is decayed; batch norm is not.
        weights = [v for v in tf.trainable_variables() if v.op.name.endswith('weights')]
        assert len(tf.losses.get_regularization_losses()) == len(weights) > 0
        # 3 cells: each concatenates 6 states of 8, 16 then 32 filters.
        assert features.shape.as_list() == [1, 6 * 32]
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            value = session.run(features, {images: _images(1, 64)})
    assert value.shape == (1, 192) and np.all(np.isfinite(value))


@pytest.mark.parametrize('build_fn, config_fn, final_endpoint, expected_keys', [
    (nasnet.build_nasnet_mobile, nasnet.mobile_imagenet_config, 'Reduction_Cell_0',
     ['Cell_0', 'Reduction_Cell_0', 'Stem']),
    (pnasnet.build_pnasnet_large, pnasnet.large_imagenet_config, 'Stem', ['Stem']),
])
def test_final_endpoint_stops_there(build_fn, config_fn, final_endpoint, expected_keys):
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [1, 64, 64, 3])
        with slim.arg_scope(nasnet.nasnet_mobile_arg_scope()):
            net, end_points = build_fn(images, 7, is_training=False,
                                       final_endpoint=final_endpoint,
                                       config=_tiny_config(config_fn))
    assert sorted(end_points) == expected_keys
    assert net is end_points[final_endpoint]


@pytest.mark.parametrize('build_fn, final_endpoint', [
    (nasnet.build_nasnet_mobile, 'Cell_12'),
    (nasnet.build_nasnet_large, 'AuxLogits'),
    (pnasnet.build_pnasnet_mobile, 'Reduction_Cell_0'),
    (pnasnet.build_pnasnet_large, 'Mixed_5b'),
])
def test_unknown_final_endpoint_is_rejected_before_building(build_fn, final_endpoint):
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [1, 224, 224, 3])
        with pytest.raises(ValueError, match='Unknown final endpoint'):
            build_fn(images, 1001, final_endpoint=final_endpoint)
        assert tf.global_variables() == []


@pytest.mark.parametrize('build_fn', [nasnet.build_nasnet_cifar, pnasnet.build_pnasnet_mobile])
def test_unknown_spatial_size_is_rejected(build_fn):
    # The cells wire themselves by comparing static sizes; TF-Slim fails with a TypeError.
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [None, None, None, 3])
        with pytest.raises(ValueError, match='known height and width'):
            build_fn(images, 10)


def test_nchw_and_bounded_activation_options():
    """One build with both options: channels-first shapes, ReLU6 and clipping instead of
    ReLU, and final_endpoint='Logits' returning the logits."""
    config = _tiny_config(nasnet.mobile_imagenet_config, data_format='NCHW',
                          use_bounded_activation=True)
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [2, 128, 128, 3])
        with slim.arg_scope(nasnet.nasnet_mobile_arg_scope()):
            logits, end_points = nasnet.build_nasnet_mobile(images, 5, config=config,
                                                            final_endpoint='Logits')
        operations = tf.get_default_graph().get_operations()
    # 128 -> 63 (conv0) -> 32 -> 16 (stem cells) -> 8 -> 4; 4 states of 4 filters leave
    # the stem, 6 states of 32 filters the last cell.
    assert end_points['Stem'].shape.as_list() == [2, 16, 16, 16]
    assert end_points['Cell_2'].shape.as_list() == [2, 6 * 32, 4, 4]
    assert end_points['AuxLogits'].shape.as_list() == [2, 5]
    assert logits is end_points['Logits'] and 'Predictions' not in end_points
    assert 'Relu6' in {op.type for op in operations}
    assert 'Relu' not in {op.type for op in operations}
    assert [op for op in operations if 'clip_by_value' in op.name]


# -- nasnet_utils -----------------------------------------------------------------------


def test_factorized_reduction_samples_two_shifted_grids():
    """Stride 2 on a 5x5 map: path 1 reads pixels (0, 2, 4)^2, path 2 reads (1, 3)^2 and
    the zero padding; 5 filters split 2 + 3."""
    pixels = np.arange(25, dtype=np.float32).reshape(1, 5, 5, 1)
    with tf.Graph().as_default():
        with slim.arg_scope(nasnet.nasnet_mobile_arg_scope()), \
                slim.arg_scope([slim.conv2d], weights_initializer=tf.ones_initializer()), \
                slim.arg_scope([slim.batch_norm], is_training=False), \
                slim.arg_scope([nasnet_utils.factorized_reduction], data_format='NHWC'):
            net = nasnet_utils.factorized_reduction(tf.constant(pixels), 5, stride=2)
        assert [v.op.name for v in tf.trainable_variables()] == [
            'path1_conv/weights', 'path2_conv/weights', 'final_path_bn/gamma',
            'final_path_bn/beta']
        assert tf.trainable_variables()[1].shape.as_list() == [1, 1, 1, 3]
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            value = session.run(net)
    grid = pixels[0, :, :, 0]
    shifted = np.pad(grid, [[0, 1], [0, 1]])[1::2, 1::2]
    # Batch norm in inference with fresh statistics only divides by sqrt(1 + epsilon).
    np.testing.assert_allclose(value[0, :, :, :2], np.stack([grid[::2, ::2]] * 2, -1), rtol=1e-3)
    np.testing.assert_allclose(value[0, :, :, 2:], np.stack([shifted] * 3, -1), rtol=1e-3)


def test_drop_path_keeps_whole_examples_scaled():
    with tf.Graph().as_default():
        ones = tf.ones([2000, 2, 2, 3])
        dropped = nasnet_utils.drop_path(ones, 0.25)
        kept = nasnet_utils.drop_path(ones, 0.25, is_training=False)
        with tf.Session() as session:
            dropped, kept = session.run([dropped, kept])
    assert set(np.unique(dropped)) <= {0.0, 4.0}
    # One decision per example.
    assert np.all(dropped.min(axis=(1, 2, 3)) == dropped.max(axis=(1, 2, 3)))
    assert 0.2 < np.mean(dropped[:, 0, 0, 0] > 0) < 0.3
    np.testing.assert_array_equal(kept, np.ones([2000, 2, 2, 3]))


def test_layer_helpers_need_a_data_format():
    with pytest.raises(ValueError, match='data_format'):
        nasnet_utils.get_channel_index()
    assert nasnet_utils.get_channel_index(data_format='NCHW') == 1
    assert nasnet_utils.get_channel_dim([2, 7, 7, 11], data_format='NHWC') == 11
    with tf.Graph().as_default():
        pooled = nasnet_utils.global_avg_pool(tf.zeros([2, 5, 7, 7]), data_format='NCHW')
    assert pooled.shape.as_list() == [2, 5]


@pytest.mark.parametrize('num_cells, num_reduction_layers, expected', [
    (18, 2, [6, 12]), (12, 2, [4, 8]), (9, 2, [3, 6]), (3, 2, [1, 2]), (10, 1, [5]),
])
def test_calc_reduction_layers(num_cells, num_reduction_layers, expected):
    assert nasnet_utils.calc_reduction_layers(num_cells, num_reduction_layers) == expected


def test_operation_names_parse():
    assert nasnet_utils._operation_to_info('separable_3x3_4') == (4, 3)
    assert nasnet_utils._operation_to_info('separable_7x7') == (1, 7)
    assert nasnet_utils._operation_to_pooling_info('max_pool_3x3') == ('max', 3)
    with pytest.raises(ValueError, match='Rectangular'):
        nasnet_utils._operation_to_filter_shape('separable_3x5_2')


def test_hparams_replacement():
    config = nasnet.large_imagenet_config()
    assert (config.num_cells, config.num_conv_filters, config.drop_path_keep_prob) == (18, 168,
                                                                                       0.7)
    config.set_hparam('num_cells', 6)
    assert config.values()['num_cells'] == 6
    with pytest.raises(KeyError):
        config.set_hparam('num_celss', 6)
    assert pnasnet.large_imagenet_config().num_conv_filters == 216
    assert nasnet.cifar_config().total_training_steps == 937500


@pytest.mark.parametrize('arg_scope_fn, defaults', [
    (nasnet.nasnet_cifar_arg_scope, (5e-4, 0.9, 1e-5)),
    (nasnet.nasnet_mobile_arg_scope, (4e-5, 0.9997, 1e-3)),
    (nasnet.nasnet_large_arg_scope, (5e-5, 0.9997, 1e-3)),
    (pnasnet.pnasnet_mobile_arg_scope, (4e-5, 0.9997, 1e-3)),
    (pnasnet.pnasnet_large_arg_scope, (4e-5, 0.9997, 1e-3)),
])
def test_arg_scope_defaults(arg_scope_fn, defaults):
    parameters = inspect.signature(arg_scope_fn).parameters
    assert tuple(p.default for p in parameters.values()) == defaults
    assert list(parameters) == ['weight_decay', 'batch_norm_decay', 'batch_norm_epsilon']
