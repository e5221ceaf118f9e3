"""Evaluation: restore a checkpoint and measure top-1/top-5 over a dataset split."""

import tf_compat  # noqa: F401  (must precede tf_slim; see tf_compat.py)
