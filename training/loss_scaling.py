"""Dynamic loss scaling, for training in float16.

float16 gradients smaller than about 6e-8 round to zero. Multiplying the loss by a large
scale before differentiating keeps them representable; the gradients are divided by the
same scale before the update. A step whose scaled gradients overflow is skipped and the
scale halved; after `growth_steps` steps without overflow the scale doubles.
"""

import tensorflow.compat.v1 as tf

DEFAULT_GROWTH_STEPS = 2000


def all_finite(tensors):
    """bool []: whether every element of every tensor in `tensors` is finite."""
    return tf.reduce_all(tf.stack([tf.reduce_all(tf.is_finite(t)) for t in tensors]))


def gradient_values(grads_and_vars):
    """The gradient tensors of `grads_and_vars` (the values of IndexedSlices)."""
    return [g.values if isinstance(g, tf.IndexedSlices) else g for g, _ in grads_and_vars]


def map_gradients(function, grads_and_vars):
    """`grads_and_vars` with `function` applied to each gradient (IndexedSlices' values)."""
    mapped = []
    for gradient, variable in grads_and_vars:
        if isinstance(gradient, tf.IndexedSlices):
            gradient = tf.IndexedSlices(function(gradient.values), gradient.indices,
                                        gradient.dense_shape)
        elif gradient is not None:
            gradient = function(gradient)
        mapped.append((gradient, variable))
    return mapped


class LossScaleOptimizer:
    """Wraps a tf.train optimizer with a dynamic loss scale (for float16 training).

    It offers the two methods training calls, `compute_gradients` and `apply_gradients`.
    The scale halves on overflow and doubles after `growth_steps` steps without one. It
    and the count of clean steps are local variables: checkpoints keep exactly the
    variables of a float32 run. A resumed run starts from `initial_scale` again, which the
    first steps correct.

    Attributes:
      loss_scale: float32 [] variable, the current scale.
      new_scale: float32 [], the scale after the step (set by `apply_gradients`).
      gradients_finite: bool [], whether the step's gradients were finite, so that it was
        applied (set by `apply_gradients`).
    """

    def __init__(self, optimizer, initial_scale, growth_steps=DEFAULT_GROWTH_STEPS,
                 minimum_scale=1.0):
        self._optimizer = optimizer
        self._growth_steps = growth_steps
        self._minimum_scale = minimum_scale
        # One per clone under --variable_update=replicated: loss_scale, loss_scale_1, ...
        with tf.variable_scope(None, default_name='loss_scale'):
            self.loss_scale = tf.get_variable(
                'scale', initializer=float(initial_scale), trainable=False, use_resource=True,
                collections=[tf.GraphKeys.LOCAL_VARIABLES])
            self._clean_steps = tf.get_variable(
                'clean_steps', initializer=tf.constant(0, tf.int64), trainable=False,
                use_resource=True, collections=[tf.GraphKeys.LOCAL_VARIABLES])
        self.new_scale = self.gradients_finite = None

    def can_lower(self):
        """bool []: whether an overflow can still be answered by lowering the scale."""
        return self.loss_scale.read_value() > self._minimum_scale

    def compute_gradients(self, loss, var_list=None):
        """The wrapped optimizer's gradients of `loss`, through the scaled loss, unscaled."""
        scale = self.loss_scale.read_value()
        scaled = self._optimizer.compute_gradients(loss * scale, var_list=var_list)
        return map_gradients(lambda gradient: gradient / scale, scaled)

    def apply_gradients(self, grads_and_vars, global_step, gradients_finite=None):
        """Applies `grads_and_vars` if all are finite, else skips the update; then adapts
        the scale. The global step (unless None) advances either way. Returns the op.

        `gradients_finite`: bool [], whether they are, when the caller has computed it.
        """
        finite = (all_finite(gradient_values(grads_and_vars)) if gradients_finite is None
                  else gradients_finite)

        def apply():
            return tf.group(self._optimizer.apply_gradients(grads_and_vars, global_step))

        def skip():
            # Clones of replicated variables other than the first advance no global step.
            return tf.group(tf.assign_add(global_step, 1)) if global_step is not None \
                else tf.no_op()

        # tf.train optimizers create their slots in an init scope, outside this cond.
        update = tf.cond(finite, apply, skip, name='apply_or_skip')
        with tf.control_dependencies([update]):
            clean_steps = tf.where(finite, self._clean_steps.read_value() + 1,
                                   tf.constant(0, tf.int64))
            grow = clean_steps >= self._growth_steps
            scale = self.loss_scale.read_value()
            self.new_scale = tf.where(finite, tf.where(grow, scale * 2.0, scale),
                                      tf.maximum(scale / 2.0, self._minimum_scale))
            self.gradients_finite = tf.identity(finite)
            assign = tf.group(
                self.loss_scale.assign(self.new_scale),
                self._clean_steps.assign(tf.where(grow, tf.zeros_like(clean_steps),
                                                  clean_steps)))
        return tf.group(update, assign)
