r"""Times networks' forward pass, forward+backward pass or whole train step on random
in-graph images, in one or several precisions.

Usage:
  python benchmark_nets.py --model_name=inception_v3 --batch_size=32 --num_batches=100
  python benchmark_nets.py --model_name=all --mode=forward_backward --num_batches=10
  # float32 against bfloat16, alternating 3 rounds of 10 batches; medians and speed-up:
  python benchmark_nets.py --model_name=inception_v3,resnet_v1_50 --mode=train_step \
      --mixed_precision=float32,bfloat16 --rounds=3 --num_batches=10 --burn_in=3
  # 4 clones (GPUs, or logical CPU devices) with replicated variables; then the bytes
  # crossing devices per step:
  python benchmark_nets.py --model_name=resnet_v1_50 --mode=train_step --num_clones=4 \
      --variable_update=replicated
  # The project's train step beside tf_slim.nets' own network in a plain tf_slim train
  # step, alternating 3 rounds, in each precision; speed and peak memory ratios:
  python benchmark_nets.py --model_name=inception_v3 --mode=train_step --compare_tf_slim \
      --mixed_precision=float32,bfloat16 --rounds=3 --num_batches=10 --burn_in=3

Every configuration runs in a process of its own, whose peak memory the tables report: the
host's resident set (and each GPU allocator's peak, with GPUs).
"""

import tf_compat  # noqa: F401  (first: TensorFlow fixes; see tf_compat.py)
from absl import flags, logging

import flag_options
from common import cli, devices
from common.errors import ConfigurationError
from common import session as sessions
from benchmarks import network_timing, tf_slim_reference
from deployment import model_deploy
from nets import nets_factory

FLAGS = flags.FLAGS

flags.DEFINE_list('model_name', ['inception_v3'], 'The networks to time, or "all".')
flags.DEFINE_integer('batch_size', 32, 'Images per batch.')
flags.DEFINE_integer('num_batches', 100, 'Timed batches per round, after the burn-in batches.')
flags.DEFINE_integer('burn_in', 10, 'Untimed batches run first.')
flags.DEFINE_enum('mode', 'forward', network_timing.MODES,
                  'What to time; train_step is the train op of train_image_classifier.py.')
flags.DEFINE_integer('image_size', None, 'Input side (default: the network\'s).')
flags.DEFINE_integer('num_classes', None,
                     'Outputs of the classification layer (default: the published checkpoint\'s).')
flags.DEFINE_list('mixed_precision', [sessions.FLOAT32],
                  'Comma-separated precisions to time, of %s; speed-ups are over the first.'
                  % ', '.join(sessions.PRECISIONS))
flags.register_validator(
    'mixed_precision', lambda values: set(values) <= set(sessions.PRECISIONS),
    message='valid precisions are %s' % ', '.join(sessions.PRECISIONS))
flags.DEFINE_integer('rounds', 1, 'Rounds alternating the precisions; each reports the median '
                                  'of its rounds.')
flags.DEFINE_integer('num_clones', 1, 'Clones of --mode=train_step, each on its own batch and '
                     'device: one per GPU, or without GPUs one per logical CPU device. With more '
                     'than one, two more tables give the bytes that cross devices in a step: in '
                     'all, and per device.',
                     lower_bound=1)
flags.DEFINE_enum('variable_update', model_deploy.PARAMETER_SERVER, model_deploy.VARIABLE_UPDATES,
                  'How --mode=train_step clones share the variables, as in '
                  'train_image_classifier.py.')
flags.DEFINE_boolean('compare_tf_slim', False,
                     'Time each network beside tf_slim.nets\' own (with --mode=train_step, in a '
                     'plain tf_slim train step), alternating rounds, in each precision; print '
                     'the project\'s images/sec and peak memory over tf_slim\'s. Networks: %s, '
                     'or "all" for these.' % ', '.join(tf_slim_reference.NETWORKS))
flag_options.define_help_flags(cli)


def compare_tf_slim(names):
    """Prints the comparison table of `names` with tf_slim.nets, a row per precision."""
    for name in names:
        tf_slim_reference.check_network(name)
    if FLAGS.num_clones > 1:
        raise ConfigurationError('--compare_tf_slim times one clone; leave --num_clones at 1.')
    print(network_timing.COMPARISON_HEADER, flush=True)
    for name in names:
        for precision in FLAGS.mixed_precision:
            project, reference = network_timing.compare_with_tf_slim(
                name, precision, rounds=FLAGS.rounds, batch_size=FLAGS.batch_size,
                num_batches=FLAGS.num_batches, mode=FLAGS.mode, image_size=FLAGS.image_size,
                num_classes=FLAGS.num_classes, burn_in=FLAGS.burn_in)
            print(network_timing.comparison_row(project, reference), flush=True)


def main(_):
    logging.set_verbosity(logging.INFO)
    devices.log_devices()
    network_timing.check_clone_arguments(FLAGS.mode, FLAGS.num_clones, FLAGS.variable_update)
    if FLAGS.compare_tf_slim:
        compare_tf_slim(list(tf_slim_reference.NETWORKS) if FLAGS.model_name == ['all']
                        else FLAGS.model_name)
        return
    names = sorted(nets_factory.networks_map) if FLAGS.model_name == ['all'] else FLAGS.model_name
    print(network_timing.TABLE_HEADER, flush=True)
    all_timings = []
    for name in names:
        timings = network_timing.time_precisions(
            name, FLAGS.mixed_precision, rounds=FLAGS.rounds, batch_size=FLAGS.batch_size,
            num_batches=FLAGS.num_batches, mode=FLAGS.mode, image_size=FLAGS.image_size,
            num_classes=FLAGS.num_classes, burn_in=FLAGS.burn_in, num_clones=FLAGS.num_clones,
            variable_update=FLAGS.variable_update)
        for timing in timings:
            print(network_timing.table_row(timing, baseline=timings[0]), flush=True)
        all_timings.extend(timings)
    if FLAGS.num_clones > 1:
        print('\n' + network_timing.TRAFFIC_HEADER)
        for timing in all_timings:
            print(network_timing.traffic_row(timing))
        print('\n' + network_timing.DEVICE_TRAFFIC_HEADER)
        for timing in all_timings:
            print('\n'.join(network_timing.device_traffic_rows(timing)), flush=True)


if __name__ == '__main__':
    cli.run(main)
