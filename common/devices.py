"""The devices this process computes on, as a user should hear of them at start-up."""

import os

import tensorflow.compat.v1 as tf
from absl import logging


def gpu_names():
    """The names of this machine's GPUs visible to TensorFlow ([] without any)."""
    return [device.name for device in tf.config.list_physical_devices('GPU')]


def description(gpus=None, cpu_count=None):
    """'Using 1 GPU: ...' or 'No GPU found: running on N CPU cores'; `gpus` and `cpu_count`
    default to this machine's."""
    gpus = gpu_names() if gpus is None else gpus
    if gpus:
        return 'Using %d GPU%s: %s' % (len(gpus), '' if len(gpus) == 1 else 's', ', '.join(gpus))
    cpu_count = cpu_count or os.cpu_count() or 1
    return 'No GPU found: running on %d CPU core%s' % (cpu_count, '' if cpu_count == 1 else 's')


def log_devices():
    """Logs `description()` in one line."""
    logging.info(description())
