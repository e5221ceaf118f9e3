"""The one place that adapts TensorFlow 2.21 to TF-Slim-style graph code.

Every entry point and every package of this project imports this module before
anything else, so the fixes below are in force before tf_slim builds a layer.
"""

import os
import sys
import warnings

# TensorFlow prints a C++ banner line per CPU feature; keep the user's own choice
# if one is set, otherwise show warnings and errors only.
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '1')

import tensorflow.compat.v1 as tf  # noqa: E402
import tf_keras  # noqa: E402
import tf_keras.src.legacy_tf_layers  # noqa: E402
from tensorflow.python.util import deprecation  # noqa: E402

# tf_slim 1.1.0 builds batch_norm from `tf_keras.legacy_tf_layers`, a path that
# tf-keras 2.21 only ships as `tf_keras.src.legacy_tf_layers`.
sys.modules.setdefault('tf_keras.legacy_tf_layers', tf_keras.src.legacy_tf_layers)

# Every tf.compat.v1 call in graph mode logs a deprecation notice; they say
# nothing a user can act on and bury the training log.
deprecation._PRINT_DEPRECATION_WARNINGS = False

# The project runs TF-Slim's graph-mode programs: sessions, collections,
# variable scopes. Eager execution and the other TF2 behaviours would break them.
tf.disable_v2_behavior()

# tf_slim builds its layers through tf_keras' legacy tf.layers, each call of which
# warns that tf.layers is deprecated; the project knowingly depends on them.
warnings.filterwarnings('ignore', message=r'`(tf\.layers\.\w+|layer\.apply)` is deprecated')

# TensorFlow gives its logger a handler of its own when imported before absl sets up
# logging, so every line would be printed twice; absl's handler prints them all.
tf.get_logger().handlers.clear()
