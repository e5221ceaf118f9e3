"""Maps a network name to its preprocessing function."""

from preprocessing import (
    cifarnet_preprocessing,
    inception_preprocessing,
    lenet_preprocessing,
    vgg_preprocessing,
)

_INCEPTION_STYLE_NAMES = (
    'inception', 'inception_v1', 'inception_v2', 'inception_v3', 'inception_v4',
    'inception_resnet_v1', 'inception_resnet_v2',
    'mobilenet_v1', 'mobilenet_v1_075', 'mobilenet_v1_050', 'mobilenet_v1_025',
    'mobilenet_v2', 'mobilenet_v2_035', 'mobilenet_v2_140',
    'mobilenet_v3_small', 'mobilenet_v3_large',
    'mobilenet_v3_small_minimalistic', 'mobilenet_v3_large_minimalistic',
    'mobilenet_edgetpu', 'mobilenet_edgetpu_075',
    'nasnet_mobile', 'nasnet_large', 'pnasnet_mobile', 'pnasnet_large',
)
_VGG_STYLE_NAMES = (
    'vgg', 'vgg_a', 'vgg_16', 'vgg_19', 'alexnet_v2', 'overfeat',
    'resnet_v1_50', 'resnet_v1_101', 'resnet_v1_152', 'resnet_v1_200',
    'resnet_v2_50', 'resnet_v2_101', 'resnet_v2_152', 'resnet_v2_200',
)

# Network name -> preprocessing module (each has `preprocess_image`).
PREPROCESSING_MODULES = {
    'cifarnet': cifarnet_preprocessing,
    'nasnet_cifar': cifarnet_preprocessing,
    'lenet': lenet_preprocessing,
    **dict.fromkeys(_INCEPTION_STYLE_NAMES, inception_preprocessing),
    **dict.fromkeys(_VGG_STYLE_NAMES, vgg_preprocessing),
}


def _style_module(name):
    if name not in PREPROCESSING_MODULES:
        raise ValueError(f'Preprocessing name [{name}] was not recognized; valid names: '
                         f'{", ".join(sorted(PREPROCESSING_MODULES))}')
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
