"""Every path on a non-local TensorFlow filesystem: convert -> train -> evaluate -> export on
ram:// in one process (classify too), and on gs:// across processes, against a local GCS
emulator (tests/gcs_emulator.py)."""

import io
import json
import os
import subprocess
import sys
import tarfile
import uuid

import numpy as np
import tensorflow.compat.v1 as tf
import pytest
from gcs_emulator import BUCKET, list_objects, local_gcs, read_object, write_object
from support import ROOT, digits_train_options, encode_images, free_ports, run_script

from common import cli, files
from datasets import convert_digits, download
from evaluation import evaluator
from evaluation.eval_options import EvalOptions
from exporting import exporter
from exporting.export_options import ExportOptions
from inference import classifier
from inference.classify_options import ClassifyOptions
from training import trainer

LENET_DIGITS_FLAGS = os.path.join(ROOT, 'configs', 'lenet_digits.flags')
NUM_STEPS = 10
DIGITS_FILES = ['digits_train.tfrecord', 'digits_validation.tfrecord', 'labels.txt']
NUM_VALIDATION_EXAMPLES = 364
EXPORTED_FILES = ['frozen.pb', 'lenet.tflite', 'saved_model/saved_model.pb',
                  'saved_model/variables/variables.data-00000-of-00001',
                  'saved_model/variables/variables.index']


# A custom dataset's photo folder: two classes of two 16 x 16 photos each.
_PHOTOS = {'%s/%d.jpg' % (name, index): np.full((16, 16, 3), 60 * index + 100 * label, np.uint8)
           for label, name in enumerate(['cat', 'dog']) for index in range(2)}


def _check_results(results):
    assert results['global_step'] == NUM_STEPS
    assert results['num_examples'] == NUM_VALIDATION_EXAMPLES
    assert 0 <= results['eval/Accuracy'] <= results['eval/Recall_5'] <= 1


def test_convert_train_evaluate_export_and_classify_on_ram(tmp_path, monkeypatch):
    # A ram:// path mistaken for a local one would create files in the working directory.
    monkeypatch.chdir(tmp_path)
    root = 'ram://filesystems-%s' % uuid.uuid4().hex
    data_dir, train_dir, export_dir = root + '/digits', root + '/train', root + '/export'

    convert_digits.run(data_dir)
    assert sorted(tf.io.gfile.listdir(data_dir)) == DIGITS_FILES
    trainer.train(digits_train_options(data_dir, train_dir, max_number_of_steps=NUM_STEPS,
                                       log_every_n_steps=NUM_STEPS))
    assert tf.io.gfile.exists('%s/model.ckpt-%d.index' % (train_dir, NUM_STEPS))
    evaluator.evaluate(EvalOptions(
        dataset_name='digits', dataset_split_name='validation', model_name='lenet',
        dataset_dir=data_dir, checkpoint_path=train_dir, eval_dir=train_dir + '/eval'))
    _check_results(files.read_json_file(train_dir + '/eval/eval_results.json'))
    exporter.export(ExportOptions(
        model_name='lenet', dataset_name='digits', dataset_dir=data_dir,
        checkpoint_path=train_dir, output_file=export_dir + '/frozen.pb',
        saved_model_dir=export_dir + '/saved_model', tflite_file=export_dir + '/lenet.tflite'))
    for name in EXPORTED_FILES:
        assert files.is_file(os.path.join(export_dir, name)), name

    image_path = root + '/images/digit.png'
    tf.io.gfile.makedirs(os.path.dirname(image_path))
    with tf.io.gfile.GFile(image_path, 'wb') as f:
        f.write(encode_images([np.full((8, 8, 1), 128, np.uint8)], 'png')[0])
    for options in (ClassifyOptions(saved_model_dir=export_dir + '/saved_model'),
                    ClassifyOptions(model_name='lenet', checkpoint_path=train_dir,
                                    dataset_name='digits', dataset_dir=data_dir)):
        [prediction] = classifier.classify(options, [image_path])
        assert prediction.image_path == image_path and len(prediction.top) == 5
    assert os.listdir(tmp_path) == []


@pytest.mark.slow  # a minute: `make test-slow`; the ram:// test above covers the same steps
def test_convert_train_evaluate_export_on_gcs_across_processes(tmp_path):
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    root = 'gs://%s/run' % BUCKET
    data_dir, train_dir, export_dir = root + '/digits', root + '/train', root + '/export'
    photos_dir, custom_dir = root + '/photos', root + '/custom'
    with local_gcs(str(tmp_path)) as gcs_environment:
        environment = {**os.environ, **gcs_environment}
        # gs:// lists sub-directories with a trailing '/': the class folders must still read
        # as 'cat' and 'dog'.
        for name, pixels in _PHOTOS.items():
            write_object(gcs_environment, os.path.join(photos_dir, name),
                         encode_images([pixels], 'jpeg')[0])
        steps = [
            ('download_and_convert_data.py', '--dataset_name=custom',
             '--image_dir=' + photos_dir, '--dataset_dir=' + custom_dir),
            ('download_and_convert_data.py', '--dataset_name=digits',
             '--dataset_dir=' + data_dir),
            ('train_image_classifier.py', '--flagfile=' + LENET_DIGITS_FLAGS,
             '--dataset_dir=' + data_dir, '--train_dir=' + train_dir,
             '--max_number_of_steps=%d' % NUM_STEPS),
            ('eval_image_classifier.py', '--dataset_name=digits', '--model_name=lenet',
             '--dataset_split_name=validation', '--dataset_dir=' + data_dir,
             '--checkpoint_path=' + train_dir, '--eval_dir=' + train_dir + '/eval'),
            ('export_inference_graph.py', '--model_name=lenet', '--dataset_name=digits',
             '--dataset_dir=' + data_dir, '--checkpoint_path=' + train_dir,
             '--output_file=' + export_dir + '/frozen.pb',
             '--saved_model_dir=' + export_dir + '/saved_model',
             '--tflite_file=' + export_dir + '/lenet.tflite'),
        ]
        for script, *arguments in steps:
            process = run_script(script, *arguments, cwd=work_dir, environment=environment)
            assert process.returncode == 0, (script, process.stderr[-3000:])

        every_object = list_objects(gcs_environment, root)
        assert not [name for name in every_object if name.endswith(files.INCOMPLETE_SUFFIX)]
        assert set(list_objects(gcs_environment, data_dir)) >= set(DIGITS_FILES)
        assert 'model.ckpt-%d.index' % NUM_STEPS in list_objects(gcs_environment, train_dir)
        assert set(list_objects(gcs_environment, export_dir)) >= set(EXPORTED_FILES)
        _check_results(json.loads(read_object(gcs_environment,
                                              train_dir + '/eval/eval_results.json')))
        assert read_object(gcs_environment, custom_dir + '/labels.txt') == b'0:cat\n1:dog\n'
        assert json.loads(read_object(gcs_environment,
                                      custom_dir + '/dataset_metadata.json')) == {
            'splits_to_sizes': {'train': 2, 'validation': 2}, 'num_classes': 2}
    assert os.listdir(work_dir) == []


def _tar_gz(members):
    """The bytes of a .tar.gz archive of {member name: bytes}."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode='w:gz') as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_archives_on_ram_are_downloaded_checked_and_unpacked_through_a_local_copy(tmp_path,
                                                                                   monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = 'ram://archives-%s' % uuid.uuid4().hex
    archive_bytes = _tar_gz({'raw/values.txt': b'1 2 3\n'})
    archive = root + '/raw.tar.gz'
    with tf.io.gfile.GFile(archive, 'wb') as f:
        f.write(archive_bytes)
    # file:// stands for a download server: the same code path, no network.
    local_archive = tmp_path / 'served' / 'raw.tar.gz'
    local_archive.parent.mkdir()
    local_archive.write_bytes(archive_bytes)
    downloads = {local_archive.as_uri(): download.file_digest(str(local_archive))}

    for dataset_dir, source in ((root + '/given', archive), (root + '/downloaded', None)):
        with download.raw_files(dataset_dir, source, downloads, ['values.txt'],
                                'raw.tar.gz') as found:
            unpacked = found['values.txt']
            assert files.is_local(unpacked)
            assert files.read_file(unpacked) == b'1 2 3\n'
        assert not os.path.exists(unpacked)
    assert files.read_file(root + '/downloaded/downloads/raw.tar.gz') == archive_bytes
    assert sorted(os.listdir(tmp_path)) == ['served']


def _one_error_line(process):
    """The one `error:` line of a tool stopped by an expected error, checked as such."""
    assert process.returncode == cli.USER_ERROR_EXIT_STATUS, process.stderr[-3000:]
    assert 'Traceback' not in process.stderr
    error_lines = [line for line in process.stderr.splitlines() if line.startswith('error: ')]
    assert len(error_lines) == 1, process.stderr[-3000:]
    return error_lines[0]


# Commands that mount a tmpfs (the directory, then the size) in a mount namespace of their
# own, then run the rest of the command line there: the mount ends with the process.
_PRIVATE_TMPFS = 'mount -t tmpfs -o size="$2" tmpfs "$1" && shift 2 && exec "$@"'
_NAMESPACES = (['unshare', '--mount', '--map-root-user'], ['unshare', '--mount'])


def _private_mount_command(mount_point):
    """The command prefix that runs a command with a private tmpfs at `mount_point`, or None
    where this machine allows no mount namespace."""
    for namespace in _NAMESPACES:
        command = [*namespace, 'sh', '-c', _PRIVATE_TMPFS, 'sh', str(mount_point)]
        try:
            probe = subprocess.run([*command, '64k', 'true'], capture_output=True)
        except FileNotFoundError:  # no unshare
            return None
        if probe.returncode == 0:
            return command
    return None


def test_a_full_disk_is_one_line_naming_the_path(tmp_path):
    disk = tmp_path / 'small_disk'
    disk.mkdir()
    mount_command = _private_mount_command(disk)
    if mount_command is None:
        pytest.skip('no mount namespace here for a small tmpfs (unshare --mount failed)')
    # The digits' training split (about 420 kB) does not fit in 256 kB.
    dataset_dir = disk / 'digits'
    process = subprocess.run(
        [*mount_command, '256k', sys.executable,
         os.path.join(ROOT, 'download_and_convert_data.py'), '--dataset_name=digits',
         '--dataset_dir=%s' % dataset_dir], cwd=tmp_path, capture_output=True, text=True,
        timeout=120)
    line = _one_error_line(process)
    assert line.startswith('error: no space left on device: %s/digits_train.tfrecord.'
                           % dataset_dir), line
    assert 'out of memory' not in line


# A gs:// client that cannot connect: every request goes to a proxy port of 127.0.0.1 where
# nothing listens, no credentials or metadata server are looked for, and it retries once.
def _unreachable_gcs_environment(home):
    proxy = 'http://127.0.0.1:%d' % free_ports(1)[0]
    environment = {name: value for name, value in os.environ.items()
                   if name != 'GOOGLE_APPLICATION_CREDENTIALS'}
    environment.update({
        'HTTPS_PROXY': proxy, 'HTTP_PROXY': proxy, 'https_proxy': proxy, 'http_proxy': proxy,
        'NO_PROXY': '', 'no_proxy': '', 'NO_GCE_CHECK': 'true', 'HOME': home,
        'CLOUDSDK_CONFIG': home, 'GCS_RETRY_CONFIG_MAX_RETRIES': '1',
        'GCS_RETRY_CONFIG_INIT_DELAY_TIME_US': '1000'})
    return environment


# (script, the flags naming the bad path, the start of the error line): output paths are
# checked before any graph, input paths where TensorFlow first reads them.
MISSING_FILESYSTEMS = [
    ('train_image_classifier.py', ['--train_dir=s3://bucket/run', '--dataset_dir={data}'],
     '--train_dir=s3://bucket/run: this TensorFlow has no filesystem for s3:// (it has: local '
     'paths, file://, gs://, ram://;'),
    ('train_image_classifier.py', ['--train_dir={tmp}/run', '--dataset_dir=s3://bucket/digits'],
     '--dataset_dir=s3://bucket/digits: this TensorFlow has no filesystem for s3://'),
    ('train_image_classifier.py', ['--train_dir=gs://bucket/run', '--dataset_dir={data}'],
     "--train_dir=gs://bucket/run: gs:// failed (All 1 retry attempts failed. The last failure: "
     "Error executing an HTTP request: libcurl code 7 meaning 'Could not connect to server'"),
    ('eval_image_classifier.py', ['--checkpoint_path=gs://bucket/run', '--dataset_dir={data}',
                                  '--eval_dir={tmp}/eval'],
     '--checkpoint_path=gs://bucket/run: gs:// failed (All 1 retry attempts failed.'),
]


@pytest.mark.parametrize('script, arguments, expected', MISSING_FILESYSTEMS,
                         ids=['%s-%d' % (case[0][:-3], index)
                              for index, case in enumerate(MISSING_FILESYSTEMS)])
def test_a_filesystem_that_is_not_there_is_one_line_naming_scheme_and_flag(
        script, arguments, expected, digits_dir, tmp_path):
    process = run_script(
        script, '--model_name=lenet', '--dataset_name=digits',
        *[argument.format(data=digits_dir, tmp=tmp_path) for argument in arguments],
        cwd=tmp_path, environment=_unreachable_gcs_environment(str(tmp_path)))
    line = _one_error_line(process)
    assert line.startswith('error: ' + expected), line
    assert line.endswith(('in the README).', 'Check the network and the credentials, or use a '
                                             'local path.')), line
