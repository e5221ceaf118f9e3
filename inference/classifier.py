"""Classifies image files: the most probable classes, with names, per image.

Two sources of a model: a network from `nets_factory` restored from a checkpoint, or an
exported SavedModel whose `serving_default` signature takes `images` (tf.string [None],
encoded JPEG or PNG) and returns `probabilities` [None, num_classes], `classes` [None, k]
(the top-k class ids) and `class_names` [None, k].
"""

import dataclasses

import numpy as np
import tensorflow.compat.v1 as tf

from common import checkpoints, files, serving
from common.errors import ConfigurationError, DataError, MissingPathError
from common.session import announce_precision, session_config
from datasets import class_names, dataset_factory, input_pipeline
from nets import nets_factory


@dataclasses.dataclass(frozen=True)
class ClassScore:
    class_id: int
    probability: float
    name: str


@dataclasses.dataclass(frozen=True)
class Prediction:
    """The `top` classes of one image, most probable first."""

    image_path: str
    top: list


def format_prediction(prediction):
    """The image path, then one `  rank. probability  (class id) name` line per class."""
    lines = [prediction.image_path]
    lines += ['  %d. %.4f  (%d) %s' % (rank, score.probability, score.class_id, score.name)
              for rank, score in enumerate(prediction.top, start=1)]
    return '\n'.join(lines)


def check_options(options):
    """Fails early, before any graph is built, on settings that cannot work: every option
    group of `options` (a `ClassifyOptions`) checks its fields."""
    options.check()


def read_images(image_paths):
    """[(path, encoded bytes)] in order, after checking each file decodes as an image.

    Raises:
      ConfigurationError: no paths, or a directory among them.
      MissingPathError: a path that does not exist.
      DataError: a file that is not a JPEG, PNG, GIF or BMP image.
    """
    if not image_paths:
        raise ConfigurationError('No image files given: pass one or more JPEG or PNG paths after '
                                 'the flags.')
    encoded_images = []
    for path in image_paths:
        if tf.io.gfile.isdir(path):
            raise ConfigurationError('Image file %s is a directory: pass the image files in it '
                                     '(e.g. %s/*.jpg).' % (path, path.rstrip('/')))
        if not files.is_file(path):
            raise MissingPathError('Image file %s does not exist: check the path.' % path)
        encoded_images.append((path, files.read_file(path)))
    with tf.Graph().as_default(), tf.Session() as session:
        encoded = tf.placeholder(tf.string, [])
        shape = tf.shape(tf.io.decode_image(encoded, expand_animations=False))
        for path, data in encoded_images:
            try:
                session.run(shape, {encoded: data})
            except tf.errors.InvalidArgumentError as error:
                # TensorFlow's first line says what it found; the rest names graph nodes.
                found = error.message.strip().splitlines()[0]
                raise DataError('Cannot read image %s: it is not a JPEG, PNG, GIF or BMP image '
                                '(%s). Pass image files only.' % (path, found)) from None
    return encoded_images


def _image_channels(options):
    """1 for grayscale datasets (their networks take one channel), else 3."""
    return dataset_factory.image_channels(options.dataset_name, options.dataset_dir)


def _top_scores(probabilities, top_k, names):
    """The top_k classes of probabilities [num_classes], most probable first."""
    order = np.argsort(-probabilities, kind='stable')[:top_k]
    return [ClassScore(int(index), float(probabilities[index]), names[index])
            for index in order]


def classify_with_checkpoint(options, encoded_images):
    """Classifies [(path, encoded image)] with a network restored from a checkpoint.

    Returns:
      A list of `Prediction`, in the order of encoded_images.
    """
    names = class_names.class_names(options.dataset_name, options.dataset_dir,
                                    options.num_classes, options.labels_offset)
    image_channels = _image_channels(options)
    with tf.Graph().as_default():
        network_fn = nets_factory.get_network_fn(options.model_name, num_classes=len(names),
                                                 is_training=False)
        image_size = options.image_size or network_fn.default_image_size
        encoded = tf.placeholder(tf.string, [], name='encoded_image')
        image = input_pipeline.eval_image_fn(
            image_channels, options.preprocessing, image_size)(encoded)
        logits, _ = network_fn(tf.expand_dims(image, 0))
        probabilities = tf.nn.softmax(tf.reshape(logits, [-1, len(names)]))[0]
        with tf.Session(config=session_config(options.mixed_precision)) as session:
            checkpoints.restore_checkpoint(
                session, options.checkpoint_path,
                '--model_name=%s for dataset %r' % (options.model_name, options.dataset_name),
                'Check --model_name. The last dimension of the logits is the class count: '
                'check --dataset_name, --num_classes and --labels_offset (1 for 1000-class '
                'ImageNet heads such as VGG and ResNet V1). When the input channels of the first '
                'layer differ, the model was trained on a grayscale dataset: pass its '
                '--dataset_name (and, for tfds:NAME, its --dataset_dir).',
                options.moving_average_decay, 'classify with')
            return [Prediction(path, _top_scores(session.run(probabilities, {encoded: data}),
                                                 options.top_k, names))
                    for path, data in encoded_images]


def classify_with_saved_model(options, encoded_images):
    """Classifies [(path, encoded image)] with an exported SavedModel (see the module doc).

    Returns:
      A list of `Prediction`, in the order of encoded_images.
    """
    directory = options.saved_model_dir
    if not tf.saved_model.contains_saved_model(directory):
        raise MissingPathError('No SavedModel in --saved_model_dir=%s: point it at an exported '
                               'model directory (one holding saved_model.pb and '
                               'variables/).' % directory)
    config = session_config(options.mixed_precision)
    with tf.Graph().as_default(), tf.Session(config=config) as session:
        meta_graph = tf.saved_model.loader.load(session, [tf.saved_model.tag_constants.SERVING],
                                                directory)
        if serving.SERVING_SIGNATURE not in meta_graph.signature_def:
            raise DataError('SavedModel %s has no %r signature (it has: %s); export it again.'
                            % (directory, serving.SERVING_SIGNATURE,
                               ', '.join(sorted(meta_graph.signature_def)) or 'none'))
        signature = meta_graph.signature_def[serving.SERVING_SIGNATURE]
        images_tensor = signature.inputs[serving.INPUT_KEY].name
        outputs = {key: signature.outputs[key].name
                   for key in serving.OUTPUT_KEYS}
        predictions = []
        for path, data in encoded_images:
            values = session.run(outputs, {images_tensor: [data]})
            exported_k = values[serving.CLASSES].shape[1]
            if options.top_k > exported_k:
                raise ConfigurationError('SavedModel %s gives the top %d classes only: set '
                                         '--top_k=%d or '
                                         'less.' % (directory, exported_k, exported_k))
            top = [ClassScore(int(class_id), float(values[serving.PROBABILITIES][0][class_id]),
                              name.decode('utf-8'))
                   for class_id, name in zip(values[serving.CLASSES][0][:options.top_k],
                                             values[serving.CLASS_NAMES][0][:options.top_k],
                                             strict=True)]
            predictions.append(Prediction(path, top))
        return predictions


def classify(options, image_paths):
    """Classifies the image files per `options` (a `ClassifyOptions`).

    Returns:
      A list of `Prediction`, one per path, in order.
    Raises:
      ValueError: bad options, a missing or unreadable image, no checkpoint or SavedModel,
        or a checkpoint that does not fit the model.
    """
    check_options(options)
    # A SavedModel alone does not name its network.
    slower_in_bfloat16 = (nets_factory.network_spec(options.model_name).slower_in_bfloat16
                          if options.model_name else None)
    # The sessions below take the precision from the options.
    options = dataclasses.replace(options, mixed_precision=announce_precision(
        options.mixed_precision, options.model_name, slower_in_bfloat16, training=False))
    encoded_images = read_images(image_paths)
    if options.saved_model_dir:
        return classify_with_saved_model(options, encoded_images)
    return classify_with_checkpoint(options, encoded_images)
