"""Every setting of an evaluation run, with TF-Slim's flag names and defaults."""

import dataclasses

from flag_options import option


@dataclasses.dataclass
class EvalOptions:
    batch_size: int = option(100, 'The number of samples in each batch.')
    max_num_batches: int | None = option(
        None, 'Max number of batches to evaluate; by default, use all.')
    checkpoint_path: str | None = option(
        None, 'The directory where the model was written to or an absolute path to a '
        'checkpoint file.')
    eval_dir: str = option('/tmp/tfmodel/', 'Directory where the results are saved to.')
    num_preprocessing_threads: int = option(
        4, 'The number of threads used to create the batches.')
    dataset_name: str = option('imagenet', 'The name of the dataset to load.')
    dataset_split_name: str = option('test', 'The name of the train/test split.')
    dataset_dir: str | None = option(None, 'The directory where the dataset files are stored.')
    labels_offset: int = option(
        0, 'An offset for the labels in the dataset. This flag is primarily used to evaluate '
        'the VGG and ResNet architectures which do not use a background class for the '
        'ImageNet dataset.')
    model_name: str = option('inception_v3', 'The name of the architecture to evaluate.')
    preprocessing_name: str | None = option(
        None, 'The name of the preprocessing to use. If left as `None`, then the model_name '
        'flag is used.')
    eval_image_size: int | None = option(None, 'Eval image size (default: the network\'s).')
    use_grayscale: bool = option(False, 'Whether to convert input images to grayscale.')
