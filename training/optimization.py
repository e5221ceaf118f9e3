"""Learning-rate schedules and optimizers, by TF-Slim's flag names, with their options."""

import dataclasses

import tensorflow.compat.v1 as tf

from common import summaries
from common.errors import ConfigurationError
from flag_options import option
from option_groups import OptionGroup

DECAY_TYPES = ('cosine', 'exponential', 'fixed', 'polynomial')

OPTIMIZERS = ('adadelta', 'adagrad', 'adam', 'ftrl', 'momentum', 'rmsprop', 'sgd')


@dataclasses.dataclass
class OptimizerOptions(OptionGroup):
    """TF-Slim's optimizer flags."""

    optimizer: str = option('rmsprop', 'The name of the optimizer.', choices=OPTIMIZERS)
    adadelta_rho: float = option(0.95, 'The decay rate for adadelta.', minimum=0.0, maximum=1.0)
    adagrad_initial_accumulator_value: float = option(
        0.1, 'Starting value for the AdaGrad accumulators.', minimum=0.0)
    adam_beta1: float = option(0.9, 'The exponential decay rate for the 1st moment estimates.',
                               minimum=0.0, maximum=1.0)
    adam_beta2: float = option(0.999, 'The exponential decay rate for the 2nd moment estimates.',
                               minimum=0.0, maximum=1.0)
    opt_epsilon: float = option(1.0, 'Epsilon term for the optimizer.', minimum=0.0)
    ftrl_learning_rate_power: float = option(-0.5, 'The learning rate power.', maximum=0.0)
    ftrl_initial_accumulator_value: float = option(
        0.1, 'Starting value for the FTRL accumulators.', minimum=0.0)
    ftrl_l1: float = option(0.0, 'The FTRL l1 regularization strength.', minimum=0.0)
    ftrl_l2: float = option(0.0, 'The FTRL l2 regularization strength.', minimum=0.0)
    momentum: float = option(
        0.9, 'The momentum for the MomentumOptimizer and RMSPropOptimizer.',
        minimum=0.0, maximum=1.0)
    rmsprop_momentum: float = option(0.9, 'Momentum.', minimum=0.0, maximum=1.0)
    rmsprop_decay: float = option(0.9, 'Decay term for RMSProp.', minimum=0.0, maximum=1.0)


@dataclasses.dataclass
class LearningRateOptions(OptionGroup):
    """TF-Slim's learning-rate flags, and warm-up."""

    learning_rate_decay_type: str = option(
        'exponential', 'Specifies how the learning rate is decayed (exponential decays in '
        'steps; cosine goes from --learning_rate down to --end_learning_rate at '
        '--max_number_of_steps).', choices=DECAY_TYPES)
    learning_rate: float = option(0.01, 'Initial learning rate.', minimum=0.0)
    end_learning_rate: float = option(
        0.0001, 'The minimal end learning rate used by a polynomial decay learning rate.',
        minimum=0.0)
    learning_rate_decay_factor: float = option(0.94, 'Learning rate decay factor.', minimum=0.0)
    num_epochs_per_decay: float = option(
        2.0, 'Number of epochs after which learning rate decays.', minimum=0.0)
    warmup_epochs: float = option(
        0.0, 'Epochs of linear learning-rate warm-up from 0 before the decay schedule.',
        minimum=0.0)


def decay_steps(num_samples_per_epoch, num_epochs_per_decay, batch_size, replicas_to_aggregate=1):
    """Steps over `num_epochs_per_decay` epochs: examples / batch size / aggregated replicas.

    Under synchronous replicas each global step consumes `replicas_to_aggregate` batches.
    """
    return max(1, int(num_samples_per_epoch * num_epochs_per_decay / batch_size
                      / replicas_to_aggregate))


def learning_rate_schedule(options, global_step, num_samples_per_epoch, batch_size,
                           replicas_to_aggregate=1, max_number_of_steps=None):
    """The learning-rate tensor of `options.learning_rate_decay_type`, after any warm-up.

    `options` is a `LearningRateOptions`. Epochs become steps of `batch_size` examples, each
    global step taking `replicas_to_aggregate` batches (synchronous replicas). With
    `warmup_epochs`, the rate rises linearly from 0 at step 0 to the schedule's value at
    the end of the warm-up, then follows the schedule; cosine decay ends at
    `max_number_of_steps`.
    """

    def steps_for(epochs):
        return decay_steps(num_samples_per_epoch, epochs, batch_size, replicas_to_aggregate)

    warmup_steps = steps_for(options.warmup_epochs) if options.warmup_epochs > 0 else 0
    step = tf.cast(global_step, tf.float32)
    steps_per_decay = steps_for(options.num_epochs_per_decay)
    decayed = _decayed_rate(options, steps_per_decay, warmup_steps, max_number_of_steps, step)
    if not warmup_steps:
        return decayed
    at_warmup_end = _decayed_rate(options, steps_per_decay, warmup_steps, max_number_of_steps,
                                  tf.constant(float(warmup_steps)))
    return tf.where(step < warmup_steps, at_warmup_end * step / warmup_steps, decayed,
                    name='warmup_learning_rate')


def _decayed_rate(options, steps_per_decay, warmup_steps, max_number_of_steps, step):
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
        if not max_number_of_steps or max_number_of_steps <= warmup_steps:
            raise ConfigurationError(
                '--learning_rate_decay_type=cosine decays to --end_learning_rate at '
                '--max_number_of_steps: set --max_number_of_steps (larger than the %d '
                'warm-up steps).' % warmup_steps)
        return tf.train.cosine_decay(
            options.learning_rate, tf.maximum(step - warmup_steps, 0.0),
            max_number_of_steps - warmup_steps,
            alpha=options.end_learning_rate / options.learning_rate,
            name='cosine_decay_learning_rate')
    raise ConfigurationError('Unknown --learning_rate_decay_type %r; valid types: %s.'
                             % (decay_type, ', '.join(DECAY_TYPES)))


def clip_gradients(grads_and_vars, max_norm, summarize=True):
    """`grads_and_vars` with the gradients scaled together to a global norm of at most
    `max_norm`; unchanged when it is 0. With `summarize`, the norm before clipping is
    summarised (replicated clones clip equal gradients: only the first summarises)."""
    if not max_norm:
        return grads_and_vars
    gradients, variables = zip(*grads_and_vars, strict=True)
    clipped, norm = tf.clip_by_global_norm(gradients, max_norm)
    if summarize:
        summaries.scalar('gradient_norm', norm)
    return list(zip(clipped, variables, strict=True))


def moving_average_decay(decay, warmup, global_step):
    """The moving average's decay at `global_step`: min(decay, (1 + step) / (warmup + step)),
    which is TensorFlow's `num_updates` ramp at warmup 10; the constant `decay` at 0."""
    if not warmup:
        return decay
    step = tf.cast(global_step, tf.float32)
    return tf.minimum(decay, (1.0 + step) / (warmup + step), name='moving_average_decay')


def make_optimizer(options, learning_rate):
    """The tf.train optimizer named by `options.optimizer` (an `OptimizerOptions`), with its
    TF-Slim hyper-parameters."""
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
    raise ConfigurationError('Unknown --optimizer %r; valid optimizers: %s.'
                             % (name, ', '.join(OPTIMIZERS)))
