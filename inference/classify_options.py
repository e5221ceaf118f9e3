"""Every setting of `classify_image.py`, with TF-Slim's flag names where TF-Slim has them."""

import dataclasses

from flag_options import option
from mixed_precision import PrecisionOptions


@dataclasses.dataclass
class ClassifyOptions(PrecisionOptions):
    model_name: str | None = option(
        None, 'The name of the architecture the checkpoint was trained with.')
    checkpoint_path: str | None = option(
        None, 'A checkpoint prefix, or a directory whose latest checkpoint is used.')
    saved_model_dir: str | None = option(
        None, 'An exported SavedModel to classify with, instead of --model_name and '
        '--checkpoint_path.')
    dataset_name: str = option(
        'imagenet', 'The dataset the model was trained on: its class names and count.')
    dataset_dir: str | None = option(
        None, 'The dataset directory: its labels.txt names the classes; for tfds:NAME, the '
        'TFDS data directory whose dataset info names the classes.')
    labels_offset: int = option(
        0, 'The dataset label of model output 0: 1 for ImageNet networks without the '
        'background class (VGG, ResNet V1).')
    num_classes: int | None = option(
        None, 'The number of model outputs, for datasets this library does not know.', minimum=1)
    preprocessing_name: str | None = option(
        None, 'The name of the preprocessing to use (default: --model_name\'s).')
    image_size: int | None = option(None, 'The side of the network input (default: the '
                                          'network\'s).', minimum=1)
    moving_average_decay: float | None = option(
        None, 'Restore the moving averages of the weights that training with '
        '--moving_average_decay kept, instead of the weights.', minimum=0.0, maximum=1.0)
    top_k: int = option(5, 'How many of the most probable classes to print per image.', minimum=1)
