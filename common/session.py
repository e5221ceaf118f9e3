"""The session layer: the tf.ConfigProto of each precision, and what a precision does on
this machine's devices (its GPUs, the CPU's feature flags).

The graph is always built in float32. For bfloat16 and float16 a Grappler pass of
TensorFlow rewrites it when a session runs it: the ops that gain from 16 bits (convolutions,
matrix products and the element-wise ops between them) get casts, while variables, their
updates, batch-norm statistics, losses and softmax stay float32. So checkpoints are
identical in every precision, and a checkpoint trained in one evaluates in any other.

A network that measured slower in bfloat16 than in float32 carries that measurement
(`SlowerInBfloat16`, in its registry record); its bfloat16 requests compute in float32
(`effective_precision`) and the start-up line says why (`announce_precision`).
"""

import dataclasses

import tensorflow.compat.v1 as tf
from absl import logging
from tensorflow.core.protobuf import rewriter_config_pb2

from common import devices
from common.errors import ConfigurationError

FLOAT32 = 'float32'
BFLOAT16 = 'bfloat16'
FLOAT16 = 'float16'
PRECISIONS = (FLOAT32, BFLOAT16, FLOAT16)

# The CPU flags (as Linux names them in /proc/cpuinfo) of native bfloat16 arithmetic.
NATIVE_BFLOAT16_CPU_FLAGS = ('avx512_bf16', 'amx_bf16')


@dataclasses.dataclass(frozen=True)
class SlowerInBfloat16:
    """A network's measured speed in bfloat16 as a fraction of float32's (images/sec over
    images/sec), below 1.0 in the forward pass, the train step or both. Where a use's
    fraction is below 1.0 (`slower_for`), bfloat16 requests for that use compute in float32.

    forward: the forward pass's fraction (evaluation and classification).
    train_step: the train step's fraction (training).
    measured: where and how, e.g. 'benchmark_nets.py, batch 16, 2026-12-07'.
    """

    forward: float
    train_step: float
    measured: str

    def slower_for(self, training):
        """Whether bfloat16 measured slower for training (else for the forward pass)."""
        return (self.train_step if training else self.forward) < 1.0


def check_precision(precision):
    """Raises ConfigurationError naming the valid values if `precision` is not one of them."""
    if precision not in PRECISIONS:
        raise ConfigurationError('--mixed_precision=%r is not a precision; valid values: %s.'
                                 % (precision, ', '.join(PRECISIONS)))


def configure_session(config, precision):
    """Turns on `precision`'s graph rewrite in the tf.ConfigProto `config`; returns `config`.

    float32 leaves `config` unchanged.
    """
    check_precision(precision)
    rewrite_options = config.graph_options.rewrite_options
    if precision == BFLOAT16:
        # oneDNN's pass: CPU ops only. Without GPUs it is the whole network.
        rewrite_options.auto_mixed_precision_onednn_bfloat16 = rewriter_config_pb2.RewriterConfig.ON
    elif precision == FLOAT16:
        # The GPU pass; a machine without GPUs skips it.
        rewrite_options.auto_mixed_precision = rewriter_config_pb2.RewriterConfig.ON
    return config


def session_config(precision=FLOAT32, cpu_devices=1):
    """The tf.ConfigProto of a single-machine session computing in `precision`.

    `cpu_devices` > 1 splits the CPU into that many logical devices, /device:CPU:0 to
    /device:CPU:<cpu_devices - 1> (the graph-mode form of
    `tf.config.set_logical_device_configuration`), so clones can each have their own.
    """
    # Soft placement lets TF-Slim's GPU device strings run on CPU-only machines.
    config = tf.ConfigProto(allow_soft_placement=True)
    split_cpu(config, cpu_devices)
    return configure_session(config, precision)


def split_cpu(config, cpu_devices):
    """Makes sessions and servers of the tf.ConfigProto `config` have `cpu_devices` logical
    CPU devices; returns `config`. One device (the default) leaves it unchanged."""
    if cpu_devices > 1:
        config.device_count['CPU'] = cpu_devices
    return config


def cpu_flags(cpuinfo_path='/proc/cpuinfo'):
    """The set of this CPU's feature flags, or None where they cannot be read (not Linux)."""
    if not tf.io.gfile.exists(cpuinfo_path):
        return None
    with tf.io.gfile.GFile(cpuinfo_path) as cpuinfo:
        for line in cpuinfo:
            if line.startswith('flags'):
                return set(line.partition(':')[2].split())
    return None


def effective_precision(precision, slower_in_bfloat16=None, training=True):
    """The precision a network's sessions compute in when `precision` is asked for, for
    training or (`training` False) for the forward pass alone: float32 for bfloat16 where the
    network's `slower_in_bfloat16` (a `SlowerInBfloat16`) measured slower for that use, else
    `precision`."""
    check_precision(precision)
    slower = slower_in_bfloat16 is not None and slower_in_bfloat16.slower_for(training)
    return FLOAT32 if precision == BFLOAT16 and slower else precision


def hardware_note(precision, gpu=None, flags=None, model_name=None, slower_in_bfloat16=None,
                  training=True):
    """(level, message): what `precision` does on this machine, to log at start-up; None
    for float32.

    `gpu` and `flags` (the CPU's feature flags) default to this machine's. `model_name`, its
    `slower_in_bfloat16` and `training` (see `effective_precision`) tell a network that
    computes in float32 when bfloat16 is asked for.
    """
    if effective_precision(precision, slower_in_bfloat16, training) != precision:
        does, speed, where = (
            ('trains', slower_in_bfloat16.train_step, 'a train step') if training
            else ('computes its forward pass', slower_in_bfloat16.forward, 'the forward pass'))
        return logging.WARNING, (
            '%s %s in float32: with bfloat16 it ran at %.2f× float32\'s speed in %s on a CPU '
            'with native bfloat16 (%s); --mixed_precision=bfloat16 is ignored for it.'
            % (model_name, does, speed, where, slower_in_bfloat16.measured))
    if precision == FLOAT32:
        return None
    gpu = bool(devices.gpu_names()) if gpu is None else gpu
    if precision == FLOAT16:
        if gpu:
            return logging.INFO, ('Computing in float16 on the GPU (automatic mixed precision) '
                                  'with dynamic loss scaling; variables stay float32.')
        return logging.WARNING, (
            '--mixed_precision=float16 needs a GPU: on this CPU-only machine the arithmetic '
            'stays float32 (TensorFlow has no fast float16 CPU kernels) and only float16\'s '
            'dynamic loss scaling runs, which is for testing that code path. For speed on a '
            'CPU use --mixed_precision=bfloat16.')
    if gpu:
        return logging.WARNING, (
            '--mixed_precision=bfloat16 rewrites the ops placed on the CPU (oneDNN); ops on '
            'GPUs stay float32. On GPUs use --mixed_precision=float16.')
    flags = cpu_flags() if flags is None else flags
    if flags is None:
        return logging.INFO, ('Computing in bfloat16 through oneDNN (cannot tell whether this '
                              'CPU has native bfloat16 instructions).')
    native = sorted(flags.intersection(NATIVE_BFLOAT16_CPU_FLAGS))
    if not native:
        return logging.WARNING, (
            'This CPU has no native bfloat16 instructions (%s): oneDNN emulates them, so '
            '--mixed_precision=bfloat16 is slower than float32 here.'
            % ' or '.join(NATIVE_BFLOAT16_CPU_FLAGS))
    return logging.INFO, ('Computing in bfloat16 through oneDNN, natively on this CPU (%s); '
                          'variables stay float32.' % ', '.join(native))


def announce_precision(precision, model_name=None, slower_in_bfloat16=None, training=True):
    """Logs the start-up line of `hardware_note`, if any; returns the precision the sessions
    of network `model_name` compute in for training or the forward pass
    (`effective_precision`)."""
    note = hardware_note(precision, model_name=model_name,
                         slower_in_bfloat16=slower_in_bfloat16, training=training)
    if note:
        logging.log(*note)
    return effective_precision(precision, slower_in_bfloat16, training)
