"""Tests for the preprocessing styles and their factory."""

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from nets import nets_factory
from preprocessing import (
    cifarnet_preprocessing,
    inception_preprocessing,
    lenet_preprocessing,
    vgg_preprocessing,
)
from preprocessing.preprocessing_factory import (
    PREPROCESSING_MODULES,
    STYLE_MODULES,
    get_preprocessing,
    uses_bounding_boxes,
)

# Style -> (module, output height, output width). Non-square outputs catch
# swapped height and width.
STYLES = {
    'lenet': (lenet_preprocessing, 28, 26),
    'cifarnet': (cifarnet_preprocessing, 32, 30),
    'inception': (inception_preprocessing, 36, 40),
    'vgg': (vgg_preprocessing, 36, 40),
}
MODES = {'train': True, 'eval': False}
# Input case -> (fed image size, whether the placeholder knows it statically).
INPUT_SIZES = {
    'larger': ((70, 90), True),
    'smaller': ((8, 8), True),
    'unknown_size': ((50, 45), False),
}
VGG_MEANS = (vgg_preprocessing._R_MEAN, vgg_preprocessing._G_MEAN, vgg_preprocessing._B_MEAN)

rng = np.random.default_rng(0)


@pytest.fixture
def sess():
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as session:
        yield session


def random_image(height, width, channels=3):
    return rng.integers(0, 256, size=(height, width, channels), dtype=np.uint8)


def image_placeholder(size, channels=3, static=True, dtype=tf.uint8):
    shape = [*size, channels] if static else [None, None, channels]
    return tf.placeholder(dtype, shape)


def summary_ops():
    return [op for op in tf.get_default_graph().get_operations()
            if op.type in ('ImageSummary', 'MergeSummary')]


@pytest.mark.parametrize('mode', MODES)
@pytest.mark.parametrize('input_case', INPUT_SIZES)
@pytest.mark.parametrize('style', STYLES)
def test_output_shape_and_range(sess, style, mode, input_case):
    module, height, width = STYLES[style]
    size, static = INPUT_SIZES[input_case]
    image = image_placeholder(size, static=static)
    output = module.preprocess_image(image, height, width, is_training=MODES[mode])

    assert output.dtype == tf.float32
    assert output.shape.as_list() == [height, width, 3]
    value = sess.run(output, {image: random_image(*size)})
    assert value.shape == (height, width, 3)
    if style == 'inception':
        assert value.min() >= -1.0 and value.max() <= 1.0
    elif style == 'lenet':
        assert value.min() >= -1.0 and value.max() < 1.0
    elif style == 'cifarnet':
        assert abs(value.mean()) < 1e-4
        assert value.std() == pytest.approx(1.0, abs=1e-3)
    else:
        assert value.min() >= -max(VGG_MEANS) - 1e-3
        assert value.max() <= 255.0 - min(VGG_MEANS) + 1e-3


@pytest.mark.parametrize('style', STYLES)
def test_eval_is_deterministic(sess, style):
    module, height, width = STYLES[style]
    image = image_placeholder((50, 60))
    output = module.preprocess_image(image, height, width, is_training=False)
    feed = {image: random_image(50, 60)}
    np.testing.assert_array_equal(sess.run(output, feed), sess.run(output, feed))


@pytest.mark.parametrize('crop_image', [True, False])
def test_inception_eval_keeps_constant_image_constant(sess, crop_image):
    image = tf.fill([50, 60, 3], tf.constant(200, tf.uint8))
    output = inception_preprocessing.preprocess_image(image, 36, 40, crop_image=crop_image)
    np.testing.assert_allclose(sess.run(output), (200 / 255 - 0.5) * 2, atol=1e-5)


def test_inception_train_honours_bbox(sess):
    # A white image with a black top-left corner, boxed: every crop must cover at
    # least 10% of the box, so it starts inside the black corner.
    pixels = np.full((64, 64, 3), 255, np.uint8)
    pixels[:16, :16] = 0
    bbox = tf.constant([[[0.0, 0.0, 0.25, 0.25]]])
    output = inception_preprocessing.preprocess_image(
        tf.constant(pixels), 16, 16, is_training=True, bbox=bbox, add_image_summaries=False)
    for _ in range(20):
        assert sess.run(output).min() < 0.0


@pytest.mark.parametrize('mode', MODES)
def test_vgg_subtracts_rgb_means(sess, mode):
    image = tf.constant(np.broadcast_to(np.float32(VGG_MEANS), (50, 60, 3)))
    output = vgg_preprocessing.preprocess_image(image, 36, 40, is_training=MODES[mode])
    np.testing.assert_allclose(sess.run(output), 0.0, atol=1e-3)


def test_vgg_eval_resizes_smaller_side_to_256_and_crops_centre(sess):
    # A horizontal ramp resized to 256x512 and centre-cropped to 36x40 keeps the
    # middle of the ramp, so the crop's mean equals the whole image's.
    ramp = np.tile(np.linspace(0, 255, 200, dtype=np.float32)[None, :, None], (100, 1, 3))
    output = vgg_preprocessing.preprocess_image(tf.constant(ramp), 36, 40)
    value = sess.run(output) + np.float32(VGG_MEANS)
    assert value.mean() == pytest.approx(127.5, abs=0.5)
    # 512 columns for 255 levels: the crop's 40 columns span about 20 levels.
    assert value[0, -1, 0] - value[0, 0, 0] == pytest.approx(39 * 255 / 511, abs=0.5)


def test_vgg_aspect_preserving_resize_with_unknown_size(sess):
    image = image_placeholder((30, 60), static=False)
    resized = vgg_preprocessing._aspect_preserving_resize(image, 256)
    assert sess.run(resized, {image: random_image(30, 60)}).shape == (256, 512, 3)


@pytest.mark.parametrize('mode', MODES)
@pytest.mark.parametrize('style', ['inception', 'vgg'])
def test_grayscale_input_becomes_rgb(sess, style, mode):
    module, height, width = STYLES[style]
    image = image_placeholder((50, 60), channels=1)
    output = module.preprocess_image(image, height, width, is_training=MODES[mode])
    assert output.shape.as_list() == [height, width, 3]
    assert sess.run(output, {image: random_image(50, 60, 1)}).shape == (height, width, 3)


@pytest.mark.parametrize('channels', [1, 3])
@pytest.mark.parametrize('mode', MODES)
@pytest.mark.parametrize('style', STYLES)
def test_use_grayscale_gives_one_channel(sess, style, mode, channels):
    module, height, width = STYLES[style]
    image = image_placeholder((50, 60), channels=channels)
    output = module.preprocess_image(image, height, width, is_training=MODES[mode],
                                     use_grayscale=True)
    assert output.shape.as_list() == [height, width, 1]
    assert sess.run(output, {image: random_image(50, 60, channels)}).shape == (height, width, 1)


@pytest.mark.parametrize('style', ['lenet', 'cifarnet'])
def test_small_styles_keep_grayscale_input(sess, style):
    module, height, width = STYLES[style]
    image = image_placeholder((8, 8), channels=1)
    output = module.preprocess_image(image, height, width)
    assert output.shape.as_list() == [height, width, 1]


@pytest.mark.parametrize('size, expected', [
    ((8, 8), (28, 26)),
    ((8, 100), (28, 26)),
    ((100, 8), (28, 26)),
    ((28, 26), (28, 26)),
    ((40, 50), (40, 50)),
])
def test_upscale_if_smaller(sess, size, expected):
    image = image_placeholder(size, static=False)
    pixels = random_image(*size)
    output = lenet_preprocessing.upscale_if_smaller(image, 28, 26)
    value = sess.run(output, {image: pixels})
    assert value.dtype == np.float32
    assert value.shape == (*expected, 3)
    if size == expected:
        np.testing.assert_array_equal(value, pixels)


def test_lenet_small_image_fills_frame(sess):
    output = lenet_preprocessing.preprocess_image(
        tf.fill([8, 8, 1], tf.constant(255, tf.uint8)), 28, 28)
    np.testing.assert_allclose(sess.run(output), 127 / 128, atol=1e-6)


def test_lenet_large_image_is_cropped_and_scaled_as_tf_slim(sess):
    pixels = random_image(40, 50, 1)
    output = lenet_preprocessing.preprocess_image(tf.constant(pixels), 28, 26)
    expected = (pixels[6:34, 12:38].astype(np.float32) - 128) / 128
    np.testing.assert_allclose(sess.run(output), expected, atol=1e-6)


def test_cifarnet_small_image_is_upscaled_not_padded(sess):
    output = cifarnet_preprocessing.preprocess_image(tf.constant(random_image(8, 8)), 32, 30)
    value = sess.run(output)
    # Zero padding would make the border rows one constant value.
    assert value[0].std() > 0.1 and value[-1].std() > 0.1


def test_cifarnet_train_pads_large_image_before_cropping(sess):
    # The 4-pixel zero border shows up in some random crops of a white image
    # exactly the output size, as dark pixels after standardisation.
    image = tf.fill([32, 30, 3], tf.constant(255, tf.uint8))
    output = cifarnet_preprocessing.preprocess_image(image, 32, 30, is_training=True,
                                                     add_image_summaries=False)
    assert any(sess.run(output).std() > 0.1 for _ in range(10))


@pytest.mark.parametrize('style, mode', [
    ('inception', 'train'), ('inception', 'eval'), ('cifarnet', 'train'), ('cifarnet', 'eval'),
    ('lenet', 'train'), ('vgg', 'train'),
])
def test_summaries_only_when_asked(style, mode):
    module, height, width = STYLES[style]
    with tf.Graph().as_default():
        module.preprocess_image(image_placeholder((50, 60)), height, width,
                                is_training=MODES[mode], add_image_summaries=False)
        assert not summary_ops()
        assert not tf.get_collection(tf.GraphKeys.SUMMARIES)
    with tf.Graph().as_default():
        module.preprocess_image(image_placeholder((50, 60)), height, width,
                                is_training=MODES[mode], add_image_summaries=True)
        expect_summaries = style == 'cifarnet' or (style, mode) == ('inception', 'train')
        assert bool(summary_ops()) == expect_summaries


def test_distort_color_rejects_unknown_ordering():
    with tf.Graph().as_default():
        image = tf.zeros([4, 4, 3])
        with pytest.raises(ValueError, match='color_ordering'):
            inception_preprocessing.distort_color(image, color_ordering=2, fast_mode=True)
        with pytest.raises(ValueError, match='color_ordering'):
            inception_preprocessing.distort_color(image, color_ordering=4, fast_mode=False)


def test_apply_with_random_selector_uses_every_case(sess):
    chosen = inception_preprocessing.apply_with_random_selector(
        tf.constant(0), lambda x, case: x + case, num_cases=3)
    assert {sess.run(chosen) for _ in range(60)} == {0, 1, 2}


EXPECTED_STYLE_NAMES = {
    'lenet': ['lenet'],
    'cifarnet': ['cifarnet', 'nasnet_cifar'],
    'inception': [
        'inception', 'inception_v1', 'inception_v2', 'inception_v3', 'inception_v4',
        'inception_resnet_v1', 'inception_resnet_v2',
        'mobilenet_v1', 'mobilenet_v1_075', 'mobilenet_v1_050', 'mobilenet_v1_025',
        'mobilenet_v2', 'mobilenet_v2_035', 'mobilenet_v2_140',
        'mobilenet_v3_small', 'mobilenet_v3_large',
        'mobilenet_v3_small_minimalistic', 'mobilenet_v3_large_minimalistic',
        'mobilenet_edgetpu', 'mobilenet_edgetpu_075',
        'nasnet_mobile', 'nasnet_large', 'pnasnet_mobile', 'pnasnet_large'],
    'vgg': [
        'vgg', 'vgg_a', 'vgg_16', 'vgg_19', 'alexnet_v2', 'overfeat',
        'resnet_v1_50', 'resnet_v1_101', 'resnet_v1_152', 'resnet_v1_200',
        'resnet_v2_50', 'resnet_v2_101', 'resnet_v2_152', 'resnet_v2_200'],
}


def test_factory_maps_every_name_to_its_style():
    expected = {name: STYLES[style][0]
                for style, names in EXPECTED_STYLE_NAMES.items() for name in names}
    assert PREPROCESSING_MODULES == expected
    assert STYLE_MODULES == {style: module for style, (module, _, _) in STYLES.items()}
    # The factory takes the style names and the network names of the registry, no others.
    assert set(PREPROCESSING_MODULES) == set(STYLE_MODULES) | set(nets_factory.NETWORKS)


@pytest.mark.parametrize('name, style', [
    ('lenet', 'lenet'), ('nasnet_cifar', 'cifarnet'), ('mobilenet_v2_140', 'inception'),
    ('resnet_v1_50', 'vgg'), ('inception', 'inception'), ('vgg', 'vgg'),
])
def test_factory_function_runs_the_style(sess, name, style):
    module, height, width = STYLES[style]
    image = image_placeholder((50, 60))
    from_factory = get_preprocessing(name)(image, height, width)
    direct = module.preprocess_image(image, height, width)
    feed = {image: random_image(50, 60)}
    np.testing.assert_array_equal(*sess.run([from_factory, direct], feed))


def test_factory_passes_flags_and_kwargs():
    with tf.Graph().as_default():
        output = get_preprocessing('inception_v3', is_training=True, use_grayscale=True)(
            image_placeholder((50, 60)), 36, 40, add_image_summaries=False)
        op_types = {op.type for op in tf.get_default_graph().get_operations()}
        assert any(t.startswith('SampleDistortedBoundingBox') for t in op_types)
        assert output.shape.as_list() == [36, 40, 1]
        assert not summary_ops()


@pytest.mark.parametrize('lookup', [get_preprocessing, uses_bounding_boxes])
def test_factory_rejects_unknown_name(lookup):
    with pytest.raises(ValueError) as error:
        lookup('resnet_v3_50')
    assert 'Preprocessing name [resnet_v3_50] was not recognized; valid names: ' \
        in str(error.value)
    assert ', '.join(sorted(PREPROCESSING_MODULES)) in str(error.value)


def test_only_inception_style_uses_bounding_boxes():
    for name, module in PREPROCESSING_MODULES.items():
        assert uses_bounding_boxes(name) == (module is inception_preprocessing)


def test_inception_train_inside_dataset_map_with_boxes(sess):
    # The input pipeline passes each example's boxes, [1, N, 4] with N often 0.
    boxes = tf.ragged.constant([[], [[0.1, 0.2, 0.6, 0.9]]], ragged_rank=1, inner_shape=(4,))
    dataset = tf.data.Dataset.from_tensor_slices(boxes).map(lambda bbox: (
        tf.cast(tf.random_uniform([50, 60, 3], maxval=256, dtype=tf.int32), tf.uint8),
        tf.expand_dims(bbox, 0)))
    preprocess = get_preprocessing('inception_v3', is_training=True)
    dataset = dataset.map(lambda image, bbox: preprocess(
        image, 36, 40, add_image_summaries=False, bbox=bbox))
    batch = tf.data.make_one_shot_iterator(dataset.batch(2)).get_next()
    value = sess.run(batch)
    assert value.shape == (2, 36, 40, 3)
    assert value.min() >= -1.0 and value.max() <= 1.0


@pytest.mark.parametrize('mode', MODES)
@pytest.mark.parametrize('style', STYLES)
def test_works_inside_dataset_map(sess, style, mode):
    module, height, width = STYLES[style]
    sizes = [(70, 90), (8, 8), (50, 45)]
    # Images of varying size, unknown statically, as from a decoder.
    dataset = tf.data.Dataset.from_tensor_slices(sizes).map(lambda size: tf.cast(
        tf.random_uniform(tf.concat([size, [3]], 0), maxval=256, dtype=tf.int32), tf.uint8))
    dataset = dataset.map(lambda image: module.preprocess_image(
        image, height, width, is_training=MODES[mode], add_image_summaries=False))
    batch = tf.data.make_one_shot_iterator(dataset.batch(len(sizes))).get_next()
    assert batch.shape.as_list() == [None, height, width, 3]
    value = sess.run(batch)
    assert value.shape == (len(sizes), height, width, 3)
    assert np.isfinite(value).all()
