"""Every training recipe in configs/: it parses, names known components, keeps the published
hyper-parameters, and its graph trains one step on generated data in the dataset's layout."""

import glob
import os

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from absl import flags

import flag_options
from datasets import dataset_factory, imagenet
from nets import nets_factory
from preprocessing import preprocessing_factory
from training import trainer
from training.train_options import TrainOptions

CONFIGS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'configs')

RECIPES = sorted(glob.glob(os.path.join(CONFIGS, '*.flags')))

INCEPTION_HEADS = 'InceptionV3/Logits,InceptionV3/AuxLogits'

# The hyper-parameters TF-Slim's scripts and the papers publish for each recipe.
PUBLISHED = {
    'inception_v3_flowers_stage1': dict(
        model_name='inception_v3', dataset_name='flowers',
        checkpoint_exclude_scopes=INCEPTION_HEADS, trainable_scopes=INCEPTION_HEADS,
        optimizer='rmsprop', learning_rate=0.01,
        learning_rate_decay_type='fixed', max_number_of_steps=1000, batch_size=32,
        weight_decay=0.00004),
    'inception_v3_flowers_stage2': dict(
        model_name='inception_v3', dataset_name='flowers', checkpoint_exclude_scopes=None,
        trainable_scopes=None, optimizer='rmsprop', learning_rate=0.0001,
        learning_rate_decay_type='fixed', max_number_of_steps=500, batch_size=32,
        weight_decay=0.00004),
    'resnet_v1_50_flowers_stage1': dict(
        model_name='resnet_v1_50', dataset_name='flowers',
        checkpoint_exclude_scopes='resnet_v1_50/logits', trainable_scopes='resnet_v1_50/logits',
        learning_rate=0.01, max_number_of_steps=3000, batch_size=32),
    'resnet_v1_50_flowers_stage2': dict(
        model_name='resnet_v1_50', dataset_name='flowers', checkpoint_exclude_scopes=None,
        trainable_scopes=None, learning_rate=0.001, max_number_of_steps=1000, batch_size=32),
    'cifarnet_cifar10': dict(
        model_name='cifarnet', dataset_name='cifar10', optimizer='sgd', learning_rate=0.1,
        learning_rate_decay_type='exponential', learning_rate_decay_factor=0.1,
        num_epochs_per_decay=200, weight_decay=0.004, batch_size=128, max_number_of_steps=100000),
    'lenet_mnist': dict(
        model_name='lenet', dataset_name='mnist', optimizer='sgd', learning_rate=0.01,
        learning_rate_decay_type='fixed', weight_decay=0, batch_size=50,
        max_number_of_steps=20000),
    'inception_v3_imagenet': dict(
        model_name='inception_v3', dataset_name='imagenet', labels_offset=0, optimizer='rmsprop',
        rmsprop_decay=0.9, opt_epsilon=1.0, learning_rate=0.045,
        learning_rate_decay_type='exponential', learning_rate_decay_factor=0.94,
        num_epochs_per_decay=2, label_smoothing=0.1, moving_average_decay=0.9999,
        clip_gradient_norm=2.0, batch_size=32),
    'resnet_v1_50_imagenet': dict(
        # The paper's learning rate of 0.1 per batch of 256, for one GPU's batch of 32.
        model_name='resnet_v1_50', dataset_name='imagenet', labels_offset=1, optimizer='momentum',
        momentum=0.9, weight_decay=0.0001, learning_rate=0.1 * 32 / 256, batch_size=32,
        learning_rate_decay_type='exponential', learning_rate_decay_factor=0.1,
        num_epochs_per_decay=30),
    'resnet_v1_50_imagenet_modern': dict(
        # Bag of Tricks (0.1 per 256, for a batch of 32), RandAugment, mixup, EMA.
        model_name='resnet_v1_50', dataset_name='imagenet', labels_offset=1, optimizer='momentum',
        momentum=0.9, weight_decay=0.0001, learning_rate=0.1 * 32 / 256, batch_size=32,
        learning_rate_decay_type='cosine', end_learning_rate=0.0, warmup_epochs=5,
        label_smoothing=0.1, augmentation='randaugment', randaugment_num_layers=2,
        randaugment_magnitude=9, mixup_alpha=0.2, cutmix_alpha=0.0,
        moving_average_decay=0.9999),
    'mobilenet_v1_imagenet': dict(
        model_name='mobilenet_v1', dataset_name='imagenet', labels_offset=0, optimizer='rmsprop',
        learning_rate=0.045, learning_rate_decay_type='exponential',
        learning_rate_decay_factor=0.98, num_epochs_per_decay=2.5, weight_decay=0.00004,
        label_smoothing=0.1, moving_average_decay=0.9999),
}

# Training epochs of the ImageNet recipes published as epochs.
IMAGENET_EPOCHS = {'inception_v3_imagenet': 100, 'resnet_v1_50_imagenet': 90,
                   'resnet_v1_50_imagenet_modern': 200}

# Fine-tuning recipe -> the recipe whose train_dir it starts from in the one-step runs.
FINE_TUNING_SOURCES = {
    'inception_v3_flowers_stage1': 'inception_v3_imagenet',
    'inception_v3_flowers_stage2': 'inception_v3_flowers_stage1',
    'resnet_v1_50_flowers_stage1': 'resnet_v1_50_imagenet',
    'resnet_v1_50_flowers_stage2': 'resnet_v1_50_flowers_stage1',
}

# Dataset name -> the conftest fixture generating it in its real file layout.
DATA_FIXTURES = {
    'cifar10': 'cifar10_like_dir',
    'digits': 'digits_dir',
    'flowers': 'flowers_like_dir',
    'imagenet': 'imagenet_like_dir',
    'mnist': 'mnist_like_dir',
}

# Image sides that keep the big networks fast in one-step runs (inception_v3 needs >= 75).
SMALL_IMAGE_SIZES = {'inception_v3': 96, 'resnet_v1_50': 64, 'mobilenet_v1': 64}

LOGITS_WEIGHTS = {
    'cifarnet': 'CifarNet/logits/weights',
    'inception_v3': 'InceptionV3/Logits/Conv2d_1c_1x1/weights',
    'lenet': 'LeNet/fc4/weights',
    'mobilenet_v1': 'MobilenetV1/Logits/Conv2d_1c_1x1/weights',
    'resnet_v1_50': 'resnet_v1_50/logits/weights',
}

# Variables checked after a step that trains all layers: they must be finite, and a batch-norm
# moving mean (zero at the start) must have moved, so the update ops ran with the train step.
CHECKED_AFTER_A_STEP = {
    'inception_v3': ['InceptionV3/Conv2d_1a_3x3/BatchNorm/moving_mean',
                     'InceptionV3/AuxLogits/Conv2d_2b_1x1/weights'],
    'resnet_v1_50': ['resnet_v1_50/block4/unit_3/bottleneck_v1/conv3/BatchNorm/moving_mean'],
    'mobilenet_v1': ['MobilenetV1/Conv2d_13_pointwise/BatchNorm/moving_mean'],
}

# A variable of the pre-trained body, outside every fine-tuning recipe's trainable scopes.
FIRST_CONV_WEIGHTS = {
    'inception_v3': 'InceptionV3/Conv2d_1a_3x3/weights',
    'resnet_v1_50': 'resnet_v1_50/conv1/weights',
}


def _recipe_name(path):
    return os.path.basename(path)[:-len('.flags')]


def _recipe_path(name):
    return os.path.join(CONFIGS, name + '.flags')


def _parse(path, *overrides):
    """The TrainOptions of flag file `path`; later command-line flags override it."""
    flag_values = flags.FlagValues()
    flag_options.define_flags(TrainOptions, flag_values)
    flag_values(['program', '--flagfile=' + path, *overrides])
    return flag_options.options_from_flags(TrainOptions, flag_values)


def _header(path):
    with open(path) as f:
        return ''.join(line for line in f if line.startswith('#'))


@pytest.mark.parametrize('path', RECIPES, ids=_recipe_name)
def test_recipe_names_known_components_and_leaves_paths_to_the_user(path):
    options = _parse(path)
    assert options.model_name in nets_factory.networks_map
    assert (options.preprocessing_name or options.model_name) in \
        preprocessing_factory.PREPROCESSING_MODULES
    assert options.dataset_name in dataset_factory.datasets_map
    dataset = dataset_factory.datasets_map[options.dataset_name]
    assert options.dataset_split_name in dataset.SPLITS_TO_SIZES
    # Paths and the GPU count are the user's: the header says which flags to add.
    defaults = TrainOptions()
    assert (options.dataset_dir, options.train_dir, options.checkpoint_path,
            options.num_clones) == (None, defaults.train_dir, None, 1)
    header = _header(path)
    assert '--dataset_dir' in header and '--train_dir' in header
    if options.checkpoint_exclude_scopes or _recipe_name(path) in FINE_TUNING_SOURCES:
        assert '--checkpoint_path' in header


@pytest.mark.parametrize('name', sorted(PUBLISHED))
def test_recipe_keeps_the_published_hyper_parameters(name):
    path = _recipe_path(name)
    assert os.path.exists(path), 'configs/%s.flags is missing' % name
    options = _parse(path)
    actual = {key: getattr(options, key) for key in PUBLISHED[name]}
    assert actual == pytest.approx(PUBLISHED[name])


@pytest.mark.parametrize('name', sorted(IMAGENET_EPOCHS))
def test_imagenet_recipe_steps_cover_the_published_epochs(name):
    options = _parse(_recipe_path(name))
    examples = options.max_number_of_steps * options.batch_size
    # Within one step of the published epochs.
    assert examples / imagenet.SPLITS_TO_SIZES['train'] == pytest.approx(
        IMAGENET_EPOCHS[name], abs=options.batch_size / imagenet.SPLITS_TO_SIZES['train'])


@pytest.fixture(scope='module')
def train_recipe(request, tmp_path_factory):
    """`train_recipe(name)` -> (options, final step) of the recipe trained for one step.

    Each recipe trains once per module; a fine-tuning recipe first trains its source in
    FINE_TUNING_SOURCES and starts from that train_dir.
    """
    runs = {}

    def run(name):
        if name in runs:
            return runs[name]
        path = _recipe_path(name)
        recipe = _parse(path)
        overrides = [
            '--dataset_dir=' + request.getfixturevalue(DATA_FIXTURES[recipe.dataset_name]),
            '--train_dir=' + str(tmp_path_factory.mktemp(name)),
            '--max_number_of_steps=1', '--batch_size=2', '--num_clones=1',
            # Evaluating the histograms of every variable adds ~10% to a one-step run.
            '--save_summaries_secs=0',
        ]
        if recipe.warmup_epochs:
            # A warm-up of epochs does not fit in the one step that cosine decay ends at.
            overrides.append('--warmup_epochs=0')
        if recipe.model_name in SMALL_IMAGE_SIZES:
            overrides.append('--train_image_size=%d' % SMALL_IMAGE_SIZES[recipe.model_name])
        if name in FINE_TUNING_SOURCES:
            source_options, _ = run(FINE_TUNING_SOURCES[name])
            overrides.append('--checkpoint_path=' + source_options.train_dir)
        elif recipe.checkpoint_exclude_scopes:
            pytest.fail('%s fine-tunes: add the recipe it starts from to FINE_TUNING_SOURCES.'
                        % name)
        options = _parse(path, *overrides)
        runs[name] = options, trainer.train(options)
        return runs[name]

    return run


# Inception V3 at 299x299 and the second ResNet recipes take two and a half minutes together:
# `make test-slow` runs them; `make test` keeps one ImageNet recipe and one fine-tuning stage.
SLOW_RECIPES = ('inception_v3_imagenet', 'inception_v3_flowers_stage1',
                'inception_v3_flowers_stage2', 'resnet_v1_50_imagenet_modern',
                'resnet_v1_50_flowers_stage2')


@pytest.mark.parametrize('path', [
    pytest.param(path, marks=pytest.mark.slow) if _recipe_name(path) in SLOW_RECIPES else path
    for path in RECIPES], ids=_recipe_name)
def test_recipe_trains_one_step_on_generated_data(path, train_recipe):
    name = _recipe_name(path)
    options, final_step = train_recipe(name)
    assert final_step == 1
    checkpoint = tf.train.load_checkpoint(options.train_dir)
    logits_weights = LOGITS_WEIGHTS[options.model_name]
    num_classes = (dataset_factory.datasets_map[options.dataset_name].NUM_CLASSES
                   - options.labels_offset)
    assert checkpoint.get_variable_to_shape_map()[logits_weights][-1] == num_classes
    assert checkpoint.has_tensor(logits_weights + '/ExponentialMovingAverage') == bool(
        options.moving_average_decay)

    if name not in FINE_TUNING_SOURCES:
        for variable in CHECKED_AFTER_A_STEP.get(options.model_name, []):
            value = checkpoint.get_tensor(variable)
            assert np.all(np.isfinite(value)), variable
            if 'moving_mean' in variable:
                assert np.abs(value).max() > 0, variable

    if name in FINE_TUNING_SOURCES:
        source_options, _ = train_recipe(FINE_TUNING_SOURCES[name])
        body = FIRST_CONV_WEIGHTS[options.model_name]
        source_value = tf.train.load_variable(source_options.train_dir, body)
        change = np.abs(checkpoint.get_tensor(body) - source_value).max()
        if options.trainable_scopes:
            # Restored from the source and frozen.
            assert change == 0
        else:
            # Restored from the source, then one small step on every layer.
            assert 0 < change < 0.01
