"""Decoding only the kept window of an image: the same windows and pixels as cropping the
whole decoded image, and the compiled colour distortion of the input pipeline."""

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from preprocessing import image_decoding, inception_preprocessing, preprocessing_factory

rng = np.random.default_rng(0)

# Encodings -> encode_jpeg/encode_png arguments and channels. Noise makes every pixel
# different, so equal crops mean equal windows; odd sides put windows off the MCU grid.
ENCODINGS = {
    'baseline_jpeg_420': ('jpeg', dict(quality=90), 3),
    'progressive_jpeg': ('jpeg', dict(quality=90, progressive=True), 3),
    'jpeg_444': ('jpeg', dict(quality=90, chroma_downsampling=False), 3),
    'grayscale_jpeg': ('jpeg', dict(quality=90), 1),
    'png': ('png', {}, 3),
}
BOXES = {'whole_image': [0.0, 0.0, 1.0, 1.0], 'object': [0.1, 0.2, 0.7, 0.9]}
NUM_SEEDS = 8
RUNS_PER_SEED = 15


def encoded_noise(height, width, encoding):
    image_format, arguments, channels = ENCODINGS[encoding]
    image = rng.integers(0, 256, size=(height, width, channels), dtype=np.uint8)
    encode = tf.image.encode_jpeg if image_format == 'jpeg' else tf.image.encode_png
    with tf.Graph().as_default(), tf.Session() as session:
        return session.run(encode(image, **arguments))


def run_seeded(build, graph_seed=3, runs=RUNS_PER_SEED):
    """The values of the tensors `build()` makes, in a graph with `graph_seed`, `runs` times."""
    with tf.Graph().as_default():
        tf.set_random_seed(graph_seed)
        tensors = build()
        with tf.Session() as session:
            return [session.run(tensors) for _ in range(runs)]


@pytest.mark.parametrize('box', BOXES)
@pytest.mark.parametrize('encoding', ENCODINGS)
def test_training_windows_are_the_crops_of_the_full_image(encoding, box):
    encoded = encoded_noise(123, 157, encoding)
    bbox = [[BOXES[box]]]

    def kept_windows():
        return [inception_preprocessing.decode_kept_window(
            tf.constant(encoded), is_training=True, bbox=tf.constant(bbox), image_channels=3,
            seed=seed) for seed in range(NUM_SEEDS)]

    def crops_of_full_image():
        image = image_decoding.decode_image(tf.constant(encoded), 3)
        crops = []
        for seed in range(NUM_SEEDS):
            begin, size, _ = inception_preprocessing.distorted_crop_window(
                tf.shape(image), tf.constant(bbox), seed=seed)
            crops.append(tf.slice(image, begin, size))
        return crops

    windows, crops = run_seeded(kept_windows), run_seeded(crops_of_full_image)
    shapes = set()
    for run_windows, run_crops in zip(windows, crops, strict=True):
        for window, crop in zip(run_windows, run_crops, strict=True):
            assert window.shape == crop.shape
            np.testing.assert_array_equal(window, crop)
            shapes.add(window.shape)
    # The draws gave many different windows, not the whole image every time.
    assert len(shapes) > NUM_SEEDS * RUNS_PER_SEED / 2


def test_the_window_is_drawn_by_sample_distorted_bounding_box_with_tf_slims_arguments():
    encoded = encoded_noise(90, 130, 'baseline_jpeg_420')
    bbox = [[BOXES['object']]]

    def fused_windows():
        windows = []

        def record_window(image_shape):
            begin, size, box = inception_preprocessing.distorted_crop_window(
                image_shape, tf.constant(bbox), seed=11)
            windows.extend([begin, size, box])
            return begin, size

        image_decoding.decode_window(tf.constant(encoded), 3, record_window)
        return windows

    def tf_slim_windows():
        image = tf.image.convert_image_dtype(tf.image.decode_jpeg(encoded, channels=3),
                                             tf.float32)
        seed, seed2 = tf.get_seed(11)
        return list(tf.image.sample_distorted_bounding_box(
            tf.shape(image), bounding_boxes=tf.constant(bbox), seed=seed, seed2=seed2,
            min_object_covered=0.1, aspect_ratio_range=(0.75, 1.33), area_range=(0.05, 1.0),
            max_attempts=100, use_image_if_no_bounding_boxes=True))

    for fused, reference in zip(run_seeded(fused_windows, runs=20),
                                run_seeded(tf_slim_windows, runs=20), strict=True):
        for value, expected in zip(fused, reference, strict=True):
            np.testing.assert_array_equal(value, expected)


@pytest.mark.parametrize('encoding', ['baseline_jpeg_420', 'progressive_jpeg', 'png'])
def test_eval_window_is_tf_central_crop_of_the_full_image(encoding):
    fractions = [0.875, 0.8, 0.5, 0.33, 1.0]
    for size in [(75, 101), (64, 64), (301, 200)]:
        data = encoded_noise(*size, encoding)
        with tf.Graph().as_default(), tf.Session() as session:
            encoded = tf.constant(data)
            image = image_decoding.decode_image(encoded, 3)
            windows, crops = session.run((
                [inception_preprocessing.decode_kept_window(encoded, central_fraction=fraction)
                 for fraction in fractions],
                [tf.image.central_crop(image, fraction) for fraction in fractions]))
        for window, crop in zip(windows, crops, strict=True):
            assert window.shape == crop.shape
            np.testing.assert_array_equal(window, crop)


@pytest.mark.parametrize('crop_image', [True, False])
@pytest.mark.parametrize('name', ['inception_v3', 'vgg_16', 'lenet'])
def test_eval_preprocessing_of_encoded_images_gives_the_same_values(name, crop_image):
    encoded = encoded_noise(97, 131, 'baseline_jpeg_420')
    arguments = {'crop_image': crop_image} if name == 'inception_v3' else {}
    with tf.Graph().as_default(), tf.Session() as session:
        encoded_preprocessing = preprocessing_factory.get_encoded_preprocessing(name)
        image_preprocessing = preprocessing_factory.get_preprocessing(name)
        fused = encoded_preprocessing(tf.constant(encoded), 35, 33, **arguments)
        full = image_preprocessing(image_decoding.decode_image(tf.constant(encoded), 3), 35,
                                   33, **arguments)
        fused, full = session.run([fused, full])
    np.testing.assert_array_equal(fused, full)


def test_only_styles_that_crop_first_decode_windows():
    def decode_ops(preprocessing):
        with tf.Graph().as_default() as graph:
            preprocessing(tf.constant(b''), 20, 20)
            return {op.type for op in graph.get_operations()
                    if op.type.startswith(('Decode', 'ExtractJpeg'))}

    windowed = preprocessing_factory.get_encoded_preprocessing('inception_v3', True)
    assert windowed.window_arguments == ('bbox', 'crop_image', 'central_fraction')
    assert {'DecodeAndCropJpeg', 'ExtractJpegShape'} <= decode_ops(windowed)
    for name, options in [('inception_v3', {'decode_windows': False}), ('vgg_16', {}),
                          ('cifarnet', {})]:
        whole = preprocessing_factory.get_encoded_preprocessing(name, True, **options)
        assert whole.window_arguments == ()
        assert decode_ops(whole) == {'DecodeImage'}


@pytest.mark.parametrize('use_grayscale', [False, True])
@pytest.mark.parametrize('encoding', ['baseline_jpeg_420', 'grayscale_jpeg', 'png'])
def test_training_preprocessing_of_encoded_images(encoding, use_grayscale):
    channels = ENCODINGS[encoding][2]
    encoded = encoded_noise(60, 80, encoding)
    preprocessing = preprocessing_factory.get_encoded_preprocessing(
        'inception_v3', is_training=True, use_grayscale=use_grayscale, image_channels=channels)
    with tf.Graph().as_default(), tf.Session() as session:
        image = preprocessing(tf.constant(encoded), 36, 40, add_image_summaries=False,
                              bbox=tf.constant([[BOXES['object']]]))
        assert image.shape.as_list() == [36, 40, 1 if use_grayscale else 3]
        values = np.stack([session.run(image) for _ in range(8)])
    assert values.min() >= -1.0 and values.max() <= 1.0
    assert len({value.tobytes() for value in values}) == 8


def test_adjust_saturation_matches_tensorflow_also_outside_the_unit_range():
    image = rng.uniform(-0.3, 1.3, size=(40, 50, 3)).astype(np.float32)
    image[0, :3] = [[0.4, 0.4, 0.4], [-0.2, -0.1, -0.3], [0.0, 0.0, 0.0]]  # gray, dark, black
    with tf.Graph().as_default(), tf.Session() as session:
        for factor in [0.5, 0.93, 1.0, 1.2, 1.5]:
            ours, theirs = session.run([inception_preprocessing.adjust_saturation(image, factor),
                                        tf.image.adjust_saturation(image, factor)])
            np.testing.assert_allclose(ours, theirs, atol=1e-6)


@pytest.mark.parametrize('use_grayscale', [False, True])
@pytest.mark.parametrize('flip', [False, True])
def test_compiled_distortion_equals_tensorflows_image_ops(flip, use_grayscale):
    image = rng.uniform(0.0, 1.0, size=(30, 20, 3)).astype(np.float32)
    with tf.Graph().as_default(), tf.Session() as session:
        compiled = inception_preprocessing.flip_and_distort_color(
            tf.constant(image), tf.constant(flip), tf.constant(0.1), tf.constant(1.4),
            use_grayscale)
        expected = tf.image.flip_left_right(image) if flip else tf.constant(image)
        expected = tf.image.adjust_saturation(tf.image.adjust_brightness(expected, 0.1), 1.4)
        expected = tf.clip_by_value(expected, 0.0, 1.0)
        if use_grayscale:
            expected = tf.image.rgb_to_grayscale(expected)
        compiled, expected = session.run([compiled, (expected - 0.5) * 2.0])
    np.testing.assert_allclose(compiled, expected, atol=2e-6)
