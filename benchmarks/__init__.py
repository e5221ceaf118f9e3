"""Speed measurements: network forward/backward timing and input pipeline timing."""

import tf_compat  # noqa: F401  (must precede tf_slim; see tf_compat.py)
