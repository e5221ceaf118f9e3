"""A dataset split as a reader sees it: its TFRecord files, size, classes and record
parser, and the metadata file in which converters record what they wrote."""

import dataclasses
import json
import os

import tensorflow.compat.v1 as tf

from common import files
from common.errors import ConfigurationError, MissingPathError
from datasets import dataset_utils

METADATA_FILENAME = 'dataset_metadata.json'


def write_dataset_metadata(dataset_dir, splits_to_sizes, num_classes):
    """Records what a converter wrote: {split name: number of examples} and the class count."""
    metadata = {'splits_to_sizes': splits_to_sizes, 'num_classes': num_classes}
    files.write_file_atomically(os.path.join(dataset_dir, METADATA_FILENAME),
                                (json.dumps(metadata, indent=2, sort_keys=True) + '\n')
                                .encode('utf-8'))


def read_dataset_metadata(dataset_dir):
    """The dict `write_dataset_metadata` wrote to `dataset_dir`, or None if there is none."""
    return files.read_json_file(os.path.join(dataset_dir, METADATA_FILENAME))


@dataclasses.dataclass(frozen=True)
class DatasetSplit:
    """What a reader needs to know about one split of a dataset.

    `file_pattern` is the path of the TFRecord files, a pattern in its last component only
    (see `files.matching_files`: the directory is taken literally); `image_channels` is the
    number of channels images decode to (1 for grayscale datasets, 3 otherwise).
    """

    name: str
    split_name: str
    file_pattern: str
    num_samples: int
    num_classes: int
    labels_to_names: dict | None
    items_to_descriptions: dict
    image_channels: int = 3

    def data_files(self):
        """The sorted TFRecord files of the split; raises if there are none."""
        # A writer's temporary files match patterns such as 'train-*' too.
        paths = [path for path in files.matching_files(self.file_pattern)
                 if not path.endswith(files.INCOMPLETE_SUFFIX)]
        if not paths:
            directory = os.path.dirname(self.file_pattern) or '.'
            if tf.io.gfile.isdir(directory):
                hint = 'it holds: %s' % (', '.join(files.list_directory(directory)[:10])
                                         or 'nothing')
            else:
                hint = 'the directory does not exist'
            raise MissingPathError(
                'No TFRecord files for split %r of dataset %r: expected files matching %s '
                '(%s). Create them with `python download_and_convert_data.py '
                '--dataset_name=%s --dataset_dir=%s`, or pass the right --dataset_dir.'
                % (self.split_name, self.name, self.file_pattern, hint, self.name, directory))
        return paths

    def read_records(self, is_training, num_readers=None, seed=None, num_workers=1,
                     worker_index=0):
        """A dataset of serialized `tf.train.Example`s (scalar strings).

        Evaluation reads every record once, file by file in sorted order. Training repeats
        forever and reshuffles the files every epoch (in a fixed order given `seed`).

        Args:
          num_readers: files read in parallel; None lets tf.data choose (AUTOTUNE).
          num_workers, worker_index: with several workers, this worker reads only its share:
            whole files when there are at least as many files as workers, else every
            num_workers-th record.
        """
        if not 0 <= worker_index < num_workers:
            raise ConfigurationError('Worker index %d is not in [0, %d): pass --task between 0 and '
                                     '--worker_replicas - 1.' % (worker_index, num_workers))
        paths = self.data_files()
        file_names = tf.data.Dataset.from_tensor_slices(paths)
        shard_by_record = num_workers > 1 and len(paths) < num_workers
        if num_workers > 1 and not shard_by_record:
            file_names = file_names.shard(num_workers, worker_index)
            paths = paths[worker_index::num_workers]
        if is_training and not shard_by_record:
            file_names = file_names.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
            file_names = file_names.repeat()
        # More readers than files would read a file twice at once in training.
        cycle_length = min(len(paths), num_readers or os.cpu_count() or 1)
        records = file_names.interleave(
            tf.data.TFRecordDataset, cycle_length=cycle_length,
            num_parallel_calls=num_readers or tf.data.AUTOTUNE,
            # Every worker must see the records in the same order to take a disjoint share.
            deterministic=not is_training or seed is not None or shard_by_record)
        if shard_by_record:
            records = records.shard(num_workers, worker_index)
            if is_training:
                records = records.repeat()
        return records

    def parse_record(self, record):
        """The parts of one serialized example the input pipeline needs.

        Returns:
          {'encoded': string [] (the JPEG or PNG bytes), 'label': int64 [],
           'bbox': float32 [1, num_boxes, 4] as (ymin, xmin, ymax, xmax)}.
        Fails at run time if `record` is not an Example with an image and a label.
        """
        keys_to_features = {
            'image/encoded': tf.io.FixedLenFeature((), tf.string),
            'image/class/label': tf.io.FixedLenFeature((), tf.int64),
        }
        for key in dataset_utils.BBOX_KEYS:
            keys_to_features['image/object/bbox/' + key] = tf.io.VarLenFeature(tf.float32)
        features = tf.io.parse_single_example(record, keys_to_features)
        corners = [tf.sparse.to_dense(features['image/object/bbox/' + key])
                   for key in dataset_utils.BBOX_KEYS]
        return {'encoded': features['image/encoded'], 'label': features['image/class/label'],
                'bbox': tf.expand_dims(tf.stack(corners, axis=1), 0)}


ITEMS_TO_DESCRIPTIONS = {
    'image': 'A color image of varying size.',
    'label': 'A single integer class id.',
}


def get_split(name, split_name, dataset_dir, file_pattern, splits_to_sizes, num_classes,
              items_to_descriptions=None, image_channels=3):
    """Describes one split of a TFRecord dataset stored in TF-Slim's format.

    Args:
      name: the dataset's name, for messages.
      split_name: a key of `splits_to_sizes`.
      dataset_dir: the directory with the TFRecord files and an optional labels.txt.
      file_pattern: a pattern with `%s` for the split name, relative to dataset_dir.
      splits_to_sizes: {split name: number of examples}.
      num_classes: the number of classes, including any background class.
      image_channels: the dataset module's IMAGE_CHANNELS (1 for grayscale), else 3.
    Raises:
      ValueError: for a split the dataset does not have; the message lists the valid ones.
    """
    if not dataset_dir:
        raise ConfigurationError('No dataset directory given for dataset %r: set '
                                 '--dataset_dir.' % name)
    # A converter's record of what it wrote beats the published sizes (e.g. a partial copy).
    metadata = read_dataset_metadata(dataset_dir)
    if metadata:
        splits_to_sizes = metadata['splits_to_sizes']
        num_classes = metadata['num_classes']
    if split_name not in splits_to_sizes:
        raise ConfigurationError(
            'Dataset %r has no split %r; valid splits: %s (set --dataset_split_name).'
            % (name, split_name, ', '.join(sorted(splits_to_sizes))))
    labels_to_names = (dataset_utils.read_label_file(dataset_dir)
                       if dataset_utils.has_labels(dataset_dir) else None)
    return DatasetSplit(
        name=name,
        split_name=split_name,
        file_pattern=os.path.join(dataset_dir, file_pattern % split_name),
        num_samples=splits_to_sizes[split_name],
        num_classes=num_classes,
        labels_to_names=labels_to_names,
        items_to_descriptions=items_to_descriptions or ITEMS_TO_DESCRIPTIONS,
        image_channels=image_channels,
    )
