"""Learning-rate schedules and optimizers, by TF-Slim's flag names."""

import tensorflow.compat.v1 as tf

DECAY_TYPES = ('exponential', 'fixed', 'polynomial')

OPTIMIZERS = ('adadelta', 'adagrad', 'adam', 'ftrl', 'momentum', 'rmsprop', 'sgd')


def decay_steps(num_samples_per_epoch, num_epochs_per_decay, batch_size):
    """Steps between decays: the examples of `num_epochs_per_decay` epochs over the batch size."""
    return max(1, int(num_samples_per_epoch * num_epochs_per_decay / batch_size))


def learning_rate_schedule(options, num_samples_per_epoch, global_step):
    """The learning-rate tensor of `options.learning_rate_decay_type`.

    `options` carries TF-Slim's learning-rate settings (see `TrainOptions`).
    """
    steps = decay_steps(num_samples_per_epoch, options.num_epochs_per_decay, options.batch_size)
    decay_type = options.learning_rate_decay_type
    if decay_type == 'exponential':
        return tf.train.exponential_decay(
            options.learning_rate, global_step, steps, options.learning_rate_decay_factor,
            staircase=True, name='exponential_decay_learning_rate')
    if decay_type == 'fixed':
        return tf.constant(options.learning_rate, name='fixed_learning_rate')
    if decay_type == 'polynomial':
        return tf.train.polynomial_decay(
            options.learning_rate, global_step, steps, options.end_learning_rate, power=1.0,
            cycle=False, name='polynomial_decay_learning_rate')
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
