"""Image preprocessing styles (lenet, cifarnet, inception, vgg) and their factory."""

import tf_compat  # noqa: F401  (must precede tf_slim; see tf_compat.py)
