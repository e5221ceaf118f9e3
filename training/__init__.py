"""Training: options, optimizers and learning rates, losses, the training loop."""

import tf_compat  # noqa: F401  (must precede tf_slim; see tf_compat.py)
