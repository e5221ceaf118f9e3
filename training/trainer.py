"""The training loop: dataset -> preprocessing -> network -> losses -> clones -> train op."""

import time

import tensorflow.compat.v1 as tf
from absl import logging

from datasets import dataset_factory, input_pipeline
from deployment import model_deploy
from nets import nets_factory
from training import losses, optimization, progress


class ProgressLogger(tf.train.SessionRunHook):
    """Logs step, loss, learning rate, examples/sec and ETA every `every_n_steps` steps."""

    def __init__(self, loss, learning_rate, examples_per_step, every_n_steps, last_step=None):
        self._fetches = {'loss': loss, 'learning_rate': learning_rate}
        self._examples_per_step = examples_per_step
        self._every_n_steps = max(1, every_n_steps)
        self._last_step = last_step

    def after_create_session(self, session, coord):
        self._step = session.run(tf.train.get_global_step())
        self._start_step = self._step
        self._start_time = self._interval_time = time.time()
        self._interval_start_step = self._step

    def before_run(self, run_context):
        return tf.train.SessionRunArgs(self._fetches)

    def after_run(self, run_context, run_values):
        self._step += 1
        if self._step % self._every_n_steps and self._step != self._last_step:
            return
        now = time.time()
        interval_steps = self._step - self._interval_start_step
        examples_per_sec = interval_steps * self._examples_per_step / max(now - self._interval_time,
                                                                           1e-9)
        remaining = None
        if self._last_step:
            remaining = progress.remaining_seconds(
                self._step - self._start_step, self._last_step - self._start_step,
                now - self._start_time)
        logging.info('step %d%s: loss = %.4f, learning rate = %.6g, %.1f examples/sec, ETA %s',
                     self._step, '/%d' % self._last_step if self._last_step else '',
                     run_values.results['loss'], run_values.results['learning_rate'],
                     examples_per_sec, progress.format_eta(remaining))
        self._interval_time = now
        self._interval_start_step = self._step


def _add_end_point_summaries(end_points):
    for name, tensor in end_points.items():
        tf.summary.histogram('activations/' + name, tensor)
        tf.summary.scalar('sparsity/' + name, tf.nn.zero_fraction(tensor))


def build_train_graph(options):
    """Builds the training graph in the default graph.

    Returns:
      (train_tensor, total_loss, learning_rate, dataset_split): running `train_tensor`
      does one step (gradient update and batch-norm updates) and returns the total loss.
    """
    deploy_config = model_deploy.DeploymentConfig(
        num_clones=options.num_clones, clone_on_cpu=options.clone_on_cpu)
    with tf.device(deploy_config.variables_device()):
        global_step = tf.train.get_or_create_global_step()

    dataset_split = dataset_factory.get_dataset(
        options.dataset_name, options.dataset_split_name, options.dataset_dir)
    num_classes = dataset_split.num_classes - options.labels_offset
    network_fn = nets_factory.get_network_fn(
        options.model_name, num_classes=num_classes, weight_decay=options.weight_decay,
        is_training=True)
    image_size = options.train_image_size or network_fn.default_image_size

    with tf.device(deploy_config.inputs_device()):
        batches = input_pipeline.batched_images(
            dataset_split, options.preprocessing_name or options.model_name, is_training=True,
            image_size=image_size, batch_size=options.batch_size,
            labels_offset=options.labels_offset, num_readers=options.num_readers,
            num_preprocessing_threads=options.num_preprocessing_threads,
            use_grayscale=options.use_grayscale)
        iterator = tf.data.make_one_shot_iterator(batches)

    def clone_fn():
        images, labels = iterator.get_next()
        logits, end_points = network_fn(images)
        losses.add_classification_losses(
            logits, end_points, labels, num_classes, label_smoothing=options.label_smoothing,
            aux_loss_weight=options.aux_loss_weight)
        return images, end_points

    clones = model_deploy.create_clones(deploy_config, clone_fn)
    first_clone_images, first_clone_end_points = clones[0].outputs
    tf.summary.image('images', first_clone_images, max_outputs=3)
    _add_end_point_summaries(first_clone_end_points)
    # Batch-norm statistics are updated from the first clone only, as in TF-Slim.
    update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS, clones[0].scope)

    with tf.device(deploy_config.optimizer_device()):
        learning_rate = optimization.learning_rate_schedule(
            options, dataset_split.num_samples, global_step)
        optimizer = optimization.make_optimizer(options, learning_rate)

    total_loss, grads_and_vars = model_deploy.optimize_clones(clones, optimizer)
    for loss in tf.get_collection(tf.GraphKeys.LOSSES):
        tf.summary.scalar('losses/%s' % loss.op.name, loss)
    tf.summary.scalar('total_loss', total_loss)
    tf.summary.scalar('learning_rate', learning_rate)
    for variable in tf.model_variables():
        tf.summary.histogram(variable.op.name, variable)

    apply_gradients = optimizer.apply_gradients(grads_and_vars, global_step=global_step)
    with tf.control_dependencies(update_ops + [apply_gradients]):
        train_tensor = tf.identity(total_loss, name='train_op')
    return train_tensor, total_loss, learning_rate, dataset_split


def session_config():
    # Soft placement lets TF-Slim's GPU device strings run on CPU-only machines.
    return tf.ConfigProto(allow_soft_placement=True)


def train(options):
    """Trains per `options` (a `TrainOptions`), resuming from the last checkpoint in train_dir.

    Returns:
      The global step reached.
    """
    if not options.train_dir:
        raise ValueError('Set --train_dir to the directory for checkpoints and summaries.')
    with tf.Graph().as_default():
        train_tensor, _, learning_rate, dataset_split = build_train_graph(options)
        latest = tf.train.latest_checkpoint(options.train_dir)
        if latest:
            logging.info('Resuming from checkpoint %s', latest)
        logging.info('Training %s on %s/%s (%d examples) into %s', options.model_name,
                     options.dataset_name, options.dataset_split_name,
                     dataset_split.num_samples, options.train_dir)
        hooks = [
            tf.train.NanTensorHook(train_tensor),
            ProgressLogger(train_tensor, learning_rate,
                           options.batch_size * options.num_clones,
                           options.log_every_n_steps, options.max_number_of_steps),
        ]
        if options.max_number_of_steps:
            hooks.append(tf.train.StopAtStepHook(last_step=options.max_number_of_steps))
        with tf.train.MonitoredTrainingSession(
                checkpoint_dir=options.train_dir, hooks=hooks,
                save_checkpoint_secs=options.save_interval_secs,
                save_summaries_secs=options.save_summaries_secs,
                log_step_count_steps=None, config=session_config()) as session:
            while not session.should_stop():
                session.run(train_tensor)
        final_step = tf.train.load_variable(options.train_dir, 'global_step')
    logging.info('Finished training at step %d; checkpoints in %s', final_step, options.train_dir)
    return int(final_step)
