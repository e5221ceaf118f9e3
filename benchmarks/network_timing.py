"""Times a network's forward (or forward and backward) pass on in-graph random images.

The inputs are generated inside the graph so the input pipeline is not measured. As in the
classic TF-Slim benchmark, the first `burn_in` batches are not timed (they include graph
optimisation and memory allocation), then the mean and standard deviation per batch are
reported.
"""

import dataclasses
import math
import time

import tensorflow.compat.v1 as tf

from nets import nets_factory

MODES = ('forward', 'forward_backward')


@dataclasses.dataclass(frozen=True)
class Timing:
    model_name: str
    mode: str
    batch_size: int
    image_size: int
    sec_per_batch_mean: float
    sec_per_batch_std: float
    trainable_parameters: int
    flops_per_image: int

    @property
    def images_per_sec(self):
        return self.batch_size / self.sec_per_batch_mean


def count_trainable_parameters(graph):
    """The number of trainable scalars in `graph`."""
    with graph.as_default():
        return sum(math.prod(v.shape.as_list()) for v in tf.trainable_variables())


def forward_flops_per_image(model_name, image_size, num_classes):
    """Floating-point operations of one image's inference pass, per the TF profiler."""
    with tf.Graph().as_default() as graph:
        network_fn = nets_factory.get_network_fn(model_name, num_classes, is_training=False)
        logits, _ = network_fn(tf.zeros([1, image_size, image_size, 3]))
    # Only the ops the logits depend on: the variables' random initialisers would
    # otherwise add about two operations per parameter.
    forward_graph_def = tf.graph_util.extract_sub_graph(graph.as_graph_def(), [logits.op.name])
    with tf.Graph().as_default() as forward_graph:
        tf.import_graph_def(forward_graph_def, name='')
        options = tf.profiler.ProfileOptionBuilder.float_operation()
        options['output'] = 'none'
        return tf.profiler.profile(forward_graph, options=options).total_float_ops


def timed_runs(session, op, num_batches, burn_in):
    """(mean, standard deviation) in seconds of `num_batches` runs of `op`, after `burn_in`
    untimed runs."""
    durations = []
    for index in range(burn_in + num_batches):
        start = time.perf_counter()
        session.run(op)
        if index >= burn_in:
            durations.append(time.perf_counter() - start)
    mean = sum(durations) / len(durations)
    std = math.sqrt(sum((d - mean) ** 2 for d in durations) / len(durations))
    return mean, std


def published_num_classes(model_name):
    """The class count of the network's published checkpoint (10 for the small networks)."""
    if model_name in ('lenet', 'cifarnet'):
        return 10
    if model_name.startswith(('vgg_', 'resnet_v1_', 'alexnet', 'overfeat')):
        return 1000
    return 1001


def time_network(model_name, batch_size=32, num_batches=100, mode='forward', image_size=None,
                 num_classes=None, burn_in=10):
    """Builds the network on random images and times `num_batches` batches after `burn_in`.

    `num_classes` defaults to the published checkpoint's.

    Returns:
      A `Timing`.
    """
    num_classes = num_classes or published_num_classes(model_name)
    if mode not in MODES:
        raise ValueError('Unknown --mode %r; valid modes: %s.' % (mode, ', '.join(MODES)))
    graph = tf.Graph()
    with graph.as_default():
        network_fn = nets_factory.get_network_fn(
            model_name, num_classes, is_training=(mode == 'forward_backward'))
        image_size = image_size or network_fn.default_image_size
        images = tf.random.uniform([batch_size, image_size, image_size, 3], -1.0, 1.0)
        logits, _ = network_fn(images)
        # The timed op is a scalar that depends on every result: an op that only groups
        # results would let Grappler prune the whole computation, and fetching the
        # results themselves would time their copy out of TensorFlow.
        if mode == 'forward':
            op = tf.reduce_sum(logits)
        else:
            gradients = tf.gradients(tf.nn.l2_loss(logits), tf.trainable_variables())
            # Heads that do not feed the logits (auxiliary logits) have no gradient.
            op = tf.add_n([tf.reduce_sum(g) for g in gradients if g is not None])
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            mean, std = timed_runs(session, op, num_batches, burn_in)
    return Timing(model_name, mode, batch_size, image_size, mean, std,
                  count_trainable_parameters(graph),
                  forward_flops_per_image(model_name, image_size, num_classes))


TABLE_HEADER = ('| network | mode | batch | size | sec/batch | images/sec | parameters '
                '| GFLOPs/image |\n|---|---|---|---|---|---|---|---|')


def table_row(timing):
    return '| %s | %s | %d | %d | %.3f ± %.3f | %.1f | %s | %.2f |' % (
        timing.model_name, timing.mode, timing.batch_size, timing.image_size,
        timing.sec_per_batch_mean, timing.sec_per_batch_std, timing.images_per_sec,
        format(timing.trainable_parameters, ','), timing.flops_per_image / 1e9)
