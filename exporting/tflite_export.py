"""TFLite export: the SavedModel's 'preprocessed' signature as a TFLite model.

The TFLite model takes preprocessed images (input 'images' float32 [batch, image_size,
image_size, channels]) and has the signature's outputs as tensors named 'probabilities',
'classes' and 'class_names'.
"""

import os

import tensorflow.compat.v1 as tf

from common import files, serving


def convert_saved_model(saved_model_dir, tflite_file, quantize=False):
    """Writes the TFLite model of a SavedModel written by `saved_model_export`.

    Args:
      quantize: store the weights as 8-bit integers (dynamic-range quantization: about a
        quarter of the size, activations stay float, no calibration images needed).
    Returns:
      The size of the TFLite model in bytes.
    """
    # The v1 converter loads the SavedModel into a graph and session of its own, so it
    # works with TF2 behaviour disabled (tf_compat.py).
    converter = tf.lite.TFLiteConverter.from_saved_model(
        saved_model_dir, signature_key=serving.PREPROCESSED_SIGNATURE)
    if quantize:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    model = converter.convert()
    tf.io.gfile.makedirs(os.path.dirname(tflite_file) or os.curdir)
    files.write_file_atomically(tflite_file, model)
    return len(model)
