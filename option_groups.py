"""The option groups several tools share, each field declared once with its help text.

A tool's options are a dataclass inheriting the groups it uses (`EvalOptions`, ...). Where
TF-Slim gave two tools different defaults for one flag (--checkpoint_path, --batch_size), the
tool inherits `with_defaults(group, name=default)`: same field, type and help text, its own
default. `check()` validates every group of a tool in one pass, before any graph is built.
"""

import dataclasses
import typing

import flag_options
from common import checkpoints, files
from flag_options import option


class OptionGroup:
    """The base of option dataclasses: each class may define `check_fields(self)`, raising
    for its own fields (or, in a tool's class, for fields of several groups together)."""

    def check(self):
        """Raises for the first option that cannot work: ranges first, then each class's
        `check_fields`, the groups before the tool class that joins them."""
        flag_options.check_ranges(self)
        for options_class in reversed(type(self).__mro__):
            check_fields = vars(options_class).get('check_fields')
            if check_fields:
                check_fields(self)


def with_defaults(group, **defaults):
    """The option group `group` with other defaults for the fields named in `defaults`.

    The fields keep the type, help text and bounds declared in `group`; the subclass records
    the group in `defaults_of` (a tool's own default, not a second declaration).
    """
    declared = {field.name: field for field in dataclasses.fields(group)}
    unknown = sorted(set(defaults) - set(declared))
    if unknown:
        raise TypeError('%s has no field %s' % (group.__name__, ', '.join(unknown)))
    hints = typing.get_type_hints(group)
    subclass = dataclasses.make_dataclass(
        group.__name__,
        [(name, hints[name], dataclasses.field(default=value, metadata=declared[name].metadata))
         for name, value in defaults.items()],
        bases=(group,))
    subclass.defaults_of = group
    subclass.__module__ = group.__module__
    subclass.__doc__ = group.__doc__
    return subclass


def split_paths(value):
    """['a', 'b'] for the comma-separated flag value 'a, b'; [] for None or ''."""
    return [path.strip() for path in (value or '').split(',') if path.strip()]


@dataclasses.dataclass
class DatasetOptions(OptionGroup):
    """The dataset, read or only named for its classes."""

    dataset_name: str = option('imagenet', 'The name of the dataset to load.')
    dataset_dir: str | None = option(
        None, 'The directory where the dataset files are stored (its labels.txt names the '
        'classes); for tfds:NAME, the TFDS data directory (the dataset must be prepared there '
        'to be read).')
    labels_offset: int = option(
        0, 'An offset for the labels in the dataset. This flag is primarily used to evaluate '
        'the VGG and ResNet architectures which do not use a background class for the '
        'ImageNet dataset.')

    def __post_init__(self):
        # TF-Slim's export defaulted --dataset_dir to '': an empty path is no directory.
        if not self.dataset_dir:
            self.dataset_dir = None

    def check_fields(self):
        if self.dataset_dir:
            files.check_filesystem(self.dataset_dir, 'dataset_dir')


@dataclasses.dataclass
class SplitOptions(OptionGroup):
    dataset_split_name: str = option('train', 'The name of the train/test split.')


@dataclasses.dataclass
class ModelOptions(OptionGroup):
    """The network and the preprocessing of its images."""

    model_name: str | None = option('inception_v3', 'The name of the architecture.')
    preprocessing_name: str | None = option(
        None, 'The name of the preprocessing to use. If left as `None`, then the model_name '
        'flag is used.')

    @property
    def preprocessing(self):
        """The name of the preprocessing style: --preprocessing_name, else --model_name."""
        return self.preprocessing_name or self.model_name


@dataclasses.dataclass
class GrayscaleOptions(OptionGroup):
    use_grayscale: bool = option(False, 'Whether to convert input images to grayscale.')


@dataclasses.dataclass
class ImageSizeOptions(OptionGroup):
    image_size: int | None = option(
        None, 'The side of the network\'s square input images (default: the network\'s).',
        minimum=1)


@dataclasses.dataclass
class BatchOptions(OptionGroup):
    batch_size: int | None = option(
        None, 'The number of samples in each batch (training: per clone). For an inference '
        'GraphDef, the batch size of its input placeholder: left as None, it is chosen when '
        'the model runs (SavedModel and TFLite inputs always work that way).', minimum=1)


@dataclasses.dataclass
class CheckpointOptions(OptionGroup):
    """The checkpoint a tool restores, and whether it restores the moving averages."""

    checkpoint_path: str | None = option(
        None, 'A checkpoint prefix (such as model.ckpt-1000) or a directory, for its latest '
        'checkpoint. Training fine-tunes from it. Evaluation evaluates it: a comma-separated '
        'list evaluates each, in order of global step; with --eval_interval_secs, the one '
        'directory to watch. Export exports its weights (needed by --saved_model_dir and '
        '--tflite_file; it freezes --output_file). classify_image.py classifies with it.')
    moving_average_decay: float | None = option(
        None, 'The decay to use for the moving average. If left as None, then moving '
        'averages are not used. Training keeps the moving averages of the weights; '
        'evaluation, export and classification then restore them instead of the weights.',
        minimum=0.0, maximum=1.0)

    def checkpoint_paths(self):
        """The paths of the comma-separated --checkpoint_path, in order."""
        return split_paths(self.checkpoint_path)

    def check_fields(self):
        for path in self.checkpoint_paths():
            files.check_filesystem(path, 'checkpoint_path')
            checkpoints.check_literal_path(path, 'checkpoint_path')


@dataclasses.dataclass
class SavedModelOptions(OptionGroup):
    saved_model_dir: str | None = option(
        None, 'An exported SavedModel, taking encoded JPEG or PNG images (signature '
        '"serving_default") or preprocessed images (signature "preprocessed"): the export '
        'writes it, classify_image.py classifies with it instead of --model_name and '
        '--checkpoint_path.')


@dataclasses.dataclass
class CloneOptions(OptionGroup):
    """How many devices of this machine share each batch."""

    num_clones: int = option(
        1, 'Number of model clones to deploy: one per GPU (with --clone_on_cpu, or on a machine '
        'without GPUs in evaluation, one per logical CPU device); each gets an equal share of '
        'the batches.', minimum=1)


@dataclasses.dataclass
class MasterOptions(OptionGroup):
    master: str = option('', 'The address of the TensorFlow master to use.')


@dataclasses.dataclass
class TrainingLengthOptions(OptionGroup):
    max_number_of_steps: int | None = option(
        None, 'The maximum number of training steps (default: train until stopped). '
        'Continuous evaluation stops after evaluating the checkpoint of this step (default: '
        'the step in <checkpoint_path>/final_step.txt if training wrote it).', minimum=1)
