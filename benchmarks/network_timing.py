"""Times a network's forward pass, forward and backward pass, or whole train step on
in-graph random images, in one or several precisions.

The inputs are generated inside the graph so the input pipeline is not measured. As in the
classic TF-Slim benchmark, the first `burn_in` batches are not timed (they include graph
optimisation and memory allocation), then the mean and standard deviation per batch are
reported.
"""

import contextlib
import dataclasses
import functools
import math
import os
import statistics
import time

import tensorflow.compat.v1 as tf

from common.session import FLOAT32, check_precision, session_config
from common.errors import ConfigurationError
from datasets import dataset_factory
from nets import nets_factory
from training import train_graph, train_options

MODES = ('forward', 'forward_backward', 'train_step')


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
    mixed_precision: str = FLOAT32

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


def run_durations(session, op, num_runs):
    """The wall-clock seconds of each of `num_runs` runs of `op`."""
    durations = []
    for _ in range(num_runs):
        start = time.perf_counter()
        session.run(op)
        durations.append(time.perf_counter() - start)
    return durations


def timed_runs(session, op, num_batches, burn_in):
    """(mean, standard deviation) in wall-clock seconds of `num_batches` runs of `op`, after
    `burn_in` untimed runs, and their mean processor seconds (all of the process's threads)."""
    run_durations(session, op, burn_in)
    cpu_start = time.process_time()
    durations = run_durations(session, op, num_batches)
    cpu_sec_per_run = (time.process_time() - cpu_start) / num_batches
    return statistics.mean(durations), statistics.pstdev(durations), cpu_sec_per_run


def random_batch(batch_size, image_size, num_classes):
    """A batch like the input pipeline's, of uniform random images in [-1, 1] and labels."""
    return {'images': tf.random.uniform([batch_size, image_size, image_size, 3], -1.0, 1.0),
            'labels': tf.random.uniform([batch_size], 0, num_classes, tf.int64),
            'skipped': tf.constant(0, tf.int64)}


def synthetic_input(options, num_classes):
    """The `train_graph.TrainInput` of random batches of `num_classes` classes made in the
    graph, so the input pipeline is not timed. The learning-rate schedule counts epochs of
    the options' dataset split, whose size the dataset registry gives (no file is read)."""
    dataset_split = dataset_factory.get_dataset(options.dataset_name, options.dataset_split_name,
                                                options.dataset_dir or os.curdir)

    def make_batches(image_size, unused_deploy_config):
        return functools.partial(random_batch, options.batch_size, image_size, num_classes)

    return train_graph.TrainInput(dataset_split, num_classes, make_batches)


def _timed_op(graph, model_name, mode, batch_size, image_size, num_classes, precision):
    """Builds in `graph` the scalar op to time; returns it."""
    with graph.as_default():
        if mode == 'train_step':
            # The train op of train_image_classifier.py: losses, clone gradients, the
            # optimizer update and batch-norm statistics; loss scaling under float16.
            options = train_options.TrainOptions(
                model_name=model_name, batch_size=batch_size, train_image_size=image_size,
                mixed_precision=precision)
            return train_graph.build_train_graph(
                options, synthetic_input(options, num_classes)).train_tensor
        network_fn = nets_factory.get_network_fn(
            model_name, num_classes, is_training=(mode == 'forward_backward'))
        images = tf.random.uniform([batch_size, image_size, image_size, 3], -1.0, 1.0)
        logits, _ = network_fn(images)
        # The timed op is a scalar that depends on every result: an op that only groups
        # results would let Grappler prune the whole computation, and fetching the
        # results themselves would time their copy out of TensorFlow.
        if mode == 'forward':
            return tf.reduce_sum(logits)
        gradients = tf.gradients(tf.nn.l2_loss(logits), tf.trainable_variables())
        # Heads that do not feed the logits (auxiliary logits) have no gradient.
        return tf.add_n([tf.reduce_sum(g) for g in gradients if g is not None])


def time_network(model_name, batch_size=32, num_batches=100, mode='forward', image_size=None,
                 num_classes=None, burn_in=10, precision=FLOAT32):
    """Builds the network on random images and times `num_batches` batches after `burn_in`.

    `num_classes` defaults to the published checkpoint's.

    Returns:
      A `Timing`.
    """
    return time_precisions(model_name, [precision], batch_size=batch_size,
                           num_batches=num_batches, mode=mode, image_size=image_size,
                           num_classes=num_classes, burn_in=burn_in)[0]


def time_precisions(model_name, precisions, rounds=1, batch_size=32, num_batches=100,
                    mode='forward', image_size=None, num_classes=None, burn_in=10):
    """Times the network in each of `precisions`, alternating them for `rounds` rounds.

    Each precision has its own graph and session. After `burn_in` untimed batches each, every
    round times `num_batches` batches of each precision in turn, so machine noise hits them
    alike. A `Timing`'s mean is the median of its rounds' means; its standard deviation is
    over all its timed batches.

    Returns:
      A `Timing` per precision, in order.
    """
    if mode not in MODES:
        raise ConfigurationError('Unknown --mode %r; valid modes: %s.' % (mode, ', '.join(MODES)))
    for precision in precisions:
        check_precision(precision)
    nets_factory.check_image_size(model_name, image_size, 'image_size')
    num_classes = num_classes or nets_factory.published_num_classes(model_name)
    image_size = image_size or nets_factory.network_spec(model_name).default_image_size
    graphs, sessions = [], []
    with contextlib.ExitStack() as stack:
        for precision in precisions:
            graph = tf.Graph()
            op = _timed_op(graph, model_name, mode, batch_size, image_size, num_classes,
                           precision)
            with graph.as_default():
                initialize = [tf.global_variables_initializer(), tf.local_variables_initializer()]
            session = stack.enter_context(tf.Session(
                graph=graph, config=session_config(precision)))
            session.run(initialize)
            run_durations(session, op, burn_in)
            graphs.append(graph)
            sessions.append((session, op))
        round_means = [[] for _ in precisions]
        all_durations = [[] for _ in precisions]
        for _ in range(rounds):
            for index, (session, op) in enumerate(sessions):
                durations = run_durations(session, op, num_batches)
                round_means[index].append(statistics.mean(durations))
                all_durations[index].extend(durations)
    flops = forward_flops_per_image(model_name, image_size, num_classes)
    return [Timing(model_name, mode, batch_size, image_size, statistics.median(means),
                   statistics.pstdev(durations), count_trainable_parameters(graph), flops,
                   precision)
            for precision, graph, means, durations
            in zip(precisions, graphs, round_means, all_durations, strict=True)]


TABLE_HEADER = ('| network | mode | precision | batch | size | sec/batch | images/sec | speed-up '
                '| parameters | GFLOPs/image |\n|---|---|---|---|---|---|---|---|---|---|')


def table_row(timing, baseline=None):
    """A Markdown row of `timing`; the speed-up is over `baseline` (a Timing; default itself)."""
    baseline = baseline or timing
    return '| %s | %s | %s | %d | %d | %.3f ± %.3f | %.1f | %.2f× | %s | %.2f |' % (
        timing.model_name, timing.mode, timing.mixed_precision, timing.batch_size,
        timing.image_size, timing.sec_per_batch_mean, timing.sec_per_batch_std,
        timing.images_per_sec, timing.images_per_sec / baseline.images_per_sec,
        format(timing.trainable_parameters, ','), timing.flops_per_image / 1e9)
