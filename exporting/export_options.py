"""Every setting of an export, with TF-Slim's flag names and defaults plus the new outputs."""

import dataclasses

import tensorflow.compat.v1 as tf

from common import checkpoints, files
from common.errors import ConfigurationError
from flag_options import option
from nets import nets_factory
from option_groups import (
    BatchOptions,
    CheckpointOptions,
    DatasetOptions,
    GrayscaleOptions,
    ImageSizeOptions,
    ModelOptions,
    SavedModelOptions,
    with_defaults,
)


@dataclasses.dataclass
class ExportOptions(with_defaults(SavedModelOptions, saved_model_dir=''), CheckpointOptions,
                    GrayscaleOptions, BatchOptions, ImageSizeOptions,
                    with_defaults(DatasetOptions, dataset_dir=''), ModelOptions):
    """Every option of export_inference_graph.py; TF-Slim's defaults, its --dataset_dir=''
    included."""

    is_training: bool = option(
        False, 'Whether to save out a training-focused version of the model.')
    output_file: str = option(
        '', 'Where to write the inference GraphDef; frozen (weights folded in as constants) '
        'when --checkpoint_path is set.')
    write_text_graphdef: bool = option(
        False, 'Whether to write --output_file as a text GraphDef instead of a binary one.')
    tflite_file: str = option(
        '', 'Where to write a TFLite model taking preprocessed images.')
    tflite_quantize: bool = option(
        False, 'Quantize the TFLite model\'s weights to 8 bits (dynamic-range quantization).')

    def check_fields(self):
        """Raises ConfigurationError naming the flags to set or change."""
        nets_factory.check_image_size(self.model_name, self.image_size, 'image_size')
        if not (self.output_file or self.saved_model_dir or self.tflite_file):
            raise ConfigurationError('Nothing to export: set --output_file (an inference '
                                     'GraphDef), --saved_model_dir or --tflite_file.')
        if self.write_text_graphdef and not self.output_file:
            raise ConfigurationError('--write_text_graphdef writes --output_file as text: set '
                                     '--output_file too.')
        if self.tflite_quantize and not self.tflite_file:
            raise ConfigurationError('--tflite_quantize quantizes the TFLite model: set '
                                     '--tflite_file too.')
        if (self.saved_model_dir or self.tflite_file) and not self.checkpoint_path:
            raise ConfigurationError('--saved_model_dir and --tflite_file export trained '
                                     'weights: set --checkpoint_path to a checkpoint or a '
                                     'training directory.')
        if self.checkpoint_path:
            checkpoints.resolve_checkpoint(self.checkpoint_path)
        for flag_name in ('output_file', 'tflite_file'):
            if getattr(self, flag_name):
                files.check_writable_file(getattr(self, flag_name), flag_name)
        if self.saved_model_dir:
            files.check_writable_directory(self.saved_model_dir, 'saved_model_dir',
                                           'the SavedModel')
            found = (files.list_directory(self.saved_model_dir)
                     if tf.io.gfile.exists(self.saved_model_dir) else [])
            if found:
                raise ConfigurationError('--saved_model_dir=%s already holds files (%s): choose '
                                         'a new directory or remove it.'
                                         % (self.saved_model_dir, ', '.join(found[:10])))
