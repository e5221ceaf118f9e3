"""The foundation every layer may use: checkpoints, progress lines, atomic files, the
SavedModel serving interface. It imports nothing else from the project but tf_compat."""

import tf_compat  # noqa: F401  (first: TensorFlow fixes; see tf_compat.py)
