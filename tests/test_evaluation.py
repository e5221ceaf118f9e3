"""Evaluation: exact counts over a split, results files, moving averages, several and
continuously appearing checkpoints, and the errors users meet.

One lenet is trained on digits for the whole module; other checkpoints are written from its
values with chosen global steps.
"""

import csv
import glob
import json
import logging
import os
import threading
import time

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from support import digits_eval_options as eval_options, parsed_default_flags

from common.errors import UserError
from evaluation import best_checkpoint, evaluator, metrics, results
from evaluation.eval_options import EvalOptions
from training import trainer
from training.train_options import TrainOptions

AVERAGE = '/ExponentialMovingAverage'

DIGIT_NAMES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine']

TRAINED_STEPS = 30


@pytest.fixture(scope='module')
def trained_dir(digits_dir, tmp_path_factory):
    """A lenet trained briefly with moving averages (decay 0.9), so shadows differ from weights."""
    train_dir = str(tmp_path_factory.mktemp('lenet'))
    trainer.train(TrainOptions(
        dataset_name='digits', dataset_dir=digits_dir, train_dir=train_dir, model_name='lenet',
        optimizer='momentum', learning_rate=0.01, learning_rate_decay_type='fixed',
        weight_decay=0.0, batch_size=50, max_number_of_steps=TRAINED_STEPS,
        moving_average_decay=0.9))
    return train_dir


@pytest.fixture(scope='module')
def weights(trained_dir):
    """{variable name: value} of the trained model's weights (no averages, no optimizer slots)."""
    reader = tf.train.load_checkpoint(trained_dir)
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()
            if name.startswith('LeNet/') and 'Momentum' not in name and AVERAGE not in name}


def _write_checkpoint(directory, values, step):
    """Saves `values` ({name: array}) and a global step as <directory>/model.ckpt-<step>."""
    with tf.Graph().as_default():
        # Values are fed in rather than baked into the graph as constants, which is slower.
        variables = {name: tf.Variable(tf.zeros(value.shape, value.dtype))
                     for name, value in values.items()}
        variables['global_step'] = tf.Variable(np.int64(step))
        saver = tf.train.Saver(variables)
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            for name, value in values.items():
                variables[name].load(value, session)
            return saver.save(session, os.path.join(str(directory), 'model.ckpt'),
                              global_step=step)


def _validation_label_counts(digits_dir):
    records = tf.io.tf_record_iterator(os.path.join(digits_dir, 'digits_validation.tfrecord'))
    labels = [tf.train.Example.FromString(record).features.feature['image/class/label']
              .int64_list.value[0] for record in records]
    return np.bincount(labels, minlength=10)


def _scalars(eval_dir):
    """{(tag, step): value} of every TensorBoard scalar in `eval_dir`."""
    found = {}
    for path in glob.glob(os.path.join(str(eval_dir), 'events.out.tfevents.*')):
        for event in tf.train.summary_iterator(path):
            for value in event.summary.value:
                found[(value.tag, event.step)] = value.simple_value
    return found


# Except num_preprocessing_threads: TF-Slim's 4 became None, AUTOTUNE (issue 6).
TF_SLIM_EVAL_FLAG_DEFAULTS = {
    'batch_size': 100, 'max_num_batches': None, 'master': '', 'checkpoint_path': '/tmp/tfmodel/',
    'eval_dir': '/tmp/tfmodel/', 'num_preprocessing_threads': None, 'dataset_name': 'imagenet',
    'dataset_split_name': 'test', 'dataset_dir': None, 'labels_offset': 0,
    'model_name': 'inception_v3', 'preprocessing_name': None, 'moving_average_decay': None,
    'eval_image_size': None, 'quantize': False, 'use_grayscale': False,
}


def test_every_tf_slim_eval_flag_exists_with_its_default():
    flag_values = parsed_default_flags(EvalOptions, 'eval_image_classifier.py')
    defaults = {name: flag_values[name].value for name in TF_SLIM_EVAL_FLAG_DEFAULTS}
    assert defaults == TF_SLIM_EVAL_FLAG_DEFAULTS
    # Additions: evaluate once unless asked to watch for checkpoints.
    assert [flag_values[name].value for name in (
        'eval_interval_secs', 'eval_timeout_secs', 'max_number_of_steps')] == [None, None, None]


def test_metric_totals_on_hand_made_batches():
    totals = metrics.MetricTotals(num_classes=6)
    # Example 1 ties its label with two other classes at the top; example 3 has its label 6th.
    totals.add_batch([[0, 1, 2, 3, 4, 5], [2, 2, 0, 0, 0, 2]], [5, 1])
    totals.add_batch([[5, 4, 3, 2, 1, 0]], [5])  # a partial last batch
    assert totals.confusion.tolist() == [
        [0] * 6, [1, 0, 0, 0, 0, 0], [0] * 6, [0] * 6, [0] * 6, [1, 0, 0, 0, 0, 1]]
    log_normalizers = [np.log(np.exp(np.arange(6.0)).sum()), np.log(3 * np.exp(2) + 3)]
    expected_loss = (log_normalizers[0] - 5) + (log_normalizers[1] - 2) + (log_normalizers[0] - 0)
    outcome = totals.results()
    assert outcome['num_examples'] == 3
    assert outcome['eval/Accuracy'] == pytest.approx(1 / 3)
    assert outcome['eval/Recall_5'] == pytest.approx(2 / 3)
    assert outcome['eval/mean_loss'] == pytest.approx(expected_loss / 3)
    assert outcome['per_class_accuracy'] == [None, 0.0, None, None, None, 0.5]
    with pytest.raises(ValueError, match=r"Label 6 is not one of the model's 6 classes "
                                         r'\(0 to 5\).*--labels_offset'):
        totals.add_batch(np.zeros([2, 6]), [0, 6])


@pytest.mark.parametrize('batch_size, batches', [(91, 4), (100, 4), (1000, 1)])
def test_every_example_is_counted_once_whatever_the_batch_size(
        digits_dir, trained_dir, tmp_path, caplog, batch_size, batches):
    caplog.set_level(logging.INFO)
    outcome = evaluator.evaluate(eval_options(digits_dir, trained_dir, tmp_path,
                                          batch_size=batch_size))
    assert outcome['num_examples'] == 364
    assert outcome['global_step'] == TRAINED_STEPS
    assert 'eval batch %d/%d: 364 examples' % (batches, batches) in caplog.text

    with open(results.confusion_matrix_path(str(tmp_path), TRAINED_STEPS, 'json')) as f:
        saved = json.load(f)
    confusion = np.array(saved['matrix'])
    assert saved['class_names'] == DIGIT_NAMES
    # Each true class appears as often as in the records, so no example was read twice.
    np.testing.assert_array_equal(confusion.sum(axis=1), _validation_label_counts(digits_dir))
    assert outcome['eval/Accuracy'] == pytest.approx(np.trace(confusion) / 364)
    assert outcome['per_class_accuracy'] == pytest.approx(
        list(np.diag(confusion) / confusion.sum(axis=1)))
    assert outcome['eval/Accuracy'] <= outcome['eval/Recall_5'] <= 1
    assert outcome['eval/mean_loss'] > 0

    with open(results.confusion_matrix_path(str(tmp_path), TRAINED_STEPS, 'csv')) as f:
        rows = list(csv.reader(f))
    assert rows[0] == ['true \\ predicted'] + DIGIT_NAMES
    assert rows[3] == ['two'] + [str(count) for count in confusion[2]]


def test_several_checkpoints_in_step_order_with_history_and_tensorboard(
        digits_dir, weights, tmp_path):
    late = _write_checkpoint(tmp_path / 'late', weights, 20)
    early = _write_checkpoint(tmp_path / 'early',
                              {name: value * 0.5 for name, value in weights.items()}, 10)
    eval_dir = tmp_path / 'eval'
    # A directory stands for its latest checkpoint; each checkpoint is evaluated once.
    all_results = evaluator.evaluate_checkpoints(eval_options(
        digits_dir, '%s, %s,%s' % (late, tmp_path / 'early', early), eval_dir))
    assert [(r['global_step'], r['checkpoint_path']) for r in all_results] == [
        (10, early), (20, late)]
    assert all_results[0]['eval/mean_loss'] != all_results[1]['eval/mean_loss']

    saved = results.read_results(str(eval_dir))
    assert list(saved['history']) == ['10', '20']
    assert saved['history'] == {'10': all_results[0], '20': all_results[1]}
    # The top level holds the last checkpoint's results, as before the history existed.
    assert {key: saved[key] for key in all_results[1]} == all_results[1]
    scalars = _scalars(eval_dir)
    for step_results in all_results:
        for name in results.SUMMARY_METRICS:
            assert scalars[(name, step_results['global_step'])] == pytest.approx(
                step_results[name])
    assert os.path.exists(results.confusion_matrix_path(str(eval_dir), 10, 'csv'))


def test_moving_average_decay_evaluates_the_averaged_weights(
        digits_dir, trained_dir, weights, tmp_path):
    raw = evaluator.evaluate(eval_options(digits_dir, trained_dir, tmp_path / 'raw'))
    averaged = evaluator.evaluate(eval_options(digits_dir, trained_dir, tmp_path / 'averaged',
                                           moving_average_decay=0.9))
    assert averaged['eval/mean_loss'] != pytest.approx(raw['eval/mean_loss'], rel=1e-4)

    # The same model as plain weights: the shadow values under the variables' own names.
    shadows = {name: tf.train.load_variable(trained_dir, name + AVERAGE) for name in weights}
    assert any(np.abs(shadows[name] - weights[name]).max() > 1e-4 for name in weights)
    shadow_checkpoint = _write_checkpoint(tmp_path / 'shadows', shadows, TRAINED_STEPS)
    expected = evaluator.evaluate(eval_options(digits_dir, shadow_checkpoint,
                                               tmp_path / 'expected'))
    for name in ('eval/Accuracy', 'eval/Recall_5', 'eval/mean_loss', 'per_class_accuracy'):
        assert averaged[name] == pytest.approx(expected[name], rel=1e-5), name

    without_averages = _write_checkpoint(tmp_path / 'plain', weights, TRAINED_STEPS)
    with pytest.raises(ValueError, match=r'model.ckpt-30 holds no moving average of 8 model '
                                         r'variable\(s\) \(first: LeNet/conv1/biases/Exponential'
                                         r'MovingAverage\).*Drop --moving_average_decay'):
        evaluator.evaluate(eval_options(digits_dir, without_averages, tmp_path / 'error',
                                    moving_average_decay=0.9))


def test_a_checkpoint_of_another_network_or_class_count_names_the_mismatches(
        digits_dir, trained_dir, tmp_path):
    with pytest.raises(ValueError) as error:
        evaluator.evaluate(eval_options(digits_dir, trained_dir, tmp_path, model_name='cifarnet'))
    message = str(error.value)
    assert 'does not fit --model_name=cifarnet with 10 classes: 10 variable(s) differ' in message
    assert 'CifarNet/conv1/biases: not in the checkpoint' in message
    assert "The checkpoint's variables are under: LeNet, global_step." in message

    with pytest.raises(ValueError) as error:
        evaluator.evaluate(eval_options(digits_dir, trained_dir, tmp_path, labels_offset=1))
    message = str(error.value)
    assert 'with 9 classes: 2 variable(s) differ. The first:\n' \
           '  LeNet/fc4/biases: checkpoint [10], model [9]\n' \
           '  LeNet/fc4/weights: checkpoint [1024, 10], model [1024, 9]\n' in message
    assert not os.path.exists(tmp_path / results.RESULTS_FILENAME)


def test_errors_name_the_bad_setting_and_the_fix(digits_dir, trained_dir, tmp_path):
    with pytest.raises(ValueError, match=r'--quantize .*no longer exists.*'
                                         r'export_inference_graph.py .*--tflite_quantize'):
        evaluator.evaluate(eval_options(digits_dir, trained_dir, tmp_path, quantize=True))
    missing = os.path.join(trained_dir, 'model.ckpt-999')
    with pytest.raises(ValueError, match=r'No checkpoint at %s \(its directory holds: '
                                         r'checkpoint, events' % missing):
        evaluator.evaluate(eval_options(digits_dir, trained_dir + ',' + missing, tmp_path))
    with pytest.raises(ValueError, match=r"Dataset 'digits' has no split 'test'; valid "
                                         r'splits: train, validation'):
        evaluator.evaluate(eval_options(digits_dir, trained_dir, tmp_path,
                                        dataset_split_name='test'))
    with pytest.raises(FileNotFoundError, match=r"No TFRecord files for split 'validation' of "
                                                r"dataset 'digits'.*download_and_convert_data"):
        evaluator.evaluate(eval_options(str(tmp_path), trained_dir, tmp_path))
    with pytest.raises(ValueError, match=r'--eval_interval_secs watches one training directory'
                                         r'.* names a checkpoint\. Pass the training directory'):
        evaluator.evaluate(eval_options(digits_dir, tf.train.latest_checkpoint(trained_dir),
                                    tmp_path, eval_interval_secs=1))
    with pytest.raises(ValueError, match='--eval_interval_secs=0: pass a positive number'):
        evaluator.evaluate(eval_options(digits_dir, trained_dir, tmp_path, eval_interval_secs=0))


def test_continuous_mode_evaluates_a_checkpoint_written_while_it_waits(
        digits_dir, weights, tmp_path):
    watched, eval_dir = tmp_path / 'train', str(tmp_path / 'eval')
    _write_checkpoint(watched, weights, 10)
    options = eval_options(digits_dir, watched, eval_dir, eval_interval_secs=0.2,
                       eval_timeout_secs=60, max_number_of_steps=20)
    outcome = {}

    def run():
        try:
            outcome['results'] = evaluator.evaluate_checkpoints(options)
        except Exception as error:  # noqa: BLE001 (reported by the test)
            outcome['error'] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while results.evaluated_steps(eval_dir) != {10} and time.time() < deadline:
        time.sleep(0.1)
    assert thread.is_alive() and results.evaluated_steps(eval_dir) == {10}, outcome

    _write_checkpoint(watched, weights, 20)
    thread.join(60)
    assert not thread.is_alive() and 'error' not in outcome, outcome
    # It stopped at training's final step (20), long before the 60-second timeout.
    assert [r['global_step'] for r in outcome['results']] == [10, 20]
    assert results.evaluated_steps(eval_dir) == {10, 20}


def test_continuous_mode_times_out_then_resumes_to_the_final_step_training_wrote(
        digits_dir, weights, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    watched, eval_dir = tmp_path / 'train', str(tmp_path / 'eval')
    _write_checkpoint(watched, weights, 10)
    start = time.time()
    first = evaluator.evaluate_checkpoints(eval_options(
        digits_dir, watched, eval_dir, eval_interval_secs=0.2, eval_timeout_secs=1))
    assert time.time() - start >= 1
    assert [r['global_step'] for r in first] == [10]
    assert 'No new checkpoint in %s for 1 seconds; done.' % watched in caplog.text

    _write_checkpoint(watched, weights, 20)
    (watched / evaluator.FINAL_STEP_FILENAME).write_text('20\n')
    start = time.time()
    second = evaluator.evaluate_checkpoints(eval_options(
        digits_dir, watched, eval_dir, eval_interval_secs=0.2, eval_timeout_secs=60))
    assert time.time() - start < 30
    # Step 10 is in eval_results.json already, so only step 20 is evaluated.
    assert [r['global_step'] for r in second] == [20]
    assert 'already has steps 10; they are not evaluated again.' in caplog.text
    assert "Evaluated training's final step 20; done." in caplog.text
    assert results.evaluated_steps(eval_dir) == {10, 20}


def _state(directory):
    """{name: (bytes, modification time in ns)} of the files in `directory`."""
    return {path.name: (path.read_bytes(), path.stat().st_mtime_ns)
            for path in sorted(directory.iterdir())}


def test_keeping_the_best_checkpoint_never_deletes_or_writes_through_a_planted_link(
        digits_dir, weights, tmp_path):
    victim = tmp_path / 'victim'
    victim.mkdir()
    for name in ('notes.txt', 'model.ckpt-10.index'):
        (victim / name).write_bytes(b'precious ' + name.encode())
    before = _state(victim)
    train_dir, eval_dir = tmp_path / 'train', tmp_path / 'eval'
    best_dir = tmp_path / 'eval' / 'best'
    best_dir.mkdir(parents=True)
    incoming = best_dir / 'incoming'
    _write_checkpoint(train_dir, weights, 10)
    # Links where the evaluator stages a copy, and where it moves the staged files.
    os.symlink(victim, incoming)
    os.symlink(victim / 'notes.txt', best_dir / 'model.ckpt-10.index')

    evaluator.evaluate_checkpoints(eval_options(digits_dir, train_dir, eval_dir,
                                            keep_best_checkpoint=True))

    assert _state(victim) == before
    assert not os.path.lexists(incoming)
    assert not os.path.islink(best_dir / 'model.ckpt-10.index')
    assert tf.train.latest_checkpoint(str(best_dir)) == str(best_dir / 'model.ckpt-10')

    # Again, planted while a better checkpoint comes: the previous best's files go, not the
    # files their names lead to.
    os.symlink(victim, incoming)
    _write_checkpoint(train_dir, weights, 20)
    os.remove(best_dir / 'model.ckpt-10.meta')
    os.symlink(victim / 'notes.txt', best_dir / 'model.ckpt-10.meta')
    staged = best_checkpoint.stage(str(train_dir / 'model.ckpt-20'), str(eval_dir))
    assert os.path.dirname(staged) == str(incoming) and not os.path.islink(incoming)
    best = best_checkpoint.keep_if_best(
        staged, {'eval/Accuracy': 2.0, 'global_step': 20,
                 'checkpoint_path': str(train_dir / 'model.ckpt-20')}, str(eval_dir))
    assert best['checkpoint_path'] == str(best_dir / 'model.ckpt-20')
    assert _state(victim) == before
    assert sorted(os.listdir(best_dir)) == ['checkpoint', 'model.ckpt-20.data-00000-of-00001',
                                            'model.ckpt-20.index', 'model.ckpt-20.meta']


def test_a_best_directory_that_is_a_link_is_refused_and_its_target_untouched(tmp_path):
    victim = tmp_path / 'victim'
    victim.mkdir()
    (victim / 'checkpoint').write_bytes(b'precious')
    (tmp_path / 'eval').mkdir()
    os.symlink(victim, tmp_path / 'eval' / 'best')
    with pytest.raises(UserError, match=r'eval/best is a symbolic link \(to .*victim\): '):
        best_checkpoint.stage(str(tmp_path / 'model.ckpt-1'), str(tmp_path / 'eval'))
    assert os.listdir(victim) == ['checkpoint']
    assert (victim / 'checkpoint').read_bytes() == b'precious'


def test_an_eval_dir_tensorflow_would_read_as_a_pattern_is_refused(tmp_path):
    with pytest.raises(UserError, match=r'--eval_dir=.*eval\[1\] contains \[, which '):
        best_checkpoint.stage(str(tmp_path / 'model.ckpt-1'), str(tmp_path / 'eval[1]'))
    assert os.listdir(tmp_path) == []
