"""NASNet-A and PNASNet-5 with TF-Slim's module paths, scopes and variable names."""

import tf_compat  # noqa: F401  (must precede tf_slim; see tf_compat.py)
