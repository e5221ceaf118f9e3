"""Every setting of a training run, with TF-Slim's flag names and defaults."""

import dataclasses

from datasets.input_options import InputOptions
from flag_options import option


@dataclasses.dataclass
class TrainOptions(InputOptions):
    # Where and how to run.
    train_dir: str = option('/tmp/tfmodel/',
                            'Directory where checkpoints and event logs are written to.')
    num_clones: int = option(1, 'Number of model clones to deploy.')
    clone_on_cpu: bool = option(False, 'Use CPUs to deploy clones.')
    num_readers: int = option(4, 'The number of parallel readers that read data from the dataset.')
    log_every_n_steps: int = option(10, 'The frequency with which logs are printed.')
    save_summaries_secs: int = option(
        600, 'The frequency with which summaries are saved, in seconds.')
    save_interval_secs: int = option(
        600, 'The frequency with which the model is saved, in seconds.')

    # Optimizer.
    weight_decay: float = option(0.00004, 'The weight decay on the model weights.')
    optimizer: str = option(
        'rmsprop', 'The name of the optimizer, one of "adadelta", "adagrad", "adam", "ftrl", '
        '"momentum", "sgd" or "rmsprop".')
    adadelta_rho: float = option(0.95, 'The decay rate for adadelta.')
    adagrad_initial_accumulator_value: float = option(
        0.1, 'Starting value for the AdaGrad accumulators.')
    adam_beta1: float = option(0.9, 'The exponential decay rate for the 1st moment estimates.')
    adam_beta2: float = option(0.999, 'The exponential decay rate for the 2nd moment estimates.')
    opt_epsilon: float = option(1.0, 'Epsilon term for the optimizer.')
    ftrl_learning_rate_power: float = option(-0.5, 'The learning rate power.')
    ftrl_initial_accumulator_value: float = option(
        0.1, 'Starting value for the FTRL accumulators.')
    ftrl_l1: float = option(0.0, 'The FTRL l1 regularization strength.')
    ftrl_l2: float = option(0.0, 'The FTRL l2 regularization strength.')
    momentum: float = option(
        0.9, 'The momentum for the MomentumOptimizer and RMSPropOptimizer.')
    rmsprop_momentum: float = option(0.9, 'Momentum.')
    rmsprop_decay: float = option(0.9, 'Decay term for RMSProp.')

    # Learning rate.
    learning_rate_decay_type: str = option(
        'exponential', 'Specifies how the learning rate is decayed. One of "fixed", '
        '"exponential", or "polynomial".')
    learning_rate: float = option(0.01, 'Initial learning rate.')
    end_learning_rate: float = option(
        0.0001, 'The minimal end learning rate used by a polynomial decay learning rate.')
    label_smoothing: float = option(0.0, 'The amount of label smoothing.')
    learning_rate_decay_factor: float = option(0.94, 'Learning rate decay factor.')
    num_epochs_per_decay: float = option(
        2.0, 'Number of epochs after which learning rate decays.')

    # Dataset and model (the shared ones are in InputOptions).
    dataset_split_name: str = option('train', 'The name of the train/test split.')
    batch_size: int = option(32, 'The number of samples in each batch (per clone).')
    train_image_size: int | None = option(None, 'Train image size (default: the network\'s).')
    max_number_of_steps: int | None = option(
        None, 'The maximum number of training steps (default: train until stopped).')
    aux_loss_weight: float = option(
        0.4, 'Weight of the auxiliary logits loss, for networks that have AuxLogits.')
