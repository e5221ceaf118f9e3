"""LeNet preprocessing: crop or pad to the output size, then scale to [-1, 1).

Also home of `upscale_if_smaller`, the small-image step shared with the
cifarnet style.
"""

import tensorflow.compat.v1 as tf


def upscale_if_smaller(image, output_height, output_width):
    """Returns `image` [H, W, C] as float32, resized to [output_height, output_width, C]
    if H < output_height or W < output_width, else unchanged (values are not rescaled).

    The built-in `digits` dataset has 8x8 images. Cropping or padding them to a
    28x28 or 32x32 frame, as TF-Slim does, would leave a dot in a field of
    padding, so images too small for the frame are stretched to fill it first.
    """
    image = tf.cast(image, tf.float32)
    shape = tf.shape(image)
    too_small = tf.logical_or(shape[0] < output_height, shape[1] < output_width)
    return tf.cond(
        too_small,
        lambda: tf.image.resize_images(image, [output_height, output_width]),
        lambda: image)


def preprocess_image(image, output_height, output_width, is_training=False,
                     add_image_summaries=True, use_grayscale=False, augment=None):
    """Returns float32 [output_height, output_width, C'] in [-1, 1) from `image` [H, W, C].

    C' is 1 when `use_grayscale`, else C. `add_image_summaries` is accepted so every
    style shares one call signature; LeNet preprocessing adds no summaries, and differs
    in training only by `augment` (fn(image in [0, 255]) -> image), applied after the
    crop when given.
    """
    del add_image_summaries
    if use_grayscale and image.shape[-1] != 1:
        image = tf.image.rgb_to_grayscale(image)
    image = upscale_if_smaller(image, output_height, output_width)
    image = tf.image.resize_image_with_crop_or_pad(image, output_height, output_width)
    if is_training and augment is not None:
        image = augment(image)
    return (image - 128.0) / 128.0
