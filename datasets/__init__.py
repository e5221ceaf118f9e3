"""Dataset descriptors, TFRecord reading and the dataset converters."""

import tf_compat  # noqa: F401  (must precede tf_slim; see tf_compat.py)
