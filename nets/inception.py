"""TF-Slim's `nets.inception` package interface: the Inception networks in one module."""

from nets.inception_utils import inception_arg_scope
from nets.inception_v3 import inception_v3, inception_v3_arg_scope, inception_v3_base

__all__ = [
    'inception_arg_scope',
    'inception_v3',
    'inception_v3_arg_scope',
    'inception_v3_base',
]
