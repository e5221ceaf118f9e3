"""VGG / ResNet preprocessing: aspect-preserving resize, crop, and RGB mean
subtraction; the output is float32 on the 0-255 scale minus the means."""

import math

import tensorflow.compat.v1 as tf

_R_MEAN = 123.68
_G_MEAN = 116.78
_B_MEAN = 103.94

_RESIZE_SIDE_MIN = 256
_RESIZE_SIDE_MAX = 512


def _aspect_preserving_resize(image, smallest_side):
    """Returns float32 [H', W', C]: `image` [H, W, C] bilinearly resized so that
    min(H', W') == `smallest_side` (int or int32 scalar tensor)."""
    shape = tf.shape(image)
    height = tf.cast(shape[0], tf.float32)
    width = tf.cast(shape[1], tf.float32)
    scale = tf.cast(smallest_side, tf.float32) / tf.minimum(height, width)
    new_size = tf.cast(tf.round(tf.stack([height, width]) * scale), tf.int32)
    return tf.image.resize_images(image, new_size)


def _central_crop(image, crop_height, crop_width):
    """Returns the central [crop_height, crop_width, C] of `image` [H, W, C]."""
    shape = tf.shape(image)
    return tf.image.crop_to_bounding_box(
        image, (shape[0] - crop_height) // 2, (shape[1] - crop_width) // 2,
        crop_height, crop_width)


def _random_crop(image, crop_height, crop_width):
    """Returns a random [crop_height, crop_width, C] window of `image` [H, W, C]."""
    return tf.random_crop(image, [crop_height, crop_width, tf.shape(image)[-1]])


def _mean_image_subtraction(image, means):
    """Returns float `image` [H, W, C] minus `means[c]` in each channel c."""
    if image.shape[-1] != len(means):
        raise ValueError(f'image has {image.shape[-1]} channels but {len(means)} means '
                         'were given')
    return image - tf.constant(means, dtype=image.dtype)


def _to_network_input(image, use_grayscale):
    """Returns float32 `image` [H, W, 3] (0-255 scale) with the RGB means
    subtracted, reduced to [H, W, 1] when `use_grayscale`."""
    image = _mean_image_subtraction(image, [_R_MEAN, _G_MEAN, _B_MEAN])
    # Grayscale conversion is linear, so converting after the subtraction is the
    # same as subtracting the grayscale mean, and one set of means serves both.
    if use_grayscale:
        image = tf.image.rgb_to_grayscale(image)
    return image


def preprocess_for_train(image, output_height, output_width,
                         resize_side_min=_RESIZE_SIDE_MIN, resize_side_max=_RESIZE_SIDE_MAX,
                         use_grayscale=False, augment=None):
    """Returns float32 [output_height, output_width, C'] from `image` [H, W, 3]:
    resized so its smaller side is a random int in [resize_side_min,
    resize_side_max], randomly cropped, given to `augment` (fn(image in [0, 255]) ->
    image) if set, flipped, means subtracted. C' is 1 when `use_grayscale`, else 3."""
    resize_side = tf.random_uniform(
        [], minval=resize_side_min, maxval=resize_side_max + 1, dtype=tf.int32)
    image = _aspect_preserving_resize(image, resize_side)
    image = _random_crop(image, output_height, output_width)
    if augment is not None:
        image = augment(image)
    image = tf.image.random_flip_left_right(image)
    return _to_network_input(image, use_grayscale)


def preprocess_for_eval(image, output_height, output_width, resize_side=_RESIZE_SIDE_MIN,
                        use_grayscale=False):
    """Returns float32 [output_height, output_width, C'] from `image` [H, W, 3]:
    resized so its smaller side is `resize_side`, centrally cropped, means
    subtracted. C' is 1 when `use_grayscale`, else 3."""
    image = _aspect_preserving_resize(image, resize_side)
    image = _central_crop(image, output_height, output_width)
    return _to_network_input(image, use_grayscale)


def eval_resize_side(output_height, output_width, central_fraction):
    """The shorter side to resize to in evaluation so that the central crop keeps
    `central_fraction` of it: max(output_height, output_width) / central_fraction, rounded
    down as timm's crop_pct does (256 for 224 and 0.875)."""
    return math.floor(max(output_height, output_width) / central_fraction)


def preprocess_image(image, output_height, output_width, is_training=False,
                     resize_side_min=_RESIZE_SIDE_MIN, resize_side_max=_RESIZE_SIDE_MAX,
                     add_image_summaries=True, use_grayscale=False, central_fraction=None,
                     augment=None):
    """Returns float32 [output_height, output_width, C'] from `image` [H, W, C];
    C' is 1 when `use_grayscale`, else 3. Evaluation resizes to `resize_side_min`, or with
    `central_fraction` to `eval_resize_side`; training applies `augment` if set (see
    `preprocess_for_train`).

    `add_image_summaries` is accepted so every style shares one call signature;
    VGG preprocessing adds no summaries.
    """
    del add_image_summaries
    # The network and the per-channel means expect RGB.
    if image.shape[-1] == 1:
        image = tf.image.grayscale_to_rgb(image)
    if is_training:
        return preprocess_for_train(image, output_height, output_width,
                                    resize_side_min, resize_side_max, use_grayscale, augment)
    resize_side = resize_side_min
    if central_fraction is not None:
        resize_side = eval_resize_side(output_height, output_width, central_fraction)
    return preprocess_for_eval(image, output_height, output_width, resize_side, use_grayscale)
