"""The training loop: dataset -> preprocessing -> network -> losses -> clones -> train op."""

import dataclasses
import functools
import os
import threading
import time

import tensorflow.compat.v1 as tf
from absl import logging

import mixed_precision
from common import checkpoints, files, progress
from datasets import dataset_factory, input_pipeline
from deployment import model_deploy
from nets import nets_factory
from training import cluster, loss_scaling, losses, optimization


class ProgressLogger(tf.train.SessionRunHook):
    """Logs step, loss, learning rate, examples/sec and ETA every `every_n_steps` steps, and
    the count of corrupt input records skipped so far (`skipped_records`) once there are any.

    With a `loss_scale_optimizer` (float16), it also logs each step skipped for overflow
    and each change of the loss scale.
    """

    def __init__(self, loss, learning_rate, examples_per_step, every_n_steps, last_step=None,
                 skipped_records=None, loss_scale_optimizer=None):
        self._fetches = {'loss': loss, 'learning_rate': learning_rate}
        if skipped_records is not None:
            self._fetches['skipped_records'] = skipped_records
        if loss_scale_optimizer is not None:
            self._fetches['loss_scale'] = loss_scale_optimizer.new_scale
            self._fetches['gradients_finite'] = loss_scale_optimizer.gradients_finite
        self._loss_scale = None
        self._examples_per_step = examples_per_step
        self._every_n_steps = max(1, every_n_steps)
        self._last_step = last_step

    def after_create_session(self, session, coord):
        self._step = session.run(tf.train.get_global_step())
        self._start_step = self._step
        self._start_time = self._interval_time = time.time()
        self._interval_start_step = self._step

    @property
    def step(self):
        """The global step after the last completed training step."""
        return self._step

    def before_run(self, run_context):
        return tf.train.SessionRunArgs(self._fetches)

    def after_run(self, run_context, run_values):
        self._step += 1
        if 'loss_scale' in run_values.results:
            self._log_loss_scale(run_values.results)
        if self._step % self._every_n_steps and self._step != self._last_step:
            return
        # Other workers also advance the global step; count from its true value.
        self._step = run_context.session.run(tf.train.get_global_step())
        now = time.time()
        interval_steps = self._step - self._interval_start_step
        examples_per_sec = interval_steps * self._examples_per_step / max(now - self._interval_time,
                                                                           1e-9)
        remaining = None
        if self._last_step:
            remaining = progress.remaining_seconds(
                self._step - self._start_step, self._last_step - self._start_step,
                now - self._start_time)
        skipped = run_values.results.get('skipped_records', 0)
        logging.info('step %d%s: loss = %.4f, learning rate = %.6g, %.1f examples/sec, ETA %s%s',
                     self._step, '/%d' % self._last_step if self._last_step else '',
                     run_values.results['loss'], run_values.results['learning_rate'],
                     examples_per_sec, progress.format_eta(remaining),
                     ', %d corrupt input records skipped so far' % skipped if skipped else '')
        self._interval_time = now
        self._interval_start_step = self._step

    def _log_loss_scale(self, results):
        scale = results['loss_scale']
        if not results['gradients_finite']:
            logging.info('step %d skipped: its float16 gradients overflowed; loss scale lowered '
                         'to %g', self._step, scale)
        elif scale != self._loss_scale:
            logging.info('step %d: loss scale %g', self._step, scale)
        self._loss_scale = scale


class CheckpointSaver(tf.train.SessionRunHook):
    """Saves a checkpoint every `save_secs` and when training ends normally.

    Unlike TensorFlow's CheckpointSaverHook it writes no text graph.pbtxt and no checkpoint
    of the starting step: for big networks those cost tens of seconds and hundreds of
    megabytes at every start and add nothing (the start is step 0 or an existing checkpoint).
    Each save is atomic: TensorFlow writes the files under temporary names, then the
    `checkpoint` index, so a killed process leaves the previous checkpoint usable.
    """

    def __init__(self, checkpoint_dir, save_secs, saver):
        self._save_path = os.path.join(checkpoint_dir, 'model.ckpt')
        self._saver = saver
        self._timer = tf.train.SecondOrStepTimer(every_secs=save_secs)
        self._last_saved_step = None

    def begin(self):
        self._global_step = tf.train.get_global_step()

    def after_create_session(self, session, coord):
        self._timer.update_last_triggered_step(session.run(self._global_step))

    def before_run(self, run_context):
        return tf.train.SessionRunArgs(self._global_step)

    def after_run(self, run_context, run_values):
        step = run_values.results + 1
        if self._timer.should_trigger_for_step(step):
            self._timer.update_last_triggered_step(step)
            self._save(run_context.session)

    def end(self, session):
        self._save(session)

    def _save(self, session):
        step = session.run(self._global_step)
        if step != self._last_saved_step:
            logging.info('Saving checkpoint for step %d', step)
            self._saver.save(session, self._save_path, global_step=step)
            self._last_saved_step = step


class SyncReplicasChiefHook(tf.train.SessionRunHook):
    """The chief's part of synchronous replicas, ending quietly when training ends.

    Like the hook of `SyncReplicasOptimizer.make_session_run_hook(is_chief=True)`, it
    initialises the chief's step and the token queue, then applies aggregated gradients in a
    background thread. At the end that thread is always waiting for gradients no worker will
    send; TensorFlow's queue runner then delays shutdown by two minutes and prints a
    traceback, whereas this thread simply ends when the session closes.
    Running `release_workers` once the chief stops lets workers blocked in a step finish it.
    """

    def __init__(self, sync_optimizer, num_workers):
        self._uninitialized = sync_optimizer.ready_for_local_init_op
        self._init_ops = [sync_optimizer.chief_init_op, sync_optimizer.get_init_tokens_op()]
        self._apply_aggregated = sync_optimizer.get_chief_queue_runner().enqueue_ops
        self.release_workers = sync_optimizer.get_init_tokens_op(4 * num_workers)

    def after_create_session(self, session, coord):
        uninitialized = session.run(self._uninitialized)
        if uninitialized.size:
            raise RuntimeError('Synchronous replicas cannot start: variables %s are not '
                               'initialised.' % ', '.join(v.decode() for v in uninitialized))
        session.run(self._init_ops)
        threading.Thread(target=self._apply_until_stopped, args=(session, coord),
                         name='sync_replicas_chief', daemon=True).start()

    def _apply_until_stopped(self, session, coord):
        while not coord.should_stop():
            try:
                session.run(self._apply_aggregated)
            except tf.errors.CancelledError:
                return  # The session closed while waiting for the next gradients.
            except Exception as error:  # noqa: BLE001 (reported to the training loop)
                coord.request_stop(error)
                return


# The message of the in-graph check that stops a step whose loss or gradients are not finite.
NON_FINITE_MESSAGE = 'Non-finite loss or gradient'


class NonFiniteLossError(RuntimeError):
    """Training stopped because a step's loss or gradients were NaN or infinite."""


def _add_end_point_summaries(end_points):
    for name, tensor in end_points.items():
        tf.summary.histogram('activations/' + name, tensor)
        tf.summary.scalar('sparsity/' + name, tf.nn.zero_fraction(tensor))


def variables_to_train(trainable_scopes):
    """The trainable variables under `trainable_scopes` (a flag value); all when it is empty.

    Raises:
      ValueError: a scope matches no trainable variable; the message lists the model's scopes.
    """
    trainable = tf.trainable_variables()
    scopes = checkpoints.parse_scopes(trainable_scopes)
    if not scopes:
        return trainable
    unmatched = [scope for scope in scopes
                 if not any(checkpoints.in_scopes(v.op.name, [scope]) for v in trainable)]
    if unmatched:
        known = sorted({checkpoints.layer_scope(v.op.name) for v in trainable})
        raise ValueError('--trainable_scopes: %s match(es) no trainable variable. The model\'s '
                         'scopes are: %s.' % (', '.join(unmatched), ', '.join(known)))
    return [v for v in trainable if checkpoints.in_scopes(v.op.name, scopes)]


def _update_ops(clone_scope, trainable_scopes):
    """The first clone's update ops (batch-norm statistics), only of trainable scopes if set.

    Layers outside --trainable_scopes are frozen entirely, their statistics included.
    """
    update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS, clone_scope)
    scopes = checkpoints.parse_scopes(trainable_scopes)
    if not scopes:
        return update_ops
    return [op for op in update_ops
            if checkpoints.in_scopes(getattr(op, 'op', op).name[len(clone_scope):], scopes)]


def _guard_finite(total_loss, grads_and_vars, loss_scale_optimizer=None):
    """Gradients that exist only if the loss and every gradient are finite.

    A NaN or infinite value fails the step before any variable changes, so neither the
    weights in memory nor the next checkpoint are corrupted. Under loss scaling
    (`loss_scale_optimizer`), gradients that overflow only skip the step, until the scale
    is at its minimum: then they are divergence too.
    """
    gradients = loss_scaling.gradient_values(grads_and_vars)
    if loss_scale_optimizer is None:
        healthy = loss_scaling.all_finite([total_loss] + gradients)
    else:
        healthy = tf.logical_and(
            loss_scaling.all_finite([total_loss]),
            tf.logical_or(loss_scaling.all_finite(gradients), loss_scale_optimizer.can_lower()))
    check = tf.debugging.Assert(healthy, [NON_FINITE_MESSAGE, 'loss', total_loss],
                                name='finite_check')
    with tf.control_dependencies([check]):
        return loss_scaling.map_gradients(tf.identity, grads_and_vars)


@dataclasses.dataclass
class TrainGraph:
    """The tensors and ops of a built training graph.

    train_tensor: runs one step (update, batch-norm statistics, moving averages); its value
      is the total loss.
    copy_to_averages: sets every moving average to its variable (after a fine-tuning restore),
      or None without --moving_average_decay.
    sync_optimizer: the tf.train.SyncReplicasOptimizer under --sync_replicas, else None.
    skipped_records: int64 [], the unreadable input records skipped so far.
    loss_scale_optimizer: the `loss_scaling.LossScaleOptimizer` of float16, else None.
    """

    train_tensor: tf.Tensor
    total_loss: tf.Tensor
    learning_rate: tf.Tensor
    dataset_split: object
    copy_to_averages: tf.Operation | None
    sync_optimizer: tf.train.SyncReplicasOptimizer | None
    skipped_records: tf.Tensor
    loss_scale_optimizer: loss_scaling.LossScaleOptimizer | None = None


def build_train_graph(options, synthetic_num_classes=None):
    """Builds the training graph of `options` (a `TrainOptions`) in the default graph.

    With `synthetic_num_classes`, each clone trains on random images and labels of that many
    classes made in the graph, to time the train step without the input pipeline (then
    `dataset_split` is None); otherwise batches come from the options' dataset.
    """
    deploy_config = model_deploy.DeploymentConfig(
        num_clones=options.num_clones, clone_on_cpu=options.clone_on_cpu,
        replica_id=options.task, num_replicas=options.worker_replicas,
        num_ps_tasks=options.num_ps_tasks)
    with tf.device(deploy_config.variables_device()):
        global_step = tf.train.get_or_create_global_step()

    if synthetic_num_classes:
        dataset_split, num_classes = None, synthetic_num_classes
        num_samples_per_epoch = SYNTHETIC_EPOCH_SIZE
    else:
        dataset_split = dataset_factory.get_dataset(
            options.dataset_name, options.dataset_split_name, options.dataset_dir)
        num_classes = dataset_split.num_classes - options.labels_offset
        num_samples_per_epoch = dataset_split.num_samples
    network_fn = nets_factory.get_network_fn(
        options.model_name, num_classes=num_classes, weight_decay=options.weight_decay,
        is_training=True)
    image_size = options.train_image_size or network_fn.default_image_size
    if synthetic_num_classes:
        next_batch = functools.partial(_random_batch, options.batch_size, image_size,
                                       num_classes)
    else:
        next_batch = _dataset_batches(options, dataset_split, image_size, deploy_config)

    def clone_fn():
        batch = next_batch()
        logits, end_points = network_fn(batch['images'])
        losses.add_classification_losses(
            logits, end_points, batch['labels'], num_classes,
            label_smoothing=options.label_smoothing, aux_loss_weight=options.aux_loss_weight)
        return batch['images'], end_points, batch['skipped']

    clones = model_deploy.create_clones(deploy_config, clone_fn)
    first_clone_images, first_clone_end_points, skipped_records = clones[0].outputs
    tf.summary.image('images', first_clone_images, max_outputs=3)
    tf.summary.scalar('input/corrupt_records_skipped', skipped_records)
    _add_end_point_summaries(first_clone_end_points)
    train_graph = _optimize_clones(options, deploy_config, clones, global_step,
                                   num_samples_per_epoch)
    return dataclasses.replace(train_graph, dataset_split=dataset_split,
                               skipped_records=skipped_records)


# The epoch length that synthetic batches assume, for the learning-rate schedule: ImageNet's.
SYNTHETIC_EPOCH_SIZE = 1281167


def _random_batch(batch_size, image_size, num_classes):
    """A batch like the input pipeline's, of uniform random images in [-1, 1] and labels."""
    return {'images': tf.random.uniform([batch_size, image_size, image_size, 3], -1.0, 1.0),
            'labels': tf.random.uniform([batch_size], 0, num_classes, tf.int64),
            'skipped': tf.constant(0, tf.int64)}


def _dataset_batches(options, dataset_split, image_size, deploy_config):
    """The function returning the input pipeline's next batch of `dataset_split`."""
    # With parameter servers, each worker reads its own share of the data.
    across_workers = options.num_ps_tasks > 0
    with tf.device(deploy_config.inputs_device()):
        batches = input_pipeline.batched_images(
            dataset_split, options.preprocessing_name or options.model_name, is_training=True,
            image_size=image_size, batch_size=options.batch_size,
            num_workers=options.worker_replicas if across_workers else 1,
            worker_index=options.task if across_workers else 0,
            **options.pipeline_arguments())
        iterator = tf.data.make_one_shot_iterator(batches)
    return iterator.get_next


def _optimize_clones(options, deploy_config, clones, global_step, num_samples_per_epoch):
    """The losses, gradients, update, batch-norm statistics and moving averages of a step.

    Returns a `TrainGraph` without its dataset_split and skipped_records.
    """
    # Batch-norm statistics are updated from the first clone only, as in TF-Slim.
    update_ops = _update_ops(clones[0].scope, options.trainable_scopes)

    moving_averages, averaged_variables = None, tf.model_variables()
    if options.moving_average_decay:
        with tf.device(deploy_config.variables_device()):
            moving_averages = tf.train.ExponentialMovingAverage(
                options.moving_average_decay, global_step)

    with tf.device(deploy_config.optimizer_device()):
        learning_rate = optimization.learning_rate_schedule(
            options, num_samples_per_epoch, global_step)
        optimizer = optimization.make_optimizer(options, learning_rate)
        sync_optimizer = loss_scale_optimizer = None
        if options.sync_replicas:
            # The chief's queue runner applies the averaged gradients and the moving averages.
            optimizer = sync_optimizer = tf.train.SyncReplicasOptimizer(
                optimizer, replicas_to_aggregate=options.replicas_to_aggregate,
                total_num_replicas=options.worker_replicas, variable_averages=moving_averages,
                variables_to_average=averaged_variables if moving_averages else None)
        if options.mixed_precision == mixed_precision.FLOAT16:
            optimizer = loss_scale_optimizer = loss_scaling.LossScaleOptimizer(
                optimizer, options.initial_loss_scale)
            tf.summary.scalar('loss_scale', loss_scale_optimizer.loss_scale)

    total_loss, grads_and_vars = model_deploy.optimize_clones(
        clones, optimizer, var_list=variables_to_train(options.trainable_scopes))
    for loss in tf.get_collection(tf.GraphKeys.LOSSES):
        tf.summary.scalar('losses/%s' % loss.op.name, loss)
    tf.summary.scalar('total_loss', total_loss)
    tf.summary.scalar('learning_rate', learning_rate)
    for variable in tf.model_variables():
        tf.summary.histogram(variable.op.name, variable)

    apply_gradients = optimizer.apply_gradients(
        _guard_finite(total_loss, grads_and_vars, loss_scale_optimizer), global_step=global_step)
    step_ops = update_ops + [apply_gradients]
    copy_to_averages = None
    if moving_averages:
        if not sync_optimizer:
            # Averages follow the weights after this step's update.
            with tf.control_dependencies(step_ops):
                step_ops = [moving_averages.apply(averaged_variables)]
        copy_to_averages = tf.group(*[tf.assign(moving_averages.average(v), v)
                                      for v in averaged_variables], name='copy_to_averages')
    with tf.control_dependencies(step_ops):
        train_tensor = tf.identity(total_loss, name='train_op')
    return TrainGraph(train_tensor, total_loss, learning_rate, None, copy_to_averages,
                      sync_optimizer, None, loss_scale_optimizer)


def check_options(options):
    """Fails early, before any graph is built, on settings that cannot work."""
    if not options.train_dir:
        raise ValueError('Set --train_dir to the directory for checkpoints and summaries.')
    mixed_precision.check_precision(options.mixed_precision)
    if options.mixed_precision == mixed_precision.FLOAT16:
        if options.sync_replicas:
            raise ValueError(
                '--mixed_precision=float16 cannot be combined with --sync_replicas: a step '
                'skipped for loss-scale overflow would leave the other replicas waiting. Use '
                '--mixed_precision=bfloat16, or asynchronous training.')
        if options.initial_loss_scale < 1:
            raise ValueError('--initial_loss_scale=%s: pass a scale of at least 1 (default '
                             '32768).' % options.initial_loss_scale)
    if options.quantize_delay is not None and options.quantize_delay >= 0:
        raise ValueError(
            '--quantize_delay=%d asks for quantization-aware training, which relied on '
            'tf.contrib.quantize and no longer exists in TensorFlow. Train without it (leave '
            '--quantize_delay at -1) and quantize the trained model with TFLite post-training '
            'quantization: export_inference_graph.py --tflite_file=... --tflite_quantize.'
            % options.quantize_delay)


def _fine_tuning_init_fn(options, copy_to_averages):
    """A Scaffold init_fn restoring --checkpoint_path minus --checkpoint_exclude_scopes.

    Shapes and missing variables are checked now, before any training step.
    """
    checkpoint = checkpoints.resolve_checkpoint(options.checkpoint_path)
    exclude_scopes = checkpoints.parse_scopes(options.checkpoint_exclude_scopes)
    variables = checkpoints.restorable_variables(
        checkpoint, tf.model_variables(), exclude_scopes, options.ignore_missing_vars)
    # With --ignore_missing_vars nothing may be left to restore.
    saver = tf.train.Saver(variables) if variables else None
    logging.info('Fine-tuning from %s: restoring %d variables%s', checkpoint, len(variables),
                 ', excluding scopes ' + ', '.join(exclude_scopes) if exclude_scopes else '')

    def init_fn(unused_scaffold, session):
        if saver:
            saver.restore(session, checkpoint)
        if copy_to_averages is not None:
            # Averages start from the restored weights, not from the random initial ones.
            session.run(copy_to_averages)

    return init_fn


def train(options):
    """Runs this process's part of training per `options` (a `TrainOptions`).

    On a single machine, or as a worker of a cluster (--ps_hosts/--worker_hosts/--job_name
    or TF_CONFIG), trains and resumes from the last checkpoint in train_dir; as a parameter
    server, serves the variables until every worker is done.

    Returns:
      The global step reached (None on a parameter server).
    Raises:
      NonFiniteLossError: a step's loss or gradients were NaN or infinite; the
        checkpoints in train_dir are those of the steps before.
    """
    check_options(options)
    cluster_config = cluster.cluster_from_flags(
        options.ps_hosts, options.worker_hosts, options.job_name, options.task)
    if not cluster_config:
        mixed_precision.log_hardware_note(options.mixed_precision)
        return _train_worker(options, mixed_precision.session_config(options.mixed_precision))
    server = cluster.start_server(cluster_config)
    if cluster_config.job_name == cluster.PS_JOB:
        cluster.serve_until_workers_done(cluster_config, server)
        return None
    options = dataclasses.replace(
        options, master=server.target, task=cluster_config.task_index,
        worker_replicas=cluster_config.num_workers, num_ps_tasks=cluster_config.num_ps_tasks)
    mixed_precision.log_hardware_note(options.mixed_precision)
    config = mixed_precision.configure_session(cluster.session_config(cluster_config),
                                               options.mixed_precision)
    return _train_worker(options, config, cluster_config)


def _train_worker(options, config, cluster_config=None):
    """The training loop of a single machine or of one worker (`cluster_config`)."""
    is_chief = options.task == 0
    with tf.Graph().as_default():
        graph = build_train_graph(options)
        latest = tf.train.latest_checkpoint(options.train_dir)
        init_fn = None
        if latest and is_chief:
            logging.info('Resuming from checkpoint %s%s', latest,
                         '; --checkpoint_path=%s is ignored' % options.checkpoint_path
                         if options.checkpoint_path else '')
        elif options.checkpoint_path:
            init_fn = _fine_tuning_init_fn(options, graph.copy_to_averages)
        logging.info('Training %s on %s/%s (%d examples) into %s%s', options.model_name,
                     options.dataset_name, options.dataset_split_name,
                     graph.dataset_split.num_samples, options.train_dir,
                     ' as worker %d of %d' % (options.task, options.worker_replicas)
                     if options.worker_replicas > 1 else '')
        # Under synchronous replicas one global step consumes replicas_to_aggregate batches.
        batches_per_step = options.replicas_to_aggregate if options.sync_replicas else 1
        progress_logger = ProgressLogger(
            graph.train_tensor, graph.learning_rate,
            options.batch_size * options.num_clones * batches_per_step,
            options.log_every_n_steps, options.max_number_of_steps, graph.skipped_records,
            graph.loss_scale_optimizer)
        hooks = [progress_logger]
        if options.max_number_of_steps:
            hooks.append(tf.train.StopAtStepHook(last_step=options.max_number_of_steps))
        release_workers = None
        if graph.sync_optimizer and is_chief:
            chief_hook = SyncReplicasChiefHook(graph.sync_optimizer, options.worker_replicas)
            hooks.append(chief_hook)
            release_workers = chief_hook.release_workers
        elif graph.sync_optimizer:
            hooks.append(graph.sync_optimizer.make_session_run_hook(is_chief))
        worker_done = cluster.worker_done_op(cluster_config) if cluster_config else None
        global_step = tf.train.get_global_step()
        final_step_path = os.path.join(options.train_dir, checkpoints.FINAL_STEP_FILENAME)
        if is_chief and tf.io.gfile.exists(final_step_path):
            # Training goes on, so evaluators must not stop at the old final step.
            tf.io.gfile.remove(final_step_path)
        saver = tf.train.Saver(sharded=True, max_to_keep=5)
        chief_only_hooks = [CheckpointSaver(options.train_dir, options.save_interval_secs, saver)]
        if not is_chief:
            _wait_for_chief(options.master, config)
        try:
            with tf.train.MonitoredTrainingSession(
                    master=options.master, is_chief=is_chief, checkpoint_dir=options.train_dir,
                    hooks=hooks, chief_only_hooks=chief_only_hooks,
                    scaffold=tf.train.Scaffold(init_fn=init_fn, saver=saver),
                    save_checkpoint_secs=None, save_checkpoint_steps=None,
                    save_summaries_secs=options.save_summaries_secs,
                    log_step_count_steps=None, config=config) as session:
                while not session.should_stop():
                    session.run(graph.train_tensor)
                final_step = session.run_step_fn(
                    lambda step_context: step_context.session.run(global_step))
                if release_workers is not None:
                    session.run_step_fn(
                        lambda step_context: step_context.session.run(release_workers))
        except tf.errors.InvalidArgumentError as error:
            # Raised outside the session block, so no checkpoint of this state is saved.
            if NON_FINITE_MESSAGE not in error.message:
                raise
            raise NonFiniteLossError(
                'Training stopped at step %d: the loss or a gradient is NaN or infinite, so '
                'the step was not applied. The last checkpoint, %s, is intact. Lower '
                '--learning_rate (or add warm-up with --warmup_epochs) and check the input '
                'data, then run again to resume.'
                % (progress_logger.step + 1,
                   tf.train.latest_checkpoint(options.train_dir) or 'none yet')) from None
        finally:
            if worker_done is not None:
                _signal_done(options.master, config, worker_done)
    if is_chief:
        files.write_file_atomically(final_step_path, b'%d\n' % final_step)
    logging.info('Finished training at step %d; checkpoints in %s', final_step, options.train_dir)
    return int(final_step)


def _wait_for_chief(master, config, poll_secs=0.5):
    """Waits until the chief has initialised (or restored) the shared variables.

    Without this a worker's session would look again only every 30 seconds.
    """
    uninitialized = tf.report_uninitialized_variables(tf.global_variables())
    with tf.Session(master, config=config) as session:
        waited = 0.0
        while session.run(uninitialized).size:
            if waited % 30 < poll_secs:
                logging.info('Waiting for the chief to initialise the variables')
            time.sleep(poll_secs)
            waited += poll_secs


def _signal_done(master, config, worker_done):
    """Tells the parameter servers this worker is done, so they can exit."""
    with tf.Session(master, config=config) as session:
        try:
            session.run(worker_done, options=tf.RunOptions(timeout_in_ms=60000))
        except tf.errors.OpError as error:
            logging.warning('Could not tell the parameter servers this worker is done: %s',
                            error.message)
