"""MobileNet V2, V3 and EdgeTPU: layer tables (`conv_defs`) and the builder that runs them."""

import tf_compat  # noqa: F401  (must precede tf_slim; see tf_compat.py)
