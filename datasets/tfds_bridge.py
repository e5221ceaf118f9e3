"""TensorFlow Datasets (TFDS) as a data source: `--dataset_name=tfds:NAME`.

NAME is what `tfds.builder` takes: 'cifar10', 'imagenette/320px-v2', 'mnist:3.0.1'. The
dataset must already be prepared (`tfds build NAME --data_dir=DIR`) in --dataset_dir, the
TFDS data directory (TFDS's default, ~/tensorflow_datasets, when it is not set): nothing is
downloaded at run time. --dataset_split_name takes TFDS's split syntax, slices included
('train[:90%]'). The dataset needs an 'image' feature and a 'label' class feature.

Labels are TFDS's 0-based class ids. `--labels_offset=-1` adds one to each, for heads whose
output 0 is a background class (TF-Slim's 1001-class ImageNet networks on tfds:imagenet2012).

Class names, the class count and the image channels come from the dataset's info: its
prepared copy's when the data directory holds one, else its TFDS code's. So exports and
classify_image.py work for datasets TFDS knows without the data itself.

tensorflow_datasets is imported by the functions that use it: importing it takes about a
second, which every script would otherwise pay whatever its dataset.
"""

import dataclasses
import difflib
import os
import re
import textwrap

import tensorflow.compat.v1 as tf

from common import files
from common.errors import ConfigurationError, MissingPathError

PREFIX = 'tfds:'
IMAGE_KEY = 'image'
LABEL_KEY = 'label'
CATALOG_URL = 'https://www.tensorflow.org/datasets/catalog/overview'


def is_tfds_name(dataset_name):
    """Whether --dataset_name names a TFDS dataset ('tfds:NAME')."""
    return dataset_name.startswith(PREFIX)


def _data_dir_root(data_dir):
    """The TFDS data directory `tfds.builder` uses for `data_dir` (None: TFDS's default)."""
    import tensorflow_datasets as tfds
    return data_dir or tfds.core.constants.DATA_DIR


def _unknown_name_message(name, data_dir):
    import tensorflow_datasets as tfds
    # Community datasets are listed from the network; only the installed ones are offered.
    close = difflib.get_close_matches(name, tfds.list_builders(with_community_datasets=False))
    return ('Unknown TFDS dataset %r in --dataset_name=tfds:%s%s, and %s holds no prepared '
            'dataset of that name. Valid names: the catalog at %s, or `python -c "import '
            'tensorflow_datasets as tfds; print(tfds.list_builders())"`; a dataset you built '
            'yourself is found by its folder name in --dataset_dir.'
            % (name, name, ' (did you mean %s?)' % ', '.join(close) if close else '',
               _data_dir_root(data_dir), CATALOG_URL))


def load_builder(dataset_name, data_dir=None):
    """The TFDS builder of 'tfds:NAME' in data directory `data_dir` (None: TFDS's default).

    Raises:
      ValueError: an unknown name, a version or config TFDS's code does not have, or a
        dataset without an 'image' and a 'label' class feature.
      FileNotFoundError: a dataset TFDS has no code for, whose folder in `data_dir` lacks
        the version or config asked for.
    """
    import tensorflow_datasets as tfds
    name = dataset_name[len(PREFIX):]
    if not name:
        raise ConfigurationError('--dataset_name=%s names no dataset: set it to tfds:NAME, e.g. '
                                 'tfds:cifar10.' % dataset_name)
    try:
        builder = tfds.builder(name, data_dir=data_dir or None)
    except tfds.core.registered.DatasetNotFoundError:
        # NAME is not in TFDS's code; TFDS looked for a prepared copy in the data directory.
        folder = os.path.join(_data_dir_root(data_dir), re.split('[/:]', name)[0])
        if not tf.io.gfile.isdir(folder):
            raise ConfigurationError(_unknown_name_message(name, data_dir)) from None
        raise MissingPathError(
            'No prepared copy of TFDS dataset %r in %s (it holds: %s). Set --dataset_name to '
            'tfds:NAME with a config and version that folder holds, or prepare this one from '
            'the dataset\'s code with `tfds build DIRECTORY_OF_ITS_CODE --data_dir=%s`.'
            % (name, folder, ', '.join(files.list_directory(folder)) or 'nothing',
               _data_dir_root(data_dir))) from None
    except (AssertionError, ValueError) as error:
        # TFDS's code knows the name, but not the version or config asked for.
        raise ConfigurationError('TFDS cannot load --dataset_name=%s: %s\nSet --dataset_name to '
                                 'tfds:NAME[/CONFIG][:VERSION] with a config and version it offers.'
                                 % (dataset_name, str(error).strip())) from None
    _check_features(builder, dataset_name)
    return builder


def _check_features(builder, dataset_name):
    import tensorflow_datasets as tfds
    features = builder.info.features
    if (IMAGE_KEY in features and isinstance(features[IMAGE_KEY], tfds.features.Image)
            and LABEL_KEY in features
            and isinstance(features[LABEL_KEY], tfds.features.ClassLabel)):
        return
    raise ConfigurationError(
        'TFDS dataset %s is not an image classification dataset: it needs an %r Image '
        'feature and a %r ClassLabel feature, and its features are %s. Set --dataset_name to '
        'an image classification dataset.'
        % (dataset_name, IMAGE_KEY, LABEL_KEY, ', '.join(
            '%s (%s)' % (key, type(feature).__name__) for key, feature in features.items())))


def _check_prepared(builder, dataset_name, data_dir):
    if builder.is_prepared():
        return
    name = dataset_name[len(PREFIX):]
    command = 'tfds build %s --data_dir=%s' % (name, _data_dir_root(data_dir))
    manual = ''
    if builder.MANUAL_DOWNLOAD_INSTRUCTIONS:
        command += ' --manual_dir=DIRECTORY_OF_DOWNLOADED_FILES'
        manual = ('\nDownload its files by hand into that directory first; TFDS says:\n%s'
                  % textwrap.dedent(builder.MANUAL_DOWNLOAD_INSTRUCTIONS).strip())
    raise MissingPathError(
        'TFDS dataset %r (version %s) is not prepared in %s, and nothing is downloaded at run '
        'time. Prepare it once with `%s`, or set --dataset_dir to the TFDS data directory '
        'that holds it.%s' % (name, builder.version, builder.data_dir, command, manual))


def _image_channels(features):
    # Images with alpha (4 channels) or of any channel count decode to RGB, as TFRecords do.
    return 1 if features[IMAGE_KEY].shape[-1] == 1 else 3


def class_names(dataset_name, data_dir=None):
    """The TFDS class names, index = TFDS label (see the module doc for where they come from)."""
    return list(load_builder(dataset_name, data_dir).info.features[LABEL_KEY].names)


def num_classes(dataset_name, data_dir=None):
    """The number of TFDS classes (the 'label' feature's), without background."""
    return load_builder(dataset_name, data_dir).info.features[LABEL_KEY].num_classes


def image_channels(dataset_name, data_dir=None):
    """1 for grayscale datasets (an 'image' feature of one channel), else 3."""
    return _image_channels(load_builder(dataset_name, data_dir).info.features)


def get_split(dataset_name, split_name, data_dir=None):
    """Describes split `split_name` ('train', 'train[:90%]', ...) of a prepared TFDS dataset.

    Raises:
      ValueError: an unknown dataset (see `load_builder`), a split it does not have, or a
        slice that selects no examples.
      FileNotFoundError: the dataset is not prepared in `data_dir`; the message gives the
        `tfds build` command that prepares it.
    """
    builder = load_builder(dataset_name, data_dir)
    _check_prepared(builder, dataset_name, data_dir)
    info = builder.info
    try:
        num_samples = info.splits[split_name].num_examples
    except (KeyError, ValueError) as error:
        raise ConfigurationError(
            'TFDS dataset %s has no split %r (%s). Its splits: %s; a slice such as '
            'train[:90%%] reads part of one. Set --dataset_split_name.'
            % (dataset_name, split_name, str(error).strip(),
               ', '.join(sorted(info.splits)))) from None
    if not num_samples:
        raise ConfigurationError('Split %r of TFDS dataset %s has no examples: set '
                                 '--dataset_split_name to a split or '
                                 'slice with some.' % (split_name, dataset_name))
    labels = info.features[LABEL_KEY]
    return TfdsSplit(
        name=dataset_name, split_name=split_name, num_samples=num_samples,
        num_classes=labels.num_classes, labels_to_names=dict(enumerate(labels.names)),
        items_to_descriptions={
            'image': 'A TFDS image, %s.' % info.features[IMAGE_KEY],
            'label': 'A TFDS class id between 0 and %d.' % (labels.num_classes - 1),
        },
        image_channels=_image_channels(info.features), builder=builder)


@dataclasses.dataclass(frozen=True)
class TfdsSplit:
    """One split of a prepared TFDS dataset, with the attributes and methods of
    `dataset_splits.DatasetSplit` that train, eval and export use; `builder` reads it."""

    name: str
    split_name: str
    num_samples: int
    num_classes: int
    labels_to_names: dict
    items_to_descriptions: dict
    image_channels: int
    builder: object = dataclasses.field(repr=False, compare=False)

    def read_records(self, is_training, num_readers=None, seed=None, num_workers=1,
                     worker_index=0):
        """A dataset of TFDS example dicts with the image still encoded ('image': tf.string []).

        Training repeats forever with the split's files shuffled every epoch (seeded when
        `seed` is set); evaluation reads every example once, in file order. With
        num_workers > 1, worker `worker_index` reads whole files when there are at least as
        many as workers, else every num_workers-th example.
        """
        import tensorflow_datasets as tfds
        num_files = len(self.builder.info.splits[self.split_name].file_instructions)
        shares_files = num_workers > 1 and num_files >= num_workers
        shares_records = num_workers > 1 and not shares_files
        read_config = tfds.ReadConfig(
            shuffle_seed=seed,
            interleave_cycle_length=num_readers or tf.data.experimental.AUTOTUNE,
            input_context=(tf.distribute.InputContext(num_workers, worker_index, 1)
                           if shares_files else None))
        records = self.builder.as_dataset(
            split=self.split_name,
            # Workers sharing records must all read the files in the same order.
            shuffle_files=is_training and not shares_records,
            decoders={IMAGE_KEY: tfds.decode.SkipDecoding()},
            read_config=read_config)
        if shares_records:
            records = records.shard(num_workers, worker_index)
        return records.repeat() if is_training else records

    def parse_record(self, record):
        """{'encoded': tf.string [], 'label': tf.int64 [], 'bbox': tf.float32 [1, boxes, 4]}
        from a TFDS example dict. Boxes come from a 'bbox' feature (one box) or an 'objects'
        sequence with 'bbox' (several), both (ymin, xmin, ymax, xmax) normalised as ours."""
        if 'bbox' in record:
            boxes = record['bbox']
        elif 'bbox' in record.get('objects', {}):
            boxes = record['objects']['bbox']
        else:
            boxes = tf.zeros([0, 4])
        return {'encoded': record[IMAGE_KEY],
                'label': tf.cast(record[LABEL_KEY], tf.int64),
                'bbox': tf.reshape(tf.cast(boxes, tf.float32), [1, -1, 4])}
