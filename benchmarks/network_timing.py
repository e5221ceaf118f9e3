"""Times a network's forward pass, forward and backward pass, or whole train step on
in-graph random images, in one or several precisions.

The inputs are generated inside the graph so the input pipeline is not measured. As in the
classic TF-Slim benchmark, the first `burn_in` batches are not timed (they include graph
optimisation and memory allocation), then the mean and standard deviation per batch are
reported.

A train step can run as several clones (`num_clones`), sharing the variables
(`variable_update='parameter_server'`) or each with its own copy (`'replicated'`): one per
GPU, or without GPUs one per logical device of the CPU. Their timing then also gives the
bytes one step moves between the devices (`benchmarks/traffic.py`).

Each configuration (a precision; with `compare_with_tf_slim`, also tf_slim's own network)
holds its graph and session in a process of its own, so its peak memory is its own: the
processes are forked from a server that has imported TensorFlow once, and run their batches
when the benchmark asks, one process at a time.
"""

import contextlib
import dataclasses
import functools
import math
import multiprocessing
import os
import signal
import statistics
import time
import traceback

import tensorflow.compat.v1 as tf

from benchmarks import tf_slim_reference, traffic
from common import devices, memory
from common.session import FLOAT32, check_precision, session_config
from common.errors import ConfigurationError, UserError
from datasets import dataset_factory
from deployment import model_deploy
from nets import nets_factory
from training import train_graph, train_options

MODES = ('forward', 'forward_backward', 'train_step')
# Whose graph a Timing timed: this project's, or tf_slim.nets' network in a plain tf_slim
# train step (benchmarks/tf_slim_reference.py).
PROJECT = 'project'
TF_SLIM = 'tf_slim'

# The bytes of a variable's (and so a gradient's) element: variables are float32 in every
# precision (see common/session.py).
FLOAT32_BYTES = 4


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
    num_clones: int = 1
    variable_update: str = model_deploy.PARAMETER_SERVER
    # The bytes crossing devices in a step (a `traffic.Traffic`), measured with clones.
    step_traffic: traffic.Traffic | None = None
    # The peak memory of the process that held the graph and ran it (a `memory.PeakMemory`).
    peak_memory: memory.PeakMemory | None = None
    implementation: str = PROJECT

    @property
    def images_per_sec(self):
        """Images of all clones per second; `batch_size` is each clone's."""
        return self.batch_size * self.num_clones / self.sec_per_batch_mean

    @property
    def gradient_bytes(self):
        """The bytes of one clone's gradients: one per trainable parameter of a replica."""
        return FLOAT32_BYTES * self.trainable_parameters


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
    def make_batches(image_size, unused_deploy_config):
        return functools.partial(random_batch, options.batch_size, image_size, num_classes)

    return train_graph.TrainInput(_dataset_split(options), num_classes, make_batches)


def _dataset_split(options):
    """The options' dataset split, as the registry describes it (no file is read)."""
    return dataset_factory.get_dataset(options.dataset_name, options.dataset_split_name,
                                       options.dataset_dir or os.curdir)


@dataclasses.dataclass(frozen=True)
class _TimedGraph:
    """op: the scalar op to time. initialize: the ops to run first, in turn. cpu_devices:
    the logical CPU devices its session needs."""

    op: tf.Tensor
    initialize: list
    cpu_devices: int = 1


def _clones_on_cpu(num_clones):
    """Whether `num_clones` clones go on the CPU's logical devices: on a machine without
    GPUs. One per GPU otherwise.

    Raises:
      ConfigurationError: the machine has GPUs, but fewer than `num_clones`.
    """
    gpus = len(devices.gpu_names())
    if 0 < gpus < num_clones:
        raise ConfigurationError(
            '--num_clones=%d times one clone per GPU, and this machine has %d GPU(s): lower '
            '--num_clones to %d or less.' % (num_clones, gpus, gpus))
    return not gpus


def _timed_graph(graph, model_name, mode, batch_size, image_size, num_classes, precision,
                 num_clones, variable_update, implementation):
    """Builds in `graph` the op to time, of the project's network or (`implementation`
    TF_SLIM) tf_slim.nets'; returns its `_TimedGraph`."""
    with graph.as_default():
        if mode == 'train_step':
            # The train op of train_image_classifier.py: losses, clone gradients, the
            # optimizer update and batch-norm statistics; loss scaling under float16.
            options = train_options.TrainOptions(
                model_name=model_name, batch_size=batch_size, train_image_size=image_size,
                mixed_precision=precision, num_clones=num_clones,
                clone_on_cpu=_clones_on_cpu(num_clones), variable_update=variable_update)
            if implementation == TF_SLIM:
                batch = random_batch(batch_size, image_size, num_classes)
                op = tf_slim_reference.build_train_step(
                    model_name, batch['images'], batch['labels'], num_classes,
                    _dataset_split(options).num_samples, options)
                return _TimedGraph(op, [tf.global_variables_initializer(),
                                        tf.local_variables_initializer()])
            built = train_graph.build_train_graph(
                options, synthetic_input(options, num_classes), split_cpu=True)
            # Replicated copies are local variables, made equal to clone 0's weights after
            # those are initialised.
            initialize = [tf.global_variables_initializer(), tf.local_variables_initializer(),
                          built.sync_replicas_op]
            return _TimedGraph(built.train_tensor, [op for op in initialize if op is not None],
                               built.deploy_config.cpu_devices())
        network_factory = (tf_slim_reference.network_fn if implementation == TF_SLIM
                           else nets_factory.get_network_fn)
        network_fn = network_factory(model_name, num_classes,
                                     is_training=(mode == 'forward_backward'))
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
        return _TimedGraph(op, [tf.global_variables_initializer(),
                                tf.local_variables_initializer()])


def time_network(model_name, batch_size=32, num_batches=100, mode='forward', image_size=None,
                 num_classes=None, burn_in=10, precision=FLOAT32, **clone_arguments):
    """Builds the network on random images and times `num_batches` batches after `burn_in`.

    `num_classes` defaults to the published checkpoint's; `clone_arguments` are
    `time_precisions`'s `num_clones` and `variable_update`.

    Returns:
      A `Timing`.
    """
    return time_precisions(model_name, [precision], batch_size=batch_size,
                           num_batches=num_batches, mode=mode, image_size=image_size,
                           num_classes=num_classes, burn_in=burn_in, **clone_arguments)[0]


def check_clone_arguments(mode, num_clones, variable_update):
    """Raises ConfigurationError for clones or a variable update that `mode` cannot have."""
    if num_clones < 1:
        raise ConfigurationError('--num_clones must be at least 1, got %d.' % num_clones)
    if variable_update not in model_deploy.VARIABLE_UPDATES:
        raise ConfigurationError('--variable_update=%s is not one of %s.'
                                 % (variable_update, ', '.join(model_deploy.VARIABLE_UPDATES)))
    if mode != 'train_step' and (num_clones > 1
                                 or variable_update != model_deploy.PARAMETER_SERVER):
        raise ConfigurationError(
            '--num_clones=%d --variable_update=%s: clones and their variable update are timed '
            'in --mode=train_step only, not --mode=%s; pass --mode=train_step, or leave both '
            'flags at their defaults.' % (num_clones, variable_update, mode))


def time_precisions(model_name, precisions, rounds=1, batch_size=32, num_batches=100,
                    mode='forward', image_size=None, num_classes=None, burn_in=10,
                    num_clones=1, variable_update=model_deploy.PARAMETER_SERVER):
    """Times the network in each of `precisions`, alternating them for `rounds` rounds.

    Each precision has its own graph, session and process. After `burn_in` untimed batches
    each, every round times `num_batches` batches of each precision in turn, so machine noise
    hits them alike. A `Timing`'s mean is the median of its rounds' means; its standard
    deviation is over all its timed batches; its peak memory is its process's.

    With `num_clones` > 1 (train_step only) each clone runs on its own device with a batch of
    `batch_size`, sharing the variables or replicating them as `variable_update` says, and
    one more step, traced after the timed ones, gives the `Timing`'s `step_traffic`.

    Returns:
      A `Timing` per precision, in order.
    """
    return _time_configurations(
        model_name, [(precision, PROJECT) for precision in precisions], rounds, batch_size,
        num_batches, mode, image_size, num_classes, burn_in, num_clones, variable_update)


def compare_with_tf_slim(model_name, precision=FLOAT32, rounds=1, batch_size=32,
                         num_batches=100, mode='forward', image_size=None, num_classes=None,
                         burn_in=10):
    """Times the project's network and tf_slim.nets' (see benchmarks/tf_slim_reference.py)
    in `precision`, in alternating rounds as `time_precisions` does.

    Returns:
      (the project's `Timing`, tf_slim's `Timing`).

    Raises:
      ConfigurationError: tf_slim.nets has no `model_name`.
    """
    tf_slim_reference.check_network(model_name)
    return tuple(_time_configurations(
        model_name, [(precision, PROJECT), (precision, TF_SLIM)], rounds, batch_size,
        num_batches, mode, image_size, num_classes, burn_in, 1, model_deploy.PARAMETER_SERVER))


def _time_configurations(model_name, configurations, rounds, batch_size, num_batches, mode,
                         image_size, num_classes, burn_in, num_clones, variable_update):
    """The `Timing`s of `configurations` ((precision, implementation) pairs), in order,
    each run in its own `_Worker`; the arguments are `time_precisions`'s."""
    if mode not in MODES:
        raise ConfigurationError('Unknown --mode %r; valid modes: %s.' % (mode, ', '.join(MODES)))
    check_clone_arguments(mode, num_clones, variable_update)
    for precision, _ in configurations:
        check_precision(precision)
    nets_factory.check_image_size(model_name, image_size, 'image_size')
    num_classes = num_classes or nets_factory.published_num_classes(model_name)
    image_size = image_size or nets_factory.network_spec(model_name).default_image_size
    with contextlib.ExitStack() as stack:
        # Built one at a time: a worker has burnt in before the next one starts.
        workers = [stack.enter_context(_Worker(
            functools.partial(_timed_graph, model_name=model_name, mode=mode,
                              batch_size=batch_size, image_size=image_size,
                              num_classes=num_classes, precision=precision,
                              num_clones=num_clones, variable_update=variable_update,
                              implementation=implementation),
            precision, burn_in)) for precision, implementation in configurations]
        round_means = [[] for _ in workers]
        all_durations = [[] for _ in workers]
        for _ in range(rounds):
            for index, worker in enumerate(workers):
                durations = worker.ask(_RUN, num_batches)
                round_means[index].append(statistics.mean(durations))
                all_durations[index].extend(durations)
        # Before tracing, which keeps more memory.
        peaks = [worker.ask(_PEAK_MEMORY) for worker in workers]
        traffics = [worker.ask(_TRACE) if num_clones > 1 else None for worker in workers]
    flops = forward_flops_per_image(model_name, image_size, num_classes)
    return [Timing(model_name, mode, batch_size, image_size, statistics.median(means),
                   statistics.pstdev(durations), worker.trainable_parameters, flops,
                   precision, num_clones, variable_update, step_traffic, peak, implementation)
            for (precision, implementation), worker, means, durations, step_traffic, peak
            in zip(configurations, workers, round_means, all_durations, traffics, peaks,
                   strict=True)]


# A worker's requests: time some batches, give the peak memory, trace a step's traffic.
_RUN = 'run'
_PEAK_MEMORY = 'peak_memory'
_TRACE = 'trace'


def _worker_context():
    """Workers fork from a server that has imported this module (and so TensorFlow) once:
    each starts fast, with a fresh memory peak."""
    context = multiprocessing.get_context('forkserver')
    context.set_forkserver_preload([__name__])
    return context


class _WorkerFailed(Exception):
    """A worker's error, with the traceback it had in the worker."""


class _Worker:
    """A process holding one configuration's graph and session, burnt in, that runs it when
    asked (`ask`); a context manager that ends the process on exit."""

    def __init__(self, build, precision, burn_in):
        """`build(graph)` builds the `_TimedGraph`; its session computes in `precision`."""
        context = _worker_context()
        self._connection, worker_connection = context.Pipe()
        self._process = context.Process(target=_serve,
                                        args=(worker_connection, build, precision, burn_in))
        self._process.start()
        worker_connection.close()
        try:
            self.trainable_parameters = self._answer()
        except BaseException:
            self.__exit__()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *unused_exception):
        self._connection.close()
        self._process.join()

    def ask(self, request, argument=None):
        """The worker's answer to `request` (_RUN batches, _PEAK_MEMORY or _TRACE)."""
        try:
            self._connection.send((request, argument))
        except ConnectionError:  # BrokenPipeError, ConnectionResetError
            self._ended()
        return self._answer()

    def _answer(self):
        try:
            succeeded, answer = self._connection.recv()
        except (EOFError, ConnectionError):
            self._ended()
        if succeeded:
            return answer
        user_error, worker_traceback = answer
        if user_error:
            raise user_error
        raise _WorkerFailed(worker_traceback)

    def _ended(self):
        """Raises why the worker process ended without answering."""
        self._process.join()
        if self._process.exitcode == -signal.SIGKILL:
            raise ConfigurationError(
                'A benchmark worker was killed (SIGKILL), most likely by the kernel because '
                'memory ran out: each configuration holds its graph and session at once, so '
                'lower --batch_size, or time fewer precisions or networks per run.') from None
        raise RuntimeError('The benchmark\'s worker process ended with exit code %s.'
                           % self._process.exitcode) from None


def _serve(connection, build, precision, burn_in):
    """A worker's life: builds the graph, starts its session, runs the initializers and
    `burn_in` batches, sends the trainable parameter count, then answers requests until the
    connection closes. A failure is sent instead of an answer: a user error itself, anything
    else as its traceback."""
    try:
        memory.reset_peak()
        graph = tf.Graph()
        timed = build(graph)
        with tf.Session(graph=graph, config=session_config(
                precision, cpu_devices=timed.cpu_devices)) as session:
            for initialize in timed.initialize:
                session.run(initialize)
            run_durations(session, timed.op, burn_in)
            connection.send((True, count_trainable_parameters(graph)))
            answers = {_RUN: lambda num_batches: run_durations(session, timed.op, num_batches),
                       _PEAK_MEMORY: lambda _: memory.peak_memory(),
                       _TRACE: lambda _: traffic.measure_step(session, timed.op)}
            while True:
                try:
                    request, argument = connection.recv()
                except EOFError:
                    return
                connection.send((True, answers[request](argument)))
    except Exception as error:  # noqa: BLE001  (the parent re-raises it)
        connection.send((False, (error if isinstance(error, UserError) else None,
                                 traceback.format_exc())))


TABLE_HEADER = ('| network | mode | precision | batch | size | sec/batch | images/sec | speed-up '
                '| parameters | GFLOPs/image | peak memory |'
                '\n|---|---|---|---|---|---|---|---|---|---|---|')


def table_row(timing, baseline=None):
    """A Markdown row of `timing`; the speed-up is over `baseline` (a Timing; default itself).

    The batch of several clones reads clones×batch per clone.
    """
    baseline = baseline or timing
    batch = '%d' % timing.batch_size
    if timing.num_clones > 1:
        batch = '%d×%s' % (timing.num_clones, batch)
    return '| %s | %s | %s | %s | %d | %.3f ± %.3f | %.1f | %.2f× | %s | %.2f | %s |' % (
        timing.model_name, timing.mode, timing.mixed_precision, batch,
        timing.image_size, timing.sec_per_batch_mean, timing.sec_per_batch_std,
        timing.images_per_sec, timing.images_per_sec / baseline.images_per_sec,
        format(timing.trainable_parameters, ','), timing.flops_per_image / 1e9,
        timing.peak_memory)


COMPARISON_HEADER = (
    '| network | mode | precision | batch | size | images/sec | tf_slim images/sec '
    '| speed ratio | peak memory | tf_slim peak memory | memory ratio |'
    '\n|---|---|---|---|---|---|---|---|---|---|---|')


def comparison_row(project, reference):
    """A Markdown row of the project's `Timing` beside tf_slim's (`reference`): images/sec and
    peak host memory, and the project's over tf_slim's of each."""
    return '| %s | %s | %s | %d | %d | %.1f | %.1f | %.2f× | %s | %s | %.2f× |' % (
        project.model_name, project.mode, project.mixed_precision, project.batch_size,
        project.image_size, project.images_per_sec, reference.images_per_sec,
        project.images_per_sec / reference.images_per_sec, project.peak_memory,
        reference.peak_memory,
        project.peak_memory.host_bytes / reference.peak_memory.host_bytes)


TRAFFIC_HEADER = (
    '| network | precision | clones | variable update | images/sec | cross-device MB/step '
    '| send/recv MB | all-reduce MB | busiest device MB/direction | gradient MB per device |'
    '\n|---|---|---|---|---|---|---|---|---|---|')

DEVICE_TRAFFIC_HEADER = (
    '| network | precision | clones | variable update | device | sent MB | received MB '
    '| all-reduce MB each way |\n|---|---|---|---|---|---|---|---|')


def _megabytes(num_bytes):
    return '%.1f' % (num_bytes / traffic.MEGABYTE)


def _run_columns(timing):
    return '| %s | %s | %d | %s |' % (timing.model_name, timing.mixed_precision,
                                      timing.num_clones, timing.variable_update)


def traffic_row(timing):
    """A Markdown row of the bytes `timing`'s step moved between devices (1 MB = 10^6 bytes),
    next to its images/sec; `timing.step_traffic` must be set."""
    step_traffic = timing.step_traffic
    return '%s %.1f | %s | %s | %s | %s | %s |' % (
        _run_columns(timing), timing.images_per_sec, _megabytes(step_traffic.total_bytes),
        _megabytes(step_traffic.transfer_bytes), _megabytes(step_traffic.all_reduce_bytes),
        _megabytes(step_traffic.busiest_device_bytes), _megabytes(timing.gradient_bytes))


def device_traffic_rows(timing):
    """Markdown rows of the bytes each device of `timing`'s step moved, one per device."""
    return ['%s %s | %s | %s | %s |' % (
        _run_columns(timing), traffic.short_device_name(device),
        _megabytes(device_traffic.sent_bytes), _megabytes(device_traffic.received_bytes),
        _megabytes(device_traffic.all_reduce_bytes))
        for device, device_traffic in timing.step_traffic.devices.items()]
