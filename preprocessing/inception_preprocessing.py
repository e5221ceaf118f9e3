"""Inception preprocessing: random crop, resize and colour distortion for training,
central crop for evaluation; output is float32 scaled to [-1, 1]."""

import functools

import tensorflow.compat.v1 as tf

from preprocessing import image_decoding

# tf.image.resize_images methods: bilinear, nearest neighbour, bicubic, area.
_NUM_RESIZE_METHODS = 4

# distort_color's random brightness change and range of saturation factors.
_MAX_BRIGHTNESS_DELTA = 32. / 255.
_SATURATION_RANGE = (0.5, 1.5)


def apply_with_random_selector(x, func, num_cases):
    """Returns `func(x, case)` for one `case` drawn uniformly from [0, num_cases).

    Only the drawn case is computed at run time.
    """
    selector = tf.random_uniform([], maxval=num_cases, dtype=tf.int32)
    return tf.switch_case(
        selector, [functools.partial(func, x, case) for case in range(num_cases)])


def distort_color(image, color_ordering=0, fast_mode=True, scope=None):
    """Returns `image` float32 [H, W, 3] in [0, 1] with random colour changes
    applied in the order picked by `color_ordering`, clipped to [0, 1].

    fast_mode: only brightness and saturation, in one of 2 orderings; otherwise
    brightness, saturation, hue and contrast in one of 4 orderings.
    """
    brightness = functools.partial(tf.image.random_brightness,
                                   max_delta=_MAX_BRIGHTNESS_DELTA)
    saturation = functools.partial(tf.image.random_saturation, lower=_SATURATION_RANGE[0],
                                   upper=_SATURATION_RANGE[1])
    hue = functools.partial(tf.image.random_hue, max_delta=0.2)
    contrast = functools.partial(tf.image.random_contrast, lower=0.5, upper=1.5)
    if fast_mode:
        orderings = [(brightness, saturation), (saturation, brightness)]
    else:
        orderings = [(brightness, saturation, hue, contrast),
                     (saturation, brightness, contrast, hue),
                     (contrast, hue, brightness, saturation),
                     (hue, saturation, contrast, brightness)]
    if not 0 <= color_ordering < len(orderings):
        raise ValueError(f'color_ordering must be in [0, {len(orderings)}), '
                         f'got {color_ordering}')
    with tf.name_scope(scope, 'distort_color', [image]):
        for distortion in orderings[color_ordering]:
            image = distortion(image)
        # The distortions can push values outside the valid range.
        return tf.clip_by_value(image, 0.0, 1.0)


def distorted_bounding_box_crop(image, bbox, min_object_covered=0.1,
                                aspect_ratio_range=(0.75, 1.33), area_range=(0.05, 1.0),
                                max_attempts=100, scope=None):
    """Returns (crop [h, w, C], crop box [1, 1, 4]) for a random crop of `image`
    [H, W, C] that covers at least `min_object_covered` of one box in `bbox`
    [1, N, 4] (ymin, xmin, ymax, xmax relative to the image)."""
    with tf.name_scope(scope, 'distorted_bounding_box_crop', [image, bbox]):
        begin, size, crop_box = distorted_crop_window(
            tf.shape(image), bbox, min_object_covered, aspect_ratio_range, area_range,
            max_attempts)
        return tf.slice(image, begin, size), crop_box


def distorted_crop_window(image_shape, bbox, min_object_covered=0.1,
                          aspect_ratio_range=(0.75, 1.33), area_range=(0.05, 1.0),
                          max_attempts=100, seed=None):
    """Returns (begin int32 [3], size int32 [3], crop box [1, 1, 4]) of the random crop
    `distorted_bounding_box_crop` takes from an image of shape `image_shape` int32 [3];
    `seed` is the op-level seed (None: drawn from the graph's)."""
    # The v1 op ignores the graph-level seed unless its seeds are passed explicitly.
    seed, seed2 = tf.get_seed(seed)
    return tf.image.sample_distorted_bounding_box(
        image_shape, seed=seed, seed2=seed2,
        bounding_boxes=bbox,
        min_object_covered=min_object_covered,
        aspect_ratio_range=aspect_ratio_range,
        area_range=area_range,
        max_attempts=max_attempts,
        use_image_if_no_bounding_boxes=True)


def _whole_image_box():
    return tf.constant([0.0, 0.0, 1.0, 1.0], dtype=tf.float32, shape=[1, 1, 4])


def _as_rgb(image):
    """`image` [H, W, C] with C == 1 repeated to 3 channels: the colour distortions and the
    networks expect RGB."""
    if image.shape[-1] == 1:
        return tf.image.grayscale_to_rgb(image)
    return image


def preprocess_for_train(image, height, width, bbox, fast_mode=True, scope=None,
                         add_image_summaries=True, use_grayscale=False, augment=None):
    """Returns a randomly cropped, resized, flipped and colour-distorted float32
    [height, width, C'] in [-1, 1] from `image` [H, W, 3]; `bbox` [1, N, 4] or None
    for the whole image. C' is 1 when `use_grayscale`, else 3. `augment` (fn(image in
    [0, 255]) -> image), if set, runs after the crop and resize."""
    with tf.name_scope(scope, 'distort_image', [image, height, width, bbox]):
        if bbox is None:
            bbox = _whole_image_box()
        image = tf.image.convert_image_dtype(image, dtype=tf.float32)
        if add_image_summaries:
            tf.summary.image('image_with_bounding_boxes',
                             tf.image.draw_bounding_boxes(tf.expand_dims(image, 0), bbox))

        distorted_image, crop_box = distorted_bounding_box_crop(image, bbox)
        distorted_image.set_shape([None, None, 3])
        if add_image_summaries:
            tf.summary.image('image_with_distorted_box',
                             tf.image.draw_bounding_boxes(tf.expand_dims(image, 0), crop_box))
        return _resize_flip_and_distort(distorted_image, height, width, fast_mode,
                                        add_image_summaries, use_grayscale, augment)


def _resize_flip_and_distort(distorted_image, height, width, fast_mode, add_image_summaries,
                             use_grayscale, augment=None, compiled=False):
    """The training preprocessing after the crop: float32 [h, w, 3] in [0, 1] ->
    float32 [height, width, C'] in [-1, 1]. `compiled`: in fast_mode, the flip and colour
    changes are drawn alike but applied by `flip_and_distort_color` (no final summary)."""
    # Varying the resize method is itself an augmentation; fast_mode keeps
    # to bilinear (method 0) to save the cost of the slower methods.
    distorted_image = apply_with_random_selector(
        distorted_image,
        lambda x, method: tf.image.resize_images(x, [height, width], method=method),
        num_cases=1 if fast_mode else _NUM_RESIZE_METHODS)
    if add_image_summaries:
        tf.summary.image('cropped_resized_image', tf.expand_dims(distorted_image, 0))
    if augment is not None:
        distorted_image = augment(distorted_image * 255.0) / 255.0
    if fast_mode and compiled:
        # The draws of random_flip_left_right, then of random_brightness and
        # random_saturation in distort_color's first ordering.
        return flip_and_distort_color(
            distorted_image, tf.random_uniform([]) < 0.5,
            tf.random_uniform([], -_MAX_BRIGHTNESS_DELTA, _MAX_BRIGHTNESS_DELTA),
            tf.random_uniform([], *_SATURATION_RANGE), use_grayscale)

    distorted_image = tf.image.random_flip_left_right(distorted_image)
    # As in TF-Slim, fast_mode keeps to the first colour ordering.
    distorted_image = apply_with_random_selector(
        distorted_image,
        lambda x, ordering: distort_color(x, ordering, fast_mode),
        num_cases=1 if fast_mode else 4)
    if add_image_summaries:
        tf.summary.image('final_distorted_image', tf.expand_dims(distorted_image, 0))

    if use_grayscale:
        distorted_image = tf.image.rgb_to_grayscale(distorted_image)
    return (distorted_image - 0.5) * 2.0


@tf.function(jit_compile=True)
def flip_and_distort_color(image, flip, brightness_delta, saturation_factor, use_grayscale):
    """fast_mode's flip, colour distortion, clipping and scaling with its random draws
    given, compiled by XLA into one pass over the pixels: float32 [H, W, 3] in [0, 1] ->
    float32 [H, W, C'] in [-1, 1] (C' is 1 when `use_grayscale`, else 3). Within 2e-6 of
    the same changes made by TensorFlow's image ops.

    Args:
      flip: bool [], whether to mirror the image left to right.
      brightness_delta: float32 [], added to every channel.
      saturation_factor: float32 [], scales the HSV saturation (which is then capped at 1).
    """
    image = tf.where(flip, tf.reverse(image, [1]), image)
    image = tf.clip_by_value(adjust_saturation(image + brightness_delta, saturation_factor),
                             0.0, 1.0)
    if use_grayscale:
        image = tf.image.rgb_to_grayscale(image)
    return (image - 0.5) * 2.0


def adjust_saturation(image, saturation_factor):
    """`tf.image.adjust_saturation` of float32 `image` [..., 3] (within 1e-6, also for values
    outside [0, 1]) in a few elementwise ops that XLA fuses, not through HSV.

    Scaling the saturation keeps a pixel's hue and value (its largest channel): every
    channel moves towards or away from the value in proportion, the saturation capped at 1.
    """
    red, green, blue = image[..., 0], image[..., 1], image[..., 2]
    value = tf.maximum(tf.maximum(red, green), blue)
    spread = value - tf.minimum(tf.minimum(red, green), blue)
    # The new saturation over the old, spread / value; a pixel whose value is not positive
    # has saturation 0 and becomes gray at its value.
    scale = tf.where_v2(value > 0.0,
                        tf.minimum(saturation_factor, value / tf.maximum(spread, 1e-30)), 0.0)
    return value[..., None] - scale[..., None] * (value[..., None] - image)


def preprocess_for_eval(image, height, width, central_fraction=0.875, scope=None,
                        central_crop=True, use_grayscale=False):
    """Returns float32 [height, width, C'] in [-1, 1] from `image` [H, W, 3]: the
    central `central_fraction` of it (when `central_crop`), bilinearly resized.
    C' is 1 when `use_grayscale`, else 3."""
    with tf.name_scope(scope, 'eval_image', [image, height, width]):
        image = tf.image.convert_image_dtype(image, dtype=tf.float32)
        if central_crop:
            image = tf.image.central_crop(image, central_fraction=central_fraction)
        image = tf.image.resize_images(image, [height, width])
        if use_grayscale:
            image = tf.image.rgb_to_grayscale(image)
        return (image - 0.5) * 2.0


def central_window(image_shape, central_fraction):
    """Returns (begin int32 [3], size int32 [3]): the window `tf.image.central_crop` keeps
    of an image of shape `image_shape` int32 [3], with its rounding (the offsets are
    truncated, the sides shrink by twice the offsets)."""
    sides = tf.cast(image_shape[:2], tf.float64)
    # As central_crop does, a Python fraction becomes a float32 tensor before float64.
    fraction = tf.cast(central_fraction, tf.float64)
    offsets = tf.cast((sides - sides * fraction) / 2, tf.int32)
    return (tf.concat([offsets, [0]], 0),
            tf.concat([image_shape[:2] - 2 * offsets, [-1]], 0))


def preprocess_image(image, height, width, is_training=False, bbox=None, fast_mode=True,
                     add_image_summaries=True, crop_image=True, use_grayscale=False,
                     central_fraction=0.875, augment=None):
    """Returns float32 [height, width, C'] in [-1, 1] from `image` [H, W, C]
    (uint8, or float in [0, 1]). C' is 1 when `use_grayscale`, else 3.

    `bbox`, `fast_mode` and `augment` apply to training, `crop_image` and
    `central_fraction` to evaluation.
    Summaries are added in training only, and only when `add_image_summaries`.
    """
    image = _as_rgb(image)
    if is_training:
        return preprocess_for_train(image, height, width, bbox, fast_mode,
                                    add_image_summaries=add_image_summaries,
                                    use_grayscale=use_grayscale, augment=augment)
    return preprocess_for_eval(image, height, width, central_fraction=central_fraction,
                               central_crop=crop_image, use_grayscale=use_grayscale)


# The keyword arguments of `preprocess_image` that choose the window `decode_kept_window`
# decodes; `preprocess_kept_window` takes the others.
WINDOW_ARGUMENTS = ('bbox', 'crop_image', 'central_fraction')


def decode_kept_window(encoded, is_training=False, bbox=None, crop_image=True,
                       central_fraction=0.875, image_channels=3, seed=None):
    """uint8 [h, w, image_channels]: the part of the image in `encoded` (string [], JPEG,
    PNG, GIF or BMP) that `preprocess_image` keeps, decoding only that window of a JPEG.

    In training that is the random crop, drawn as `preprocess_for_train` draws it (`seed`:
    see `distorted_crop_window`); in evaluation the central crop, or the whole image
    unless `crop_image`.
    """
    if is_training:
        bbox = _whole_image_box() if bbox is None else bbox

        def choose_window(image_shape):
            return distorted_crop_window(image_shape, bbox, seed=seed)[:2]
    elif crop_image:
        def choose_window(image_shape):
            return central_window(image_shape, central_fraction)
    else:
        return image_decoding.decode_image(encoded, image_channels)
    return image_decoding.decode_window(encoded, image_channels, choose_window)


def preprocess_kept_window(image, height, width, is_training=False, fast_mode=True,
                           add_image_summaries=True, use_grayscale=False, augment=None):
    """`preprocess_image` after `decode_kept_window`: float32 [height, width, C'] in [-1, 1]
    from the uint8 window [h, w, C], which is not cropped again.

    Made for input pipelines: it adds no summaries (`add_image_summaries` is accepted for
    the common signature), and in training with `fast_mode` it draws the flip, brightness
    and saturation changes as `preprocess_for_train` does but applies them in one compiled
    pass (`flip_and_distort_color`).
    """
    del add_image_summaries
    image = _as_rgb(image)
    if not is_training:
        return preprocess_for_eval(image, height, width, central_crop=False,
                                   use_grayscale=use_grayscale)
    image = tf.image.convert_image_dtype(image, dtype=tf.float32)
    with tf.name_scope(None, 'distort_image', [image, height, width]):
        return _resize_flip_and_distort(image, height, width, fast_mode,
                                        add_image_summaries=False, use_grayscale=use_grayscale,
                                        augment=augment, compiled=True)
