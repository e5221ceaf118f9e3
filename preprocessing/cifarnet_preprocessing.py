"""CIFARNet preprocessing: pad-and-crop augmentation, then per-image standardisation."""

import tensorflow.compat.v1 as tf

from preprocessing.lenet_preprocessing import upscale_if_smaller

_PADDING = 4


def preprocess_for_train(image, output_height, output_width, padding=_PADDING,
                         add_image_summaries=True, augment=None):
    """Returns a randomly distorted, standardised float32 [output_height, output_width, C]
    from `image` [H, W, C]; `augment` (fn(image in [0, 255]) -> image) runs after the crop."""
    image = upscale_if_smaller(image, output_height, output_width)
    if add_image_summaries:
        tf.summary.image('image', tf.expand_dims(image, 0))
    if padding > 0:
        image = tf.pad(image, [[padding, padding], [padding, padding], [0, 0]])
    image = tf.random_crop(image, [output_height, output_width, tf.shape(image)[-1]])
    if augment is not None:
        image = augment(image)
    image = tf.image.random_flip_left_right(image)
    image = tf.image.random_brightness(image, max_delta=63)
    image = tf.image.random_contrast(image, lower=0.2, upper=1.8)
    if add_image_summaries:
        tf.summary.image('distorted_image', tf.expand_dims(image, 0))
    return tf.image.per_image_standardization(image)


def preprocess_for_eval(image, output_height, output_width, add_image_summaries=True):
    """Returns a centrally cropped (or padded), standardised float32
    [output_height, output_width, C] from `image` [H, W, C]."""
    image = upscale_if_smaller(image, output_height, output_width)
    if add_image_summaries:
        tf.summary.image('image', tf.expand_dims(image, 0))
    image = tf.image.resize_image_with_crop_or_pad(image, output_height, output_width)
    if add_image_summaries:
        tf.summary.image('resized_image', tf.expand_dims(image, 0))
    return tf.image.per_image_standardization(image)


def preprocess_image(image, output_height, output_width, is_training=False,
                     add_image_summaries=True, use_grayscale=False, augment=None):
    """Returns standardised float32 [output_height, output_width, C'] from `image`
    [H, W, C]; C' is 1 when `use_grayscale`, else C. `augment`: see preprocess_for_train."""
    if use_grayscale and image.shape[-1] != 1:
        image = tf.image.rgb_to_grayscale(image)
    if is_training:
        return preprocess_for_train(image, output_height, output_width,
                                    add_image_summaries=add_image_summaries, augment=augment)
    return preprocess_for_eval(image, output_height, output_width,
                               add_image_summaries=add_image_summaries)
