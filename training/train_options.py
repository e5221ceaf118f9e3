"""Every setting of a training run, with TF-Slim's flag names and defaults."""

import dataclasses

from common import checkpoints, files
from common.errors import ConfigurationError
from common.session import FLOAT16
from datasets.input_options import InputOptions
from flag_options import option
from mixed_precision import PrecisionOptions
from nets import nets_factory
from deployment.model_deploy import REPLICATED, VARIABLE_UPDATES
from option_groups import (BatchOptions, CheckpointOptions, CloneOptions, MasterOptions,
                           SplitOptions, TrainingLengthOptions, with_defaults)
from preprocessing.augmentation import AUGMENTATIONS, MAX_LEVEL
from training.optimization import LearningRateOptions, OptimizerOptions


@dataclasses.dataclass
class ClusterOptions(CloneOptions, MasterOptions):
    """Where and how to run: the clones, replicas and parameter servers."""

    variable_update: str = option(
        'parameter_server', 'How clones and workers share the variables: "parameter_server" '
        '(TF-Slim\'s: one copy on the CPU or on the --ps_hosts, read by every clone, gradients '
        'summed there) or "replicated" (a copy on each clone\'s device, gradients all-reduced: '
        'NCCL between the GPUs of one machine, TensorFlow\'s collective ops on CPU devices and '
        'between the --worker_hosts, which then need no parameter server). Checkpoints are '
        'the same in both.',
        choices=VARIABLE_UPDATES)
    clone_on_cpu: bool = option(False, 'Use CPUs to deploy clones.')
    worker_replicas: int = option(1, 'Number of worker replicas.', minimum=1)
    num_ps_tasks: int = option(
        0, 'The number of parameter servers. If the value is 0, then the parameters are '
        'handled locally by the worker.', minimum=0)
    task: int = option(0, 'Task id of the replica running the training.', minimum=0)
    sync_replicas: bool = option(
        False, 'Whether or not to synchronize the replicas during training.')
    replicas_to_aggregate: int = option(
        1, 'The number of gradients to collect before updating params.', minimum=1)
    ps_hosts: str = option(
        '', 'Comma-separated host:port list of the parameter servers; with --worker_hosts and '
        '--job_name this process starts its own TensorFlow server (else TF_CONFIG is read).')
    worker_hosts: str = option('', 'Comma-separated host:port list of the workers.')
    job_name: str = option('', 'This process\'s job in the cluster: "worker" or "ps".')

    def check_fields(self):
        if self.variable_update != REPLICATED:
            return
        if self.sync_replicas:
            raise ConfigurationError(
                '--sync_replicas aggregates gradients on the parameter servers, and '
                '--variable_update=replicated has none (its workers are synchronous already, '
                'through the all-reduce): drop --sync_replicas.')
        if self.num_ps_tasks or self.ps_hosts:
            raise ConfigurationError(
                '--variable_update=replicated keeps the variables on the workers\' devices, so '
                'it takes no parameter server: drop --num_ps_tasks and --ps_hosts, or use '
                '--variable_update=parameter_server.')


@dataclasses.dataclass
class FineTuningOptions(CheckpointOptions):
    """What a fine-tuning run restores from --checkpoint_path, and what it trains."""

    checkpoint_exclude_scopes: str | None = option(
        None, 'Comma-separated list of scopes of variables to exclude when restoring from a '
        'checkpoint.')
    trainable_scopes: str | None = option(
        None, 'Comma-separated list of scopes to filter the set of variables to train. By '
        'default, None would train all the variables.')
    ignore_missing_vars: bool = option(
        False, 'When restoring a checkpoint would ignore missing variables.')


@dataclasses.dataclass
class TrainOptions(TrainingLengthOptions, with_defaults(BatchOptions, batch_size=32), SplitOptions,
                   FineTuningOptions, ClusterOptions, InputOptions, PrecisionOptions,
                   OptimizerOptions, LearningRateOptions):
    """Every option of train_image_classifier.py."""

    train_dir: str = option('/tmp/tfmodel/',
                            'Directory where checkpoints and event logs are written to.')
    log_every_n_steps: int = option(10, 'The frequency with which logs are printed.', minimum=1)
    save_summaries_secs: int = option(
        600, 'The frequency with which summaries are saved, in seconds.', minimum=0)
    save_interval_secs: int = option(
        600, 'The frequency with which the model is saved, in seconds.', minimum=0)
    keep_checkpoint_max: int = option(
        5, 'The number of recent checkpoints kept in --train_dir; older ones are deleted '
        '(0 keeps them all).', minimum=0)
    keep_checkpoint_every_n_hours: float = option(
        10000.0, 'Besides the recent ones, keep one checkpoint every this many hours of '
        'training.', minimum=0.0)
    seed: int | None = option(
        None, 'Graph-level random seed: the initial weights, the random preprocessing and the '
        'shuffling follow it (default: a new draw every run). With --deterministic_input it '
        'also switches on TensorFlow\'s op determinism, so a run repeats its losses step for '
        'step on the same machine.', minimum=0)

    # Regularisation (the optimizer and learning-rate flags are in training/optimization.py).
    weight_decay: float = option(0.00004, 'The weight decay on the model weights.', minimum=0.0)

    label_smoothing: float = option(0.0, 'The amount of label smoothing.', minimum=0.0, maximum=1.0)
    quantize_delay: int = option(
        -1, 'Number of steps to start quantized training; -1 disables it. Quantization-aware '
        'training no longer exists in TensorFlow: use export_inference_graph.py '
        '--tflite_quantize instead.')

    # Dataset and model (the shared ones are in InputOptions).
    train_image_size: int | None = option(None, 'Train image size (default: the network\'s).',
                                          minimum=1)
    initial_loss_scale: float = option(
        2.0 ** 15, 'With --mixed_precision=float16: the starting loss scale. It halves at each '
        'step whose gradients overflow (that step is skipped) and doubles after 2000 steps '
        'without overflow.', minimum=1.0)
    aux_loss_weight: float = option(
        0.4, 'Weight of the auxiliary logits loss, for networks that have AuxLogits.', minimum=0.0)

    # Techniques of current ImageNet recipes (timm, the TF Model Garden); all off by default.
    clip_gradient_norm: float = option(
        0.0, 'Clip the gradients (summed over the clones, unscaled under float16) to this '
        'global norm before the update; 0 does not clip.', minimum=0.0)
    augmentation: str = option(
        'none', 'Image augmentation policy after the crop and before colour distortion and '
        'normalisation: "randaugment" (--randaugment_num_layers, --randaugment_magnitude) '
        'or "autoaugment" (the ImageNet policy v0).', choices=AUGMENTATIONS)
    randaugment_num_layers: int = option(
        2, 'With --augmentation=randaugment: operations applied to each image (N).', minimum=0)
    randaugment_magnitude: float = option(
        9.0, 'With --augmentation=randaugment: strength of every operation, 0 to 10 (M).',
        minimum=0.0, maximum=MAX_LEVEL)
    mixup_alpha: float = option(
        0.0, 'Mixup: each image and its label mixed with another\'s, the weight drawn from '
        'Beta(alpha, alpha); 0 is off.', minimum=0.0)
    cutmix_alpha: float = option(
        0.0, 'CutMix: a box of another image pasted in, its area drawn from Beta(alpha, '
        'alpha), the labels mixed by area; 0 is off.', minimum=0.0)
    mixup_switch_prob: float = option(
        0.5, 'With both --mixup_alpha and --cutmix_alpha: the probability that a batch uses '
        'CutMix rather than mixup.', minimum=0.0, maximum=1.0)
    random_erasing_prob: float = option(
        0.0, 'Random erasing: the probability that an image (after normalisation) gets a '
        'random rectangle of noise; 0 is off.', minimum=0.0, maximum=1.0)
    drop_path_keep_prob: float | None = option(
        None, 'Stochastic depth: the keep probability of drop path in the last cell, for the '
        'networks that have it (NASNet, PNASNet); default: the network\'s own.',
        minimum=0.0, maximum=1.0)
    ema_warmup: int = option(
        10, 'With --moving_average_decay: the average\'s decay is min(decay, (1 + step) / '
        '(ema_warmup + step)), so early averages follow the weights; 10 is TensorFlow\'s '
        'ramp, 0 turns it off (the decay is constant from the first step).', minimum=0)

    def check_fields(self):
        """Raises ConfigurationError for training's own fields and their combinations."""
        if not self.train_dir:
            raise ConfigurationError('Set --train_dir to the directory for checkpoints and '
                                     'summaries.')
        checkpoints.check_literal_path(self.train_dir, 'train_dir')
        files.check_writable_directory(self.train_dir, 'train_dir', 'checkpoints and summaries')
        nets_factory.check_image_size(self.model_name, self.train_image_size, 'train_image_size')
        if self.mixed_precision == FLOAT16 and self.sync_replicas:
            raise ConfigurationError(
                '--mixed_precision=float16 cannot be combined with --sync_replicas: a step '
                'skipped for loss-scale overflow would leave the other replicas waiting. Use '
                '--mixed_precision=bfloat16, or asynchronous training.')
        if self.quantize_delay is not None and self.quantize_delay >= 0:
            raise ConfigurationError(
                '--quantize_delay=%d asks for quantization-aware training, which relied on '
                'tf.contrib.quantize and no longer exists in TensorFlow. Train without it '
                '(leave --quantize_delay at -1) and quantize the trained model with TFLite '
                'post-training quantization: export_inference_graph.py --tflite_file=... '
                '--tflite_quantize.' % self.quantize_delay)
