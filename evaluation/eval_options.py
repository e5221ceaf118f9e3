"""Every setting of an evaluation run, with TF-Slim's flag names and defaults."""

import dataclasses

from common import checkpoints, files
from common.errors import ConfigurationError
from datasets.input_options import InputOptions
from flag_options import option
from mixed_precision import PrecisionOptions
from nets import nets_factory
from option_groups import (BatchOptions, CheckpointOptions, CloneOptions, MasterOptions,
                           ModelOptions, SplitOptions, TrainingLengthOptions, with_defaults)
from preprocessing import preprocessing_factory


@dataclasses.dataclass
class EvalPreprocessingOptions(ModelOptions):
    """How evaluation preprocesses each image beyond its style's defaults."""

    eval_image_size: int | None = option(None, 'Eval image size (default: the network\'s).',
                                         minimum=1)
    eval_central_fraction: float | None = option(
        None, 'The central fraction of each image that the preprocessing styles that crop '
        'centrally keep before resizing (timm\'s crop_pct), in (0, 1]: inception crops it and '
        'resizes, vgg resizes the shorter side to eval_image_size / fraction and crops '
        '(default: the style\'s own, 0.875 for inception, a 256 shorter side for vgg).',
        maximum=1.0)
    eval_flip: bool = option(
        False, 'Average the logits of each image and of its mirror image (twice the compute).')

    def check_fields(self):
        nets_factory.check_image_size(self.model_name, self.eval_image_size, 'eval_image_size')
        fraction = self.eval_central_fraction
        if fraction is not None and fraction <= 0:
            raise ConfigurationError('--eval_central_fraction=%s: pass a fraction of the image '
                                     'in (0, 1], e.g. 0.875.' % fraction)
        if fraction is not None and not preprocessing_factory.crops_centrally(
                self.preprocessing):
            raise ConfigurationError(
                '--eval_central_fraction=%s: the %s preprocessing does not crop a central '
                'fraction (only the inception and vgg styles do); leave the flag out.'
                % (fraction, self.preprocessing))


@dataclasses.dataclass
class EvalOptions(TrainingLengthOptions, with_defaults(SplitOptions, dataset_split_name='test'),
                  with_defaults(CheckpointOptions, checkpoint_path='/tmp/tfmodel/'),
                  CloneOptions, MasterOptions, with_defaults(BatchOptions, batch_size=100),
                  EvalPreprocessingOptions, InputOptions, PrecisionOptions):
    max_num_batches: int | None = option(
        None, 'Max number of batches to evaluate; by default, use all.', minimum=1)
    eval_dir: str = option('/tmp/tfmodel/', 'Directory where the results are saved to.')
    keep_best_checkpoint: bool = option(
        False, 'Copy the checkpoint with the best top-1 accuracy so far into <eval_dir>/best/ '
        '(restorable with --checkpoint_path=<eval_dir>/best), with its step and accuracy under '
        '"best" in eval_results.json, so the trainer\'s rotation never deletes it.')
    quantize: bool = option(
        False, 'Whether to use quantized graph or not. Quantized evaluation graphs no longer '
        'exist in TensorFlow: use export_inference_graph.py --tflite_quantize instead.')
    eval_interval_secs: float | None = option(
        None, 'Evaluate continuously: look for new checkpoints in --checkpoint_path every this '
        'many seconds and evaluate each once (default: evaluate once and exit).')
    eval_timeout_secs: float | None = option(
        None, 'In continuous evaluation, stop after this many seconds without a new checkpoint '
        '(default: wait forever).')

    def check_fields(self):
        files.check_writable_directory(self.eval_dir, 'eval_dir', 'the results')
        if self.keep_best_checkpoint:
            checkpoints.check_literal_path(self.eval_dir, 'eval_dir')
        if self.quantize:
            raise ConfigurationError(
                '--quantize asks for a quantized evaluation graph, which relied on '
                'tf.contrib.quantize and no longer exists in TensorFlow. Evaluate without '
                '--quantize; for a quantized model, convert the trained one with TFLite '
                'post-training quantization: export_inference_graph.py --tflite_file=... '
                '--tflite_quantize.')
        if self.eval_interval_secs is not None and self.eval_interval_secs <= 0:
            raise ConfigurationError(
                '--eval_interval_secs=%s: pass a positive number of seconds between looks for '
                'new checkpoints.' % self.eval_interval_secs)
        if self.eval_timeout_secs is not None and self.eval_timeout_secs < 0:
            raise ConfigurationError('--eval_timeout_secs=%s is negative: pass a number of '
                                     'seconds >= 0.' % self.eval_timeout_secs)
