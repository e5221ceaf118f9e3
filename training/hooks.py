"""The session hooks of the training loop: progress lines, checkpoints, synchronous replicas."""

import os
import threading
import time

import tensorflow.compat.v1 as tf
from absl import logging

from common import memory, progress


class ProgressLogger(tf.train.SessionRunHook):
    """Logs step, loss, learning rate, examples/sec, ETA and the process's peak memory (see
    `common.memory`) every `every_n_steps` steps, and the count of corrupt input records
    skipped so far (`skipped_records`) once there are any.

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
        logging.info('step %d%s: loss = %.4f, learning rate = %.6g, %.1f examples/sec, ETA %s, '
                     'peak memory %s%s',
                     self._step, '/%d' % self._last_step if self._last_step else '',
                     run_values.results['loss'], run_values.results['learning_rate'],
                     examples_per_sec, progress.format_eta(remaining), memory.peak_memory(),
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


class StopAtStepHook(tf.train.StopAtStepHook):
    """TensorFlow's StopAtStepHook, which also stops a session that starts at or past the
    last step: TensorFlow's checks only after a step, so resuming a finished run would train
    one step more."""

    def after_create_session(self, session, coord):
        super().after_create_session(session, coord)
        if session.run(self._global_step_tensor) >= self._last_step:
            coord.request_stop()


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
