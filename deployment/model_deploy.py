"""Deploys a model as clones on one machine's GPUs (or CPU), as TF-Slim's trainer did.

Each clone builds the whole model on its own device and input batch, sharing one set of
variables kept on the CPU. The clones' gradients are summed before one optimizer update,
so N clones of batch B train like one model of batch N*B.
"""

import collections
import dataclasses

import tensorflow.compat.v1 as tf
import tf_slim as slim

Clone = collections.namedtuple('Clone', ['outputs', 'scope', 'device'])


@dataclasses.dataclass(frozen=True)
class DeploymentConfig:
    """Where clones, variables, inputs and the optimizer live.

    Attributes:
      num_clones: model copies per machine, one per GPU (or all on the CPU).
      clone_on_cpu: put every clone on the CPU instead of GPU i.
    """

    num_clones: int = 1
    clone_on_cpu: bool = False

    def __post_init__(self):
        if self.num_clones < 1:
            raise ValueError('--num_clones must be at least 1, got %d.' % self.num_clones)

    def clone_device(self, clone_index):
        # Sessions allow soft placement, so GPU:i falls back to the CPU when absent.
        return '/device:CPU:0' if self.clone_on_cpu else '/device:GPU:%d' % clone_index

    def clone_scope(self, clone_index):
        return 'clone_%d' % clone_index if self.num_clones > 1 else ''

    def variables_device(self):
        return '/device:CPU:0'

    def inputs_device(self):
        return '/device:CPU:0'

    def optimizer_device(self):
        return '/device:CPU:0'


def create_clones(config, model_fn, args=None, kwargs=None):
    """Calls `model_fn(*args, **kwargs)` once per clone, sharing variables.

    Returns:
      A list of `Clone(outputs, scope, device)`, one per clone, in order.
    """
    clones = []
    with slim.arg_scope([slim.model_variable, slim.variable], device=config.variables_device()):
        for index in range(config.num_clones):
            with tf.name_scope(config.clone_scope(index)) as clone_scope:
                device = config.clone_device(index)
                with tf.device(device), tf.variable_scope(
                        tf.get_variable_scope(), reuse=True if index > 0 else None):
                    outputs = model_fn(*(args or []), **(kwargs or {}))
                clones.append(Clone(outputs, clone_scope, device))
    return clones


def _clone_loss(clone, num_clones, regularization_losses):
    """The clone's share of the total loss: its losses / num_clones, plus regularization."""
    clone_losses = tf.get_collection(tf.GraphKeys.LOSSES, clone.scope)
    if not clone_losses:
        raise ValueError('The model function of clone %r added no loss to tf.GraphKeys.LOSSES.'
                         % clone.scope)
    loss = tf.add_n(clone_losses, name='clone_loss')
    if num_clones > 1:
        loss = tf.div(loss, float(num_clones), name='scaled_clone_loss')
        tf.summary.scalar('%s/clone_loss' % clone.scope.rstrip('/'), loss)
    if regularization_losses:
        regularization = tf.add_n(regularization_losses, name='regularization_loss')
        tf.summary.scalar('regularization_loss', regularization)
        loss = tf.add(loss, regularization, name='clone_total_loss')
    return loss


def _sum_gradients(clone_grads_and_vars):
    """Sums each variable's gradients over clones; drops variables without gradient."""
    summed = []
    for per_clone in zip(*clone_grads_and_vars, strict=True):
        variable = per_clone[0][1]
        grads = [grad for grad, _ in per_clone if grad is not None]
        if not grads:
            continue
        summed.append((grads[0] if len(grads) == 1 else tf.add_n(grads), variable))
    return summed


def optimize_clones(clones, optimizer, regularization_losses=None, var_list=None):
    """Computes the total loss and the clone-summed gradients.

    Regularization losses are counted once (with the first clone), however many clones.

    Returns:
      (total_loss scalar tensor, list of (gradient, variable)).
    """
    if regularization_losses is None:
        regularization_losses = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    clone_losses = []
    clone_grads_and_vars = []
    for index, clone in enumerate(clones):
        with tf.name_scope(clone.scope), tf.device(clone.device):
            loss = _clone_loss(clone, len(clones), regularization_losses if index == 0 else None)
            clone_losses.append(loss)
            clone_grads_and_vars.append(optimizer.compute_gradients(loss, var_list=var_list))
    total_loss = tf.add_n(clone_losses, name='total_loss')
    return total_loss, _sum_gradients(clone_grads_and_vars)
