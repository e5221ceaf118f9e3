"""Inception preprocessing: random crop, resize and colour distortion for training,
central crop for evaluation; output is float32 scaled to [-1, 1]."""

import functools

import tensorflow.compat.v1 as tf

# tf.image.resize_images methods: bilinear, nearest neighbour, bicubic, area.
_NUM_RESIZE_METHODS = 4


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
    brightness = functools.partial(tf.image.random_brightness, max_delta=32. / 255.)
    saturation = functools.partial(tf.image.random_saturation, lower=0.5, upper=1.5)
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
        # The v1 op ignores the graph-level seed unless its seeds are passed explicitly.
        seed, seed2 = tf.get_seed(None)
        begin, size, crop_box = tf.image.sample_distorted_bounding_box(
            tf.shape(image), seed=seed, seed2=seed2,
            bounding_boxes=bbox,
            min_object_covered=min_object_covered,
            aspect_ratio_range=aspect_ratio_range,
            area_range=area_range,
            max_attempts=max_attempts,
            use_image_if_no_bounding_boxes=True)
        return tf.slice(image, begin, size), crop_box


def preprocess_for_train(image, height, width, bbox, fast_mode=True, scope=None,
                         add_image_summaries=True, use_grayscale=False):
    """Returns a randomly cropped, resized, flipped and colour-distorted float32
    [height, width, C'] in [-1, 1] from `image` [H, W, 3]; `bbox` [1, N, 4] or None
    for the whole image. C' is 1 when `use_grayscale`, else 3."""
    with tf.name_scope(scope, 'distort_image', [image, height, width, bbox]):
        if bbox is None:
            bbox = tf.constant([0.0, 0.0, 1.0, 1.0], dtype=tf.float32, shape=[1, 1, 4])
        image = tf.image.convert_image_dtype(image, dtype=tf.float32)
        if add_image_summaries:
            tf.summary.image('image_with_bounding_boxes',
                             tf.image.draw_bounding_boxes(tf.expand_dims(image, 0), bbox))

        distorted_image, crop_box = distorted_bounding_box_crop(image, bbox)
        distorted_image.set_shape([None, None, 3])
        if add_image_summaries:
            tf.summary.image('image_with_distorted_box',
                             tf.image.draw_bounding_boxes(tf.expand_dims(image, 0), crop_box))

        # Varying the resize method is itself an augmentation; fast_mode keeps
        # to bilinear (method 0) to save the cost of the slower methods.
        distorted_image = apply_with_random_selector(
            distorted_image,
            lambda x, method: tf.image.resize_images(x, [height, width], method=method),
            num_cases=1 if fast_mode else _NUM_RESIZE_METHODS)
        if add_image_summaries:
            tf.summary.image('cropped_resized_image', tf.expand_dims(distorted_image, 0))

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


def preprocess_image(image, height, width, is_training=False, bbox=None, fast_mode=True,
                     add_image_summaries=True, crop_image=True, use_grayscale=False):
    """Returns float32 [height, width, C'] in [-1, 1] from `image` [H, W, C]
    (uint8, or float in [0, 1]). C' is 1 when `use_grayscale`, else 3.

    `bbox` and `fast_mode` apply to training, `crop_image` to evaluation.
    Summaries are added in training only, and only when `add_image_summaries`.
    """
    # The colour distortions and the networks expect RGB.
    if image.shape[-1] == 1:
        image = tf.image.grayscale_to_rgb(image)
    if is_training:
        return preprocess_for_train(image, height, width, bbox, fast_mode,
                                    add_image_summaries=add_image_summaries,
                                    use_grayscale=use_grayscale)
    return preprocess_for_eval(image, height, width, central_crop=crop_image,
                               use_grayscale=use_grayscale)
