"""The interface of an exported SavedModel, which export writes and classify reads.

Signatures (tag 'serve'), each with one input, INPUT_KEY:
  SERVING_SIGNATURE: string [batch], encoded JPEG or PNG images.
  PREPROCESSED_SIGNATURE: float32 [batch, image_size, image_size, channels], images already
    given the model's eval preprocessing.
Both return PROBABILITIES float32 [batch, num_classes], CLASSES int32 [batch, k] (the ids of
the k = min(TOP_K, num_classes) most probable classes, most probable first) and CLASS_NAMES
string [batch, k].
"""

import tensorflow.compat.v1 as tf

SERVING_SIGNATURE = tf.saved_model.DEFAULT_SERVING_SIGNATURE_DEF_KEY
PREPROCESSED_SIGNATURE = 'preprocessed'
INPUT_KEY = 'images'
PROBABILITIES = 'probabilities'
CLASSES = 'classes'
CLASS_NAMES = 'class_names'
OUTPUT_KEYS = (PROBABILITIES, CLASSES, CLASS_NAMES)
# The k of top-k: the classes a SavedModel returns, as evaluation's top-5 accuracy counts them.
TOP_K = 5
