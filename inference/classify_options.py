"""Every setting of `classify_image.py`, with TF-Slim's flag names where TF-Slim has them."""

import dataclasses

from common.errors import ConfigurationError
from flag_options import option
from mixed_precision import PrecisionOptions
from nets import nets_factory
from option_groups import (CheckpointOptions, DatasetOptions, ImageSizeOptions, ModelOptions,
                           SavedModelOptions, with_defaults)


@dataclasses.dataclass
class ClassifyOptions(ImageSizeOptions, SavedModelOptions, CheckpointOptions,
                      with_defaults(ModelOptions, model_name=None), DatasetOptions,
                      PrecisionOptions):
    """Every option of classify_image.py: a network and its checkpoint, or a SavedModel."""

    num_classes: int | None = option(
        None, 'The number of model outputs, for datasets this library does not know.', minimum=1)
    top_k: int = option(5, 'How many of the most probable classes to print per image.', minimum=1)

    def check_fields(self):
        if self.checkpoint_path and self.saved_model_dir:
            raise ConfigurationError('Give either --checkpoint_path (with --model_name) or '
                                     '--saved_model_dir, not both.')
        if not self.checkpoint_path and not self.saved_model_dir:
            raise ConfigurationError(
                'Nothing to classify with: set --checkpoint_path (with --model_name) to a '
                'checkpoint, or --saved_model_dir to an exported SavedModel.')
        if self.checkpoint_path and not self.model_name:
            raise ConfigurationError('Set --model_name to the network --checkpoint_path=%s was '
                                     'trained with.' % self.checkpoint_path)
        if self.model_name:
            nets_factory.check_image_size(self.model_name, self.image_size, 'image_size')
