"""Fine-tuning: restoring a checkpoint minus excluded scopes, training only some scopes."""

import logging

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from support import digits_train_options

from evaluation import evaluator
from evaluation.eval_options import EvalOptions
from nets import nets_factory
from training import train_graph, trainer
from training.train_options import TrainOptions

LOGITS = 'LeNet/fc4'


def _checkpoint_values(directory):
    reader = tf.train.load_checkpoint(directory)
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}


@pytest.fixture(scope='module')
def source_dir(digits_dir, tmp_path_factory):
    directory = str(tmp_path_factory.mktemp('source'))
    trainer.train(digits_train_options(digits_dir, directory))
    return directory


def test_fine_tuning_the_logits_keeps_every_other_weight_and_recovers_accuracy(
        digits_dir, source_dir, tmp_path, caplog):
    train_dir = str(tmp_path / 'fine_tuned')
    options = digits_train_options(digits_dir, train_dir, checkpoint_path=source_dir,
                                   checkpoint_exclude_scopes=LOGITS, trainable_scopes=LOGITS,
                                   max_number_of_steps=100, moving_average_decay=0.99)
    assert trainer.train(options) == 100

    source, tuned = _checkpoint_values(source_dir), _checkpoint_values(train_dir)
    body = [name for name in source if name.startswith('LeNet/') and LOGITS not in name
            and 'Momentum' not in name]
    assert sorted(body) == ['LeNet/conv1/biases', 'LeNet/conv1/weights', 'LeNet/conv2/biases',
                            'LeNet/conv2/weights', 'LeNet/fc3/biases', 'LeNet/fc3/weights']
    for name in body:
        np.testing.assert_array_equal(tuned[name], source[name], err_msg=name)
        # The averages started from the restored weights and so stayed equal to them.
        np.testing.assert_array_equal(tuned[name + '/ExponentialMovingAverage'], source[name],
                                      err_msg=name)
    # The logits were initialised afresh, not restored, and trained.
    assert np.abs(tuned[LOGITS + '/weights'] - source[LOGITS + '/weights']).max() > 1e-3
    # Frozen variables get no optimizer slots.
    assert not any('conv1' in name and 'Momentum' in name for name in tuned)

    results = evaluator.evaluate(EvalOptions(
        dataset_name='digits', dataset_split_name='validation', dataset_dir=digits_dir,
        model_name='lenet', checkpoint_path=train_dir, eval_dir=train_dir + '/eval'))
    assert results['eval/Accuracy'] > 0.9

    # A second run resumes from train_dir and says the source checkpoint is ignored.
    caplog.set_level(logging.INFO)
    resumed = digits_train_options(digits_dir, train_dir, checkpoint_path=source_dir,
                                   checkpoint_exclude_scopes=LOGITS, trainable_scopes=LOGITS,
                                   max_number_of_steps=105)
    assert trainer.train(resumed) == 105
    assert '--checkpoint_path=%s is ignored' % source_dir in caplog.text


def test_a_class_count_mismatch_names_variables_shapes_and_the_scopes_to_exclude(
        digits_dir, source_dir, tmp_path):
    # labels_offset=1 gives a 9-class head against the checkpoint's 10 classes.
    options = digits_train_options(digits_dir, str(tmp_path / 'train'), checkpoint_path=source_dir,
                                   labels_offset=1)
    with pytest.raises(ValueError) as error:
        trainer.train(options)
    message = str(error.value)
    assert 'LeNet/fc4/weights: checkpoint [1024, 10], model [1024, 9]' in message
    assert 'LeNet/fc4/biases: checkpoint [10], model [9]' in message
    assert '--checkpoint_exclude_scopes=LeNet/fc4 ' in message
    assert '--labels_offset=0' in message
    assert not tf.io.gfile.exists(str(tmp_path / 'train' / 'checkpoint'))


def test_missing_variables_fail_unless_ignored(digits_dir, source_dir, tmp_path, caplog):
    options = digits_train_options(digits_dir, str(tmp_path / 'cifarnet'), model_name='cifarnet',
                                   checkpoint_path=source_dir, max_number_of_steps=1, batch_size=4)
    with pytest.raises(ValueError, match=r'lacks 10 model variable\(s\): CifarNet/conv1/biases'):
        trainer.train(options)
    caplog.set_level(logging.WARNING)
    options.ignore_missing_vars = True
    assert trainer.train(options) == 1
    assert 'Variable CifarNet/logits/weights is not in checkpoint' in caplog.text


def test_unknown_trainable_scope_lists_the_model_scopes(digits_dir, tmp_path):
    options = digits_train_options(digits_dir, str(tmp_path / 'train'),
                                   trainable_scopes='LeNet/logits')
    with pytest.raises(ValueError, match='LeNet/logits match.* no trainable variable. The '
                                         "model's scopes are: LeNet/conv1, LeNet/conv2"):
        trainer.train(options)


def test_frozen_batch_norm_layers_stay_bit_identical(flowers_like_dir, tmp_path):
    source_dir, tuned_dir = str(tmp_path / 'source'), str(tmp_path / 'tuned')
    common = dict(dataset_name='flowers', dataset_dir=flowers_like_dir,
                  model_name='mobilenet_v1_025', batch_size=2, train_image_size=64)
    trainer.train(TrainOptions(train_dir=source_dir, max_number_of_steps=1, **common))
    trainer.train(TrainOptions(train_dir=tuned_dir, max_number_of_steps=2,
                               checkpoint_path=source_dir, trainable_scopes='MobilenetV1/Logits',
                               **common))
    source, tuned = _checkpoint_values(source_dir), _checkpoint_values(tuned_dir)
    frozen = [name for name in source if name.startswith('MobilenetV1/Conv2d')
              and 'RMSProp' not in name]
    assert any(name.endswith('BatchNorm/moving_mean') for name in frozen)
    for name in frozen:
        np.testing.assert_array_equal(tuned[name], source[name], err_msg=name)
    logits = 'MobilenetV1/Logits/Conv2d_1c_1x1/weights'
    assert np.abs(tuned[logits] - source[logits]).max() > 0


def test_scopes_select_by_name_prefix_as_in_tf_slim_and_a_scope_selecting_none_warns(caplog):
    caplog.set_level(logging.INFO)
    with tf.Graph().as_default():
        network_fn = nets_factory.get_network_fn('inception_v3', 10, is_training=True)
        network_fn(tf.zeros([1, 75, 75, 3]))
        selected = train_graph.variables_to_train('InceptionV3/Mixed_7, InceptionV3/Mixed_9')
        blocks = {name: [v.op.name for v in tf.trainable_variables()
                         if v.op.name.startswith('InceptionV3/%s/' % name)]
                  for name in ('Mixed_7a', 'Mixed_7b', 'Mixed_7c')}
    # 'InceptionV3/Mixed_7' is no whole path component, yet selects all three blocks.
    assert all(blocks.values())
    assert sorted(v.op.name for v in selected) == sorted(sum(blocks.values(), []))
    assert ('--trainable_scopes: InceptionV3/Mixed_7 selects %d variable(s)'
            % len(selected)) in caplog.text
    assert ('--trainable_scopes: InceptionV3/Mixed_9 selects no variable; the model\'s scopes '
            'are: InceptionV3/AuxLogits') in caplog.text
