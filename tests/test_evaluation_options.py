"""Evaluation's own options: --eval_central_fraction, --eval_flip and --keep_best_checkpoint."""

import json
import os

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from support import digits_train_options

from evaluation import best_checkpoint, evaluator, results
from evaluation.eval_options import EvalOptions
from nets import nets_factory
from preprocessing import inception_preprocessing, vgg_preprocessing
from training import trainer


def _run(tensor):
    with tf.Session() as session:
        session.run(tf.global_variables_initializer())
        return session.run(tensor)


def _inception_eval(image, size, **arguments):
    with tf.Graph().as_default():
        return _run(inception_preprocessing.preprocess_image(
            tf.constant(image), size, size, is_training=False, **arguments))


def _as_inception_input(image):
    return (image / 255.0 - 0.5) * 2.0


IMAGE_16 = np.arange(16 * 16 * 3, dtype=np.uint8).reshape(16, 16, 3)


def test_inception_central_fraction_crops_that_fraction():
    # Half of 16 is the central 8 x 8, fed at 8 x 8 without resizing.
    np.testing.assert_allclose(_inception_eval(IMAGE_16, 8, central_fraction=0.5),
                               _as_inception_input(IMAGE_16[4:12, 4:12]), atol=1e-6)
    # 1.0 keeps the whole image.
    np.testing.assert_allclose(_inception_eval(IMAGE_16, 16, central_fraction=1.0),
                               _as_inception_input(IMAGE_16), atol=1e-6)
    # TF-Slim's 0.875 stays the default: it drops one pixel on each side of 16.
    default = _inception_eval(IMAGE_16, 14)
    np.testing.assert_array_equal(default, _inception_eval(IMAGE_16, 14, central_fraction=0.875))
    np.testing.assert_allclose(default, _as_inception_input(IMAGE_16[1:15, 1:15]), atol=1e-6)


def _vgg_eval(image, size, **arguments):
    with tf.Graph().as_default():
        return _run(vgg_preprocessing.preprocess_image(
            tf.constant(image.astype(np.float32)), size, size, is_training=False, **arguments))


def test_vgg_central_fraction_sets_the_resize_before_the_crop():
    assert vgg_preprocessing.eval_resize_side(224, 224, 0.875) == 256
    assert vgg_preprocessing.eval_resize_side(224, 224, 1.0) == 224
    assert vgg_preprocessing.eval_resize_side(299, 299, 0.9) == 332
    image = np.random.RandomState(0).uniform(0, 255, (32, 48, 3)).astype(np.float32)
    means = np.array([123.68, 116.78, 103.94], np.float32)
    # 16 / 0.5 = 32, the shorter side already: the central 16 x 16 is cropped as it is.
    np.testing.assert_allclose(_vgg_eval(image, 16, central_fraction=0.5),
                               image[8:24, 16:32] - means, atol=1e-3)
    # The default resizes the shorter side to 256, as a fraction of 16/256 does.
    np.testing.assert_array_equal(_vgg_eval(image, 16),
                                  _vgg_eval(image, 16, central_fraction=16 / 256))
    assert not np.allclose(_vgg_eval(image, 16), _vgg_eval(image, 16, central_fraction=1.0))


def test_flip_averages_the_logits_of_the_image_and_its_mirror():
    rng = np.random.RandomState(0)
    images = rng.uniform(-1, 1, (2, 3, 4, 1)).astype(np.float32)
    weights = rng.uniform(-1, 1, (12, 5)).astype(np.float32)

    def linear_network(batch):
        return tf.matmul(tf.reshape(batch, [-1, 12]), weights), {}

    def flipped_logits(batch):
        with tf.Graph().as_default():
            return _run(evaluator.flip_averaged_logits(linear_network, tf.constant(batch)))

    def logits(batch):
        return batch.reshape(-1, 12) @ weights

    np.testing.assert_allclose(flipped_logits(images),
                               (logits(images) + logits(images[:, :, ::-1])) / 2, rtol=1e-5)
    symmetric = images + images[:, :, ::-1]
    np.testing.assert_allclose(flipped_logits(symmetric), logits(symmetric), rtol=1e-5)


def test_flip_on_lenet_is_the_mean_of_both_passes():
    images = np.random.RandomState(1).uniform(-1, 1, (3, 28, 28, 1)).astype(np.float32)
    with tf.Graph().as_default():
        network_fn = nets_factory.get_network_fn('lenet', 10)
        averaged = evaluator.flip_averaged_logits(network_fn, tf.constant(images))
        with tf.variable_scope(tf.get_variable_scope(), reuse=True):
            plain, _ = network_fn(tf.constant(images))
            mirrored, _ = network_fn(tf.constant(images[:, :, ::-1]))
        averaged, plain, mirrored = _run([averaged, plain, mirrored])
    np.testing.assert_allclose(averaged, (plain + mirrored) / 2, rtol=1e-5, atol=1e-6)
    assert not np.allclose(averaged, plain)


@pytest.fixture(scope='module')
def random_lenet(tmp_path_factory):
    """A randomly initialised LeNet checkpoint (step 1), for evaluation runs."""
    directory = str(tmp_path_factory.mktemp('random_lenet'))
    with tf.Graph().as_default():
        tf.set_random_seed(0)
        tf.train.get_or_create_global_step()
        nets_factory.get_network_fn('lenet', 10)(tf.zeros([1, 28, 28, 1]))
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            return tf.train.Saver().save(session, os.path.join(directory, 'model.ckpt'),
                                         global_step=1)


def _evaluate(digits_dir, checkpoint_path, eval_dir, **overrides):
    return evaluator.evaluate(EvalOptions(
        dataset_name='digits', dataset_split_name='validation', dataset_dir=digits_dir,
        model_name='lenet', checkpoint_path=str(checkpoint_path), eval_dir=str(eval_dir),
        **overrides))


def test_central_fraction_and_flip_reach_the_evaluation(digits_dir, random_lenet, tmp_path):
    # LeNet evaluated with the inception style, which crops centrally. On the 8 x 8 digits
    # 0.875 crops nothing (TensorFlow rounds the border down to 0 pixels); 0.5 keeps 4 x 4.
    inception = dict(preprocessing_name='inception', use_grayscale=True)
    default, explicit, half, flipped = (
        _evaluate(digits_dir, random_lenet, tmp_path / name, **inception, **overrides)
        for name, overrides in [('default', {}), ('explicit', {'eval_central_fraction': 0.875}),
                                ('half', {'eval_central_fraction': 0.5}),
                                ('flipped', {'eval_flip': True})])
    assert explicit['eval/mean_loss'] == default['eval/mean_loss']
    assert half['eval/mean_loss'] != default['eval/mean_loss']
    assert flipped['eval/mean_loss'] != default['eval/mean_loss']
    # The doubled batch is halved again: every example counts once.
    assert flipped['num_examples'] == default['num_examples'] == 364


@pytest.mark.parametrize('overrides, message', [
    ({'eval_central_fraction': 0.0}, r'--eval_central_fraction=0.0: pass a fraction of the '
                                     r'image in \(0, 1\]'),
    ({'eval_central_fraction': 1.5}, r'--eval_central_fraction=1.5 is out of range'),
    ({'eval_central_fraction': 0.9}, r'--eval_central_fraction=0.9: the lenet preprocessing '
                                     r'does not crop a central fraction'),
])
def test_central_fraction_errors(tmp_path, overrides, message):
    options = EvalOptions(model_name='lenet', eval_dir=str(tmp_path), **overrides)
    with pytest.raises(ValueError, match=message):
        evaluator.check_options(options)


def _tiny_checkpoint(directory, step, value):
    """Saves a one-variable checkpoint <directory>/model.ckpt-<step>; returns its prefix."""
    with tf.Graph().as_default():
        tf.Variable(value, name='weight')
        tf.Variable(np.int64(step), name='global_step')
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            return tf.train.Saver().save(session, os.path.join(str(directory), 'model.ckpt'),
                                         global_step=step)


def _value_of(prefix):
    return float(tf.train.load_checkpoint(prefix).get_tensor('weight'))


def test_the_best_checkpoint_is_replaced_only_by_a_better_one(tmp_path):
    eval_dir = str(tmp_path / 'eval')
    best_dir = best_checkpoint.best_dir(eval_dir)
    writer = results.ResultsWriter(eval_dir, ['a', 'b'])
    for step, accuracy in [(10, 0.5), (20, 0.7), (30, 0.6), (40, 0.7)]:
        source = _tiny_checkpoint(tmp_path / 'train', step, float(step))
        staged = best_checkpoint.stage(source, eval_dir)
        checkpoint_results = {'checkpoint_path': source, 'global_step': step,
                              'eval/Accuracy': accuracy, 'eval/Recall_5': 1.0,
                              'eval/mean_loss': 1.0}
        best = best_checkpoint.keep_if_best(staged, checkpoint_results, eval_dir)
        writer.write(checkpoint_results, np.zeros([2, 2], np.int64), best)
        assert not os.path.exists(os.path.join(best_dir, 'incoming'))
    writer.close()
    # Step 20 stays best: 30 is worse, 40 only as good.
    recorded = results.read_results(eval_dir)['best']
    assert recorded == {'global_step': 20, 'eval/Accuracy': 0.7,
                        'checkpoint_path': os.path.join(best_dir, 'model.ckpt-20'),
                        'source_checkpoint_path': str(tmp_path / 'train' / 'model.ckpt-20')}
    assert tf.train.latest_checkpoint(best_dir) == recorded['checkpoint_path']
    assert _value_of(best_dir) == 20.0
    # Only the best's files are left.
    assert sorted(os.listdir(best_dir)) == [
        'checkpoint', 'model.ckpt-20.data-00000-of-00001', 'model.ckpt-20.index',
        'model.ckpt-20.meta']


def test_the_best_checkpoint_survives_the_trainers_rotation(digits_dir, tmp_path):
    train_dir, eval_dir = str(tmp_path / 'train'), str(tmp_path / 'eval')
    best_dir = best_checkpoint.best_dir(eval_dir)
    trainer.train(digits_train_options(digits_dir, train_dir, max_number_of_steps=40,
                                       keep_checkpoint_max=1))
    good = _evaluate(digits_dir, train_dir, eval_dir, keep_best_checkpoint=True)
    # One plain SGD step at a learning rate of 1 wrecks the weights; the trainer keeps only
    # that last checkpoint.
    trainer.train(digits_train_options(digits_dir, train_dir, max_number_of_steps=41,
                                       keep_checkpoint_max=1, optimizer='sgd',
                                       learning_rate=1.0))
    worse = _evaluate(digits_dir, train_dir, eval_dir, keep_best_checkpoint=True)
    assert worse['global_step'] == 41 and worse['eval/Accuracy'] < good['eval/Accuracy'] - 0.3
    assert not os.path.exists(os.path.join(train_dir, 'model.ckpt-40.index'))

    with open(os.path.join(eval_dir, results.RESULTS_FILENAME)) as f:
        recorded = json.load(f)
    assert recorded['global_step'] == 41
    assert recorded['best']['global_step'] == 40
    assert recorded['best']['eval/Accuracy'] == good['eval/Accuracy'] > 0.8
    # --checkpoint_path=<eval_dir>/best restores it and scores the same.
    again = _evaluate(digits_dir, best_dir, tmp_path / 'again')
    assert again['global_step'] == 40
    assert again['eval/Accuracy'] == good['eval/Accuracy']


def test_new_flags_default_to_todays_behaviour():
    options = EvalOptions()
    assert (options.eval_central_fraction, options.eval_flip,
            options.keep_best_checkpoint) == (None, False, False)
