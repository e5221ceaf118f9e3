"""SavedModel export: a classifier for encoded images or for preprocessed ones.

The signatures are those of `common.serving`. Encoded images are decoded as the dataset's
input pipeline decodes them and given the eval preprocessing of --preprocessing_name
(default: the model's).
"""

import tensorflow.compat.v1 as tf

from common import serving
from datasets import class_names, input_pipeline
from exporting import graph_export


def _decode_and_preprocess(encoded_images, spec, preprocessing_name, use_grayscale):
    """float32 [batch, image_size, image_size, input_channels] from string [batch]."""
    eval_image = input_pipeline.eval_image_fn(spec.image_channels, preprocessing_name,
                                              spec.image_size, use_grayscale)
    # Images differ in size until preprocessed, so they are decoded one at a time.
    return tf.map_fn(eval_image, encoded_images, fn_output_signature=tf.float32)


def build_classifier(options, spec, names):
    """Builds both signatures' graph in the default graph.

    Args:
      options: an `ExportOptions`.
      spec: its `graph_export.ModelSpec`.
      names: the name of each class, num_classes strings.
    Returns:
      {signature key: SignatureDef}.
    """
    encoded_images = tf.placeholder(tf.string, [None], name='encoded_images')
    decoded_images = _decode_and_preprocess(
        encoded_images, spec, options.preprocessing, options.use_grayscale)
    # One network serves both signatures: 'preprocessed' feeds this tensor directly.
    images = tf.placeholder_with_default(
        decoded_images, [None, spec.image_size, spec.image_size, spec.input_channels],
        name='images')
    # Resource variables load into TF2 as ordinary variables; reference variables only
    # with a warning per variable.
    with tf.variable_scope(tf.get_variable_scope(), use_resource=True):
        probabilities = tf.identity(graph_export.predictions(spec, images),
                                    name=serving.PROBABILITIES)
    top = tf.nn.top_k(probabilities, k=min(serving.TOP_K, spec.num_classes))
    classes = tf.identity(top.indices, name=serving.CLASSES)
    top_names = tf.gather(tf.constant(names), classes, name=serving.CLASS_NAMES)
    outputs = {key: tf.saved_model.build_tensor_info(tensor) for key, tensor in (
        (serving.PROBABILITIES, probabilities), (serving.CLASSES, classes),
        (serving.CLASS_NAMES, top_names))}

    def signature(input_tensor):
        return tf.saved_model.build_signature_def(
            {serving.INPUT_KEY: tf.saved_model.build_tensor_info(input_tensor)}, outputs,
            tf.saved_model.PREDICT_METHOD_NAME)

    return {serving.SERVING_SIGNATURE: signature(encoded_images),
            serving.PREPROCESSED_SIGNATURE: signature(images)}


def export_saved_model(options, saved_model_dir):
    """Writes the SavedModel of `options` (an `ExportOptions`) to `saved_model_dir`, a
    directory that must not exist yet, with the weights of options.checkpoint_path.

    Raises:
      ValueError: no checkpoint at options.checkpoint_path, or it does not fit the network.
    """
    spec = graph_export.model_spec(options)
    names = class_names.class_names(options.dataset_name, options.dataset_dir,
                                    spec.num_classes, options.labels_offset)
    with tf.Graph().as_default():
        signatures = build_classifier(options, spec, names)
        with tf.Session() as session:
            graph_export.restore_weights(session, options.checkpoint_path,
                                         options.moving_average_decay)
            builder = tf.saved_model.Builder(saved_model_dir)
            builder.add_meta_graph_and_variables(
                session, [tf.saved_model.SERVING], signature_def_map=signatures,
                strip_default_attrs=True)
            builder.save()
