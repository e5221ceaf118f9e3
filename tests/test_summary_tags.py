"""The tags of a training run's summaries: each as intended, none with TensorFlow's `_1`."""

import glob
import os

import tensorflow.compat.v1 as tf
from support import train_digits_lenet

LENET_VARIABLES = {'LeNet/%s/%s' % (layer, kind) for layer in ('conv1', 'conv2', 'fc3', 'fc4')
                   for kind in ('weights', 'biases')}
LENET_END_POINTS = ('conv1', 'pool1', 'conv2', 'pool2', 'Flatten', 'fc3', 'dropout3', 'Logits',
                    'Predictions')
# A run of lenet on one device; the tags of its clone's losses are added per test.
TAGS_BUT_LOSSES = (
    LENET_VARIABLES
    | {'activations/' + name for name in LENET_END_POINTS}
    | {'sparsity/' + name for name in LENET_END_POINTS}
    | {'images/image/%d' % index for index in range(3)}
    | {'input/corrupt_records_skipped', 'learning_rate', 'total_loss',
       '_hparams_/session_start_info'})


def _summary_tags(train_dir):
    """The tags of every summary in the event files of `train_dir`."""
    return {value.tag for path in glob.glob(os.path.join(train_dir, 'events.out.tfevents.*'))
            for event in tf.train.summary_iterator(path) for value in event.summary.value}


def _checkpointed_weights(train_dir):
    """The names of the checkpoint's variables but the global step and optimizer slots."""
    return {name for name, _ in tf.train.list_variables(train_dir)
            if name != 'global_step' and not name.endswith('/Momentum')}


def test_every_summary_of_a_run_has_its_intended_tag(digits_dir, tmp_path_factory):
    train_dir = train_digits_lenet(digits_dir, tmp_path_factory, 'tags', max_number_of_steps=2,
                                   save_summaries_secs=1)
    tags = _summary_tags(train_dir)
    assert tags == TAGS_BUT_LOSSES | {'losses/softmax_cross_entropy_loss/value'}
    # Each weight's histogram is tagged with the variable's own name.
    assert _checkpointed_weights(train_dir) == LENET_VARIABLES


def test_replicated_clones_summarise_the_weights_once_under_their_names(digits_dir,
                                                                        tmp_path_factory):
    train_dir = train_digits_lenet(digits_dir, tmp_path_factory, 'replicated_tags',
                                   max_number_of_steps=2, save_summaries_secs=1, num_clones=2,
                                   clone_on_cpu=True, variable_update='replicated', batch_size=10)
    clone_losses = {'losses/clone_%d/softmax_cross_entropy_loss/value' % clone
                    for clone in range(2)} | {'clone_%d/clone_loss' % clone for clone in range(2)}
    assert _summary_tags(train_dir) == TAGS_BUT_LOSSES | clone_losses
