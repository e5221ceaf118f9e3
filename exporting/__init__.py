"""Export: inference GraphDefs (frozen or not), SavedModels and TFLite models."""

import tf_compat  # noqa: F401  (must precede tf_slim; see tf_compat.py)
