"""Learning-rate schedules and optimizers, by TF-Slim's flag names."""

import tensorflow.compat.v1 as tf

DECAY_TYPES = ('cosine', 'exponential', 'fixed', 'polynomial')

OPTIMIZERS = ('adadelta', 'adagrad', 'adam', 'ftrl', 'momentum', 'rmsprop', 'sgd')


def decay_steps(num_samples_per_epoch, num_epochs_per_decay, batch_size, replicas_to_aggregate=1):
    """Steps over `num_epochs_per_decay` epochs: examples / batch size / aggregated replicas.

    Under synchronous replicas each global step consumes `replicas_to_aggregate` batches.
    """
    return max(1, int(num_samples_per_epoch * num_epochs_per_decay / batch_size
                      / replicas_to_aggregate))


def learning_rate_schedule(options, num_samples_per_epoch, global_step):
    """The learning-rate tensor of `options.learning_rate_decay_type`, after any warm-up.

    `options` carries TF-Slim's learning-rate settings (see `TrainOptions`). With
    `warmup_epochs`, the rate rises linearly from 0 at step 0 to the schedule's value at
    the end of the warm-up, then follows the schedule.
    """
    replicas = options.replicas_to_aggregate if options.sync_replicas else 1

    def steps_for(epochs):
        return decay_steps(num_samples_per_epoch, epochs, options.batch_size, replicas)

    warmup_steps = steps_for(options.warmup_epochs) if options.warmup_epochs > 0 else 0
    step = tf.cast(global_step, tf.float32)
    decayed = _decayed_rate(options, steps_for(options.num_epochs_per_decay), warmup_steps, step)
    if not warmup_steps:
        return decayed
    at_warmup_end = _decayed_rate(options, steps_for(options.num_epochs_per_decay),
                                  warmup_steps, tf.constant(float(warmup_steps)))
    return tf.where(step < warmup_steps, at_warmup_end * step / warmup_steps, decayed,
                    name='warmup_learning_rate')


def _decayed_rate(options, steps_per_decay, warmup_steps, step):
    decay_type = options.learning_rate_decay_type
    if decay_type == 'exponential':
        return tf.train.exponential_decay(
            options.learning_rate, step, steps_per_decay, options.learning_rate_decay_factor,
            staircase=True, name='exponential_decay_learning_rate')
    if decay_type == 'fixed':
        return tf.constant(options.learning_rate, name='fixed_learning_rate')
    if decay_type == 'polynomial':
        return tf.train.polynomial_decay(
            options.learning_rate, step, steps_per_decay, options.end_learning_rate, power=1.0,
            cycle=False, name='polynomial_decay_learning_rate')
    if decay_type == 'cosine':
        if not options.max_number_of_steps or options.max_number_of_steps <= warmup_steps:
            raise ValueError(
                '--learning_rate_decay_type=cosine decays to --end_learning_rate at '
                '--max_number_of_steps: set --max_number_of_steps (larger than the %d '
                'warm-up steps).' % warmup_steps)
        return tf.train.cosine_decay(
            options.learning_rate, tf.maximum(step - warmup_steps, 0.0),
            options.max_number_of_steps - warmup_steps,
            alpha=options.end_learning_rate / options.learning_rate,
            name='cosine_decay_learning_rate')
    raise ValueError('Unknown --learning_rate_decay_type %r; valid types: %s.'
                     % (decay_type, ', '.join(DECAY_TYPES)))


def make_optimizer(options, learning_rate):
    """The tf.train optimizer named by `options.optimizer`, with its TF-Slim hyper-parameters."""
    name = options.optimizer
    if name == 'adadelta':
        return tf.train.AdadeltaOptimizer(
            learning_rate, rho=options.adadelta_rho, epsilon=options.opt_epsilon)
    if name == 'adagrad':
        return tf.train.AdagradOptimizer(
            learning_rate, initial_accumulator_value=options.adagrad_initial_accumulator_value)
    if name == 'adam':
        return tf.train.AdamOptimizer(
            learning_rate, beta1=options.adam_beta1, beta2=options.adam_beta2,
            epsilon=options.opt_epsilon)
    if name == 'ftrl':
        return tf.train.FtrlOptimizer(
            learning_rate, learning_rate_power=options.ftrl_learning_rate_power,
            initial_accumulator_value=options.ftrl_initial_accumulator_value,
            l1_regularization_strength=options.ftrl_l1,
            l2_regularization_strength=options.ftrl_l2)
    if name == 'momentum':
        return tf.train.MomentumOptimizer(learning_rate, momentum=options.momentum, name='Momentum')
    if name == 'rmsprop':
        return tf.train.RMSPropOptimizer(
            learning_rate, decay=options.rmsprop_decay, momentum=options.rmsprop_momentum,
            epsilon=options.opt_epsilon)
    if name == 'sgd':
        return tf.train.GradientDescentOptimizer(learning_rate)
    raise ValueError('Unknown --optimizer %r; valid optimizers: %s.'
                     % (name, ', '.join(OPTIMIZERS)))
