"""Runs an export: the inference GraphDef, the SavedModel and the TFLite model asked for."""

import os
import tempfile


from common import serving
from exporting import graph_export, saved_model_export, tflite_export


def check_options(options):
    """Fails early, before any graph is built, on settings that cannot work (see
    `ExportOptions.check_fields`)."""
    options.check()


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
