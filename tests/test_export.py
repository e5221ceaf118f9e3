"""Export round trips on a briefly trained LeNet: GraphDef, frozen graph, SavedModel, TFLite."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from support import encode_images, train_digits_lenet
from google.protobuf import text_format

from datasets import dataset_factory, dataset_utils, input_pipeline
from exporting import exporter
from exporting.export_options import ExportOptions
from nets import nets_factory

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

DIGIT_NAMES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine']

LENET_OUTPUT_NODE = 'Predictions/Reshape_1'

# Loads the SavedModel as a TF2 user would: eager, no tf_compat. Writes each signature's
# outputs, as lists, and input signature to a JSON file.
_LOAD_IN_EAGER_MODE = r'''
import json, os, sys
import numpy as np
import tensorflow as tf
saved_model_dir, images_dir, preprocessed_file, results_file = sys.argv[1:]
encoded = [open(os.path.join(images_dir, name), 'rb').read()
           for name in sorted(os.listdir(images_dir))]
signatures = tf.saved_model.load(saved_model_dir).signatures
results = {}
for key, images in (('serving_default', tf.constant(encoded)),
                    ('preprocessed', tf.constant(np.load(preprocessed_file)))):
    outputs = signatures[key](images=images)
    spec = signatures[key].structured_input_signature[1]['images']
    results[key] = {
        'input': [spec.dtype.name, spec.shape.as_list()],
        'dtypes': {name: value.dtype.name for name, value in outputs.items()},
        'probabilities': outputs['probabilities'].numpy().tolist(),
        'classes': outputs['classes'].numpy().tolist(),
        'class_names': [[name.decode() for name in row] for row in outputs['class_names'].numpy()],
    }
with open(results_file, 'w') as f:
    json.dump(results, f)
'''


def _run(arguments, cwd):
    return subprocess.run([sys.executable, *arguments], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope='module')
def train_dir(digits_dir, tmp_path_factory):
    """A LeNet trained 100 steps on digits, keeping moving averages of its weights too."""
    return train_digits_lenet(digits_dir, tmp_path_factory, 'lenet_digits',
                              max_number_of_steps=100, moving_average_decay=0.99)


@pytest.fixture(scope='module')
def sample_images(digits_dir, tmp_path_factory):
    """Encoded images, one file each, and the same images as a digits 'validation' split.

    Two of the dataset's 8x8 PNGs, a 40x36 JPEG (cropped by the preprocessing) and a 20x24
    PNG (stretched by it).
    """
    directory = tmp_path_factory.mktemp('sample_images')
    records = tf.io.tf_record_iterator(os.path.join(digits_dir, 'digits_validation.tfrecord'))
    encoded = [(tf.train.Example.FromString(next(records)).features.feature['image/encoded']
                .bytes_list.value[0], b'png') for _ in range(2)]
    rng = np.random.RandomState(0)
    for image_format, shape in (('jpeg', (40, 36, 1)), ('png', (20, 24, 1))):
        (data,) = encode_images([rng.randint(0, 256, shape).astype(np.uint8)], image_format)
        encoded.append((data, image_format.encode()))
    (directory / 'encoded').mkdir()
    with tf.io.TFRecordWriter(str(directory / 'digits_validation.tfrecord')) as writer:
        for index, (data, image_format) in enumerate(encoded):
            (directory / 'encoded' / ('%d.image' % index)).write_bytes(data)
            writer.write(dataset_utils.image_to_tfexample(data, image_format, 0, 0, 0)
                         .SerializeToString())
    return str(directory)


@pytest.fixture(scope='module')
def eval_path(train_dir, sample_images):
    """(preprocessed images, probabilities) of the test images from the graph-mode eval path:
    the dataset input pipeline, the network and the checkpoint's weights in a session."""
    with tf.Graph().as_default():
        split = dataset_factory.get_dataset('digits', 'validation', sample_images)
        batches = input_pipeline.batched_images(split, 'lenet', is_training=False,
                                                image_size=28, batch_size=4)
        images = tf.data.make_one_shot_iterator(batches).get_next()['images']
        _, end_points = nets_factory.get_network_fn('lenet', num_classes=10)(images)
        with tf.Session() as session:
            tf.train.Saver().restore(session, tf.train.latest_checkpoint(train_dir))
            return session.run([images, end_points['Predictions']])


@pytest.fixture(scope='module')
def exported(train_dir, digits_dir, tmp_path_factory):
    """The script's exports from the checkpoint: frozen graph, SavedModel, float TFLite."""
    directory = tmp_path_factory.mktemp('exported')
    paths = {'frozen': str(directory / 'lenet_frozen.pb'),
             'saved_model': str(directory / 'saved_model'),
             'tflite': str(directory / 'lenet.tflite')}
    result = _run([os.path.join(ROOT, 'export_inference_graph.py'), '--model_name=lenet',
                   '--dataset_name=digits', '--dataset_dir=' + digits_dir,
                   '--checkpoint_path=' + train_dir, '--output_file=' + paths['frozen'],
                   '--saved_model_dir=' + paths['saved_model'], '--tflite_file=' + paths['tflite']],
                  cwd=directory)
    assert result.returncode == 0, result.stderr
    return paths, result.stdout


@pytest.fixture(scope='module')
def saved_model_results(exported, sample_images, eval_path, tmp_path_factory):
    """What the SavedModel's two signatures return, loaded in another process in TF2 eager."""
    directory = tmp_path_factory.mktemp('eager')
    preprocessed_file, results_file = str(directory / 'images.npy'), directory / 'results.json'
    np.save(preprocessed_file, eval_path[0])
    result = _run(['-c', _LOAD_IN_EAGER_MODE, exported[0]['saved_model'],
                   os.path.join(sample_images, 'encoded'), preprocessed_file, str(results_file)],
                  cwd=directory)
    assert result.returncode == 0, result.stderr
    return json.loads(results_file.read_text())


def _graph_def(path, as_text=False):
    graph_def = tf.GraphDef()
    with open(path, 'rb') as f:
        if as_text:
            text_format.Parse(f.read().decode(), graph_def)
        else:
            graph_def.ParseFromString(f.read())
    return graph_def


def _placeholder_shape(graph_def):
    node = {node.name: node for node in graph_def.node}['input']
    assert node.op == 'Placeholder'
    return [dimension.size for dimension in node.attr['shape'].shape.dim]


def _run_graph_def(graph_def, images):
    with tf.Graph().as_default() as graph:
        tf.import_graph_def(graph_def, name='')
        with tf.Session() as session:
            return session.run(graph.get_tensor_by_name(LENET_OUTPUT_NODE + ':0'),
                               {'input:0': images})


def test_graph_def_has_the_input_placeholder_and_the_output_node(tmp_path, capsys):
    path = str(tmp_path / 'lenet.pb')
    # ImageNet without a background class: 1000 outputs, colour input, batch left open.
    exporter.export(ExportOptions(model_name='lenet', labels_offset=1, output_file=path))
    assert ('Wrote the unfrozen inference graph to %s: input node input, output node %s.'
            % (path, LENET_OUTPUT_NODE)) in capsys.readouterr().out
    graph_def = _graph_def(path)
    assert _placeholder_shape(graph_def) == [-1, 28, 28, 3]
    assert 'VariableV2' in {node.op for node in graph_def.node}
    with tf.Graph().as_default() as graph:
        tf.import_graph_def(graph_def, name='')
        output = graph.get_tensor_by_name(LENET_OUTPUT_NODE + ':0')
        assert output.shape.as_list() == [None, 1000]


def test_text_graph_def_takes_the_batch_size_image_size_and_dataset_channels(
        digits_dir, tmp_path):
    path = str(tmp_path / 'graphs' / 'lenet.pbtxt')
    exporter.export(ExportOptions(model_name='lenet', dataset_name='digits',
                                  dataset_dir=digits_dir, batch_size=2, image_size=32,
                                  output_file=path, write_text_graphdef=True))
    # Digits are grayscale, so the network takes one channel as in training.
    assert _placeholder_shape(_graph_def(path, as_text=True)) == [2, 32, 32, 1]


def test_frozen_graph_has_no_variables_and_matches_the_checkpoint(exported, eval_path):
    paths, stdout = exported
    assert ('Wrote the frozen inference graph to %s: input node input, output node %s.'
            % (paths['frozen'], LENET_OUTPUT_NODE)) in stdout
    graph_def = _graph_def(paths['frozen'])
    assert not {'VariableV2', 'VarHandleOp'} & {node.op for node in graph_def.node}
    images, probabilities = eval_path
    np.testing.assert_allclose(_run_graph_def(graph_def, images), probabilities, atol=1e-6)


def test_frozen_graph_takes_the_moving_averages_on_request(train_dir, tmp_path):
    path = str(tmp_path / 'averaged.pb')
    exporter.export(ExportOptions(model_name='lenet', dataset_name='digits',
                                  checkpoint_path=train_dir, moving_average_decay=0.99,
                                  output_file=path))
    constants = {node.name: tf.make_ndarray(node.attr['value'].tensor)
                 for node in _graph_def(path).node if node.op == 'Const'}
    averages = tf.train.load_variable(train_dir, 'LeNet/fc4/weights/ExponentialMovingAverage')
    assert np.abs(averages - tf.train.load_variable(train_dir, 'LeNet/fc4/weights')).max() > 1e-3
    np.testing.assert_array_equal(constants['LeNet/fc4/weights'], averages)


def test_saved_model_in_tf2_eager_matches_the_graph_mode_eval_path(
        saved_model_results, eval_path, exported):
    assert "Wrote the SavedModel to %s: signatures 'serving_default' (encoded images) and " \
        "'preprocessed' (preprocessed images)." % exported[0]['saved_model'] in exported[1]
    _, probabilities = eval_path
    serving, preprocessed = saved_model_results['serving_default'], \
        saved_model_results['preprocessed']
    assert serving['input'] == ['string', [None]]
    assert preprocessed['input'] == ['float32', [None, 28, 28, 1]]
    for results in (serving, preprocessed):
        assert results['dtypes'] == {'probabilities': 'float32', 'classes': 'int32',
                                     'class_names': 'string'}
        np.testing.assert_allclose(results['probabilities'], probabilities, atol=1e-5)
        top_5 = np.argsort(-probabilities, axis=1)[:, :5]
        np.testing.assert_array_equal(results['classes'], top_5)
        assert results['class_names'] == [[DIGIT_NAMES[i] for i in row] for row in top_5]


def _run_tflite(path, images):
    interpreter = tf.lite.Interpreter(model_path=path)
    (input_details,) = interpreter.get_input_details()
    assert input_details['name'] == 'images'
    assert input_details['shape_signature'].tolist() == [-1, 28, 28, 1]
    interpreter.resize_tensor_input(input_details['index'], images.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(input_details['index'], images)
    interpreter.invoke()
    return {output['name']: interpreter.get_tensor(output['index'])
            for output in interpreter.get_output_details()}


@pytest.mark.filterwarnings('ignore:.*tf.lite.Interpreter is deprecated:UserWarning')
def test_tflite_float_and_quantized_match_the_saved_model(
        exported, saved_model_results, eval_path, train_dir, digits_dir, tmp_path, capsys):
    images, _ = eval_path
    expected = saved_model_results['preprocessed']
    float_path = exported[0]['tflite']
    float_outputs = _run_tflite(float_path, images)
    np.testing.assert_allclose(float_outputs['probabilities'], expected['probabilities'],
                               atol=1e-5)
    np.testing.assert_array_equal(float_outputs['classes'], expected['classes'])
    assert [[name.decode() for name in row] for row in float_outputs['class_names']] \
        == expected['class_names']

    # Without --saved_model_dir the TFLite model comes from a temporary SavedModel.
    quantized_path = str(tmp_path / 'lenet_quantized.tflite')
    exporter.export(ExportOptions(model_name='lenet', dataset_name='digits',
                                  dataset_dir=digits_dir, checkpoint_path=train_dir,
                                  tflite_file=quantized_path, tflite_quantize=True))
    assert 'Wrote the quantized TFLite model to %s' % quantized_path in capsys.readouterr().out
    assert os.path.getsize(quantized_path) < 0.3 * os.path.getsize(float_path)
    quantized = _run_tflite(quantized_path, images)
    error = np.abs(quantized['probabilities'] - expected['probabilities']).max()
    assert error < 0.05
    # Quantization may swap the top two classes only where their probabilities are that close.
    top_two = -np.sort(-np.array(expected['probabilities']), axis=1)[:, :2]
    clear = top_two[:, 0] - top_two[:, 1] > 2 * error
    assert clear.sum() >= len(clear) // 2
    np.testing.assert_array_equal(quantized['classes'][clear, 0],
                                  np.array(expected['classes'])[clear, 0])


@pytest.mark.parametrize('settings, message', [
    ({}, 'Nothing to export: set --output_file (an inference GraphDef), --saved_model_dir or '
         '--tflite_file.'),
    ({'tflite_file': 'lenet.tflite'}, '--saved_model_dir and --tflite_file export trained '
     'weights: set --checkpoint_path to a checkpoint or a training directory.'),
    ({'output_file': 'lenet.pb', 'tflite_quantize': True},
     '--tflite_quantize quantizes the TFLite model: set --tflite_file too.'),
    ({'saved_model_dir': 'lenet', 'write_text_graphdef': True},
     '--write_text_graphdef writes --output_file as text: set --output_file too.'),
])
def test_settings_that_cannot_work_fail_before_building(settings, message):
    with pytest.raises(ValueError) as error:
        exporter.export(ExportOptions(model_name='lenet', **settings))
    assert str(error.value) == message


def test_existing_saved_model_dir_is_not_overwritten(train_dir, tmp_path):
    (tmp_path / 'saved_model.pb').write_bytes(b'')
    with pytest.raises(ValueError, match=r'--saved_model_dir=.* already holds files '
                                         r'\(saved_model.pb\): choose a new directory'):
        exporter.export(ExportOptions(model_name='lenet', dataset_name='digits',
                                      checkpoint_path=train_dir,
                                      saved_model_dir=str(tmp_path)))


def test_checkpoint_that_does_not_fit_names_the_variables_and_flags(train_dir, tmp_path):
    options = ExportOptions(model_name='lenet', dataset_name='digits', image_size=32,
                            checkpoint_path=train_dir, output_file=str(tmp_path / 'lenet.pb'))
    with pytest.raises(ValueError, match=r'does not fit the network to export: 1 variable\(s\) '
                                         r'differ. The first:\n'
                                         r'  LeNet/fc3/weights: checkpoint \[3136, 1024\], '
                                         r'model \[4096, 1024\]\n.*--image_size'):
        exporter.export(options)


def test_moving_averages_missing_from_the_checkpoint_are_named(digits_dir, tmp_path):
    train_dir = str(tmp_path / 'plain')
    with tf.Graph().as_default():
        images = tf.zeros([1, 28, 28, 1])
        nets_factory.get_network_fn('lenet', num_classes=10)(images)
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            tf.train.Saver().save(session, train_dir + '/model.ckpt')
    options = ExportOptions(model_name='lenet', dataset_name='digits', checkpoint_path=train_dir,
                            moving_average_decay=0.99, output_file=str(tmp_path / 'lenet.pb'))
    with pytest.raises(ValueError, match=r'holds no moving average of 8 model variable\(s\) '
                                         r'\(first: LeNet/conv1/biases/ExponentialMovingAverage'
                                         r'\): it was trained without --moving_average_decay. '
                                         r'Drop --moving_average_decay to export'):
        exporter.export(options)
