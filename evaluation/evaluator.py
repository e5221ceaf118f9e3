"""Evaluates a checkpoint: top-1 and top-5 accuracy over every example of a split."""

import json
import math
import os
import time

import tensorflow.compat.v1 as tf
from absl import logging

from datasets import dataset_factory, dataset_utils, input_pipeline
from nets import nets_factory
from training import checkpoints, progress, trainer

RESULTS_FILENAME = 'eval_results.json'

_PROGRESS_EVERY_N_BATCHES = 10


def build_eval_graph(options):
    """Builds the evaluation graph in the default graph.

    Returns:
      (counts, dataset_split, num_batches): running `counts` evaluates one batch and gives
      {'top_1': correct at 1, 'top_5': correct in the top 5, 'examples': batch size};
      num_batches is how many batches the run will read.
    """
    dataset_split = dataset_factory.get_dataset(
        options.dataset_name, options.dataset_split_name, options.dataset_dir)
    num_classes = dataset_split.num_classes - options.labels_offset
    network_fn = nets_factory.get_network_fn(
        options.model_name, num_classes=num_classes, is_training=False)
    image_size = options.eval_image_size or network_fn.default_image_size
    batches = input_pipeline.batched_images(
        dataset_split, options.preprocessing_name or options.model_name, is_training=False,
        image_size=image_size, batch_size=options.batch_size,
        labels_offset=options.labels_offset,
        num_preprocessing_threads=options.num_preprocessing_threads,
        use_grayscale=options.use_grayscale)
    images, labels = tf.data.make_one_shot_iterator(batches).get_next()
    logits, _ = network_fn(images)

    def correct_in_top(k):
        return tf.reduce_sum(tf.cast(tf.nn.in_top_k(logits, labels, min(k, num_classes)),
                                     tf.int64))

    counts = {'top_1': correct_in_top(1), 'top_5': correct_in_top(5),
              'examples': tf.size(labels, out_type=tf.int64)}
    num_batches = math.ceil(dataset_split.num_samples / options.batch_size)
    if options.max_num_batches:
        num_batches = min(num_batches, options.max_num_batches)
    return counts, dataset_split, num_batches


def _global_step_of(checkpoint):
    reader = tf.train.load_checkpoint(checkpoint)
    return int(reader.get_tensor('global_step')) if reader.has_tensor('global_step') else 0


def _count_correct(session, counts, num_batches, max_num_batches):
    """Runs batches until the split is exhausted (or max_num_batches); returns summed counts."""
    totals = {key: 0 for key in counts}
    start = time.time()
    batches_done = 0
    while not max_num_batches or batches_done < max_num_batches:
        try:
            values = session.run(counts)
        except tf.errors.OutOfRangeError:
            break
        batches_done += 1
        for key, value in values.items():
            totals[key] += int(value)
        if batches_done % _PROGRESS_EVERY_N_BATCHES == 0 or batches_done == num_batches:
            elapsed = time.time() - start
            logging.info('eval batch %d/%d: %d examples, %.1f examples/sec, ETA %s',
                         batches_done, num_batches, totals['examples'],
                         totals['examples'] / max(elapsed, 1e-9),
                         progress.format_eta(progress.remaining_seconds(
                             batches_done, num_batches, elapsed)))
    return totals


def write_results(eval_dir, results):
    """Writes `results` to <eval_dir>/eval_results.json and as TensorBoard scalars."""
    tf.io.gfile.makedirs(eval_dir)
    dataset_utils.write_file_atomically(
        os.path.join(eval_dir, RESULTS_FILENAME),
        (json.dumps(results, indent=2, sort_keys=True) + '\n').encode('utf-8'))
    summary = tf.Summary(value=[
        tf.Summary.Value(tag=name, simple_value=results[name])
        for name in ('eval/Accuracy', 'eval/Recall_5')])
    writer = tf.summary.FileWriter(eval_dir)
    writer.add_summary(summary, results['global_step'])
    writer.close()


def evaluate(options):
    """Evaluates per `options` (an `EvalOptions`) and returns the results dict.

    The dict has 'eval/Accuracy' (top-1), 'eval/Recall_5' (top-5), 'num_examples',
    'global_step' and 'checkpoint_path'; it is also written to the eval dir.
    """
    checkpoint = checkpoints.resolve_checkpoint(options.checkpoint_path)
    with tf.Graph().as_default():
        counts, dataset_split, num_batches = build_eval_graph(options)
        saver = tf.train.Saver(tf.global_variables())
        with tf.Session(config=trainer.session_config()) as session:
            logging.info('Evaluating %s on %s/%s (%d examples)', checkpoint,
                         options.dataset_name, options.dataset_split_name,
                         dataset_split.num_samples)
            saver.restore(session, checkpoint)
            totals = _count_correct(session, counts, num_batches, options.max_num_batches)
    if not options.max_num_batches and totals['examples'] != dataset_split.num_samples:
        logging.warning('Read %d examples, but split %r of %r should have %d.',
                        totals['examples'], dataset_split.split_name, dataset_split.name,
                        dataset_split.num_samples)
    examples = max(totals['examples'], 1)
    results = {
        'checkpoint_path': checkpoint,
        'global_step': _global_step_of(checkpoint),
        'num_examples': totals['examples'],
        'eval/Accuracy': totals['top_1'] / examples,
        'eval/Recall_5': totals['top_5'] / examples,
    }
    print('eval/Accuracy[%.4f]' % results['eval/Accuracy'])
    print('eval/Recall_5[%.4f]' % results['eval/Recall_5'])
    write_results(options.eval_dir, results)
    return results
