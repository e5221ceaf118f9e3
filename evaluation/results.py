"""Where evaluation results go, per checkpoint, in the eval dir.

  eval_results.json            the latest results' keys, plus 'history': {global step: results}
                               for every checkpoint evaluated into this directory, and with
                               --keep_best_checkpoint 'best': the best checkpoint's step,
                               top-1 accuracy and copy (see best_checkpoint.py)
  confusion_matrix_<step>.json {'class_names', 'matrix'}: rows are true classes, columns
                               predicted ones
  confusion_matrix_<step>.csv  the same matrix with class names as the first row and column
  events.out.tfevents.*        eval/Accuracy, eval/Recall_5, eval/mean_loss by global step,
                               and at the same step the pictures of pictures.py (confusion
                               matrix, per-class accuracy, confused pairs, misclassified
                               images, precision-recall curves)
"""

import csv
import io
import json
import os

import tensorflow.compat.v1 as tf

from common import files
from common.errors import DataError
from evaluation import pictures

RESULTS_FILENAME = 'eval_results.json'

SUMMARY_METRICS = ('eval/Accuracy', 'eval/Recall_5', 'eval/mean_loss')


def read_results(eval_dir):
    """The contents of <eval_dir>/eval_results.json, or {} when there is none."""
    path = os.path.join(eval_dir, RESULTS_FILENAME)
    if not tf.io.gfile.exists(path):
        return {}
    with tf.io.gfile.GFile(path) as f:
        text = f.read()
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise DataError('%s is not valid JSON (%s). Move it away or pass another --eval_dir.'
                        % (path, error)) from None


def evaluated_steps(eval_dir):
    """The global steps whose results are in <eval_dir>/eval_results.json."""
    return {int(step) for step in read_results(eval_dir).get('history', {})}


def confusion_matrix_path(eval_dir, global_step, extension):
    """<eval_dir>/confusion_matrix_<global_step>.<extension> ('json' or 'csv')."""
    return os.path.join(eval_dir, 'confusion_matrix_%d.%s' % (global_step, extension))


def _encode_json(value):
    return (json.dumps(value, indent=2) + '\n').encode('utf-8')


class ResultsWriter:
    """Writes each checkpoint's results into `eval_dir`; `close()` when done.

    Args:
      class_names: one name per model class, for the confusion matrices.
    """

    def __init__(self, eval_dir, class_names):
        self._eval_dir = eval_dir
        self._class_names = class_names
        self._summary_writer = None

    def write(self, results, confusion, best=None, examples=None):
        """Records `results` (with 'global_step'), `confusion` int [true, predicted] and their
        pictures; `best`, the best checkpoint's record, replaces the recorded one (None keeps
        it); `examples`, the evaluation's `pictures.EvaluatedExamples`, adds the misclassified
        images and precision-recall curves."""
        tf.io.gfile.makedirs(self._eval_dir)
        step = results['global_step']
        self._write_confusion_matrix(step, confusion)
        recorded = read_results(self._eval_dir)
        history = recorded.get('history', {})
        history[str(step)] = results
        ordered_history = {key: history[key] for key in sorted(history, key=int)}
        contents = dict(results, history=ordered_history)
        best = best or recorded.get('best')
        if best:
            contents['best'] = best
        files.write_file_atomically(os.path.join(self._eval_dir, RESULTS_FILENAME),
                                    _encode_json(contents))
        if self._summary_writer is None:
            # Opened on first use, so a run that evaluates nothing leaves no empty event file.
            self._summary_writer = tf.summary.FileWriter(self._eval_dir)
        self._summary_writer.add_summary(tf.Summary(value=[
            tf.Summary.Value(tag=name, simple_value=results[name]) for name in SUMMARY_METRICS
        ]), step)
        self._summary_writer.add_summary(
            pictures.summary(confusion, self._class_names, examples), step)
        self._summary_writer.flush()

    def _write_confusion_matrix(self, step, confusion):
        matrix = confusion.tolist()
        files.write_file_atomically(
            confusion_matrix_path(self._eval_dir, step, 'json'),
            _encode_json({'class_names': self._class_names, 'matrix': matrix}))
        table = io.StringIO()
        writer = csv.writer(table, lineterminator='\n')
        writer.writerow(['true \\ predicted'] + self._class_names)
        for name, row in zip(self._class_names, matrix, strict=True):
            writer.writerow([name] + row)
        files.write_file_atomically(confusion_matrix_path(self._eval_dir, step, 'csv'),
                                            table.getvalue().encode('utf-8'))

    def close(self):
        if self._summary_writer is not None:
            self._summary_writer.close()
