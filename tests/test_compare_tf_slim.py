"""benchmark_nets.py --compare_tf_slim: the project's network beside tf_slim.nets' own."""

import os
import re
import subprocess
import sys

import pytest
import tensorflow.compat.v1 as tf
from support import ROOT

from benchmarks import network_timing, tf_slim_reference
from training import train_graph, train_options


def _trainable_variables_and_update_ops(build):
    """((name, shape) of each trainable variable, sorted; the number of update ops) of the
    graph `build()` makes."""
    with tf.Graph().as_default():
        build()
        return (sorted((variable.op.name, tuple(variable.shape.as_list()))
                       for variable in tf.trainable_variables()),
                len(tf.get_collection(tf.GraphKeys.UPDATE_OPS)))


def test_the_raw_tf_slim_train_step_trains_the_projects_variables():
    options = train_options.TrainOptions(model_name='inception_v1', batch_size=1,
                                         clone_on_cpu=True)
    project = _trainable_variables_and_update_ops(lambda: train_graph.build_train_graph(
        options, network_timing.synthetic_input(options, 1001)))

    def build_reference():
        batch = network_timing.random_batch(1, 224, 1001)
        tf_slim_reference.build_train_step('inception_v1', batch['images'], batch['labels'],
                                           1001, 1_281_167, options)

    reference = _trainable_variables_and_update_ops(build_reference)
    assert project == reference
    variables, update_ops = project
    assert ('InceptionV1/Logits/Conv2d_0c_1x1/weights', (1, 1, 1024, 1001)) in variables
    # The batch-norm moving mean and variance of each of the 57 convolutions.
    assert update_ops == 2 * 57


def test_a_network_tf_slim_does_not_ship_is_refused_naming_those_it_does():
    with pytest.raises(ValueError, match=r"tf_slim.nets has no 'mobilenet_v1'; the networks "
                                         r"it ships are alexnet_v2, inception_v1, .*vgg_19\."):
        tf_slim_reference.check_network('mobilenet_v1')


@pytest.mark.slow
def test_compare_tf_slim_prints_the_speed_and_memory_ratios():
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, 'benchmark_nets.py'), '--model_name=inception_v1',
         '--compare_tf_slim', '--batch_size=1', '--num_batches=2', '--burn_in=1'],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    header, separator, row = result.stdout.splitlines()
    assert header == ('| network | mode | precision | batch | size | images/sec '
                      '| tf_slim images/sec | speed ratio | peak memory | tf_slim peak memory '
                      '| memory ratio |')
    match = re.fullmatch(r'\| inception_v1 \| forward \| float32 \| 1 \| 224 \| ([\d.]+) '
                         r'\| ([\d.]+) \| ([\d.]+)× \| ([\d.]+) GB \| ([\d.]+) GB \| ([\d.]+)× \|',
                         row)
    assert match, row
    project, reference, speed_ratio, project_gb, reference_gb, memory_ratio = map(
        float, match.groups())
    assert speed_ratio == pytest.approx(project / reference, abs=0.01)
    assert memory_ratio == pytest.approx(project_gb / reference_gb, abs=0.02)
    assert 0.2 < project_gb < 10 and 0.2 < reference_gb < 10
