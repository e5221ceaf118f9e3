"""The training loop: builds the graph, restores or fine-tunes, runs steps in a monitored
session on one machine or as one process of a cluster."""

import contextlib
import dataclasses
import os
import sys
import time

import tensorflow.compat.v1 as tf
from absl import logging
# TensorFlow's public API can switch op determinism on, but not tell whether it is on or
# switch it off again, which a training called from another program must do.
from tensorflow.python.framework import config as tf_config

from common import checkpoints, devices, errors, files
from common import session as sessions
from deployment import model_deploy
from nets import nets_factory
from training import cluster, hooks, run_record, train_graph


class NonFiniteLossError(errors.UserError):
    """Training stopped because a step's loss or gradients were NaN or infinite."""


class WorkerLostError(errors.UserError):
    """Training stopped because another worker of an all-reduce stopped or became
    unreachable."""



class _SessionLost(Exception):
    """A worker's session broke after training had started."""


class _SessionCreatedOnce(tf.train.SessionCreator):
    """Creates the session of `creator` until one is created, then refuses to create another.

    A monitored session recreates its session when a step fails for a preemption (a peer
    unavailable) and goes on: right for parameter servers, which keep the variables, but an
    all-reduce whose worker has died would only fail again, forever. Before the first
    session exists, a worker started ahead of the others tries again after `retry_secs`.
    """

    def __init__(self, creator, retry_secs=1.0):
        self._creator = creator
        self._retry_secs = retry_secs
        self._created = self._failed = False

    def create_session(self):
        if self._created:
            raise _SessionLost()
        if self._failed:
            time.sleep(self._retry_secs)
        self._failed = True
        session = self._creator.create_session()
        self._created = True
        return session


def _training_session(options, config, scaffold, session_hooks, collective):
    """The monitored session of this worker.

    Every worker of an all-reduce (`collective`) initialises its own variables (then takes
    the chief's in `scaffold`'s local_init_op); only the chief restores, saves checkpoints
    and writes summaries. With parameter servers only the chief initialises.
    """
    is_chief = options.task == 0
    if not collective:
        return tf.train.MonitoredTrainingSession(
            master=options.master, is_chief=is_chief, checkpoint_dir=options.train_dir,
            hooks=session_hooks.hooks, chief_only_hooks=session_hooks.chief_only_hooks,
            scaffold=scaffold, save_checkpoint_secs=None, save_checkpoint_steps=None,
            save_summaries_secs=options.save_summaries_secs, log_step_count_steps=None,
            config=config)
    hooks = list(session_hooks.hooks)
    if is_chief:
        hooks.extend(session_hooks.chief_only_hooks)
        if options.save_summaries_secs:
            hooks.append(tf.train.SummarySaverHook(
                save_secs=options.save_summaries_secs, output_dir=options.train_dir,
                scaffold=scaffold))
    creator = tf.train.ChiefSessionCreator(
        scaffold=scaffold, master=options.master, config=config,
        checkpoint_dir=options.train_dir if is_chief else None)
    return tf.train.MonitoredSession(session_creator=_SessionCreatedOnce(creator), hooks=hooks)


def check_options(options):
    """Fails early, before any graph is built, on settings that cannot work: each option
    group's checks (see `TrainOptions.check_fields`), then those that need this machine's
    devices or the networks' techniques."""
    options.check()
    train_graph.check_technique_options(options)
    if options.num_clones > 1 and not options.clone_on_cpu:
        gpus = len(devices.gpu_names())
        if gpus < options.num_clones:
            raise errors.ConfigurationError(
                '--num_clones=%d places one clone per GPU, and this machine has %d GPU(s). '
                'Lower --num_clones to %d, or pass --clone_on_cpu to run the clones on the CPU.'
                % (options.num_clones, gpus, max(gpus, 1)))


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
    # The cluster first: a bad TF_CONFIG stops the run before train_dir is touched.
    replicated = options.variable_update == model_deploy.REPLICATED
    cluster_config = cluster.cluster_from_flags(
        options.ps_hosts, options.worker_hosts, options.job_name, options.task,
        collective=replicated)
    check_options(options)
    cpu_devices = train_graph.deployment_config(
        dataclasses.replace(options, worker_replicas=1, task=0, num_ps_tasks=0)).cpu_devices()
    devices.log_devices()
    is_chief = cluster_config.is_chief if cluster_config else options.task == 0
    if is_chief:
        # The options as given: a cluster's worker gets its master and task filled in below.
        run_record.record_run(options, sys.argv)
    if not cluster_config:
        if replicated and options.worker_replicas > 1:
            raise errors.ConfigurationError(
                '--worker_replicas=%d with --variable_update=replicated needs the cluster: pass '
                '--worker_hosts (one host:port per worker) and --task, or TF_CONFIG; every '
                'worker then takes part in each step\'s all-reduce.' % options.worker_replicas)
        if options.sync_replicas:
            # TF-Slim accepted this, so it stays legal; it is rarely what was meant.
            logging.warning('--sync_replicas without a cluster (--worker_hosts or TF_CONFIG): '
                            'this one process aggregates %d of its own gradients per step. '
                            'Leave --sync_replicas out unless that is what you want.',
                            options.replicas_to_aggregate)
        return _train_worker(options, sessions.session_config(_precision(options), cpu_devices))
    server = cluster.start_server(cluster_config, cpu_devices)
    if cluster_config.job_name == cluster.PS_JOB:
        cluster.serve_until_workers_done(cluster_config, server)
        return None
    options = dataclasses.replace(
        options, master=server.target, task=cluster_config.task_index,
        worker_replicas=cluster_config.num_workers, num_ps_tasks=cluster_config.num_ps_tasks)
    config = sessions.configure_session(
        cluster.device_filter_config(cluster_config, cpu_devices), _precision(options))
    try:
        return _train_worker(options, config, cluster_config)
    finally:
        # Whatever ended this worker (its last step, a bad flag found while building the
        # graph, an error), the parameter servers must learn of it or they would serve forever.
        if not cluster_config.collective:
            _signal_done(options.master, config, cluster_config)


def _precision(options):
    """Logs the start-up line of --mixed_precision; returns the precision the sessions compute
    in (float32 for a network slower in bfloat16, see `sessions.effective_precision`)."""
    return sessions.announce_precision(
        options.mixed_precision, options.model_name,
        nets_factory.network_spec(options.model_name).slower_in_bfloat16)


def _train_worker(options, config, cluster_config=None):
    """The training loop of a single machine or of one worker (`cluster_config`)."""
    is_chief = options.task == 0
    # Workers that all-reduce each hold their own variables: each initialises them, then
    # takes the chief's values (its restored checkpoint) in the graph's sync_replicas_op.
    collective = cluster_config is not None and cluster_config.collective
    with tf.Graph().as_default(), _reproducibility(options):
        graph = train_graph.build_train_graph(options)
        init_fn = _init_fn(options, graph, is_chief)
        logging.info('Training %s on %s/%s (%d examples) into %s%s', options.model_name,
                     options.dataset_name, options.dataset_split_name,
                     graph.dataset_split.num_samples, options.train_dir,
                     ' as worker %d of %d' % (options.task, options.worker_replicas)
                     if options.worker_replicas > 1 else '')
        session_hooks = _SessionHooks(options, graph, is_chief)
        global_step = tf.train.get_global_step()
        final_step_path = os.path.join(options.train_dir, checkpoints.FINAL_STEP_FILENAME)
        if is_chief:
            # Training goes on, so evaluators must not stop at the old final step.
            files.remove_file(final_step_path)
            run_record.write_hparams_session(options, sys.argv)
        if not is_chief and not collective:
            _wait_for_chief(options.master, config)
        try:
            scaffold = tf.train.Scaffold(init_fn=init_fn, saver=session_hooks.saver,
                                         local_init_op=graph.sync_replicas_op)
            with _training_session(options, config, scaffold, session_hooks,
                                   collective) as session:
                while not session.should_stop():
                    session.run(graph.train_tensor)
                final_step = session.run_step_fn(
                    lambda step_context: step_context.session.run(global_step))
                if session_hooks.release_workers is not None:
                    session.run_step_fn(lambda step_context: step_context.session.run(
                        session_hooks.release_workers))
        except _SessionLost:
            raise WorkerLostError(
                'Training stopped at step %d: a worker of the all-reduce stopped or cannot be '
                'reached, so no worker can finish the step. Restart every worker with the same '
                'flags; training resumes from the last checkpoint, %s.'
                % (session_hooks.progress_logger.step + 1,
                   tf.train.latest_checkpoint(options.train_dir) or 'none yet')) from None
        except (tf.errors.NotFoundError, tf.errors.InvalidArgumentError) as error:
            # Restoring --train_dir's checkpoint fails so when another run wrote it.
            mismatch = _resume_mismatch(options) if is_chief else None
            if mismatch:
                raise mismatch from None
            # Raised outside the session block, so no checkpoint of this state is saved.
            if (not isinstance(error, tf.errors.InvalidArgumentError)
                    or train_graph.NON_FINITE_MESSAGE not in error.message):
                raise
            raise NonFiniteLossError(
                'Training stopped at step %d: the loss or a gradient is NaN or infinite, so '
                'the step was not applied. The last checkpoint, %s, is intact. Lower '
                '--learning_rate (or add warm-up with --warmup_epochs) and check the input '
                'data, then run again to resume.'
                % (session_hooks.progress_logger.step + 1,
                   tf.train.latest_checkpoint(options.train_dir) or 'none yet')) from None
    if is_chief:
        files.write_file_atomically(final_step_path, b'%d\n' % final_step)
    logging.info('Finished training at step %d; checkpoints in %s', final_step, options.train_dir)
    return int(final_step)


def _resume_mismatch(options):
    """The CheckpointMismatchError of the latest checkpoint of --train_dir if the model in the
    default graph cannot resume from it, saying whether another network, class count or
    training set-up wrote it; else None."""
    checkpoint = tf.train.latest_checkpoint(options.train_dir)
    if not checkpoint:
        return None
    other_shapes, missing = checkpoints.checkpoint_mismatches(
        checkpoint, checkpoints.variables_by_checkpoint_name())
    held_scopes = sorted({name.split('/')[0] for name in
                          checkpoints.read_checkpoint(checkpoint).get_variable_to_shape_map()})
    weights = {variable.op.name for variable in tf.trainable_variables()}
    foreign = [name for name in missing
               if name in weights and name.split('/')[0] not in held_scopes]
    if foreign:
        written_by = ('another network: it has no %s (its variables are under %s)'
                      % (foreign[0], ', '.join(held_scopes)))
    elif other_shapes:
        name, held_shape, model_shape = other_shapes[0]
        class_count = all(held[:-1] == wanted[:-1] for _, held, wanted in other_shapes)
        written_by = ('another %s: %s is %s there and %s in this model'
                      % ('class count' if class_count else 'network configuration', name,
                         held_shape, model_shape))
    elif missing:
        written_by = ('another training set-up (--optimizer, --moving_average_decay or '
                      '--mixed_precision): it has no %s' % missing[0])
    else:
        return None
    exclude_scopes = sorted({checkpoints.layer_scope(name) for name, _, _ in other_shapes})
    return errors.CheckpointMismatchError(
        '--train_dir=%s holds %s, a checkpoint of %s. Train --model_name=%s in a new '
        '--train_dir, or resume with the flags of the run that wrote it.%s'
        % (options.train_dir, checkpoint, written_by, options.model_name,
           ' To start from its other layers, pass it as --checkpoint_path with a new '
           '--train_dir and --checkpoint_exclude_scopes=%s.' % ','.join(exclude_scopes)
           if exclude_scopes else ''))


@contextlib.contextmanager
def _reproducibility(options):
    """Seeds the default graph with --seed. With --deterministic_input as well, TensorFlow's
    op determinism is on until the block ends (it makes tf.data and the kernels keep a fixed
    order), so two runs give the same loss at every step."""
    if options.seed is None:
        yield
        return
    tf.set_random_seed(options.seed)
    switch_on = options.deterministic_input and not tf_config.is_op_determinism_enabled()
    if switch_on:
        tf_config.enable_op_determinism()
    logging.info('Random seed %d%s', options.seed,
                 '; TensorFlow op determinism is on' if options.deterministic_input else
                 ' (add --deterministic_input for a run that repeats exactly)')
    try:
        yield
    finally:
        if switch_on:
            tf_config.disable_op_determinism()


def _init_fn(options, graph, is_chief):
    """The Scaffold init_fn that fine-tunes from --checkpoint_path, or None when the chief
    resumes from train_dir's checkpoint (or there is nothing to restore)."""
    if not is_chief:
        # The chief initialises, restores or fine-tunes; the others take its values.
        return None
    latest = tf.train.latest_checkpoint(options.train_dir)
    if latest:
        logging.info('Resuming from checkpoint %s%s', latest,
                     '; --checkpoint_path=%s is ignored' % options.checkpoint_path
                     if options.checkpoint_path else '')
        return None
    if options.checkpoint_path:
        return _fine_tuning_init_fn(options, graph.copy_to_averages)
    return None


class _SessionHooks:
    """The hooks of a worker's monitored session and the saver of its checkpoints.

    Attributes:
      hooks, chief_only_hooks: for tf.train.MonitoredTrainingSession.
      saver: the tf.train.Saver of the checkpoints.
      progress_logger: the `hooks.ProgressLogger`, which knows the last step run.
      release_workers: on the chief of synchronous replicas, the op that lets workers
        blocked in a step finish it; else None.
    """

    def __init__(self, options, graph, is_chief):
        self.progress_logger = hooks.ProgressLogger(
            graph.train_tensor, graph.learning_rate,
            options.batch_size * options.num_clones * train_graph.batches_per_step(options),
            options.log_every_n_steps, options.max_number_of_steps, graph.skipped_records,
            graph.loss_scale_optimizer)
        self.hooks = [self.progress_logger]
        if options.max_number_of_steps:
            self.hooks.append(hooks.StopAtStepHook(last_step=options.max_number_of_steps))
        self.release_workers = None
        if graph.sync_optimizer and is_chief:
            chief_hook = hooks.SyncReplicasChiefHook(graph.sync_optimizer, options.worker_replicas)
            self.hooks.append(chief_hook)
            self.release_workers = chief_hook.release_workers
        elif graph.sync_optimizer:
            self.hooks.append(graph.sync_optimizer.make_session_run_hook(is_chief))
        self.saver = tf.train.Saver(
            sharded=True, max_to_keep=options.keep_checkpoint_max,
            keep_checkpoint_every_n_hours=options.keep_checkpoint_every_n_hours)
        self.chief_only_hooks = [hooks.CheckpointSaver(options.train_dir,
                                                       options.save_interval_secs, self.saver)]


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


def _signal_done(master, config, cluster_config):
    """Tells the parameter servers this worker is done, so they can exit."""
    with tf.Graph().as_default():
        worker_done = cluster.worker_done_op(cluster_config)
        with tf.Session(master, config=config) as session:
            try:
                session.run(worker_done, options=tf.RunOptions(timeout_in_ms=60000))
            except tf.errors.OpError as error:
                logging.warning('Could not tell the parameter servers this worker is done: %s',
                                error.message)
