"""RandAugment and AutoAugment on one training image, after the crop.

The operations follow PIL's definitions, on 0-255 values, as the published policies were
searched with them: AutoAugment (Cubuk et al. 2019, "AutoAugment: Learning Augmentation
Policies from Data"), its ImageNet policy v0 of TensorFlow's TPU and Model Garden code,
and RandAugment (Cubuk et al. 2020, "RandAugment: Practical automated data augmentation
with a reduced search space"), whose N operations per image are drawn uniformly from the
paper's 14. A magnitude (level) runs from 0 to 10 and maps to each operation's argument
as in the AutoAugment code. Its translations are published in pixels of 224-pixel images;
here they are that fraction of the image's side, so that small images are not shifted out
of their frame.
"""

import functools
import math

import tensorflow.compat.v1 as tf

from common.errors import ConfigurationError

AUGMENTATIONS = ('none', 'randaugment', 'autoaugment')

MAX_LEVEL = 10.0

# The published translations (pixels at 224) as fractions of the side.
_REFERENCE_SIDE = 224.0
_RANDAUGMENT_TRANSLATE = 100.0 / _REFERENCE_SIDE
_AUTOAUGMENT_TRANSLATE = 250.0 / _REFERENCE_SIDE

# Pixels that a geometric operation uncovers are grey, as in the AutoAugment code.
_FILL_VALUE = 128.0


def _blend(degenerate, image, factor):
    """PIL's ImageEnhance: `degenerate` + factor * (`image` - `degenerate`), truncated and
    clipped to [0, 255] as PIL's 8-bit result is."""
    return tf.clip_by_value(tf.floor(degenerate + factor * (image - degenerate)), 0.0, 255.0)


def _grayscale(image):
    """[H, W, C] 8-bit luminance repeated over C channels (the image itself when C is 1)."""
    if image.shape[-1] != 3:
        return image
    return tf.tile(tf.round(tf.image.rgb_to_grayscale(image)), [1, 1, 3])


def _per_channel(function, image):
    """`function` ([H, W] -> [H, W]) applied to each channel of `image` [H, W, C]."""
    return tf.stack([function(image[:, :, c]) for c in range(image.shape[-1])], axis=-1)


def _random_sign(value):
    return tf.where(tf.random_uniform([]) < 0.5, -value, value)


def _transform(image, transform):
    """`image` [H, W, C] resampled (nearest) at the input point that the projective
    `transform` (8 numbers, TensorFlow's convention) gives for each output pixel."""
    transform = tf.cast(tf.stack(transform), tf.float32)
    shape = tf.shape(image)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=image[tf.newaxis], transforms=transform[tf.newaxis], output_shape=shape[:2],
        fill_value=_FILL_VALUE, interpolation='NEAREST', fill_mode='CONSTANT')[0]


def identity(image, level):
    del level
    return image


def auto_contrast(image, level):
    """Each channel stretched linearly to span 0-255 (unchanged if it is constant)."""
    del level

    def stretch(channel):
        low, high = tf.reduce_min(channel), tf.reduce_max(channel)
        scale = 255.0 / tf.maximum(high - low, 1.0)
        stretched = channel * scale - low * scale
        return tf.where(high > low, tf.floor(stretched), channel)

    return _per_channel(stretch, image)


def equalize(image, level):
    """PIL's histogram equalisation of each channel."""
    del level

    def equalize_channel(channel):
        values = tf.cast(channel, tf.int32)
        histogram = tf.math.bincount(values, minlength=256, maxlength=256)
        last_count = tf.gather(histogram, tf.reduce_max(values))
        step = (tf.reduce_sum(histogram) - last_count) // 255
        # The lookup table maps a value to the number of pixels below it, in steps.
        below = tf.cumsum(histogram, exclusive=True)
        table = tf.clip_by_value((below + step // 2) // tf.maximum(step, 1), 0, 255)
        equalized = tf.cast(tf.gather(table, values), tf.float32)
        return tf.where(step > 0, equalized, channel)

    return _per_channel(equalize_channel, image)


def invert(image, level):
    del level
    return 255.0 - image


def posterize(image, level):
    """Keeps the int(level / 10 * 4) high bits of each value."""
    shift = 8 - int(level / MAX_LEVEL * 4)
    return tf.floor(image / 2.0 ** shift) * 2.0 ** shift


def solarize(image, level):
    """Inverts the values at or above the threshold int(level / 10 * 256)."""
    threshold = int(level / MAX_LEVEL * 256)
    return tf.where(image < threshold, image, 255.0 - image)


def solarize_add(image, level):
    """Adds int(level / 10 * 110) to the values below 128."""
    addition = int(level / MAX_LEVEL * 110)
    return tf.where(image < 128.0, tf.minimum(image + addition, 255.0), image)


def _enhance_factor(level):
    return level / MAX_LEVEL * 1.8 + 0.1


def color(image, level):
    return _blend(_grayscale(image), image, _enhance_factor(level))


def contrast(image, level):
    """Blended with the mean grey level of the image."""
    mean = tf.round(tf.reduce_mean(_grayscale(image)))
    return _blend(mean, image, _enhance_factor(level))


def brightness(image, level):
    return _blend(tf.zeros_like(image), image, _enhance_factor(level))


def sharpness(image, level):
    """Blended with PIL's smoothed image (3x3 kernel, 5 at the centre; borders kept)."""
    kernel = tf.constant([[1.0, 1.0, 1.0], [1.0, 5.0, 1.0], [1.0, 1.0, 1.0]]) / 13.0
    channels = image.shape[-1]
    kernel = tf.tile(kernel[:, :, tf.newaxis, tf.newaxis], [1, 1, channels, 1])
    smoothed = tf.round(tf.nn.depthwise_conv2d(image[tf.newaxis], kernel, [1, 1, 1, 1],
                                               'VALID')[0])
    interior = tf.pad(tf.ones_like(smoothed), [[1, 1], [1, 1], [0, 0]])
    degenerate = tf.where(interior > 0, tf.pad(smoothed, [[1, 1], [1, 1], [0, 0]]), image)
    return _blend(degenerate, image, _enhance_factor(level))


def rotate(image, level):
    """Rotated about its centre by level / 10 * 30 degrees, in a random direction."""
    radians = _random_sign(level / MAX_LEVEL * 30.0) * math.pi / 180.0
    shape = tf.cast(tf.shape(image), tf.float32)
    center_y, center_x = (shape[0] - 1.0) / 2.0, (shape[1] - 1.0) / 2.0
    cos, sin = tf.cos(radians), tf.sin(radians)
    return _transform(image, [
        cos, sin, center_x - cos * center_x - sin * center_y,
        -sin, cos, center_y + sin * center_x - cos * center_y, 0.0, 0.0])


def shear_x(image, level):
    shear = _random_sign(level / MAX_LEVEL * 0.3)
    return _transform(image, [1.0, shear, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0])


def shear_y(image, level):
    shear = _random_sign(level / MAX_LEVEL * 0.3)
    return _transform(image, [1.0, 0.0, 0.0, shear, 1.0, 0.0, 0.0, 0.0])


def _translation(image, level, side_fraction, axis):
    return _random_sign(level / MAX_LEVEL * side_fraction
                        * tf.cast(tf.shape(image)[axis], tf.float32))


def translate_x(image, level, side_fraction=_RANDAUGMENT_TRANSLATE):
    shift = _translation(image, level, side_fraction, axis=1)
    return _transform(image, [1.0, 0.0, shift, 0.0, 1.0, 0.0, 0.0, 0.0])


def translate_y(image, level, side_fraction=_RANDAUGMENT_TRANSLATE):
    shift = _translation(image, level, side_fraction, axis=0)
    return _transform(image, [1.0, 0.0, 0.0, 0.0, 1.0, shift, 0.0, 0.0])


# The 14 operations of the RandAugment paper.
RANDAUGMENT_OPERATIONS = (
    identity, auto_contrast, equalize, rotate, solarize, color, posterize, contrast,
    brightness, sharpness, shear_x, shear_y, translate_x, translate_y)

# The operations of policy v0, by the policy's names.
_AUTOAUGMENT_OPERATIONS = {
    'AutoContrast': auto_contrast, 'Equalize': equalize, 'Invert': invert, 'Rotate': rotate,
    'Posterize': posterize, 'Solarize': solarize, 'SolarizeAdd': solarize_add, 'Color': color,
    'ShearX': shear_x, 'ShearY': shear_y,
    'TranslateY': functools.partial(translate_y, side_fraction=_AUTOAUGMENT_TRANSLATE),
}

# AutoAugment's ImageNet policy v0: 25 sub-policies of two (operation, probability, level).
AUTOAUGMENT_POLICY_V0 = (
    (('Equalize', 0.8, 1), ('ShearY', 0.8, 4)),
    (('Color', 0.4, 9), ('Equalize', 0.6, 3)),
    (('Color', 0.4, 1), ('Rotate', 0.6, 8)),
    (('Solarize', 0.8, 3), ('Equalize', 0.4, 7)),
    (('Solarize', 0.4, 2), ('Solarize', 0.6, 2)),
    (('Color', 0.2, 0), ('Equalize', 0.8, 8)),
    (('Equalize', 0.4, 8), ('SolarizeAdd', 0.8, 3)),
    (('ShearX', 0.2, 9), ('Rotate', 0.6, 8)),
    (('Color', 0.6, 1), ('Equalize', 1.0, 2)),
    (('Invert', 0.4, 9), ('Rotate', 0.6, 0)),
    (('Equalize', 1.0, 9), ('ShearY', 0.6, 3)),
    (('Color', 0.4, 7), ('Equalize', 0.6, 0)),
    (('Posterize', 0.4, 6), ('AutoContrast', 0.4, 7)),
    (('Solarize', 0.6, 8), ('Color', 0.6, 9)),
    (('Solarize', 0.2, 4), ('Rotate', 0.8, 9)),
    (('Rotate', 1.0, 7), ('TranslateY', 0.8, 9)),
    (('ShearX', 0.0, 0), ('Solarize', 0.8, 4)),
    (('ShearY', 0.8, 0), ('Color', 0.6, 4)),
    (('Color', 1.0, 0), ('Rotate', 0.6, 2)),
    (('Equalize', 0.8, 4), ('Equalize', 0.0, 8)),
    (('Equalize', 1.0, 4), ('AutoContrast', 0.6, 2)),
    (('ShearY', 0.4, 7), ('SolarizeAdd', 0.6, 7)),
    (('Posterize', 0.8, 2), ('Solarize', 0.6, 10)),
    (('Solarize', 0.6, 8), ('Equalize', 0.6, 1)),
    (('Color', 0.8, 6), ('Rotate', 0.4, 5)),
)


def _apply_one_of(branches, image):
    """One of `branches` (functions image -> image), drawn uniformly, applied to `image`."""
    choice = tf.random_uniform([], maxval=len(branches), dtype=tf.int32)
    return tf.switch_case(choice, [functools.partial(branch, image) for branch in branches])


def randaugment(image, num_layers, magnitude):
    """`num_layers` operations of RANDAUGMENT_OPERATIONS, each drawn uniformly, at level
    `magnitude`, applied to `image` float32 [H, W, C] of integer values in [0, 255]."""
    branches = [functools.partial(operation, level=magnitude)
                for operation in RANDAUGMENT_OPERATIONS]
    for _ in range(num_layers):
        image = _apply_one_of(branches, image)
    return image


def _sub_policy(steps):
    def apply(image):
        for name, probability, level in steps:
            operation = functools.partial(_AUTOAUGMENT_OPERATIONS[name], level=level)
            image = tf.cond(tf.random_uniform([]) < probability,
                            functools.partial(operation, image), lambda image=image: image)
        return image

    return apply


def autoaugment(image):
    """One sub-policy of AUTOAUGMENT_POLICY_V0, drawn uniformly, applied to `image` float32
    [H, W, C] of integer values in [0, 255]."""
    return _apply_one_of([_sub_policy(steps) for steps in AUTOAUGMENT_POLICY_V0], image)


def check_augmentation(name):
    """Raises ValueError unless `name` is one of AUGMENTATIONS."""
    if name not in AUGMENTATIONS:
        raise ConfigurationError('--augmentation=%s: use one of %s.'
                                 % (name, ', '.join(AUGMENTATIONS)))


def image_augmenter(name, randaugment_num_layers=2, randaugment_magnitude=9.0):
    """fn(image float32 [H, W, C] in [0, 255]) -> the augmented image, same shape and
    range, rounded to integer values as the policies' 8-bit operations need; None for
    'none'.

    Raises:
      ValueError: `name` is not one of AUGMENTATIONS.
    """
    check_augmentation(name)
    if name == 'none':
        return None
    if name == 'randaugment':
        policy = functools.partial(randaugment, num_layers=randaugment_num_layers,
                                   magnitude=randaugment_magnitude)
    else:
        policy = autoaugment

    def augment(image):
        with tf.name_scope('augment_' + name):
            shape = image.shape
            image = policy(tf.clip_by_value(tf.round(image), 0.0, 255.0))
            image.set_shape(shape)
            return image

    return augment
