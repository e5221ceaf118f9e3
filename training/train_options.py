"""Every setting of a training run, with TF-Slim's flag names and defaults."""

import dataclasses

from datasets.input_options import InputOptions
from flag_options import option
from mixed_precision import PrecisionOptions


@dataclasses.dataclass
class TrainOptions(InputOptions, PrecisionOptions):
    # Where and how to run.
    master: str = option('', 'The address of the TensorFlow master to use.')
    train_dir: str = option('/tmp/tfmodel/',
                            'Directory where checkpoints and event logs are written to.')
    num_clones: int = option(1, 'Number of model clones to deploy.')
    clone_on_cpu: bool = option(False, 'Use CPUs to deploy clones.')
    worker_replicas: int = option(1, 'Number of worker replicas.')
    num_ps_tasks: int = option(
        0, 'The number of parameter servers. If the value is 0, then the parameters are '
        'handled locally by the worker.')
    task: int = option(0, 'Task id of the replica running the training.')
    sync_replicas: bool = option(
        False, 'Whether or not to synchronize the replicas during training.')
    replicas_to_aggregate: int = option(
        1, 'The number of gradients to collect before updating params.')
    ps_hosts: str = option(
        '', 'Comma-separated host:port list of the parameter servers; with --worker_hosts and '
        '--job_name this process starts its own TensorFlow server (else TF_CONFIG is read).')
    worker_hosts: str = option('', 'Comma-separated host:port list of the workers.')
    job_name: str = option('', 'This process\'s job in the cluster: "worker" or "ps".')
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
        '"exponential", "polynomial" or "cosine" (from --learning_rate down to '
        '--end_learning_rate at --max_number_of_steps).')
    learning_rate: float = option(0.01, 'Initial learning rate.')
    end_learning_rate: float = option(
        0.0001, 'The minimal end learning rate used by a polynomial decay learning rate.')
    label_smoothing: float = option(0.0, 'The amount of label smoothing.')
    learning_rate_decay_factor: float = option(0.94, 'Learning rate decay factor.')
    num_epochs_per_decay: float = option(
        2.0, 'Number of epochs after which learning rate decays.')
    warmup_epochs: float = option(
        0.0, 'Epochs of linear learning-rate warm-up from 0 before the decay schedule.')
    moving_average_decay: float | None = option(
        None, 'The decay to use for the moving average. If left as None, then moving '
        'averages are not used.')
    quantize_delay: int = option(
        -1, 'Number of steps to start quantized training; -1 disables it. Quantization-aware '
        'training no longer exists in TensorFlow: use export_inference_graph.py '
        '--tflite_quantize instead.')

    # Fine-tuning.
    checkpoint_path: str | None = option(
        None, 'The path to a checkpoint (or a directory of checkpoints) from which to '
        'fine-tune.')
    checkpoint_exclude_scopes: str | None = option(
        None, 'Comma-separated list of scopes of variables to exclude when restoring from a '
        'checkpoint.')
    trainable_scopes: str | None = option(
        None, 'Comma-separated list of scopes to filter the set of variables to train. By '
        'default, None would train all the variables.')
    ignore_missing_vars: bool = option(
        False, 'When restoring a checkpoint would ignore missing variables.')

    # Dataset and model (the shared ones are in InputOptions).
    dataset_split_name: str = option('train', 'The name of the train/test split.')
    batch_size: int = option(32, 'The number of samples in each batch (per clone).')
    train_image_size: int | None = option(None, 'Train image size (default: the network\'s).')
    max_number_of_steps: int | None = option(
        None, 'The maximum number of training steps (default: train until stopped).')
    initial_loss_scale: float = option(
        2.0 ** 15, 'With --mixed_precision=float16: the starting loss scale. It halves at each '
        'step whose gradients overflow (that step is skipped) and doubles after 2000 steps '
        'without overflow.')
    aux_loss_weight: float = option(
        0.4, 'Weight of the auxiliary logits loss, for networks that have AuxLogits.')
