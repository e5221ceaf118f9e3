"""Evaluation pictures in TensorBoard: the confusion matrix, per-class accuracy, confused pairs,
misclassified images and precision-recall curves, read back from the eval dir's event file.

One lenet is trained briefly on digits (so it still misclassifies) in two runs, leaving two
checkpoints; both are evaluated once for the whole module.
"""

import csv
import glob
import io
import os

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from PIL import Image
from support import digits_train_options, train_digits_lenet

from evaluation import evaluator, pictures, results
from evaluation.eval_options import EvalOptions
from training import trainer

FIRST_STEP, LAST_STEP = 5, 10
NUM_CLASSES = 10
PICTURE_TAGS = ['eval/confusion_matrix', 'eval/per_class_accuracy', 'eval/confused_pairs',
                'eval/misclassified']


@pytest.fixture(scope='module')
def evaluated(digits_dir, tmp_path_factory):
    """(eval dir, {global step: {tag: summary value}}) of an evaluation of two checkpoints."""
    train_dir = train_digits_lenet(digits_dir, tmp_path_factory, 'lenet',
                                   max_number_of_steps=FIRST_STEP)
    trainer.train(digits_train_options(digits_dir, train_dir, max_number_of_steps=LAST_STEP))
    eval_dir = str(tmp_path_factory.mktemp('eval'))
    evaluator.evaluate_checkpoints(EvalOptions(
        dataset_name='digits', dataset_split_name='validation', dataset_dir=digits_dir,
        model_name='lenet', eval_dir=eval_dir, batch_size=100,
        checkpoint_path='%s/model.ckpt-%d,%s' % (train_dir, FIRST_STEP, train_dir)))
    values = {}
    (events_file,) = glob.glob(os.path.join(eval_dir, 'events.out.tfevents.*'))
    for event in tf.train.summary_iterator(events_file):
        for value in event.summary.value:
            assert value.tag not in values.setdefault(event.step, {})
            values[event.step][value.tag] = value
    return eval_dir, values


def _confusion(eval_dir, step):
    """(class names, int [true, predicted]) from the confusion matrix CSV of `step`."""
    with open(results.confusion_matrix_path(eval_dir, step, 'csv')) as f:
        rows = list(csv.reader(f))
    return rows[0][1:], np.array([[int(count) for count in row[1:]] for row in rows[1:]])


def _decoded(image_value):
    """The PNG of a tf.Summary image value, decoded, after checking its declared size."""
    image = Image.open(io.BytesIO(image_value.image.encoded_image_string))
    assert image.format == 'PNG'
    assert image.size == (image_value.image.width, image_value.image.height)
    assert len(image.getbands()) == image_value.image.colorspace
    return image


def test_every_picture_is_written_at_each_checkpoints_step(evaluated):
    eval_dir, values = evaluated
    names, _ = _confusion(eval_dir, LAST_STEP)
    pr_curve_tags = ['eval/pr_curves/%d_%s' % (index, name) for index, name in enumerate(names)]
    expected = sorted([*results.SUMMARY_METRICS, *PICTURE_TAGS, *pr_curve_tags])
    assert {step: sorted(tags) for step, tags in values.items() if step} == {
        FIRST_STEP: expected, LAST_STEP: expected}


@pytest.mark.parametrize('step', [FIRST_STEP, LAST_STEP])
def test_the_confusion_matrix_and_per_class_images_decode_at_their_size(evaluated, step):
    _, values = evaluated
    side = round(pictures.confusion_figure_inches(NUM_CLASSES) * 100)
    assert _decoded(values[step]['eval/confusion_matrix']).size == (side, side) == (600, 600)
    # One bar per class.
    assert _decoded(values[step]['eval/per_class_accuracy']).size == (800, 400)


def test_the_confused_pairs_table_starts_with_the_most_frequent_confusion(evaluated):
    eval_dir, values = evaluated
    names, confusion = _confusion(eval_dir, LAST_STEP)
    text = tf.make_ndarray(values[LAST_STEP]['eval/confused_pairs'].tensor).item().decode()
    # The writer keeps a tag's plugin metadata with its first value only.
    assert values[FIRST_STEP]['eval/confused_pairs'].metadata.plugin_data.plugin_name == 'text'
    misclassified = confusion.sum() - np.trace(confusion)
    lines = text.splitlines()
    assert lines[0] == '%d of %d examples misclassified.' % (misclassified, confusion.sum())
    assert lines[2] == '| true class | predicted class | count | share of the true class |'
    rows = [[cell.strip() for cell in line.strip('|').split('|')] for line in lines[4:]]
    assert len(rows) == pictures.MAX_CONFUSED_PAIRS
    true, predicted, count, share = rows[0]
    true, predicted, count = names.index(true), names.index(predicted), int(count)
    wrong = confusion - np.diag(np.diag(confusion))
    assert true != predicted and count == confusion[true, predicted] == wrong.max()
    assert share == '%.1f%%' % (100 * count / confusion[true].sum())
    # Sorted by count.
    assert [int(row[2]) for row in rows] == sorted((int(row[2]) for row in rows), reverse=True)


def test_the_misclassified_grid_holds_up_to_sixteen_images(evaluated):
    eval_dir, values = evaluated
    _, confusion = _confusion(eval_dir, LAST_STEP)
    assert confusion.sum() - np.trace(confusion) >= pictures.MAX_MISCLASSIFIED
    grid = _decoded(values[LAST_STEP]['eval/misclassified'])
    # Sixteen 200 x 240 tiles in four rows of four.
    assert grid.size == (4 * 200, 4 * 240)


def test_each_class_has_a_precision_recall_curve_of_its_examples(evaluated):
    eval_dir, values = evaluated
    names, confusion = _confusion(eval_dir, LAST_STEP)
    for index, name in enumerate(names):
        tag = 'eval/pr_curves/%d_%s' % (index, name)
        metadata = values[FIRST_STEP][tag].metadata
        assert metadata.plugin_data.plugin_name == 'pr_curves' and metadata.display_name == name
        value = values[LAST_STEP][tag]
        true_positives, false_positives, _, false_negatives, precision, recall = \
            tf.make_ndarray(value.tensor)
        # At threshold 0 every example is predicted positive: the class's examples are the true
        # positives, all the others false positives.
        assert true_positives[0] == confusion[index].sum()
        assert false_positives[0] == confusion.sum() - confusion[index].sum()
        assert false_negatives[0] == 0 and recall[0] == 1
        assert precision[0] == pytest.approx(confusion[index].sum() / confusion.sum())
        assert np.all(np.diff(true_positives) <= 0)


def test_examples_keep_the_first_sixteen_misclassified_and_the_probabilities():
    examples = pictures.EvaluatedExamples(num_classes=3)
    logits = np.array([[5.0, 0, 0]] * 10)
    images = np.arange(10, dtype=np.float32).reshape([10, 1, 1, 1])
    # Examples 1, 3, 5, 7, 9 are misclassified (predicted 0).
    labels = np.array([0, 1] * 5)
    for _ in range(3):
        assert examples.wants_images
        examples.add_batch(logits, labels, images)
    examples.add_batch(logits, labels, images)
    examples.add_batch(logits, labels)
    assert not examples.wants_images
    assert len(examples.misclassified) == pictures.MAX_MISCLASSIFIED
    assert [image.item() for image, _, _ in examples.misclassified[:6]] == [1, 3, 5, 7, 9, 1]
    assert {(true, predicted) for _, true, predicted in examples.misclassified} == {(1, 0)}
    all_labels, probabilities = examples.labels_and_probabilities()
    assert all_labels.tolist() == labels.tolist() * 5
    assert probabilities.shape == (50, 3)
    np.testing.assert_allclose(probabilities[0], np.exp([5, 0, 0]) / np.exp([5, 0, 0]).sum(),
                               rtol=1e-6)
    assert pictures.EvaluatedExamples(num_classes=51).labels_and_probabilities() is None


def test_misclassified_images_are_scaled_to_the_full_range_and_names_fit_their_tile():
    # A preprocessed [-1, 1] ramp and a flat image.
    ramp = np.linspace(-1, 1, 8 * 8 * 3, dtype=np.float32).reshape([8, 8, 3])
    flat = np.full([8, 8, 3], 0.5, np.float32)
    png = pictures.misclassified_png([(ramp, 0, 1), (flat, 1, 0)], ['a' * 200, 'b|c'])
    grid = np.asarray(Image.open(io.BytesIO(png)).convert('RGB'))
    assert grid.shape == (240, 400, 3)
    # Each image fills its tile but for a 6-pixel margin, below its title.
    ramp_tile, flat_tile = grid[46:234, 6:194], grid[46:234, 206:394]
    assert ramp_tile.min() == 0 and ramp_tile.max() == 255
    assert flat_tile.min() == flat_tile.max() == 0
    # The long name is cut short: nothing is drawn in the gap between the tiles' titles.
    assert (grid[:40, 197:203] == 255).all()


def test_with_many_classes_the_confusion_image_shows_the_most_confused_ones():
    num_classes = 60
    names = ['class %d' % index for index in range(num_classes)]
    confusion = np.diag(np.full(num_classes, 10))
    confused = [3, 17, 29, 41, 58]
    for true, predicted in zip(confused, confused[1:] + confused[:1], strict=True):
        confusion[true, predicted] = 4
    assert pictures.most_confused_classes(confusion, len(confused)).tolist() == confused
    # Without per-example data: no misclassified grid and no curves.
    summary = pictures.summary(confusion, names)
    heat_map, bars, pairs = summary.value
    assert [heat_map.tag, bars.tag, pairs.tag] == [
        'eval/confusion_matrix', 'eval/per_class_accuracy', 'eval/confused_pairs']
    side = round(pictures.confusion_figure_inches(pictures.TOP_CONFUSED_CLASSES) * 100)
    assert _decoded(heat_map).size == (side, side)
    # The worst thirty classes, one bar each.
    assert _decoded(bars).size == (800, 900)
    text = tf.make_ndarray(pairs.tensor).item().decode()
    assert text.splitlines()[4] == '| class 3 | class 17 | 4 | 28.6% |'
