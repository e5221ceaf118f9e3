"""Runs an export: the inference GraphDef, the SavedModel and the TFLite model asked for."""

import os
import tempfile

import tensorflow.compat.v1 as tf

import flag_options
from common import checkpoints, files, serving
from exporting import graph_export, saved_model_export, tflite_export
from nets import nets_factory


def check_options(options):
    """Fails early, before any graph is built, on settings that cannot work.

    Raises:
      ValueError: naming the flags to set or change.
    """
    flag_options.check_ranges(options)
    nets_factory.check_image_size(options.model_name, options.image_size, 'image_size')
    if not (options.output_file or options.saved_model_dir or options.tflite_file):
        raise ValueError('Nothing to export: set --output_file (an inference GraphDef), '
                         '--saved_model_dir or --tflite_file.')
    if options.write_text_graphdef and not options.output_file:
        raise ValueError('--write_text_graphdef writes --output_file as text: set '
                         '--output_file too.')
    if options.tflite_quantize and not options.tflite_file:
        raise ValueError('--tflite_quantize quantizes the TFLite model: set --tflite_file too.')
    if (options.saved_model_dir or options.tflite_file) and not options.checkpoint_path:
        raise ValueError('--saved_model_dir and --tflite_file export trained weights: set '
                         '--checkpoint_path to a checkpoint or a training directory.')
    if options.checkpoint_path:
        checkpoints.resolve_checkpoint(options.checkpoint_path)
    for flag_name in ('output_file', 'tflite_file'):
        if getattr(options, flag_name):
            files.check_writable_file(getattr(options, flag_name), flag_name)
    if options.saved_model_dir:
        files.check_writable_directory(options.saved_model_dir, 'saved_model_dir',
                                       'the SavedModel')
    if options.saved_model_dir and tf.io.gfile.exists(options.saved_model_dir):
        found = files.list_directory(options.saved_model_dir)
        if found:
            raise ValueError('--saved_model_dir=%s already holds files (%s): choose a new '
                             'directory or remove it.'
                             % (options.saved_model_dir, ', '.join(found[:10])))


def export(options):
    """Writes what `options` (an `ExportOptions`) asks for and prints a line for each."""
    check_options(options)
    if options.output_file:
        output_node = graph_export.export_graph_def(options)
        print('Wrote the %s inference graph to %s: input node %s, output node %s.'
              % ('frozen' if options.checkpoint_path else 'unfrozen', options.output_file,
                 graph_export.INPUT_NAME, output_node))
    if options.saved_model_dir:
        saved_model_export.export_saved_model(options, options.saved_model_dir)
        print('Wrote the SavedModel to %s: signatures %r (encoded images) and %r '
              '(preprocessed images).' % (options.saved_model_dir,
                                          serving.SERVING_SIGNATURE,
                                          serving.PREPROCESSED_SIGNATURE))
    if options.tflite_file:
        size = _write_tflite(options)
        print('Wrote the %s TFLite model to %s (%d bytes).'
              % ('quantized' if options.tflite_quantize else 'float', options.tflite_file, size))


def _write_tflite(options):
    """Converts the SavedModel of `options` to TFLite; returns the model's size in bytes."""
    if options.saved_model_dir:
        return tflite_export.convert_saved_model(options.saved_model_dir, options.tflite_file,
                                                 options.tflite_quantize)
    # Without --saved_model_dir the SavedModel converted is a temporary one, on the local disk
    # since nothing else reads it (the converter also reads --saved_model_dir on gs:// or ram://).
    with tempfile.TemporaryDirectory() as temporary_dir:
        saved_model_dir = os.path.join(temporary_dir, 'saved_model')
        saved_model_export.export_saved_model(options, saved_model_dir)
        return tflite_export.convert_saved_model(saved_model_dir, options.tflite_file,
                                                 options.tflite_quantize)
