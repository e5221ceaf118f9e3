"""Maps a network name, or a preprocessing style name, to its preprocessing function."""

import dataclasses
import functools
from collections.abc import Callable

from common.errors import ConfigurationError
from nets import nets_factory
from preprocessing import (
    cifarnet_preprocessing,
    image_decoding,
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
        raise ConfigurationError('Preprocessing name [%s] was not recognized; valid names: %s'
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


# fn(encoded, image_channels) -> uint8 [height, width, image_channels]: the whole image in
# `encoded` (string [], JPEG, PNG, GIF or BMP), as the styles that do not decode windows
# receive it.
decode_image = image_decoding.decode_image


@dataclasses.dataclass(frozen=True)
class EncodedPreprocessing:
    """A style's preprocessing of encoded images (string [], JPEG, PNG, GIF or BMP), in two
    stages: `decode` gives uint8 [h, w, C], the part of the image that is kept (the only
    stage that fails on bad bytes); `preprocess` maps it to float32 [output_height,
    output_width, C']. Both take the style's `preprocess_image` keyword arguments and pick
    their own: `window_arguments` go to `decode_fn`, the rest to `preprocess_fn`."""

    decode_fn: Callable
    preprocess_fn: Callable
    window_arguments: tuple = ()

    def decode(self, encoded, **kwargs):
        return self.decode_fn(encoded, **{
            key: value for key, value in kwargs.items() if key in self.window_arguments})

    def preprocess(self, image, output_height, output_width, **kwargs):
        return self.preprocess_fn(image, output_height, output_width, **{
            key: value for key, value in kwargs.items() if key not in self.window_arguments})

    def __call__(self, encoded, output_height, output_width, **kwargs):
        return self.preprocess(self.decode(encoded, **kwargs), output_height, output_width,
                               **kwargs)


def get_encoded_preprocessing(name, is_training=False, use_grayscale=False, image_channels=3,
                              decode_windows=True):
    """Returns the `EncodedPreprocessing` that gives `get_preprocessing`'s results from
    encoded images decoded to `image_channels` channels.

    With `decode_windows`, a style that crops before it resizes (one with
    `decode_kept_window`: inception) decodes only the window of a JPEG that it keeps;
    otherwise the whole image is decoded.

    Raises:
      ValueError: `name` is not a key of PREPROCESSING_MODULES.
    """
    module = _style_module(name)
    if decode_windows and hasattr(module, 'decode_kept_window'):
        return EncodedPreprocessing(
            functools.partial(module.decode_kept_window, is_training=is_training,
                              image_channels=image_channels),
            functools.partial(module.preprocess_kept_window, is_training=is_training,
                              use_grayscale=use_grayscale),
            module.WINDOW_ARGUMENTS)
    return EncodedPreprocessing(
        functools.partial(decode_image, image_channels=image_channels),
        get_preprocessing(name, is_training, use_grayscale))


def uses_bounding_boxes(name):
    """Returns whether network `name`'s preprocessing takes a `bbox` [1, N, 4] keyword
    (the inception style, which crops around the boxes in training).

    Raises:
      ValueError: `name` is not a key of PREPROCESSING_MODULES.
    """
    return _style_module(name) is inception_preprocessing


def crops_centrally(name):
    """Returns whether network `name`'s evaluation preprocessing crops a central fraction of
    the image, which its `central_fraction` keyword sets (the inception and vgg styles).

    Raises:
      ValueError: `name` is not a key of PREPROCESSING_MODULES.
    """
    return _style_module(name) in (inception_preprocessing, vgg_preprocessing)
