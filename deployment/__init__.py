"""Model deployment: clones of the model on the devices of a machine."""

import tf_compat  # noqa: F401  (must precede tf_slim; see tf_compat.py)
