"""Every setting of an evaluation run, with TF-Slim's flag names and defaults."""

import dataclasses

from datasets.input_options import InputOptions
from flag_options import option
from mixed_precision import PrecisionOptions


@dataclasses.dataclass
class EvalOptions(InputOptions, PrecisionOptions):
    batch_size: int = option(100, 'The number of samples in each batch.', minimum=1)
    max_num_batches: int | None = option(
        None, 'Max number of batches to evaluate; by default, use all.', minimum=1)
    master: str = option('', 'The address of the TensorFlow master to use.')
    checkpoint_path: str = option(
        '/tmp/tfmodel/', 'The directory where the model was written to (its latest checkpoint '
        'is evaluated) or a checkpoint prefix; a comma-separated list evaluates each, in order '
        'of global step. With --eval_interval_secs, the one directory to watch.')
    eval_dir: str = option('/tmp/tfmodel/', 'Directory where the results are saved to.')
    dataset_split_name: str = option('test', 'The name of the train/test split.')
    moving_average_decay: float | None = option(
        None, 'The decay to use for the moving average. If left as None, then moving '
        'averages are not used.', minimum=0.0, maximum=1.0)
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
    max_number_of_steps: int | None = option(
        None, 'Training\'s --max_number_of_steps: continuous evaluation stops after evaluating '
        'the checkpoint of this step (default: the step in <checkpoint_path>/final_step.txt if '
        'training wrote it).', minimum=1)
