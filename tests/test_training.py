"""Training end to end: accuracy reached, resume, bigger networks, losses and schedules."""

import dataclasses
import logging
import os

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from support import digits_train_options, parsed_default_flags

import flag_options

from evaluation import evaluator
from evaluation.eval_options import EvalOptions
from training import losses, optimization, trainer
from training.optimization import LearningRateOptions, OptimizerOptions
from training.train_options import TrainOptions


def _evaluate(digits_dir, train_dir, model_name):
    return evaluator.evaluate(EvalOptions(
        dataset_name='digits', dataset_split_name='validation', dataset_dir=digits_dir,
        model_name=model_name, checkpoint_path=train_dir, eval_dir=train_dir + '/eval'))


def test_lenet_learns_digits_and_resumes_from_its_checkpoint(digits_dir, tmp_path):
    train_dir = str(tmp_path / 'lenet')
    assert trainer.train(digits_train_options(digits_dir, train_dir)) == 250
    results = _evaluate(digits_dir, train_dir, 'lenet')
    assert results['num_examples'] == 364
    assert results['global_step'] == 250
    assert results['eval/Accuracy'] >= 0.9
    assert results['eval/Recall_5'] >= results['eval/Accuracy']
    assert any(name.startswith('events.out.tfevents') for name in os.listdir(train_dir))
    # The final step tells evaluators watching train_dir when to stop.
    with open(os.path.join(train_dir, 'final_step.txt')) as f:
        assert f.read() == '250\n'

    weights_before = tf.train.load_variable(train_dir, 'LeNet/fc3/weights')
    options = digits_train_options(digits_dir, train_dir, max_number_of_steps=270)
    assert trainer.train(options) == 270
    assert tf.train.latest_checkpoint(train_dir).endswith('model.ckpt-270')
    # Resumed training continued from the saved weights rather than starting over.
    weights_after = tf.train.load_variable(train_dir, 'LeNet/fc3/weights')
    assert 0 < np.abs(weights_after - weights_before).max() < 0.1 * np.abs(weights_before).max()
    # A finished run started again trains no further step.
    assert trainer.train(options) == 270
    assert np.array_equal(tf.train.load_variable(train_dir, 'LeNet/fc3/weights'), weights_after)


@pytest.mark.slow
def test_cifarnet_trains_on_digits_resized_by_its_preprocessing(digits_dir, tmp_path):
    train_dir = str(tmp_path / 'cifarnet')
    trainer.train(digits_train_options(digits_dir, train_dir, model_name='cifarnet',
                                       max_number_of_steps=110, weight_decay=0.004))
    assert tf.train.load_variable(train_dir, 'CifarNet/conv1/weights').shape == (5, 5, 1, 64)
    assert _evaluate(digits_dir, train_dir, 'cifarnet')['eval/Accuracy'] >= 0.5


# inception_v3 (with its auxiliary head) and resnet_v1_50 train in test_recipes.py, which
# checks the same of them (inception_v3 in `make test-slow`).
@pytest.mark.parametrize('model_name, image_size, variable', [
    ('resnet_v2_50', 64, 'resnet_v2_50/postnorm/moving_mean'),
    ('mobilenet_v1', 64, 'MobilenetV1/Conv2d_13_pointwise/BatchNorm/moving_mean'),
])
def test_imagenet_networks_train_a_few_steps_at_a_small_size(flowers_like_dir, tmp_path,
                                                            model_name, image_size, variable):
    train_dir = str(tmp_path / model_name)
    options = TrainOptions(dataset_name='flowers', dataset_dir=flowers_like_dir,
                           train_dir=train_dir, model_name=model_name, batch_size=2,
                           train_image_size=image_size, max_number_of_steps=2)
    assert trainer.train(options) == 2
    value = tf.train.load_variable(train_dir, variable)
    assert np.all(np.isfinite(value))
    if 'moving_mean' in variable:
        # Moving means start at zero; the batch-norm update ops ran with the train steps.
        assert np.abs(value).max() > 0


def test_auxiliary_logits_add_a_loss_weighted_by_aux_loss_weight():
    with tf.Graph().as_default():
        logits = tf.constant([[2.0, 0.0, 0.0]])
        aux_logits = tf.constant([[0.0, 0.0, 3.0]])
        labels = tf.constant([0])
        losses.add_classification_losses(logits, {'AuxLogits': aux_logits}, labels, 3,
                                         aux_loss_weight=0.4)
        with tf.Session() as session:
            values = session.run(tf.get_collection(tf.GraphKeys.LOSSES))
    main = -np.log(np.exp(2.0) / (np.exp(2.0) + 2))
    aux = -np.log(1.0 / (2 + np.exp(3.0)))
    assert sorted(values) == pytest.approx(sorted([main, 0.4 * aux]), rel=1e-5)


def test_label_smoothing_changes_the_loss():
    with tf.Graph().as_default():
        logits = tf.constant([[4.0, 0.0]])
        plain = losses.add_classification_losses(logits, {}, tf.constant([0]), 2)
        smoothed = losses.add_classification_losses(logits, {}, tf.constant([0]), 2,
                                                    label_smoothing=0.2)
        with tf.Session() as session:
            plain_value, smoothed_value = session.run([plain, smoothed])
    # Smoothed targets are (0.9, 0.1).
    log_p = np.log(np.exp([4.0, 0.0]) / np.exp([4.0, 0.0]).sum())
    assert smoothed_value == pytest.approx(-(0.9 * log_p[0] + 0.1 * log_p[1]), rel=1e-5)
    assert plain_value == pytest.approx(-log_p[0], rel=1e-5)


@pytest.mark.parametrize('decay_type, expected', [
    ('fixed', [0.1, 0.1, 0.1]),
    ('exponential', [0.1, 0.1 * 0.5, 0.1 * 0.25]),
    ('polynomial', [0.1, 0.01, 0.01]),
])
def test_learning_rate_schedules(decay_type, expected):
    # 100 examples, batch 10, one epoch per decay: 10 steps per decay.
    options = LearningRateOptions(learning_rate=0.1, learning_rate_decay_type=decay_type,
                                  learning_rate_decay_factor=0.5, num_epochs_per_decay=1.0,
                                  end_learning_rate=0.01)
    assert _rates(options, [0, 15, 25], batch_size=10) == pytest.approx(expected, rel=1e-6)


def _rates(options, steps, num_samples=100, **epoch_and_end):
    """The rates of `options` (LearningRateOptions) at `steps`; `epoch_and_end` are the
    batch_size, replicas_to_aggregate and max_number_of_steps of learning_rate_schedule."""
    with tf.Graph().as_default():
        step = tf.placeholder(tf.int64, [])
        rate = optimization.learning_rate_schedule(options, step, num_samples, **epoch_and_end)
        with tf.Session() as session:
            return [session.run(rate, {step: s}) for s in steps]


def test_cosine_decay_after_linear_warmup():
    # 100 examples, batch 10: one warm-up epoch is 10 steps; the cosine spans steps 10..110.
    options = LearningRateOptions(learning_rate=0.1, end_learning_rate=0.01,
                                  learning_rate_decay_type='cosine', warmup_epochs=1.0)
    assert _rates(options, [0, 5, 10, 60, 110, 200], batch_size=10,
                  max_number_of_steps=110) == pytest.approx(
        [0.0, 0.05, 0.1, 0.055, 0.01, 0.01], rel=1e-5)
    with pytest.raises(ValueError, match='set --max_number_of_steps'):
        _rates(options, [0], batch_size=10)


def test_warmup_reaches_the_decayed_rate_and_sync_replicas_shorten_the_decay():
    options = LearningRateOptions(learning_rate=0.1, learning_rate_decay_factor=0.5,
                                  num_epochs_per_decay=1.0, warmup_epochs=1.0)
    assert _rates(options, [5, 10, 15, 25], batch_size=10) == pytest.approx(
        [0.025, 0.05, 0.05, 0.025], rel=1e-5)
    # Each synchronous step aggregates two batches, so one epoch is 5 steps.
    synchronous = dataclasses.replace(options, warmup_epochs=0.0)
    assert _rates(synchronous, [4, 5, 10], batch_size=10, replicas_to_aggregate=2) == \
        pytest.approx([0.1, 0.05, 0.025], rel=1e-5)


def test_every_optimizer_builds_and_unknown_names_are_listed():
    with tf.Graph().as_default():
        for name in optimization.OPTIMIZERS:
            options = OptimizerOptions(optimizer=name)
            assert isinstance(optimization.make_optimizer(options, 0.1), tf.train.Optimizer)
        with pytest.raises(ValueError, match='valid optimizers: adadelta, adagrad, adam'):
            optimization.make_optimizer(OptimizerOptions(optimizer='lamb'), 0.1)
        with pytest.raises(ValueError, match='valid types: cosine, exponential, fixed, polynomial'):
            optimization.learning_rate_schedule(
                LearningRateOptions(learning_rate_decay_type='step'), tf.constant(0), 100, 32)
    # Training hands each helper its own group of the flags.
    options = TrainOptions(optimizer='adam', learning_rate=0.5)
    assert flag_options.subset(options, OptimizerOptions) == OptimizerOptions(optimizer='adam')
    assert flag_options.subset(options, LearningRateOptions) == LearningRateOptions(
        learning_rate=0.5)


# Except num_readers and num_preprocessing_threads: TF-Slim's 4 became None, AUTOTUNE (issue 6).
TF_SLIM_TRAINING_FLAG_DEFAULTS = {
    'master': '', 'train_dir': '/tmp/tfmodel/', 'num_clones': 1, 'clone_on_cpu': False,
    'worker_replicas': 1, 'num_ps_tasks': 0, 'num_readers': None,
    'num_preprocessing_threads': None,
    'log_every_n_steps': 10, 'save_summaries_secs': 600, 'save_interval_secs': 600, 'task': 0,
    'weight_decay': 0.00004, 'optimizer': 'rmsprop', 'adadelta_rho': 0.95,
    'adagrad_initial_accumulator_value': 0.1, 'adam_beta1': 0.9, 'adam_beta2': 0.999,
    'opt_epsilon': 1.0, 'ftrl_learning_rate_power': -0.5, 'ftrl_initial_accumulator_value': 0.1,
    'ftrl_l1': 0.0, 'ftrl_l2': 0.0, 'momentum': 0.9, 'rmsprop_momentum': 0.9,
    'rmsprop_decay': 0.9, 'quantize_delay': -1, 'learning_rate_decay_type': 'exponential',
    'learning_rate': 0.01, 'end_learning_rate': 0.0001, 'label_smoothing': 0.0,
    'learning_rate_decay_factor': 0.94, 'num_epochs_per_decay': 2.0, 'sync_replicas': False,
    'replicas_to_aggregate': 1, 'moving_average_decay': None, 'dataset_name': 'imagenet',
    'dataset_split_name': 'train', 'dataset_dir': None, 'labels_offset': 0,
    'model_name': 'inception_v3', 'preprocessing_name': None, 'batch_size': 32,
    'train_image_size': None, 'max_number_of_steps': None, 'use_grayscale': False,
    'checkpoint_path': None, 'checkpoint_exclude_scopes': None, 'trainable_scopes': None,
    'ignore_missing_vars': False,
}


def test_every_tf_slim_training_flag_exists_with_its_default():
    flag_values = parsed_default_flags(TrainOptions, 'train_image_classifier.py')
    defaults = {name: flag_values[name].value for name in TF_SLIM_TRAINING_FLAG_DEFAULTS}
    assert defaults == TF_SLIM_TRAINING_FLAG_DEFAULTS
    # Additions, off by default.
    assert (flag_values['warmup_epochs'].value, flag_values['aux_loss_weight'].value) == (0.0, 0.4)
    assert [flag_values[name].value for name in (
        'deterministic_input', 'fail_on_corrupt_records', 'shuffle_buffer_size')] == [
            False, False, 4096]


def test_quantize_delay_fails_pointing_to_post_training_quantization(tmp_path):
    with pytest.raises(ValueError, match=r'--quantize_delay=0 .*no longer exists.*'
                                         r'export_inference_graph.py .*--tflite_quantize'):
        trainer.train(TrainOptions(train_dir=str(tmp_path), quantize_delay=0))


def test_two_clones_on_cpu_train_through_the_trainer(digits_dir, tmp_path, caplog):
    train_dir = str(tmp_path / 'two_clones')
    caplog.set_level(logging.INFO)
    options = digits_train_options(digits_dir, train_dir, num_clones=2, clone_on_cpu=True,
                                   batch_size=10, max_number_of_steps=3, log_every_n_steps=3)
    assert trainer.train(options) == 3
    assert 'step 3/3: loss = ' in caplog.text
    assert tf.train.load_variable(train_dir, 'LeNet/fc4/weights').shape == (1024, 10)
