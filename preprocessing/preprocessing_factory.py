"""Maps a network name, or a preprocessing style name, to its preprocessing function."""

from nets import nets_factory
from preprocessing import (
    cifarnet_preprocessing,
    inception_preprocessing,
    lenet_preprocessing,
    vgg_preprocessing,
)

# Style name (the `preprocessing` of a `nets_factory.NetworkSpec`) -> module with
# `preprocess_image`.
STYLE_MODULES = {
    'cifarnet': cifarnet_preprocessing,
    'inception': inception_preprocessing,
    'lenet': lenet_preprocessing,
    'vgg': vgg_preprocessing,
}

# Every name `get_preprocessing` takes -> its module: the style names and, through
# their style, the networks of the registry.
PREPROCESSING_MODULES = {
    **STYLE_MODULES,
    **{name: STYLE_MODULES[spec.preprocessing] for name, spec in nets_factory.NETWORKS.items()},
}


def _style_module(name):
    if name not in PREPROCESSING_MODULES:
        raise ValueError('Preprocessing name [%s] was not recognized; valid names: %s'
                         % (name, ', '.join(sorted(PREPROCESSING_MODULES))))
    return PREPROCESSING_MODULES[name]


def get_preprocessing(name, is_training=False, use_grayscale=False):
    """Returns `fn(image, output_height, output_width, **kwargs)` that maps an image
    [H, W, C] to float32 [output_height, output_width, C'] the way network `name`
    expects; kwargs go to the style's `preprocess_image`.

    Raises:
      ValueError: `name` is not a key of PREPROCESSING_MODULES.
    """
    module = _style_module(name)

    def preprocessing_fn(image, output_height, output_width, **kwargs):
        return module.preprocess_image(image, output_height, output_width,
                                       is_training=is_training, use_grayscale=use_grayscale,
                                       **kwargs)

    return preprocessing_fn


def uses_bounding_boxes(name):
    """Returns whether network `name`'s preprocessing takes a `bbox` [1, N, 4] keyword
    (the inception style, which crops around the boxes in training).

    Raises:
      ValueError: `name` is not a key of PREPROCESSING_MODULES.
    """
    return _style_module(name) is inception_preprocessing
