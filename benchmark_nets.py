r"""Times networks' forward or forward+backward passes on random in-graph images.

Usage:
  python benchmark_nets.py --model_name=inception_v3 --batch_size=32 --num_batches=100
  python benchmark_nets.py --model_name=all --mode=forward_backward --num_batches=10
"""

import tf_compat  # noqa: F401  (first: TensorFlow fixes; see tf_compat.py)
from absl import app, flags

from benchmarks import network_timing
from nets import nets_factory

FLAGS = flags.FLAGS

flags.DEFINE_string('model_name', 'inception_v3', 'The network to time, or "all".')
flags.DEFINE_integer('batch_size', 32, 'Images per batch.')
flags.DEFINE_integer('num_batches', 100, 'Timed batches, after the burn-in batches.')
flags.DEFINE_integer('burn_in', 10, 'Untimed batches run first.')
flags.DEFINE_enum('mode', 'forward', network_timing.MODES, 'What to time.')
flags.DEFINE_integer('image_size', None, 'Input side (default: the network\'s).')
flags.DEFINE_integer('num_classes', None,
                     'Outputs of the classification layer (default: the published checkpoint\'s).')


def main(_):
    names = sorted(nets_factory.networks_map) if FLAGS.model_name == 'all' else [FLAGS.model_name]
    print(network_timing.TABLE_HEADER, flush=True)
    for name in names:
        timing = network_timing.time_network(
            name, batch_size=FLAGS.batch_size, num_batches=FLAGS.num_batches, mode=FLAGS.mode,
            image_size=FLAGS.image_size, num_classes=FLAGS.num_classes, burn_in=FLAGS.burn_in)
        print(network_timing.table_row(timing), flush=True)


if __name__ == '__main__':
    app.run(main)
