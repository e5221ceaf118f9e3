"""The input settings training and evaluation share, with TF-Slim's flag names and defaults."""

import dataclasses

from flag_options import option


@dataclasses.dataclass
class InputOptions:
    dataset_name: str = option('imagenet', 'The name of the dataset to load.')
    dataset_dir: str | None = option(None, 'The directory where the dataset files are stored.')
    labels_offset: int = option(
        0, 'An offset for the labels in the dataset. This flag is primarily used to evaluate '
        'the VGG and ResNet architectures which do not use a background class for the '
        'ImageNet dataset.')
    model_name: str = option('inception_v3', 'The name of the architecture.')
    preprocessing_name: str | None = option(
        None, 'The name of the preprocessing to use. If left as `None`, then the model_name '
        'flag is used.')
    num_preprocessing_threads: int = option(
        4, 'The number of threads used to create the batches.')
    use_grayscale: bool = option(False, 'Whether to convert input images to grayscale.')
