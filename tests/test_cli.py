"""The error boundary of the command-line tools: one `error:` line, no traceback."""

import dataclasses
import errno
import os
import re

import pytest
import tensorflow.compat.v1 as tf
from absl import flags
from support import run_script

import flag_options
from common import cli, devices, errors, files
from evaluation import evaluator
from evaluation.eval_options import EvalOptions
from exporting import exporter
from exporting.export_options import ExportOptions
from inference import classifier
from inference.classify_options import ClassifyOptions
from training import trainer
from training.train_options import TrainOptions

# (script, arguments, text the one-line message must contain), each a mistake a new user
# makes. {data} is the built-in digits dataset, {tmp} an empty temporary directory.
BAD_INVOCATIONS = [
    ('train_image_classifier.py',
     ['--model_name=inception_v9', '--dataset_name=digits', '--dataset_dir={data}',
      '--train_dir={tmp}/train'],
     "Unknown network 'inception_v9'; valid names: alexnet_v2"),
    ('train_image_classifier.py',
     ['--model_name=lenet', '--dataset_name=digits', '--dataset_dir={tmp}/missing',
      '--train_dir={tmp}/train'],
     'No TFRecord files for split'),
    ('eval_image_classifier.py',
     ['--model_name=lenet', '--dataset_name=digits', '--dataset_dir={data}',
      '--checkpoint_path={tmp}', '--eval_dir={tmp}/eval'],
     'No checkpoint in directory {tmp}'),
    ('export_inference_graph.py',
     ['--model_name=lenet_v2', '--output_file={tmp}/lenet.pb'],
     "Unknown network 'lenet_v2'"),
    ('classify_image.py',
     ['--model_name=lenet', '--checkpoint_path={tmp}', '--dataset_name=digits',
      '--dataset_dir={data}', '{tmp}/notes.txt'],
     'Cannot read image {tmp}/notes.txt: it is not a JPEG, PNG, GIF or BMP image'),
    ('benchmark_nets.py', ['--model_name=resnet_v1_51', '--num_batches=1'],
     "Unknown network 'resnet_v1_51'"),
    ('train_image_classifier.py',
     ['--model_name=lenet', '--dataset_name=digits', '--dataset_dir={data}',
      '--train_dir={tmp}/notes.txt'],
     '--train_dir={tmp}/notes.txt is a file: pass a directory'),
    ('eval_image_classifier.py',
     ['--model_name=lenet', '--dataset_name=digits', '--dataset_dir={data}',
      '--checkpoint_path={tmp}', '--eval_dir={tmp}/notes.txt'],
     '--eval_dir={tmp}/notes.txt is a file: pass a directory'),
    ('benchmark_nets.py', ['--model_name=inception_v3', '--image_size=32', '--num_batches=1'],
     '--image_size=32 is too small for inception_v3: its smallest input is 75 (its default '
     '299).'),
    ('train_image_classifier.py',
     ['--model_name=alexnet_v2', '--dataset_name=digits', '--dataset_dir={data}',
      '--train_dir={tmp}/train', '--train_image_size=128'],
     '--train_image_size=128 is too small for alexnet_v2: its smallest input is 195'),
    ('train_image_classifier.py',
     ['--model_name=lenet', '--dataset_name=digits', '--dataset_dir={data}',
      '--train_dir={tmp}/train', '--quantize_delay=5'],
     '--quantize_delay=5 asks for quantization-aware training'),
    ('eval_image_classifier.py',
     ['--model_name=lenet', '--dataset_name=digits', '--dataset_dir={data}', '--quantize',
      '--checkpoint_path={tmp}'],
     '--quantize asks for a quantized evaluation graph'),
    ('export_inference_graph.py', ['--model_name=lenet'], 'Nothing to export: set --output_file'),
    ('classify_image.py', ['--model_name=lenet', '{tmp}/notes.txt'],
     'Nothing to classify with: set --checkpoint_path'),
    ('classify_image.py',
     ['--model_name=lenet', '--checkpoint_path={tmp}', '--dataset_name=digits',
      '--dataset_dir={data}', '{tmp}/garbage'],
     'Image file {tmp}/garbage is a directory: pass the image files in it (e.g. '
     '{tmp}/garbage/*.jpg).'),
    ('download_and_convert_data.py', ['--dataset_name=digits'], 'Set --dataset_dir'),
    ('train_image_classifier.py',
     ['--model_name=lenet', '--dataset_name=digits', '--dataset_dir={tmp}/garbage',
      '--train_dir={tmp}/train', '--max_number_of_steps=1'],
     'a file cannot be read (corrupt or truncated). Check the dataset and checkpoint files, or '
     'convert the dataset again. (corrupted record at 0 (Is this even a TFRecord file?))'),
    ('train_image_classifier.py',
     ['--model_name=lenet', '--dataset_name=digits', '--dataset_dir={data}',
      '--train_dir={tmp}/notes.txt/train'],
     '--train_dir={tmp}/notes.txt/train cannot be written ({tmp}/notes.txt is not a '
     'directory): pass a directory you can write checkpoints and summaries to.'),
    ('eval_image_classifier.py',
     ['--model_name=lenet', '--dataset_name=digits', '--dataset_dir={data}',
      '--checkpoint_path={tmp}', '--eval_dir={tmp}/notes.txt/eval'],
     '--eval_dir={tmp}/notes.txt/eval cannot be written'),
    ('export_inference_graph.py', ['--model_name=lenet', '--output_file={tmp}/notes.txt/a.pb'],
     '--output_file={tmp}/notes.txt/a.pb cannot be written ({tmp}/notes.txt is not a '
     'directory): pass a path in a directory you can write to.'),
    ('export_inference_graph.py', ['--model_name=lenet', '--output_file={tmp}'],
     '--output_file={tmp} is a directory: pass a file name.'),
    ('download_and_convert_data.py', ['--dataset_name=digits', '--dataset_dir={tmp}/notes.txt'],
     '--dataset_dir={tmp}/notes.txt is a file: pass a directory for the TFRecord files.'),
    ('benchmark_input.py', ['--generate_images=2'],
     '--generate_images writes the images to --dataset_dir: set it.'),
]

# (script, a flag value absl refuses while parsing, the flag named in its message).
BAD_FLAG_VALUES = [
    ('train_image_classifier.py', '--batch_size=0', 'batch_size'),
    ('train_image_classifier.py', '--mixed_precision=half', 'mixed_precision'),
    ('train_image_classifier.py', '--label_smoothing=2', 'label_smoothing'),
    ('train_image_classifier.py', '--learning_rate=-1', 'learning_rate'),
    ('eval_image_classifier.py', '--batch_size=-1', 'batch_size'),
    ('eval_image_classifier.py', '--moving_average_decay=1.5', 'moving_average_decay'),
    ('classify_image.py', '--top_k=0', 'top_k'),
    ('export_inference_graph.py', '--image_size=0', 'image_size'),
    ('benchmark_nets.py', '--mode=backward', 'mode'),
    ('benchmark_nets.py', '--mixed_precision=half', 'mixed_precision'),
    ('benchmark_input.py', '--generate_images=-5', 'generate_images'),
    ('download_and_convert_data.py', '--dataset_name=pets', 'dataset_name'),
]


def _arguments(arguments, data_dir, tmp_path):
    return [argument.format(data=data_dir, tmp=tmp_path) for argument in arguments]


@pytest.mark.parametrize('script, arguments, expected', BAD_INVOCATIONS,
                         ids=['%s-%d' % (case[0][:-3], index)
                              for index, case in enumerate(BAD_INVOCATIONS)])
def test_a_user_mistake_is_one_error_line_without_traceback(script, arguments, expected,
                                                            digits_dir, tmp_path):
    (tmp_path / 'notes.txt').write_text('not an image')
    (tmp_path / 'garbage').mkdir()
    (tmp_path / 'garbage' / 'digits_train.tfrecord').write_bytes(bytes(range(256)) * 20)
    result = run_script(script, *_arguments(arguments, digits_dir, tmp_path), cwd=tmp_path)
    assert result.returncode == cli.USER_ERROR_EXIT_STATUS, result.stderr
    assert 'Traceback' not in result.stderr
    error_lines = [line for line in result.stderr.splitlines() if line.startswith('error: ')]
    assert len(error_lines) == 1, result.stderr
    assert expected.format(tmp=tmp_path) in error_lines[0]


def test_debug_shows_the_traceback(digits_dir, tmp_path):
    script, arguments, expected = BAD_INVOCATIONS[0]
    result = run_script(script, *_arguments(arguments, digits_dir, tmp_path), '--debug',
                        cwd=tmp_path)
    assert result.returncode != 0
    assert 'Traceback (most recent call last)' in result.stderr
    assert 'ConfigurationError: ' + expected in result.stderr


def test_expected_errors_become_lines_and_bugs_do_not():
    assert cli.error_line(errors.ConfigurationError('--top_k=0: set it to 1 or more.')) == (
        'error: --top_k=0: set it to 1 or more.')
    assert cli.error_line(FileNotFoundError('No file x.')) == 'error: No file x.'
    assert isinstance(trainer.NonFiniteLossError('diverged'), errors.UserError)
    assert cli.error_line(trainer.NonFiniteLossError('Training stopped at step 3.')) == (
        'error: Training stopped at step 3.')
    out_of_memory = tf.errors.ResourceExhaustedError(
        None, None, 'Graph execution error:\n\nOOM when allocating tensor with shape '
        '[64,299,299,3]\n\t [[{{node conv}}]]')
    assert cli.error_line(out_of_memory) == (
        'error: out of memory. Lower --batch_size (or the image size) and run again. (OOM when '
        'allocating tensor with shape [64,299,299,3])')
    # A bug keeps its traceback, a ValueError (TensorFlow's, numpy's) too.
    assert cli.error_line(KeyError('images')) is None
    assert cli.error_line(ValueError('Shapes (4, 10) and (4, 9) are incompatible')) is None
    assert cli.error_line(tf.errors.InternalError(None, None, 'internal')) is None


def _raised(action):
    """The exception `action()` raises."""
    with pytest.raises(Exception) as raised:
        action()
    return raised.value


def _write_with_python():
    with open('/dev/full', 'wb') as full:
        full.write(b'x')


def _write_with_gfile():
    with tf.io.gfile.GFile('/dev/full', 'wb') as full:
        full.write(b'x' * 100_000)


def _write_in_a_graph():
    with tf.Graph().as_default(), tf.Session() as session:
        session.run(tf.io.write_file('/dev/full', tf.constant('x' * 100_000)))


DISK_FULL_ADVICE = '. Free some space there, or write to another disk.'


def test_a_full_disk_is_named_with_its_path_not_called_out_of_memory(tmp_path):
    # /dev/full fails every write with ENOSPC: TensorFlow reports it as ResourceExhaustedError
    # ('<path>; No space left on device'), as it reports running out of memory.
    for write in (_write_with_gfile, _write_in_a_graph):
        error = _raised(write)
        assert isinstance(error, tf.errors.ResourceExhaustedError)
        assert cli.error_line(error) == (
            'error: no space left on device: /dev/full' + DISK_FULL_ADVICE)
    # A Python write names no file: the line names the output flags the tool checked.
    output = str(tmp_path / 'converted')
    files.check_writable_directory(output, 'dataset_dir', 'the TFRecord files')
    error = _raised(_write_with_python)
    assert isinstance(error, OSError) and error.errno == errno.ENOSPC
    line = cli.error_line(error)
    assert line.startswith('error: no space left on device writing to ') and line.endswith(
        DISK_FULL_ADVICE)
    assert '--dataset_dir=%s' % output in line
    assert cli.error_line(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), '/data/a.jpg')) == (
        'error: no space left on device: /data/a.jpg' + DISK_FULL_ADVICE)
    over_quota = tf.errors.ResourceExhaustedError(
        None, None, '/home/me/run/model.ckpt-5.data; %s' % os.strerror(errno.EDQUOT))
    assert cli.error_line(over_quota) == (
        'error: disk quota exceeded: /home/me/run/model.ckpt-5.data' + DISK_FULL_ADVICE)


def test_a_filesystem_tensorflow_lacks_is_one_line_naming_the_scheme_and_flag(tmp_path):
    supported = ('this TensorFlow has no filesystem for s3:// (it has: local paths, file://, '
                 'gs://, ram://; see "Cloud and in-memory paths" in the README).')
    with pytest.raises(errors.UserError) as raised:
        files.check_writable_directory('s3://bucket/run', 'train_dir', 'checkpoints')
    assert str(raised.value) == '--train_dir=s3://bucket/run: ' + supported
    with pytest.raises(errors.UserError, match=r'^--output_file=hdfs://host/a\.pb: this '
                                               r'TensorFlow has no filesystem for hdfs://'):
        files.check_writable_file('hdfs://host/a.pb', 'output_file')
    # Where a path is first read deeper in, the boundary reports TensorFlow's own error.
    error = _raised(lambda: tf.io.gfile.exists('s3://bucket/data/x.tfrecord'))
    assert isinstance(error, tf.errors.UnimplementedError)
    assert cli.error_line(error) == 'error: s3://bucket/data/x.tfrecord: ' + supported
    # file:// and ram:// are TensorFlow's too.
    files.check_filesystem(tmp_path.as_uri(), 'train_dir')
    files.check_filesystem('ram://run', 'train_dir')


def test_every_tool_runs_behind_the_boundary():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    tools = ['train_image_classifier.py', 'eval_image_classifier.py', 'export_inference_graph.py',
             'classify_image.py', 'download_and_convert_data.py', 'benchmark_nets.py',
             'benchmark_input.py', os.path.join('datasets', 'build_imagenet_data.py')]
    for tool in tools:
        with open(os.path.join(root, tool), encoding='utf-8') as f:
            source = f.read()
        assert 'cli.run(main)' in source and 'app.run(' not in source, tool


# (check function, options with one value out of its range, the message).
OUT_OF_RANGE = [
    (trainer.check_options, TrainOptions(batch_size=0), '--batch_size=0 is out of range: it '
                                                        'must be at least 1.'),
    (trainer.check_options, TrainOptions(max_number_of_steps=-5),
     '--max_number_of_steps=-5 is out of range: it must be at least 1.'),
    (trainer.check_options, TrainOptions(label_smoothing=2.0),
     '--label_smoothing=2.0 is out of range: it must be between 0.0 and 1.0.'),
    (trainer.check_options, TrainOptions(moving_average_decay=1.5),
     '--moving_average_decay=1.5 is out of range: it must be between 0.0 and 1.0.'),
    (trainer.check_options, TrainOptions(learning_rate=-0.1),
     '--learning_rate=-0.1 is out of range: it must be at least 0.0.'),
    (trainer.check_options, TrainOptions(ftrl_learning_rate_power=0.5),
     '--ftrl_learning_rate_power=0.5 is out of range: it must be at most 0.0.'),
    (trainer.check_options, TrainOptions(num_clones=0),
     '--num_clones=0 is out of range: it must be at least 1.'),
    (evaluator.check_options, EvalOptions(batch_size=0),
     '--batch_size=0 is out of range: it must be at least 1.'),
    (evaluator.check_options, EvalOptions(eval_image_size=-3),
     '--eval_image_size=-3 is out of range: it must be at least 1.'),
    (evaluator.check_options, EvalOptions(model_name='vgg_16', eval_image_size=200),
     '--eval_image_size=200 is too small for vgg_16: its smallest input is 224 (its default '
     '224).'),
    (classifier.check_options, ClassifyOptions(model_name='lenet', checkpoint_path='x',
                                               image_size=3),
     '--image_size=3 is too small for lenet: its smallest input is 4 (its default 28).'),
    (exporter.check_options, ExportOptions(image_size=0, output_file='x.pb'),
     '--image_size=0 is out of range: it must be at least 1.'),
    (classifier.check_options, ClassifyOptions(saved_model_dir='x', top_k=0),
     '--top_k=0 is out of range: it must be at least 1.'),
]


@pytest.mark.parametrize('check, options, message', OUT_OF_RANGE)
def test_values_out_of_range_are_refused_before_any_graph(check, options, message):
    with pytest.raises(ValueError, match='^%s$' % re.escape(message)):
        check(options)


@pytest.mark.parametrize('options_class', [TrainOptions, EvalOptions, ExportOptions,
                                           ClassifyOptions])
def test_defaults_are_in_range_and_absl_refuses_the_rest_while_parsing(options_class):
    flag_options.check_ranges(options_class())
    flag_values = flags.FlagValues()
    flag_options.define_flags(options_class, flag_values)
    bounded = [field for field in dataclasses.fields(options_class)
               if field.metadata['minimum'] is not None]
    assert bounded
    for field in bounded:
        with pytest.raises(flags.IllegalFlagValueError, match=field.name):
            flag_values(['tool', '--%s=%s' % (field.name, field.metadata['minimum'] - 1)])


@pytest.mark.parametrize('script, argument, flag', BAD_FLAG_VALUES,
                         ids=['%s-%s' % (script[:-3], flag) for script, _, flag in BAD_FLAG_VALUES])
def test_a_bad_flag_value_on_the_command_line_is_refused_without_traceback(script, argument,
                                                                           flag, tmp_path):
    result = run_script(script, argument, cwd=tmp_path)
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr
    assert 'FATAL Flags parsing error: flag --%s=' % flag in result.stderr


def test_at_least_25_distinct_mistakes_are_covered_across_the_tools():
    cases = {(script, tuple(arguments)) for script, arguments, _ in BAD_INVOCATIONS}
    cases |= {(script, (argument,)) for script, argument, _ in BAD_FLAG_VALUES}
    assert len(cases) >= 25
    assert len({script for script, _ in cases}) >= 6


def test_devices_are_named_in_one_line():
    assert devices.description(gpus=['/physical_device:GPU:0'], cpu_count=8) == (
        'Using 1 GPU: /physical_device:GPU:0')
    assert devices.description(gpus=['/gpu:0', '/gpu:1']) == 'Using 2 GPUs: /gpu:0, /gpu:1'
    assert devices.description(gpus=[], cpu_count=2) == 'No GPU found: running on 2 CPU cores'


def test_more_clones_than_gpus_is_an_error_unless_on_the_cpu(tmp_path):
    gpus = len(devices.gpu_names())
    clones = max(gpus + 1, 2)
    options = TrainOptions(train_dir=str(tmp_path), num_clones=clones)
    with pytest.raises(ValueError, match=r'--num_clones=%d places one clone per GPU, and this '
                                         r'machine has %d GPU\(s\). Lower --num_clones to %d, '
                                         r'or pass --clone_on_cpu' % (clones, gpus,
                                                                       max(gpus, 1))):
        trainer.check_options(options)
    trainer.check_options(dataclasses.replace(options, clone_on_cpu=True))


def test_sync_replicas_without_a_cluster_trains_with_a_warning(digits_dir, tmp_path):
    result = run_script('train_image_classifier.py', '--model_name=lenet',
                        '--dataset_name=digits', '--dataset_dir=%s' % digits_dir,
                        '--train_dir=%s' % (tmp_path / 'train'), '--max_number_of_steps=2',
                        '--sync_replicas', cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert ('--sync_replicas without a cluster (--worker_hosts or TF_CONFIG): this one process '
            'aggregates 1 of its own gradients per step.') in result.stderr
    assert 'Finished training at step 2' in result.stderr
