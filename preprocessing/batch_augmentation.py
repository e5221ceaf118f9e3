"""Augmentation of whole training batches: mixup, CutMix and random erasing.

Mixup (Zhang et al. 2018) and CutMix (Yun et al. 2019) mix each image with its partner in
the reversed batch, with one weight drawn per batch, and mix the labels (as probability
vectors) with the same weight. Random erasing (Zhong et al. 2020) as timm applies it,
after normalisation: each image on its own, a rectangle replaced by normal noise.
"""

import math

import numpy as np
import tensorflow.compat.v1 as tf

# Random erasing's rectangle: its area as a fraction of the image, its aspect ratio (drawn
# log-uniformly between the bound and its inverse), and the draws tried until one fits.
ERASING_AREA_RANGE = (0.02, 1.0 / 3.0)
ERASING_MIN_ASPECT_RATIO = 0.3
ERASING_ATTEMPTS = 10


def sample_beta(alpha, shape=()):
    """float32 `shape` draws of Beta(alpha, alpha), exact also for tiny `alpha`.

    A Gamma(alpha) draw is Gamma(alpha + 1) * U ** (1 / alpha) for U uniform in (0, 1);
    for small alpha it underflows to 0, so both draws are taken in logs.
    """
    def log_gamma():
        uniform = tf.random_uniform(shape, minval=np.finfo(np.float32).tiny, maxval=1.0)
        return tf.log(tf.random.gamma(shape, alpha + 1.0)) + tf.log(uniform) / alpha

    return tf.sigmoid(log_gamma() - log_gamma())


def _cutmix_box(height, width, weight):
    """bool [height, width]: a box of about (1 - weight) of the area, centred at a random
    pixel and clipped to the image."""
    cut_ratio = tf.sqrt(1.0 - weight)
    sides = tf.stack([height, width])
    half = tf.cast(tf.cast(sides, tf.float32) * cut_ratio, tf.int32) // 2
    center = tf.cast(tf.random_uniform([2]) * tf.cast(sides, tf.float32), tf.int32)
    start = tf.clip_by_value(center - half, 0, sides)
    end = tf.clip_by_value(center + half, 0, sides)
    rows = tf.logical_and(tf.range(height) >= start[0], tf.range(height) < end[0])
    columns = tf.logical_and(tf.range(width) >= start[1], tf.range(width) < end[1])
    return tf.logical_and(rows[:, tf.newaxis], columns[tf.newaxis, :])


def _mixup(images, partners, alpha):
    weight = sample_beta(alpha)
    return weight * images + (1.0 - weight) * partners, weight


def _cutmix(images, partners, alpha):
    shape = tf.shape(images)
    box = _cutmix_box(shape[1], shape[2], sample_beta(alpha))
    # The weight is the share of the image left after clipping the box.
    weight = 1.0 - tf.reduce_mean(tf.cast(box, tf.float32))
    return tf.where(tf.broadcast_to(box[tf.newaxis, :, :, tf.newaxis], shape), partners,
                    images), weight


def mix_batch(images, labels, mixup_alpha=0.0, cutmix_alpha=0.0, switch_prob=0.5):
    """Mixup or CutMix of a batch with itself reversed.

    With both alphas positive, each batch uses CutMix with probability `switch_prob`, else
    mixup. The image's own share of the mixture (the weight) is drawn from Beta(alpha,
    alpha); under CutMix it is the part of the image outside the pasted box.

    Args:
      images: float32 [batch, height, width, channels].
      labels: float32 [batch, num_classes], each row a probability vector.
    Returns:
      (mixed images, same shape; mixed labels [batch, num_classes], rows still summing to 1).
    """
    partners = tf.reverse(images, [0])
    if mixup_alpha > 0 and cutmix_alpha > 0:
        images, weight = tf.cond(tf.random_uniform([]) < switch_prob,
                                 lambda: _cutmix(images, partners, cutmix_alpha),
                                 lambda: _mixup(images, partners, mixup_alpha))
    elif cutmix_alpha > 0:
        images, weight = _cutmix(images, partners, cutmix_alpha)
    else:
        images, weight = _mixup(images, partners, mixup_alpha)
    return images, weight * labels + (1.0 - weight) * tf.reverse(labels, [0])


def random_erasing(images, probability):
    """timm's random erasing ('pixel' mode) of each image of `images` float32
    [batch, height, width, channels] independently.

    With `probability`, an image gets one rectangle of ERASING_AREA_RANGE of its area and
    an aspect ratio between ERASING_MIN_ASPECT_RATIO and its inverse, at a uniformly random
    place, filled with standard normal noise. Of ERASING_ATTEMPTS draws of the size, the
    first that fits is used; an image where none fits is left alone.
    """
    shape = tf.shape(images)
    batch, height, width = shape[0], shape[1], shape[2]
    draws = [batch, ERASING_ATTEMPTS]
    area = tf.random_uniform(draws, *ERASING_AREA_RANGE) * tf.cast(height * width, tf.float32)
    log_ratio = math.log(ERASING_MIN_ASPECT_RATIO)
    aspect_ratio = tf.exp(tf.random_uniform(draws, log_ratio, -log_ratio))
    heights = tf.cast(tf.round(tf.sqrt(area * aspect_ratio)), tf.int32)
    widths = tf.cast(tf.round(tf.sqrt(area / aspect_ratio)), tf.int32)
    fits = tf.logical_and(heights < height, widths < width)
    first_fit = tf.argmax(tf.cast(fits, tf.int32), axis=1, output_type=tf.int32)
    box_height = tf.gather(heights, first_fit, batch_dims=1)
    box_width = tf.gather(widths, first_fit, batch_dims=1)
    erase = tf.logical_and(tf.reduce_any(fits, axis=1),
                           tf.random_uniform([batch]) < probability)

    def span(size, box_size):
        """bool [batch, size]: a run of box_size at a random start in [0, size - box_size]."""
        start = tf.cast(tf.floor(tf.random_uniform([batch])
                                 * tf.cast(size - box_size + 1, tf.float32)), tf.int32)
        positions = tf.range(size)[tf.newaxis, :]
        return tf.logical_and(positions >= start[:, tf.newaxis],
                              positions < (start + box_size)[:, tf.newaxis])

    box = tf.logical_and(span(height, box_height)[:, :, tf.newaxis],
                         span(width, box_width)[:, tf.newaxis, :])
    box = tf.logical_and(box, erase[:, tf.newaxis, tf.newaxis])
    return tf.where(tf.broadcast_to(box[..., tf.newaxis], shape),
                    tf.random_normal(shape, dtype=images.dtype), images)
