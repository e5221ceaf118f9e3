"""The inference network of an export: its input, its probabilities, its trained weights.

`export_graph_def` writes TF-Slim's inference GraphDef (a float placeholder named 'input'
feeding the network), frozen with the checkpoint's weights when one is given.
"""

import dataclasses
import os
from collections.abc import Callable

import tensorflow.compat.v1 as tf
from google.protobuf import text_format

from common import checkpoints, files
from datasets import dataset_factory
from nets import nets_factory

INPUT_NAME = 'input'


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """The network an export builds and the images it takes.

    num_classes: outputs of the classification layer (dataset classes - labels_offset).
    image_size: the side of the square images the network takes.
    image_channels: the channels images decode to in the dataset's input pipeline
      (1 for grayscale datasets such as digits and mnist, else 3).
    input_channels: the channels of the network's input: 1 with --use_grayscale or for a
      grayscale dataset, else 3.
    """

    network_fn: Callable
    num_classes: int
    image_size: int
    image_channels: int
    input_channels: int


def model_spec(options):
    """The `ModelSpec` of an `ExportOptions`.

    Raises:
      ValueError: an unknown dataset or network name; the message lists the valid ones.
    """
    num_classes = (dataset_factory.num_classes(options.dataset_name, options.dataset_dir)
                   - options.labels_offset)
    image_channels = dataset_factory.image_channels(options.dataset_name, options.dataset_dir)
    network_fn = nets_factory.get_network_fn(options.model_name, num_classes=num_classes,
                                             is_training=options.is_training)
    grayscale = options.use_grayscale or image_channels == 1
    return ModelSpec(network_fn=network_fn, num_classes=num_classes,
                     image_size=options.image_size or network_fn.default_image_size,
                     image_channels=image_channels, input_channels=1 if grayscale else 3)


def predictions(spec, images):
    """The network's class probabilities, float32 [batch, num_classes], for `images`
    float32 [batch, image_size, image_size, input_channels]."""
    logits, end_points = spec.network_fn(images)
    # ResNets name this end point in lower case; VGG, AlexNet and OverFeat have none.
    for key in ('Predictions', 'predictions'):
        if key in end_points:
            return end_points[key]
    return tf.nn.softmax(logits, name='Predictions')


def restore_weights(session, checkpoint_path, moving_average_decay=None):
    """Restores every global variable of the default graph into `session`.

    Args:
      checkpoint_path: a checkpoint prefix, or a directory for its latest checkpoint.
      moving_average_decay: when set, model variables take their moving averages.
    Raises:
      ValueError: no checkpoint there, or the checkpoint does not fit the network (missing
        variables or other shapes); the message lists them and the flags to check.
    """
    checkpoints.restore_checkpoint(
        session, checkpoint_path, 'the network to export',
        'Export with the settings the checkpoint was trained with: --model_name, '
        '--dataset_name, --labels_offset, --image_size and --use_grayscale.',
        moving_average_decay, 'export')


def export_graph_def(options):
    """Writes the inference GraphDef of `options` (an `ExportOptions`) to its output_file.

    The graph is TF-Slim's: a float32 placeholder named 'input' [batch_size, image_size,
    image_size, input_channels] feeding the network. With options.checkpoint_path the
    weights are folded in as constants (a frozen graph, no variables).

    Returns:
      The name of the output node, whose output is the probabilities [batch, num_classes].
    """
    spec = model_spec(options)
    with tf.Graph().as_default() as graph:
        images = tf.placeholder(
            tf.float32,
            [options.batch_size, spec.image_size, spec.image_size, spec.input_channels],
            name=INPUT_NAME)
        output_node = predictions(spec, images).op.name
        graph_def = graph.as_graph_def()
        if options.checkpoint_path:
            with tf.Session() as session:
                restore_weights(session, options.checkpoint_path, options.moving_average_decay)
                graph_def = tf.graph_util.convert_variables_to_constants(
                    session, graph_def, [output_node])
    # Not tf.io.write_graph: its temporary file is opened without O_EXCL or O_NOFOLLOW.
    tf.io.gfile.makedirs(os.path.dirname(options.output_file) or os.curdir)
    files.write_file_atomically(
        options.output_file,
        text_format.MessageToString(graph_def).encode('utf-8') if options.write_text_graphdef
        else graph_def.SerializeToString(deterministic=True))
    return output_node
