"""Class names and classify_image.py: checkpoints, SavedModels, ImageNet names, errors."""

import os
import re

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from sklearn.datasets import load_digits

from support import encode_images, run_script, train_digits_lenet
from datasets import class_names, dataset_utils, make_imagenet_class_names
from inference import classifier
from inference.classify_options import ClassifyOptions
from nets import nets_factory

DIGIT_NAMES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine']


def _check_top_5(predictions, paths, names):
    """Each prediction ranks 5 classes of `names`, most probable first."""
    assert [prediction.image_path for prediction in predictions] == paths
    for prediction in predictions:
        assert len(prediction.top) == 5
        assert all(score.name == names[score.class_id] for score in prediction.top)
        probabilities = [score.probability for score in prediction.top]
        assert probabilities == sorted(probabilities, reverse=True)
        assert 0 < sum(probabilities) <= 1.0005


def _write_pngs(directory, images, file_names):
    """Writes uint8 [H, W, C] images as PNG files; returns their paths."""
    paths = [os.path.join(directory, name) for name in file_names]
    for path, data in zip(paths, encode_images(images, 'png'), strict=True):
        with open(path, 'wb') as f:
            f.write(data)
    return paths


# --- class names ---------------------------------------------------------------------------

def test_imagenet_file_has_1000_unique_synsets_in_the_standard_order():
    synsets, words = class_names.imagenet_synsets(), class_names.imagenet_words()
    assert len(synsets) == len(set(synsets)) == len(words) == 1000
    assert all(re.fullmatch(r'n\d{8}', synset) for synset in synsets)
    assert synsets == sorted(synsets)
    assert (synsets[0], words[0]) == ('n01440764', 'tench, Tinca tinca')
    assert (synsets[1], words[1]) == ('n01443537', 'goldfish, Carassius auratus')
    assert (synsets[999], words[999]) == ('n15075141',
                                          'toilet tissue, toilet paper, bathroom tissue')


def test_committed_imagenet_file_is_what_the_generator_writes():
    package_dir = make_imagenet_class_names.tfds_directory()
    lines = make_imagenet_class_names.class_name_lines(
        make_imagenet_class_names.read_synsets(package_dir),
        make_imagenet_class_names.read_names(package_dir))
    with open(class_names.IMAGENET_CLASS_NAMES_PATH, encoding='utf-8') as f:
        assert f.readlines() == lines


def test_imagenet_names_with_and_without_the_background_class():
    with_background = class_names.class_names('imagenet')
    assert len(with_background) == 1001
    assert with_background[:2] == ['background', 'tench, Tinca tinca']
    without_background = class_names.class_names('imagenet', labels_offset=1, num_classes=1000)
    assert without_background == with_background[1:]
    with pytest.raises(ValueError, match=r"Dataset 'imagenet' with --labels_offset=0 has 1001 "
                                         r'classes, not --num_classes=1000\. Drop --num_classes, '
                                         r'or fix --labels_offset'):
        class_names.class_names('imagenet', num_classes=1000)


def test_names_come_from_the_dataset_labels_file(digits_dir, tmp_path):
    assert class_names.class_names('digits', digits_dir) == DIGIT_NAMES
    assert class_names.class_names('digits', digits_dir, labels_offset=1) == DIGIT_NAMES[1:]
    # Without a labels file, classes are named by their ids.
    assert class_names.class_names('digits') == [str(i) for i in range(10)]
    assert class_names.class_names('flowers', str(tmp_path)) == ['0', '1', '2', '3', '4']
    # A dataset the factory does not know: the labels file or --num_classes sets the count;
    # classes the file leaves out are named by id.
    dataset_utils.write_label_file({0: 'cat', 2: 'dog'}, str(tmp_path))
    assert class_names.class_names('pets', str(tmp_path)) == ['cat', '1', 'dog']
    assert class_names.class_names('pets', str(tmp_path), num_classes=4) == [
        'cat', '1', 'dog', '3']
    assert class_names.class_names('pets', num_classes=2) == ['0', '1']
    with pytest.raises(ValueError, match=r"Dataset 'pets' with --labels_offset=0 has 3 classes, "
                                         r'not --num_classes=2'):
        class_names.class_names('pets', str(tmp_path), num_classes=2)
    with pytest.raises(ValueError, match=r"Unknown dataset 'pets' \(known: cifar10, custom, "
                                         r'digits, flowers, imagenet, mnist, visualwakewords, '
                                         r'tfds:NAME\) and no labels.txt in '
                                         r'--dataset_dir=None: set --num_classes'):
        class_names.class_names('pets')


# --- a digits model, through the script ----------------------------------------------------

@pytest.fixture(scope='module')
def lenet_digits_train_dir(digits_dir, tmp_path_factory):
    return train_digits_lenet(digits_dir, tmp_path_factory, 'lenet_digits',
                              max_number_of_steps=100)


def _digit_pngs(directory, indices):
    """scikit-learn's digit images at `indices`, stretched to 28 x 28 grayscale PNG files.

    Returns:
      (paths, true digits).
    """
    data = load_digits()
    with tf.Graph().as_default(), tf.Session() as session:
        small = tf.constant(data.images[indices, :, :, np.newaxis] * (255.0 / 16.0), tf.float32)
        large = session.run(tf.image.resize_images(small, [28, 28]))
    images = np.clip(np.round(large), 0, 255).astype(np.uint8)
    paths = _write_pngs(directory, images, ['digit_%d.png' % i for i in indices])
    return paths, [int(data.target[i]) for i in indices]


def test_script_names_the_digits_of_a_lenet_model(lenet_digits_train_dir, digits_dir, tmp_path):
    paths, digits = _digit_pngs(str(tmp_path), [3, 7])
    predictions = classifier.classify(ClassifyOptions(
        model_name='lenet', checkpoint_path=lenet_digits_train_dir, dataset_name='digits',
        dataset_dir=digits_dir), paths)
    _check_top_5(predictions, paths, DIGIT_NAMES)
    top_digits = [prediction.top[0].class_id for prediction in predictions]
    assert any(top == digit for top, digit in zip(top_digits, digits, strict=True)), (
        top_digits, digits)
    # The script prints exactly these predictions.
    result = run_script('classify_image.py', '--model_name=lenet',
                        '--checkpoint_path=' + lenet_digits_train_dir, '--dataset_name=digits',
                        '--dataset_dir=' + digits_dir, *paths, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ''.join(classifier.format_prediction(prediction) + '\n'
                                    for prediction in predictions)


def test_bfloat16_classifies_as_float32_does(lenet_digits_train_dir, digits_dir, tmp_path,
                                             lenet_forward_in_bfloat16):
    paths, _ = _digit_pngs(str(tmp_path), [3, 7, 11, 20])

    def classify(precision):
        return classifier.classify(ClassifyOptions(
            model_name='lenet', checkpoint_path=lenet_digits_train_dir, dataset_name='digits',
            dataset_dir=digits_dir, top_k=1, mixed_precision=precision), paths)

    for in_float32, in_bfloat16 in zip(classify('float32'), classify('bfloat16'), strict=True):
        assert in_bfloat16.top[0].class_id == in_float32.top[0].class_id
        assert in_bfloat16.top[0].probability == pytest.approx(in_float32.top[0].probability,
                                                               abs=0.05)


# --- an ImageNet head -----------------------------------------------------------------------

AVERAGED_TOP_CLASS = 7


@pytest.fixture(scope='module')
def imagenet_checkpoint(tmp_path_factory):
    """A randomly initialised mobilenet_v1_025 with 1001 classes, saved with moving averages.

    The averages of the logits layer are set so that, restored, the averaged model puts
    almost all probability on class AVERAGED_TOP_CLASS.
    """
    prefix = str(tmp_path_factory.mktemp('mobilenet') / 'model.ckpt')
    with tf.Graph().as_default():
        tf.set_random_seed(0)
        network_fn = nets_factory.get_network_fn('mobilenet_v1_025', num_classes=1001)
        network_fn(tf.zeros([1, 64, 64, 3]))
        averages = tf.train.ExponentialMovingAverage(0.999)
        averages.apply(tf.model_variables())
        variables = {variable.op.name: variable for variable in tf.model_variables()}
        weights = variables['MobilenetV1/Logits/Conv2d_1c_1x1/weights']
        biases = variables['MobilenetV1/Logits/Conv2d_1c_1x1/biases']
        set_averages = [
            tf.assign(averages.average(weights), tf.zeros_like(weights)),
            tf.assign(averages.average(biases), 20.0 * tf.one_hot(AVERAGED_TOP_CLASS, 1001)),
        ]
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            session.run(set_averages)
            tf.train.Saver().save(session, prefix)
    return prefix


@pytest.fixture(scope='module')
def colour_pngs(tmp_path_factory):
    rng = np.random.RandomState(0)
    images = [rng.randint(0, 256, size=(50, 70, 3)).astype(np.uint8),
              np.full((40, 40, 3), 255, np.uint8)]
    return _write_pngs(str(tmp_path_factory.mktemp('colour')), images,
                       ['noise.png', 'white.png'])


def test_imagenet_classes_are_named(imagenet_checkpoint, colour_pngs):
    predictions = classifier.classify(ClassifyOptions(
        model_name='mobilenet_v1_025', image_size=64, checkpoint_path=imagenet_checkpoint),
        colour_pngs[:1])
    _check_top_5(predictions, colour_pngs[:1], class_names.class_names('imagenet'))


def test_moving_averages_are_restored_on_request(imagenet_checkpoint, colour_pngs):
    options = ClassifyOptions(model_name='mobilenet_v1_025', image_size=64, top_k=2,
                              checkpoint_path=imagenet_checkpoint, moving_average_decay=0.999)
    predictions = classifier.classify(options, colour_pngs)
    assert [prediction.image_path for prediction in predictions] == colour_pngs
    for prediction in predictions:
        top = prediction.top[0]
        assert (top.class_id, top.name) == (AVERAGED_TOP_CLASS, 'stingray')
        assert top.probability > 0.99
        assert classifier.format_prediction(prediction).splitlines()[1] == (
            '  1. %.4f  (7) stingray' % top.probability)


# --- a SavedModel ---------------------------------------------------------------------------

SAVED_MODEL_NAMES = ['ant', 'bee', 'cat', 'dog', 'eel', 'fox']
SAVED_MODEL_SLOPES = np.array([0.0, 3.0, -1.0, 1.0, 2.0, -2.0], np.float32)


def _write_saved_model(directory):
    """A SavedModel keeping the export contract: probabilities = softmax(slopes * brightness).

    `images` tf.string [None] -> `probabilities` [None, 6], `classes` [None, 5] (top 5) and
    `class_names` [None, 5]; brightness is the mean pixel value / 255.
    """
    with tf.Graph().as_default(), tf.Session() as session:
        images = tf.placeholder(tf.string, [None], name='images')

        def brightness(data):
            image = tf.io.decode_image(data, channels=3, expand_animations=False)
            return tf.reduce_mean(tf.cast(image, tf.float32)) / 255.0

        slopes = tf.Variable(SAVED_MODEL_SLOPES, name='slopes')
        logits = tf.map_fn(brightness, images, fn_output_signature=tf.float32)[:, None] * slopes
        probabilities = tf.nn.softmax(logits)
        classes = tf.nn.top_k(probabilities, 5).indices
        names = tf.gather(tf.constant(SAVED_MODEL_NAMES), classes)
        session.run(tf.global_variables_initializer())
        signature = tf.saved_model.signature_def_utils.predict_signature_def(
            inputs={'images': images},
            outputs={'probabilities': probabilities, 'classes': classes, 'class_names': names})
        builder = tf.saved_model.Builder(directory)
        builder.add_meta_graph_and_variables(
            session, [tf.saved_model.tag_constants.SERVING],
            signature_def_map={'serving_default': signature})
        builder.save()


def test_saved_model_prints_its_own_classes_and_names(colour_pngs, tmp_path):
    directory = str(tmp_path / 'exported')
    _write_saved_model(directory)
    options = ClassifyOptions(saved_model_dir=directory, top_k=3)
    white = classifier.classify(options, [colour_pngs[1]])[0]
    expected = np.exp(SAVED_MODEL_SLOPES) / np.exp(SAVED_MODEL_SLOPES).sum()
    assert [(score.class_id, score.name) for score in white.top] == [
        (1, 'bee'), (4, 'eel'), (3, 'dog')]
    assert [score.probability for score in white.top] == pytest.approx(expected[[1, 4, 3]],
                                                                       rel=1e-5)
    assert classifier.format_prediction(white) == '\n'.join([
        colour_pngs[1],
        '  1. %.4f  (1) bee' % expected[1],
        '  2. %.4f  (4) eel' % expected[4],
        '  3. %.4f  (3) dog' % expected[3]])
    with pytest.raises(ValueError, match=r'gives the top 5 classes only: set --top_k=5 or less'):
        classifier.classify(ClassifyOptions(saved_model_dir=directory, top_k=6), colour_pngs)
    with pytest.raises(ValueError, match=r'No SavedModel in --saved_model_dir=%s: point it at '
                                         % re.escape(str(tmp_path))):
        classifier.classify(ClassifyOptions(saved_model_dir=str(tmp_path)), colour_pngs)


# --- errors ---------------------------------------------------------------------------------

def test_bad_options_and_images_are_named(colour_pngs, tmp_path):
    checkpoint_options = ClassifyOptions(model_name='lenet', checkpoint_path=str(tmp_path))
    with pytest.raises(ValueError, match=r'Nothing to classify with: set --checkpoint_path'):
        classifier.classify(ClassifyOptions(model_name='lenet'), colour_pngs)
    with pytest.raises(ValueError, match=r'Give either --checkpoint_path .* or --saved_model_dir, '
                                         r'not both'):
        classifier.classify(ClassifyOptions(model_name='lenet', checkpoint_path='a',
                                            saved_model_dir='b'), colour_pngs)
    with pytest.raises(ValueError, match=r'Set --model_name to the network --checkpoint_path=a'):
        classifier.classify(ClassifyOptions(checkpoint_path='a'), colour_pngs)
    with pytest.raises(ValueError, match=r'No image files given'):
        classifier.classify(checkpoint_options, [])
    missing = str(tmp_path / 'missing.jpg')
    with pytest.raises(ValueError, match=r'Image file %s does not exist' % re.escape(missing)):
        classifier.classify(checkpoint_options, [colour_pngs[0], missing])
    not_an_image = tmp_path / 'notes.jpg'
    not_an_image.write_text('not an image')
    with pytest.raises(ValueError, match=r'Cannot read image %s: it is not a JPEG, PNG, GIF or '
                                         r'BMP image' % re.escape(str(not_an_image))):
        classifier.classify(checkpoint_options, [str(not_an_image)])
    not_an_image.unlink()
    with pytest.raises(ValueError, match=r'No checkpoint in directory %s \(it holds: nothing\)'
                                         % re.escape(str(tmp_path))):
        classifier.classify(checkpoint_options, colour_pngs)


def test_a_checkpoint_of_another_shape_is_explained(lenet_digits_train_dir, digits_dir,
                                                    colour_pngs):
    # The digits lenet has 10 classes and a one-channel first layer.
    options = ClassifyOptions(model_name='lenet', checkpoint_path=lenet_digits_train_dir,
                              dataset_name='flowers')
    with pytest.raises(ValueError) as error:
        classifier.classify(options, colour_pngs)
    message = str(error.value)
    assert 'does not fit --model_name=lenet for dataset \'flowers\'' in message
    assert 'LeNet/conv1/weights: checkpoint [5, 5, 1, 32], model [5, 5, 3, 32]' in message
    assert 'LeNet/fc4/weights: checkpoint [1024, 10], model [1024, 5]' in message
    assert 'trained on a grayscale dataset: pass its --dataset_name (and, for tfds:NAME, its ' \
           '--dataset_dir)' in message
    options = ClassifyOptions(model_name='lenet', checkpoint_path=lenet_digits_train_dir,
                              dataset_name='digits', dataset_dir=digits_dir,
                              moving_average_decay=0.99)
    with pytest.raises(ValueError, match=r'holds no moving average of 8 model variable\(s\) '
                                         r'\(first: LeNet/conv1/biases/ExponentialMovingAverage'
                                         r'\).* Drop --moving_average_decay to classify with'):
        classifier.classify(options, colour_pngs)
