"""Inference: classify image files with a checkpoint or an exported SavedModel."""

import tf_compat  # noqa: F401  (must precede tf_slim; see tf_compat.py)
