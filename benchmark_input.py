r"""Times the input pipeline alone (read, decode, preprocess, batch) in images/sec, one table
row per preprocessing style. Compare with benchmark_nets.py --mode=forward_backward to see
whether training waits for its input or for its compute.

Usage:
  python benchmark_input.py --dataset_name=imagenet --dataset_dir=/data/imagenet \
      --preprocessing_name=inception_v3,vgg_16 --batch_size=32 --num_batches=50

  # On 200 generated ImageNet-like JPEGs (about 400 x 350) written to --dataset_dir first:
  python benchmark_input.py --dataset_name=imagenet --dataset_dir=/tmp/imagenet_like \
      --generate_images=200 --preprocessing_name=inception_v3,vgg_16

  # Pipeline variants side by side, taking turns for 7 rounds (median round each), with
  # images/sec per core and per second of processor time:
  python benchmark_input.py --dataset_dir=/tmp/imagenet_like \
      --variants=full_decode,fused_crop,private_threads,default --rounds=7
"""

import tf_compat  # noqa: F401  (first: TensorFlow fixes; see tf_compat.py)
from absl import flags

import flag_options
from common import cli, files
from common.errors import ConfigurationError
from benchmarks import input_timing
from datasets import dataset_factory

FLAGS = flags.FLAGS

flags.DEFINE_string('dataset_name', 'imagenet', 'The name of the dataset to read.')
flags.DEFINE_string('dataset_dir', None, 'The directory where the dataset files are stored.')
flags.DEFINE_string('dataset_split_name', 'train', 'The split to read.')
flags.DEFINE_string('preprocessing_name', 'inception_v3',
                    'Comma-separated preprocessing names; one table row each.')
flags.DEFINE_integer('image_size', None,
                     'Output side (default: that of the network named like the preprocessing).',
                     lower_bound=1)
flags.DEFINE_integer('batch_size', 32, 'Images per batch.', lower_bound=1)
flags.DEFINE_integer('num_batches', 50, 'Timed batches, after the burn-in batches.',
                     lower_bound=1)
flags.DEFINE_integer('burn_in', 5, 'Untimed batches run first.', lower_bound=0)
flags.DEFINE_boolean('eval_pipeline', False,
                     'Time the evaluation pipeline (no shuffling, eval preprocessing) instead.')
flags.DEFINE_integer('num_readers', None, 'Files read in parallel (default: AUTOTUNE).',
                     lower_bound=1)
flags.DEFINE_integer('num_preprocessing_threads', None,
                     'Records decoded and preprocessed in parallel (default: AUTOTUNE).',
                     lower_bound=1)
flags.DEFINE_boolean('fail_on_corrupt_records', False,
                     'Decode without the skipping of unreadable records, to time its cost.')
flags.DEFINE_list('variants', [],
                  'Pipeline variants to compare, taking turns for --rounds rounds: '
                  + ', '.join(input_timing.VARIANTS) + ' (default: the pipeline as it is, '
                  'timed once).')
flags.DEFINE_integer('rounds', 5, 'With --variants: rounds of turns; the median is reported.',
                     lower_bound=1)
flags.DEFINE_integer('generate_images', 0,
                     'First write this many generated ImageNet-like JPEGs to --dataset_dir '
                     '(with --dataset_name=imagenet); 0 writes none.', lower_bound=0)
flag_options.define_help_flags(cli)


def main(_):
    input_timing.check_variants(FLAGS.variants)
    if FLAGS.generate_images:
        if FLAGS.dataset_name != 'imagenet':
            raise ConfigurationError('--generate_images writes ImageNet\'s layout: set '
                                     '--dataset_name=imagenet (not %r).' % FLAGS.dataset_name)
        if not FLAGS.dataset_dir:
            raise ConfigurationError('--generate_images writes the images to --dataset_dir: set '
                                     'it.')
        files.check_writable_directory(FLAGS.dataset_dir, 'dataset_dir', 'the generated images')
        input_timing.write_imagenet_like(FLAGS.dataset_dir, FLAGS.generate_images,
                                         split_name=FLAGS.dataset_split_name)
    split = dataset_factory.get_dataset(FLAGS.dataset_name, FLAGS.dataset_split_name,
                                        FLAGS.dataset_dir)
    timing_arguments = dict(
        batch_size=FLAGS.batch_size, num_batches=FLAGS.num_batches, burn_in=FLAGS.burn_in,
        is_training=not FLAGS.eval_pipeline, skip_corrupt=not FLAGS.fail_on_corrupt_records,
        num_readers=FLAGS.num_readers, num_preprocessing_threads=FLAGS.num_preprocessing_threads)
    names = [name.strip() for name in FLAGS.preprocessing_name.split(',')]
    print(input_timing.VARIANTS_TABLE_HEADER if FLAGS.variants else input_timing.TABLE_HEADER,
          flush=True)
    for name in names:
        image_size = FLAGS.image_size or input_timing.default_image_size(name)
        if not FLAGS.variants:
            timing = input_timing.time_input_pipeline(split, name, image_size,
                                                      **timing_arguments)
            print(input_timing.table_row(timing), flush=True)
            continue
        timings = input_timing.time_variants(split, name, image_size, FLAGS.variants,
                                             FLAGS.rounds, **timing_arguments)
        for timing in timings:
            print(input_timing.variants_table_row(timing, baseline=timings[0]), flush=True)


if __name__ == '__main__':
    cli.run(main)
