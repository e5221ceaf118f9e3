"""Evaluates checkpoints over every example of a split: top-1, top-5, mean loss, per-class
accuracy and the confusion matrix.

Once: each checkpoint of --checkpoint_path (a directory's latest, or prefixes), in order of
global step. Continuously (--eval_interval_secs): each new checkpoint of a training
directory as it appears, until training's final step is evaluated or --eval_timeout_secs
pass without a new checkpoint.
"""

import contextlib
import dataclasses
import math
import os
import time

import tensorflow.compat.v1 as tf
from absl import logging

import option_groups
from common import checkpoints, devices, progress
from common.errors import ConfigurationError, DataError
from common.session import announce_precision, session_config
from datasets import class_names, dataset_factory, input_pipeline
from deployment import model_deploy
from evaluation import best_checkpoint, metrics, pictures, results
from nets import nets_factory

# Training's chief may write its final global step here, in the training directory, when it
# ends; continuous evaluation then stops after evaluating that step.
FINAL_STEP_FILENAME = checkpoints.FINAL_STEP_FILENAME

_PROGRESS_EVERY_N_BATCHES = 10



def check_options(options):
    """Fails early, before any graph is built, on settings that cannot work: every option
    group of `options` (an `EvalOptions`) checks its fields, and --num_clones fits this
    machine's devices."""
    options.check()
    clone_deployment(options.num_clones)


def clone_deployment(num_clones):
    """The `DeploymentConfig` of `num_clones` evaluation clones: one per GPU, or on a machine
    without GPUs one per logical CPU device; the variables stay on /device:CPU:0.

    Raises:
      ConfigurationError: the machine has GPUs, but fewer than `num_clones`.
    """
    gpus = len(devices.gpu_names())
    if num_clones > 1 and 0 < gpus < num_clones:
        raise ConfigurationError(
            '--num_clones=%d places one clone per GPU, and this machine has %d GPU(s): lower '
            '--num_clones to %d or less.' % (num_clones, gpus, gpus))
    return model_deploy.DeploymentConfig(num_clones=num_clones, clone_on_cpu=not gpus,
                                         split_cpu=True)


@dataclasses.dataclass
class EvalGraph:
    """The tensors and ops of a built evaluation graph.

    batch: {'logits': float [batch, num_classes], 'labels': int64 [batch], 'skipped': int64 []
      (the records that could not be read so far)}, one batch per run.
    images: float [batch, H, W, C], the preprocessed images of that batch, fetched with it only
      while misclassified ones are wanted for the pictures.
    start_reading: (re)starts reading the split from its first example.
    variables_to_restore: {name in the checkpoint: variable}.
    class_names: one per model output (`datasets.class_names`).
    cpu_devices: the logical CPU devices its sessions need (one per clone without GPUs).
    """

    batch: dict
    images: tf.Tensor
    start_reading: tf.Operation
    variables_to_restore: dict
    saver: tf.train.Saver
    dataset_split: object
    num_classes: int
    num_batches: int
    class_names: list
    cpu_devices: int


def build_eval_graph(options):
    """Builds the evaluation graph of `options` (an `EvalOptions`) in the default graph."""
    dataset_split, num_classes = dataset_factory.split_and_num_classes(options)
    network_fn = nets_factory.get_network_fn(
        options.model_name, num_classes=num_classes, is_training=False)
    image_size = options.eval_image_size or network_fn.default_image_size
    batches = input_pipeline.batched_images(
        dataset_split, options.preprocessing, is_training=False,
        image_size=image_size, batch_size=options.batch_size,
        central_fraction=options.eval_central_fraction, **options.pipeline_arguments())
    # Initializable, so one session reads the whole split again for every checkpoint.
    iterator = tf.data.make_initializable_iterator(batches)
    batch = iterator.get_next()

    def logits_of(images):
        if options.eval_flip:
            return flip_averaged_logits(network_fn, images)
        return network_fn(images)[0]

    deployment = clone_deployment(options.num_clones)
    if deployment.num_clones > 1:
        logits = cloned_logits(deployment, logits_of, batch['images'])
    else:
        logits = logits_of(batch['images'])

    variables_to_restore = checkpoints.variables_by_checkpoint_name(
        options.moving_average_decay)

    num_batches = math.ceil(dataset_split.num_samples / options.batch_size)
    if options.max_num_batches:
        num_batches = min(num_batches, options.max_num_batches)
    return EvalGraph(
        batch={'logits': logits, 'labels': batch['labels'], 'skipped': batch['skipped']},
        images=batch['images'],
        start_reading=iterator.initializer,
        variables_to_restore=variables_to_restore, saver=tf.train.Saver(variables_to_restore),
        dataset_split=dataset_split, num_classes=num_classes, num_batches=num_batches,
        class_names=class_names.class_names(options.dataset_name, options.dataset_dir,
                                            num_classes, options.labels_offset),
        cpu_devices=deployment.cpu_devices())


def share_sizes(batch_size, num_shares):
    """int32 [num_shares]: consecutive shares of `batch_size` (an int32 scalar tensor)
    examples, summing to it, the first ones one example larger where it does not divide."""
    remainder = batch_size % num_shares
    return batch_size // num_shares + tf.cast(tf.range(num_shares) < remainder, tf.int32)


def cloned_logits(deployment, logits_of, images):
    """float [batch, num_classes]: `logits_of(images)` with each clone of `deployment`
    computing those of its consecutive share of `images` [batch, H, W, C], joined in order.

    A batch smaller than the number of clones (the last one may be) is padded with zero
    images, whose logits are dropped: an empty share would fail (oneDNN's convolutions
    refuse an empty batch).
    """
    num_clones = deployment.num_clones
    logging.info('Splitting each batch across %d clones: %s%s.', num_clones,
                 ', '.join(deployment.clone_device(index) for index in range(num_clones)),
                 ' (logical devices of the CPU: no GPU found)' if deployment.clone_on_cpu
                 else '')
    with tf.device(deployment.inputs_device()), tf.name_scope('split_batch'):
        batch_size = tf.shape(images)[0]
        padding = tf.maximum(num_clones - batch_size, 0)
        padded = tf.pad(images, [[0, padding]] + [[0, 0]] * (images.shape.rank - 1))
        shares = iter(tf.split(padded, share_sizes(batch_size + padding, num_clones),
                               num=num_clones))
    # create_clones calls its function once per clone, in clone order: each takes the next
    # share, as TF-Slim's clones each dequeued their own batch.
    clones = model_deploy.create_clones(deployment, lambda: logits_of(next(shares)))
    with tf.device(deployment.inputs_device()), tf.name_scope('join_clones'):
        return tf.concat([clone.outputs for clone in clones], axis=0)[:batch_size]


def flip_averaged_logits(network_fn, images):
    """float [batch, num_classes]: the mean of `network_fn`'s logits of `images` [batch, H, W,
    C] and of their mirror images, computed in one pass over the doubled batch."""
    both = tf.concat([images, tf.image.flip_left_right(images)], axis=0)
    logits, _ = network_fn(both)
    original, mirrored = tf.split(logits, 2, axis=0)
    return (original + mirrored) / 2.0


def restore_checkpoint(session, graph, checkpoint, options):
    """Restores `checkpoint` into the evaluation graph, after checking that it fits (another
    network, another class count and missing moving averages each get their message)."""
    checkpoints.restore_checkpoint(
        session, checkpoint,
        '--model_name=%s with %d classes' % (options.model_name, graph.num_classes),
        'Set --model_name to the network that wrote it, and --dataset_name and '
        '--labels_offset to its number of classes.', options.moving_average_decay, 'evaluate',
        graph.variables_to_restore, graph.saver)


def resolve_checkpoints(checkpoint_path):
    """The checkpoint prefixes that a comma-separated --checkpoint_path names, each once,
    in order of global step (a directory stands for its latest checkpoint).

    Raises:
      ValueError: a path holds no checkpoint; the message says what it holds.
    """
    prefixes = [checkpoints.resolve_checkpoint(path)
                for path in option_groups.split_paths(checkpoint_path) or ['']]
    return sorted(dict.fromkeys(prefixes), key=checkpoints.global_step_of)


def _watched_directory(checkpoint_path):
    """The one directory continuous evaluation watches (it need not exist yet)."""
    paths = option_groups.split_paths(checkpoint_path)
    if not paths:
        raise ConfigurationError('Set --checkpoint_path to the training directory to watch.')
    if len(paths) > 1 or tf.io.gfile.exists(paths[0] + '.index'):
        raise ConfigurationError(
            '--eval_interval_secs watches one training directory for new checkpoints, but '
            '--checkpoint_path=%s names %s. Pass the training directory, or drop '
            '--eval_interval_secs to evaluate the checkpoints once.'
            % (checkpoint_path, 'several paths' if len(paths) > 1 else 'a checkpoint'))
    return paths[0]


def checkpoints_in(directory):
    """[(global step, prefix)] of the checkpoints `directory` lists, by step; [] if none."""
    state = tf.train.get_checkpoint_state(directory)
    if not state:
        return []
    listed = dict.fromkeys([*state.all_model_checkpoint_paths, state.model_checkpoint_path])
    # Training deletes old checkpoints; the index file is written last, once all data is in.
    present = [prefix for prefix in listed if tf.io.gfile.exists(prefix + '.index')]
    return sorted((checkpoints.global_step_of(prefix), prefix) for prefix in present)


def final_step(options, directory):
    """Training's final step: --max_number_of_steps, else the one training wrote to
    <directory>/final_step.txt, else None (not known yet)."""
    if options.max_number_of_steps:
        return options.max_number_of_steps
    path = os.path.join(directory, FINAL_STEP_FILENAME)
    if not tf.io.gfile.exists(path):
        return None
    with tf.io.gfile.GFile(path) as f:
        text = f.read().strip()
    if not text.isdigit():
        raise DataError('%s should hold training\'s final global step, but holds %r. Delete it '
                        'or pass --max_number_of_steps.' % (path, text))
    return int(text)


def _count(session, graph, max_num_batches):
    """Runs the split (or max_num_batches of it) through the model.

    Returns:
      (its MetricTotals, its pictures.EvaluatedExamples, the number of records that could not
      be read).
    """
    totals = metrics.MetricTotals(graph.num_classes)
    examples = pictures.EvaluatedExamples(graph.num_classes)
    batch_with_images = dict(graph.batch, images=graph.images)
    session.run(graph.start_reading)
    start = time.time()
    batches_done = unreadable = 0
    while not max_num_batches or batches_done < max_num_batches:
        try:
            batch = session.run(batch_with_images if examples.wants_images else graph.batch)
        except tf.errors.OutOfRangeError:
            break
        totals.add_batch(batch['logits'], batch['labels'])
        examples.add_batch(batch['logits'], batch['labels'], batch.get('images'))
        unreadable = int(batch['skipped'])
        batches_done += 1
        if batches_done % _PROGRESS_EVERY_N_BATCHES == 0 or batches_done == graph.num_batches:
            elapsed = time.time() - start
            logging.info('eval batch %d/%d: %d examples%s, %.1f examples/sec, ETA %s',
                         batches_done, graph.num_batches, totals.num_examples,
                         ' (%d unreadable)' % unreadable if unreadable else '',
                         totals.num_examples / max(elapsed, 1e-9),
                         progress.format_eta(progress.remaining_seconds(
                             batches_done, graph.num_batches, elapsed)))
    return totals, examples, unreadable


def _evaluate_checkpoint(session, graph, checkpoint, options, writer):
    """Restores `checkpoint`, evaluates it, prints and records its results; returns them."""
    staged = None
    if options.keep_best_checkpoint:
        # Copied before it is read: training may delete the checkpoint meanwhile.
        staged = best_checkpoint.stage(checkpoint, options.eval_dir)
    source = staged or checkpoint
    restore_checkpoint(session, graph, source, options)
    step = checkpoints.global_step_of(source)
    logging.info('Evaluating %s (global step %d)%s on %s/%s (%d examples)', checkpoint, step,
                 ' with moving averages' if options.moving_average_decay else '',
                 options.dataset_name, options.dataset_split_name,
                 graph.dataset_split.num_samples)
    totals, examples, unreadable = _count(session, graph, options.max_num_batches)
    if unreadable:
        logging.warning('%d example(s) of split %r of %r could not be read (not an Example, or '
                        'an image that does not decode) and are left out of the results.',
                        unreadable, graph.dataset_split.split_name, graph.dataset_split.name)
    records_read = totals.num_examples + unreadable
    if not options.max_num_batches and records_read != graph.dataset_split.num_samples:
        logging.warning('Read %d examples, but split %r of %r should have %d.',
                        records_read, graph.dataset_split.split_name,
                        graph.dataset_split.name, graph.dataset_split.num_samples)
    checkpoint_results = {'checkpoint_path': checkpoint, 'global_step': step,
                          **totals.results(), 'num_unreadable_examples': unreadable}
    for name in results.SUMMARY_METRICS:
        print('%s[%.4f]' % (name, checkpoint_results[name]))
    best = None
    if staged:
        best = best_checkpoint.keep_if_best(staged, checkpoint_results, options.eval_dir)
    writer.write(checkpoint_results, totals.confusion, best, examples)
    return checkpoint_results


def _evaluate_new_checkpoints(options, directory, evaluate_checkpoint):
    """Evaluates each checkpoint appearing in `directory` once, in order of step, until
    training's final step is evaluated or --eval_timeout_secs pass without a new one."""
    done_steps = results.evaluated_steps(options.eval_dir)
    if done_steps:
        logging.info('%s already has steps %s; they are not evaluated again.',
                     os.path.join(options.eval_dir, results.RESULTS_FILENAME),
                     ', '.join(map(str, sorted(done_steps))))
    logging.info('Watching %s for new checkpoints every %s seconds', directory,
                 options.eval_interval_secs)
    all_results = []
    last_new_checkpoint_time = time.time()
    while True:
        new = [(step, prefix) for step, prefix in checkpoints_in(directory)
               if step not in done_steps]
        for step, prefix in new:
            all_results.append(evaluate_checkpoint(prefix))
            done_steps.add(step)
        if new:
            last_new_checkpoint_time = time.time()
        last_step = final_step(options, directory)
        if last_step is not None and done_steps and max(done_steps) >= last_step:
            logging.info('Evaluated training\'s final step %d; done.', last_step)
            return all_results
        waited = time.time() - last_new_checkpoint_time
        if options.eval_timeout_secs is not None and waited >= options.eval_timeout_secs:
            logging.info('No new checkpoint in %s for %.0f seconds; done.', directory, waited)
            return all_results
        pause = options.eval_interval_secs
        if options.eval_timeout_secs is not None:
            pause = min(pause, options.eval_timeout_secs - waited)
        time.sleep(pause)


def evaluate_checkpoints(options):
    """Evaluates per `options` (an `EvalOptions`); returns each checkpoint's results dict,
    in the order evaluated.

    A results dict has 'eval/Accuracy' (top-1), 'eval/Recall_5' (top-5), 'eval/mean_loss'
    (mean softmax cross-entropy), 'per_class_accuracy' (by class), 'num_examples',
    'num_unreadable_examples' (records that could not be read, left out of the metrics),
    'global_step' and 'checkpoint_path'; it is also written to the eval dir (see results.py).
    """
    check_options(options)
    devices.log_devices()
    precision = announce_precision(
        options.mixed_precision, options.model_name,
        nets_factory.network_spec(options.model_name).slower_in_bfloat16, training=False)
    continuous = options.eval_interval_secs is not None
    if continuous:
        directory = _watched_directory(options.checkpoint_path)
    else:
        prefixes = resolve_checkpoints(options.checkpoint_path)
    with tf.Graph().as_default():
        graph = build_eval_graph(options)
        writer = results.ResultsWriter(options.eval_dir, graph.class_names)
        config = session_config(precision, cpu_devices=graph.cpu_devices)
        with contextlib.closing(writer), tf.Session(options.master, config=config) as session:

            def evaluate_checkpoint(prefix):
                return _evaluate_checkpoint(session, graph, prefix, options, writer)

            if continuous:
                return _evaluate_new_checkpoints(options, directory, evaluate_checkpoint)
            return [evaluate_checkpoint(prefix) for prefix in prefixes]


def evaluate(options):
    """Like `evaluate_checkpoints`, but returns only the last checkpoint's results (None if
    continuous evaluation found no new checkpoint)."""
    all_results = evaluate_checkpoints(options)
    return all_results[-1] if all_results else None
