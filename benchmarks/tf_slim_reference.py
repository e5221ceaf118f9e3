"""TF-Slim 1.1.0's own networks (`tf_slim.nets`) and train step, built as a plain tf_slim
user would build them, for `benchmark_nets.py --compare_tf_slim` to time this project's
graphs against.

The train step is TF-Slim's recipe with this project's default hyper-parameters
(`training.train_options.TrainOptions`): the network in its arg_scope, softmax
cross-entropy on the logits (and on the auxiliary logits, weighted as the project weighs
them), the regularization losses, RMSProp on an exponentially decaying learning rate, and
`slim.learning.create_train_op`, which runs the batch-norm update ops.
"""

import functools

import tensorflow.compat.v1 as tf
import tf_slim as slim
from tf_slim.nets import alexnet, inception, overfeat, resnet_v1, resnet_v2, vgg

from common.errors import ConfigurationError

# Registry name: (tf_slim.nets network function, its arg_scope function).
NETWORKS = {
    'alexnet_v2': (alexnet.alexnet_v2, alexnet.alexnet_v2_arg_scope),
    'inception_v1': (inception.inception_v1, inception.inception_v1_arg_scope),
    'inception_v2': (inception.inception_v2, inception.inception_v2_arg_scope),
    'inception_v3': (inception.inception_v3, inception.inception_v3_arg_scope),
    'overfeat': (overfeat.overfeat, overfeat.overfeat_arg_scope),
    'resnet_v1_50': (resnet_v1.resnet_v1_50, resnet_v1.resnet_arg_scope),
    'resnet_v1_101': (resnet_v1.resnet_v1_101, resnet_v1.resnet_arg_scope),
    'resnet_v1_152': (resnet_v1.resnet_v1_152, resnet_v1.resnet_arg_scope),
    'resnet_v1_200': (resnet_v1.resnet_v1_200, resnet_v1.resnet_arg_scope),
    'resnet_v2_50': (resnet_v2.resnet_v2_50, resnet_v2.resnet_arg_scope),
    'resnet_v2_101': (resnet_v2.resnet_v2_101, resnet_v2.resnet_arg_scope),
    'resnet_v2_152': (resnet_v2.resnet_v2_152, resnet_v2.resnet_arg_scope),
    'resnet_v2_200': (resnet_v2.resnet_v2_200, resnet_v2.resnet_arg_scope),
    'vgg_a': (vgg.vgg_a, vgg.vgg_arg_scope),
    'vgg_16': (vgg.vgg_16, vgg.vgg_arg_scope),
    'vgg_19': (vgg.vgg_19, vgg.vgg_arg_scope),
}


def check_network(model_name):
    """Raises ConfigurationError if tf_slim.nets has no `model_name`."""
    if model_name not in NETWORKS:
        raise ConfigurationError(
            '--compare_tf_slim: tf_slim.nets has no %r; the networks it ships are %s.'
            % (model_name, ', '.join(NETWORKS)))


def _network(model_name, images, num_classes, is_training, weight_decay):
    network, arg_scope = NETWORKS[model_name]
    with slim.arg_scope(arg_scope(weight_decay=weight_decay)):
        logits, end_points = network(images, num_classes=num_classes, is_training=is_training)
    if logits.shape.ndims == 4:
        # tf_slim 1.1.0's ResNets keep the 1x1 map of their logits; a user squeezes it.
        logits = tf.squeeze(logits, [1, 2], name='SpatialSqueeze')
    return logits, end_points


def network_fn(model_name, num_classes, is_training, weight_decay=0.00004):
    """tf_slim.nets' `model_name` as a function of images [batch, size, size, 3] to
    (logits [batch, num_classes], end points), like `nets_factory.get_network_fn`'s."""
    check_network(model_name)
    return functools.partial(_network, model_name, num_classes=num_classes,
                             is_training=is_training, weight_decay=weight_decay)


def build_train_step(model_name, images, labels, num_classes, num_samples_per_epoch, options):
    """Builds the train step in the default graph; returns its op (the total loss, after the
    update).

    images: float [batch, size, size, 3]. labels: int [batch]. `options` (a `TrainOptions`)
    gives the batch size and hyper-parameters; `num_samples_per_epoch` sets the learning
    rate's decay steps.
    """
    global_step = tf.train.get_or_create_global_step()
    logits, end_points = network_fn(model_name, num_classes, is_training=True,
                                    weight_decay=options.weight_decay)(images)
    one_hot_labels = tf.one_hot(labels, num_classes)
    if 'AuxLogits' in end_points:
        tf.losses.softmax_cross_entropy(one_hot_labels, end_points['AuxLogits'],
                                        weights=options.aux_loss_weight, scope='aux_loss')
    tf.losses.softmax_cross_entropy(one_hot_labels, logits)
    total_loss = tf.losses.get_total_loss()
    decay_steps = int(num_samples_per_epoch / options.batch_size * options.num_epochs_per_decay)
    learning_rate = tf.train.exponential_decay(
        options.learning_rate, global_step, decay_steps, options.learning_rate_decay_factor,
        staircase=True)
    optimizer = tf.train.RMSPropOptimizer(
        learning_rate, decay=options.rmsprop_decay, momentum=options.rmsprop_momentum,
        epsilon=options.opt_epsilon)
    return slim.learning.create_train_op(total_loss, optimizer, global_step=global_step)
