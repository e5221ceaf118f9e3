"""Every setting of an evaluation run, with TF-Slim's flag names and defaults."""

import dataclasses

from datasets.input_options import InputOptions
from flag_options import option


@dataclasses.dataclass
class EvalOptions(InputOptions):
    batch_size: int = option(100, 'The number of samples in each batch.')
    max_num_batches: int | None = option(
        None, 'Max number of batches to evaluate; by default, use all.')
    checkpoint_path: str | None = option(
        None, 'The directory where the model was written to or an absolute path to a '
        'checkpoint file.')
    eval_dir: str = option('/tmp/tfmodel/', 'Directory where the results are saved to.')
    dataset_split_name: str = option('test', 'The name of the train/test split.')
    eval_image_size: int | None = option(None, 'Eval image size (default: the network\'s).')
