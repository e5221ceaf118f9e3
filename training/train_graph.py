"""The training graph: dataset -> preprocessing -> network -> losses -> clones -> train op."""

import contextlib
import dataclasses
import functools
import inspect
from collections.abc import Callable

import tensorflow.compat.v1 as tf

import flag_options
from common import checkpoints, summaries
from common.errors import ConfigurationError
from common.session import FLOAT16
from datasets import dataset_factory, input_pipeline
from deployment import model_deploy, replication
from nets import nets_factory
from preprocessing import augmentation, batch_augmentation
from training import loss_scaling, losses, optimization


# The message of the in-graph check that stops a step whose loss or gradients are not finite.
NON_FINITE_MESSAGE = 'Non-finite loss or gradient'


def _add_end_point_summaries(end_points):
    for name, tensor in end_points.items():
        summaries.histogram('activations/' + name, tensor)
        summaries.scalar('sparsity/' + name, tf.nn.zero_fraction(tensor))


def variables_to_train(trainable_scopes):
    """The trainable variables whose names start with a scope of `trainable_scopes` (a flag
    value, TF-Slim's rule); all when it is empty. Logs what each scope selects.

    Raises:
      ValueError: the scopes select no trainable variable; the message lists the model's
        scopes.
    """
    trainable = tf.trainable_variables()
    scopes = checkpoints.parse_scopes(trainable_scopes)
    if not scopes:
        return trainable
    names = [v.op.name for v in trainable]
    unmatched = checkpoints.log_scope_selections('--trainable_scopes', scopes, names)
    if len(unmatched) == len(scopes):
        known = sorted({checkpoints.layer_scope(name) for name in names})
        raise ConfigurationError('--trainable_scopes: %s match(es) no trainable variable. The '
                                 'model\'s scopes are: %s.'
                                 % (', '.join(unmatched), ', '.join(known)))
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


def _finite_check(total_loss, grads_and_vars, loss_scale_optimizer=None):
    """The op failing the step with NON_FINITE_MESSAGE if the loss or a gradient is NaN or
    infinite. Under loss scaling (`loss_scale_optimizer`), gradients that overflow only skip
    the step, until the scale is at its minimum: then they are divergence too.

    Returns:
      (the check op, bool [] whether the gradients are finite under loss scaling, for the
      optimizer to skip the step on; None without it).
    """
    gradients = loss_scaling.gradient_values(grads_and_vars)
    gradients_finite = None
    if loss_scale_optimizer is None:
        healthy = loss_scaling.all_finite([total_loss] + gradients)
    else:
        gradients_finite = loss_scaling.all_finite(gradients)
        healthy = tf.logical_and(
            loss_scaling.all_finite([total_loss]),
            tf.logical_or(gradients_finite, loss_scale_optimizer.can_lower()))
    check = tf.debugging.Assert(healthy, [NON_FINITE_MESSAGE, 'loss', total_loss],
                                name='finite_check')
    return check, gradients_finite


def _guard_finite(total_loss, grads_and_vars, loss_scale_optimizer=None):
    """Gradients that exist only if the loss and every gradient are finite (see
    `_finite_check`): a NaN or infinite value fails the step before any variable changes.

    Returns:
      (the guarded grads_and_vars, `_finite_check`'s gradients_finite).
    """
    check, gradients_finite = _finite_check(total_loss, grads_and_vars, loss_scale_optimizer)
    with tf.control_dependencies([check]):
        return loss_scaling.map_gradients(tf.identity, grads_and_vars), gradients_finite


@dataclasses.dataclass
class TrainGraph:
    """The tensors and ops of a built training graph.

    train_tensor: runs one step (update, batch-norm statistics, moving averages); its value
      is the total loss.
    copy_to_averages: sets every moving average to its variable (after a fine-tuning restore),
      or None without --moving_average_decay.
    sync_optimizer: the tf.train.SyncReplicasOptimizer under --sync_replicas, else None.
    skipped_records: int64 [], the unreadable input records skipped so far.
    loss_scale_optimizer: the `loss_scaling.LossScaleOptimizer` of float16 (clone 0's under
      --variable_update=replicated), else None.
    deploy_config: the `model_deploy.DeploymentConfig`; sessions need its `cpu_devices()`.
    sync_replicas_op: under --variable_update=replicated, the op that initialises the local
      variables and then makes every clone's copy equal to clone 0's variable (and, across
      workers, every worker's variables equal to the chief's): the Scaffold's local_init_op,
      run after the global variables are initialised or restored. None otherwise.
    """

    train_tensor: tf.Tensor
    total_loss: tf.Tensor
    learning_rate: tf.Tensor
    dataset_split: object
    copy_to_averages: tf.Operation | None
    sync_optimizer: tf.train.SyncReplicasOptimizer | None
    skipped_records: tf.Tensor
    loss_scale_optimizer: loss_scaling.LossScaleOptimizer | None = None
    deploy_config: model_deploy.DeploymentConfig | None = None
    sync_replicas_op: tf.Operation | None = None


@dataclasses.dataclass(frozen=True)
class TrainInput:
    """What the clones train on.

    dataset_split: the split read; its num_samples is the epoch of the learning-rate schedule.
    num_classes: the classes of the labels, the outputs of the network.
    make_batches: (image_size, deploy_config) -> a function returning the next batch,
      {'images': float32 [batch, image_size, image_size, C], 'labels': int64 [batch],
      'skipped': int64 [] (records that could not be read so far)}.
    """

    dataset_split: object
    num_classes: int
    make_batches: Callable


def dataset_input(options):
    """The `TrainInput` reading the options' dataset split through the input pipeline."""
    dataset_split, num_classes = dataset_factory.split_and_num_classes(options)
    return TrainInput(dataset_split, num_classes,
                      functools.partial(_dataset_batches, options, dataset_split))


def deployment_config(options, split_cpu=False):
    """The `model_deploy.DeploymentConfig` of `options` (a `TrainOptions`); `split_cpu` puts
    clones on the CPU on their own logical devices in parameter_server mode too."""
    return model_deploy.DeploymentConfig(
        num_clones=options.num_clones, clone_on_cpu=options.clone_on_cpu,
        replica_id=options.task, num_replicas=options.worker_replicas,
        num_ps_tasks=options.num_ps_tasks, variable_update=options.variable_update,
        split_cpu=split_cpu)


def batches_per_step(options):
    """The batches of --batch_size per clone that one global step trains on, over workers:
    --replicas_to_aggregate under --sync_replicas, --worker_replicas when replicated
    workers all-reduce, else 1."""
    if options.sync_replicas:
        return options.replicas_to_aggregate
    if options.variable_update == model_deploy.REPLICATED:
        return options.worker_replicas
    return 1


def build_train_graph(options, train_input=None, split_cpu=False):
    """Builds the training graph of `options` (a `TrainOptions`) in the default graph.

    The clones train on `train_input` (a `TrainInput`; default: `dataset_input(options)`).
    `split_cpu`: see `deployment_config`.
    """
    deploy_config = deployment_config(options, split_cpu)
    with tf.device(deploy_config.variables_device()):
        global_step = tf.train.get_or_create_global_step()

    train_input = train_input or dataset_input(options)
    num_classes = train_input.num_classes
    network_fn = nets_factory.get_network_fn(
        options.model_name, num_classes=num_classes, weight_decay=options.weight_decay,
        is_training=True)
    image_size = options.train_image_size or network_fn.default_image_size
    next_batch = train_input.make_batches(image_size, deploy_config)

    network_arguments = ({} if options.drop_path_keep_prob is None
                         else {'drop_path_keep_prob': options.drop_path_keep_prob})

    def clone_fn():
        batch = next_batch()
        images, labels = _augment_batch(options, batch['images'], batch['labels'], num_classes)
        logits, end_points = network_fn(images, **network_arguments)
        losses.add_classification_losses(
            logits, end_points, labels, num_classes,
            label_smoothing=options.label_smoothing, aux_loss_weight=options.aux_loss_weight)
        return images, end_points, batch['skipped']

    replicas = (replication.Replicas(deploy_config.num_clones) if deploy_config.replicated
                else None)
    clones = model_deploy.create_clones(deploy_config, clone_fn, replicas=replicas)
    first_clone_images, first_clone_end_points, skipped_records = clones[0].outputs
    summaries.image('images', first_clone_images, max_outputs=3)
    summaries.scalar('input/corrupt_records_skipped', skipped_records)
    _add_end_point_summaries(first_clone_end_points)
    return _optimize_clones(options, deploy_config, clones, global_step, replicas,
                            train_input.dataset_split, skipped_records)


def supports_drop_path(model_name):
    """Whether network `model_name` takes a `drop_path_keep_prob` argument."""
    return model_name in nets_factory.networks_map and 'drop_path_keep_prob' in \
        inspect.signature(nets_factory.networks_map[model_name]).parameters


def check_technique_options(options):
    """Raises ConfigurationError for a training-technique flag that cannot work with the
    others."""
    keep_prob = options.drop_path_keep_prob
    if keep_prob is None:
        return
    if keep_prob <= 0:
        raise ConfigurationError('--drop_path_keep_prob=%s: a keep probability must be above 0 '
                                 '(1 turns drop path off).' % keep_prob)
    if not supports_drop_path(options.model_name):
        raise ConfigurationError(
            '--drop_path_keep_prob=%s: %s has no drop path (stochastic depth); networks that '
            'have it: %s.' % (keep_prob, options.model_name, ', '.join(
                name for name in sorted(nets_factory.networks_map) if supports_drop_path(name))))


def _augment_batch(options, images, labels, num_classes):
    """The batch after random erasing and mixup or CutMix, as the options ask.

    Returns (images, labels): int labels [batch] unchanged, or float32 [batch, num_classes]
    probability vectors when the images are mixed.
    """
    if options.random_erasing_prob > 0:
        images = batch_augmentation.random_erasing(images, options.random_erasing_prob)
    if options.mixup_alpha > 0 or options.cutmix_alpha > 0:
        images, labels = batch_augmentation.mix_batch(
            images, tf.one_hot(labels, num_classes), options.mixup_alpha,
            options.cutmix_alpha, options.mixup_switch_prob)
    return images, labels


def _dataset_batches(options, dataset_split, image_size, deploy_config):
    """The function returning the input pipeline's next batch of `dataset_split`."""
    # On a cluster, each worker reads its own share of the data.
    across_workers = deploy_config.num_replicas > 1
    with tf.device(deploy_config.inputs_device()):
        batches = input_pipeline.batched_images(
            dataset_split, options.preprocessing, is_training=True,
            image_size=image_size, batch_size=options.batch_size,
            num_workers=options.worker_replicas if across_workers else 1,
            worker_index=options.task if across_workers else 0,
            augment=augmentation.image_augmenter(options.augmentation,
                                                 options.randaugment_num_layers,
                                                 options.randaugment_magnitude),
            **options.pipeline_arguments())
        iterator = tf.data.make_one_shot_iterator(batches)
    return iterator.get_next


@dataclasses.dataclass
class _CloneOptimizer:
    """A clone's optimizer: `optimizer` computes and applies its gradients; `base` is the
    tf.train optimizer inside any wrappers (its state is the slots)."""

    optimizer: object
    base: tf.train.Optimizer
    sync_optimizer: tf.train.SyncReplicasOptimizer | None
    loss_scale_optimizer: loss_scaling.LossScaleOptimizer | None


def _clone_optimizer(options, learning_rate, moving_averages, averaged_variables):
    """The `_CloneOptimizer` of the options: the optimizer, for synchronous replicas and
    under float16 wrapped."""
    optimizer = base = optimization.make_optimizer(
        flag_options.subset(options, optimization.OptimizerOptions), learning_rate)
    sync_optimizer = loss_scale_optimizer = None
    if options.sync_replicas:
        # The chief's queue runner applies the averaged gradients and the moving averages.
        optimizer = sync_optimizer = tf.train.SyncReplicasOptimizer(
            optimizer, replicas_to_aggregate=options.replicas_to_aggregate,
            total_num_replicas=options.worker_replicas, variable_averages=moving_averages,
            variables_to_average=averaged_variables if moving_averages else None)
    if options.mixed_precision == FLOAT16:
        optimizer = loss_scale_optimizer = loss_scaling.LossScaleOptimizer(
            optimizer, options.initial_loss_scale)
    return _CloneOptimizer(optimizer, base, sync_optimizer, loss_scale_optimizer)


def _optimize_clones(options, deploy_config, clones, global_step, replicas, dataset_split,
                     skipped_records):
    """The losses, gradients, update, batch-norm statistics and moving averages of a step.

    With `replicas` (replicated mode) each clone's optimizer updates its own copy with the
    all-reduced gradients. Returns the `TrainGraph`; `dataset_split` and `skipped_records`
    are passed into it.
    """
    # Batch-norm statistics are updated from the first clone only, as in TF-Slim.
    update_ops = _update_ops(clones[0].scope, options.trainable_scopes)

    moving_averages, averaged_variables = None, tf.model_variables()
    if options.moving_average_decay:
        with tf.device(deploy_config.variables_device()):
            moving_averages = tf.train.ExponentialMovingAverage(
                optimization.moving_average_decay(options.moving_average_decay,
                                                  options.ema_warmup, global_step))

    num_optimizers = len(clones) if replicas else 1
    clone_optimizers = []
    with tf.device(deploy_config.optimizer_device()):
        learning_rate = optimization.learning_rate_schedule(
            flag_options.subset(options, optimization.LearningRateOptions), global_step,
            dataset_split.num_samples, options.batch_size, batches_per_step(options),
            options.max_number_of_steps)
        for index in range(num_optimizers):
            with _replica_scope(replicas, index):
                clone_optimizers.append(_clone_optimizer(options, learning_rate,
                                                         moving_averages, averaged_variables))
    first = clone_optimizers[0]
    if first.loss_scale_optimizer:
        summaries.scalar('loss_scale', first.loss_scale_optimizer.loss_scale)

    var_list = variables_to_train(options.trainable_scopes)
    if replicas:
        collective_keys = replication.CollectiveKeys()
        total_loss, clone_grads_and_vars = model_deploy.clone_gradients(
            clones, [clone.optimizer for clone in clone_optimizers],
            [replicas.variables_of(index, var_list) for index in range(len(clones))])
        clone_grads_and_vars = model_deploy.all_reduce_gradients(
            deploy_config, clones, clone_grads_and_vars, collective_keys)
    else:
        total_loss, grads_and_vars = model_deploy.optimize_clones(
            clones, first.optimizer, var_list=var_list)
        clone_grads_and_vars = [grads_and_vars]
    # Tagged explicitly: a tf.summary op named after the loss op 'total_loss' or a variable
    # would be tagged 'total_loss_1' or 'LeNet/conv1/weights_1'.
    for loss in tf.get_collection(tf.GraphKeys.LOSSES):
        summaries.scalar('losses/%s' % loss.op.name, loss)
    summaries.scalar('total_loss', total_loss)
    summaries.scalar('learning_rate', learning_rate)
    for variable in tf.model_variables():
        summaries.histogram(variable.op.name, variable)

    step_ops = list(update_ops)
    for index, (clone_optimizer, grads_and_vars) in enumerate(
            zip(clone_optimizers, clone_grads_and_vars, strict=True)):
        with _replica_scope(replicas, index, clones[index].device):
            step_ops.append(_apply_gradients(options, clone_optimizer, total_loss,
                                             grads_and_vars,
                                             global_step if index == 0 else None))
    if replicas:
        for index in range(1, len(clones)):
            replicas.pair_optimizer_state(first.base, clone_optimizers[index].base, index)
    copy_to_averages = None
    if moving_averages:
        if not first.sync_optimizer:
            # Averages follow the weights after this step's update.
            with tf.control_dependencies(step_ops):
                step_ops = [moving_averages.apply(averaged_variables)]
        copy_to_averages = tf.group(*[tf.assign(moving_averages.average(v), v)
                                      for v in averaged_variables], name='copy_to_averages')
    with tf.control_dependencies(step_ops):
        train_tensor = tf.identity(total_loss, name='train_op')
    sync_replicas_op = None
    if replicas:
        local_init = tf.train.Scaffold.default_local_init_op()
        sync_replicas_op = tf.group(local_init, replicas.sync_op(
            deploy_config, collective_keys, after=[local_init]))
    return TrainGraph(train_tensor, total_loss, learning_rate, dataset_split, copy_to_averages,
                      first.sync_optimizer, skipped_records, first.loss_scale_optimizer,
                      deploy_config, sync_replicas_op)


@contextlib.contextmanager
def _replica_scope(replicas, clone_index, device=None):
    """Builds clone `clone_index`'s optimizer state as its replica's (on `device`, if given);
    without `replicas` (parameter_server mode), changes nothing."""
    if not replicas:
        yield
        return
    with replicas.optimizer_scope(clone_index), \
            tf.device(device) if device else contextlib.nullcontext():
        yield


def _apply_gradients(options, clone_optimizer, total_loss, grads_and_vars, global_step):
    """The op updating the variables of `grads_and_vars` (and advancing `global_step` unless
    it is None); it fails the step if the loss or a gradient is not finite.

    Where other processes read the variables (parameter servers), the update waits for the
    check, so a non-finite step never reaches them; that holds every gradient until the last
    one is computed (0.2 GB more peak memory for inception_v3 at batch 32). Elsewhere the
    check runs beside the update: the failed step's variables exist only in this process's
    session, which the error ends before any checkpoint is saved. Loss scaling always checks
    first, as it skips an overflowing step instead of failing it.
    """
    loss_scale_optimizer = clone_optimizer.loss_scale_optimizer
    check_first = bool(loss_scale_optimizer or options.num_ps_tasks or options.sync_replicas)
    if check_first:
        gradients, gradients_finite = _guard_finite(total_loss, grads_and_vars,
                                                    loss_scale_optimizer)
    else:
        gradients = grads_and_vars
        check, gradients_finite = _finite_check(total_loss, grads_and_vars)
    # Under float16 the gradients are unscaled already; a skipped step's are never applied.
    gradients = optimization.clip_gradients(gradients, options.clip_gradient_norm,
                                            summarize=global_step is not None)
    # The loss-scale optimizer skips the step on the finiteness the guard has computed.
    skip_arguments = {'gradients_finite': gradients_finite} if loss_scale_optimizer else {}
    update = clone_optimizer.optimizer.apply_gradients(gradients, global_step=global_step,
                                                       **skip_arguments)
    return update if check_first else tf.group(update, check)
