"""Helpers the tests share: building small datasets, training LeNet, running the scripts.

Fixtures live in conftest.py; test modules import these functions from here.
"""

import json
import os
import socket
import subprocess
import sys
import time

import numpy as np
import tensorflow.compat.v1 as tf
from absl import flags

import tf_compat  # noqa: F401
import flag_options
from datasets import dataset_utils
from evaluation.eval_options import EvalOptions
from training import trainer
from training.train_options import TrainOptions

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_script(script, *arguments, cwd, environment=None):
    """Runs one of the repository's scripts as a user would, from another directory, in
    `environment` (default: this process's).

    Returns the CompletedProcess, with text stdout and stderr.
    """
    return subprocess.run([sys.executable, os.path.join(ROOT, script), *arguments], cwd=cwd,
                          env=environment, capture_output=True, text=True, timeout=600)


def free_ports(count):
    """`count` distinct TCP ports of 127.0.0.1 that are free now, for a local cluster."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(('127.0.0.1', 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def start_logged(command, log_path, environment=None):
    """Starts `command` from the repository's root with its stdout and stderr written to the
    file `log_path`; returns the Popen."""
    with open(log_path, 'w') as log:
        # The child keeps its own copy of the file descriptor.
        return subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT,
                                cwd=ROOT)


def wait_for_exit(processes, logs, timeout):
    """Waits for every Popen of the dict `processes` (the workers before a "ps", whose exit
    waits on theirs) and returns their exit codes by name. Past `timeout` seconds in all, kills
    them and fails with the end of each one's log (`logs`: name -> path)."""
    deadline = time.monotonic() + timeout
    order = sorted(processes, key=lambda name: name == 'ps')
    try:
        return {name: processes[name].wait(timeout=max(1.0, deadline - time.monotonic()))
                for name in order}
    except subprocess.TimeoutExpired:
        raise AssertionError('still running after %d s: %s\n%s' % (
            timeout, ', '.join(name for name in order if processes[name].poll() is None),
            '\n'.join('--- %s ---\n%s' % (name, open(logs[name]).read()[-4000:])
                      for name in order))) from None
    finally:
        for process in processes.values():
            process.kill()
            process.wait()


def checkpoint_step(train_dir):
    """The global step of the latest checkpoint in `train_dir`, or 0 without one."""
    latest = tf.train.latest_checkpoint(train_dir)
    return int(latest.rsplit('-', 1)[1]) if latest else 0


def wait_for_checkpoint_after(train_dir, step, timeout_secs=180):
    """Waits for a checkpoint in `train_dir` later than `step`; returns its step."""
    deadline = time.time() + timeout_secs
    while time.time() < deadline:
        latest_step = checkpoint_step(train_dir)
        if latest_step > step:
            return latest_step
        time.sleep(0.2)
    raise AssertionError('no checkpoint after step %d in %s' % (step, train_dir))


def train_and_evaluate_through_the_scripts(dataset_flags, eval_split, train_dir, batch_size=4,
                                           num_steps=2, train_flags=()):
    """Trains LeNet for num_steps with train_image_classifier.py, then evaluates the last
    checkpoint on eval_split with eval_image_classifier.py, as a user would.

    Args:
      dataset_flags: the flags naming the dataset, e.g. ['--dataset_name=flowers',
        '--dataset_dir=DIR']; shared by both scripts.
    Returns:
      (training's CompletedProcess, evaluation's CompletedProcess, the eval_results.json dict).
    """
    work_dir = os.path.dirname(train_dir)
    common = [*dataset_flags, '--model_name=lenet', '--batch_size=%d' % batch_size]
    train = run_script('train_image_classifier.py', *common, '--train_dir=' + train_dir,
                       '--max_number_of_steps=%d' % num_steps, '--log_every_n_steps=1',
                       *train_flags, cwd=work_dir)
    assert train.returncode == 0, train.stderr
    assert 'step %d/%d: loss = ' % (num_steps, num_steps) in train.stderr
    eval_dir = os.path.join(train_dir, 'eval')
    evaluate = run_script('eval_image_classifier.py', *common,
                          '--dataset_split_name=' + eval_split, '--checkpoint_path=' + train_dir,
                          '--eval_dir=' + eval_dir, cwd=work_dir)
    assert evaluate.returncode == 0, evaluate.stderr
    with open(os.path.join(eval_dir, 'eval_results.json')) as f:
        results = json.load(f)
    assert results['global_step'] == num_steps
    return train, evaluate, results


def encode_images(images, image_format):
    """Encodes uint8 [H, W, C] arrays as JPEG or PNG bytes."""
    with tf.Graph().as_default(), tf.Session() as session:
        placeholder = tf.placeholder(tf.uint8, [None, None, None])
        encoder = {'jpeg': lambda x: tf.image.encode_jpeg(x, quality=95),
                   'png': tf.image.encode_png}[image_format]
        encoded = encoder(placeholder)
        return [session.run(encoded, {placeholder: image}) for image in images]


def write_records(path, images, labels, image_format='jpeg', bboxes=None):
    """Writes TF-Slim examples of the given images and labels to one TFRecord file."""
    encoded = encode_images(images, image_format)
    with tf.io.TFRecordWriter(path) as writer:
        for index, (data, image, label) in enumerate(zip(encoded, images, labels, strict=True)):
            example = dataset_utils.image_to_tfexample(
                data, image_format.encode(), image.shape[0], image.shape[1], int(label),
                class_text='class_%d' % label, bboxes=bboxes[index] if bboxes else None)
            writer.write(example.SerializeToString())


def digits_train_options(digits_dir, train_dir, **overrides):
    """TrainOptions for LeNet on the built-in digits: >= 0.9 top-1 after 250 steps (0.98
    measured)."""
    settings = dict(dataset_name='digits', dataset_dir=digits_dir, train_dir=train_dir,
                    model_name='lenet', optimizer='momentum', learning_rate=0.01,
                    learning_rate_decay_type='fixed', weight_decay=0.0, batch_size=50,
                    max_number_of_steps=250, log_every_n_steps=100)
    settings.update(overrides)
    return TrainOptions(**settings)


def digits_eval_options(digits_dir, checkpoint_path, eval_dir, **overrides):
    """EvalOptions for LeNet on the digits' validation split."""
    settings = dict(dataset_name='digits', dataset_split_name='validation',
                    dataset_dir=digits_dir, model_name='lenet',
                    checkpoint_path=str(checkpoint_path), eval_dir=str(eval_dir))
    settings.update(overrides)
    return EvalOptions(**settings)


def train_digits_lenet(digits_dir, tmp_path_factory, name, **overrides):
    """Trains LeNet on the digits (`digits_train_options` with `overrides`) into a new
    temporary directory called `name`; returns that directory."""
    train_dir = str(tmp_path_factory.mktemp(name))
    trainer.train(digits_train_options(digits_dir, train_dir, **overrides))
    return train_dir


def make_flowers_like(directory, images_per_shard=4, num_shards=2, seed=0):
    """Writes a tiny random-colour dataset in the `flowers` layout (5 classes, JPEG).

    Each class has its own dominant colour so a network can learn something.
    Returns the list of (image, label) written, in file order.
    """
    rng = np.random.RandomState(seed)
    written = []
    for split in ('train', 'validation'):
        for shard in range(num_shards):
            images, labels = [], []
            for _ in range(images_per_shard):
                label = rng.randint(5)
                height, width = rng.randint(40, 90, size=2)
                image = rng.randint(0, 60, size=(height, width, 3)).astype(np.uint8)
                image[..., label % 3] += np.uint8(150)
                images.append(image)
                labels.append(label)
            path = '%s/flowers_%s_%05d-of-%05d.tfrecord' % (directory, split, shard, num_shards)
            write_records(path, images, labels, bboxes=[[(0.1, 0.1, 0.9, 0.9)]] * len(images))
            written.extend(zip(images, labels, strict=True))
    dataset_utils.write_label_file({i: 'flower_%d' % i for i in range(5)}, str(directory))
    return written


def make_random_split(path, num_images, labels, channels, image_format, size_range, seed=0):
    """Writes `num_images` random uint8 images [H, W, channels] to one TFRecord file.

    Labels cycle through `labels`; sides are drawn from `size_range` (low, high), or fixed
    when low == high. JPEG images get one bounding box each, as ImageNet's do.
    """
    rng = np.random.RandomState(seed)
    low, high = size_range
    images = [rng.randint(0, 256, size=(*rng.randint(low, high + 1, size=2), channels))
              .astype(np.uint8) for _ in range(num_images)]
    image_labels = [labels[index % len(labels)] for index in range(num_images)]
    bboxes = [[(0.1, 0.2, 0.8, 0.9)]] * num_images if image_format == 'jpeg' else None
    write_records(path, images, image_labels, image_format, bboxes)


def parsed_default_flags(options_class, script):
    """The absl FlagValues of `options_class`'s flags, parsed from a command line of `script`
    alone: every flag at its default."""
    flag_values = flags.FlagValues()
    flag_options.define_flags(options_class, flag_values)
    flag_values([script])
    return flag_values
