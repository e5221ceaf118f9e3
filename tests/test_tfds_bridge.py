"""The TFDS bridge (`--dataset_name=tfds:NAME`) on tiny datasets prepared with TFDS's writer.

`tfds.testing.mock_data` needs the dataset's metadata files, which the tensorflow-datasets
wheel does not ship; without them it has no split sizes and the dataset is not prepared.
So the tests build two small datasets with TFDS's own builder into a data directory, as
`tfds build` would, and read them back the way a user's prepared dataset is read: from
files, without their code (the builders are not registered).
"""

import json
import os

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
import tensorflow_datasets as tfds
from support import encode_images, train_and_evaluate_through_the_scripts

from datasets import class_names, dataset_factory, tfds_bridge
from exporting import exporter, graph_export
from exporting.export_options import ExportOptions
from inference import classifier
from inference.classify_options import ClassifyOptions

GRAY_NAMES = ['circle', 'square', 'triangle']
NUM_TRAIN, NUM_TEST, NUM_SHARDS = 12, 6, 3
BOXES = [[0.1, 0.2, 0.5, 0.6], [0.3, 0.3, 0.9, 1.0]]


def _gray_example(index, first_value):
    """Example `index`: every pixel is first_value + 10 * index, so a pixel identifies it."""
    image = np.full((8 + index, 9, 1), first_value + 10 * index, np.uint8)
    return index, {'image': image, 'label': index % 3}


with tfds.core.registered.skip_registration():

    class TinyGray(tfds.core.GeneratorBasedBuilder):
        """Grayscale PNGs of varying size, three named classes, in three files per split."""

        VERSION = tfds.core.Version('1.0.0')

        def _info(self):
            return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict({
                'image': tfds.features.Image(shape=(None, None, 1)),
                'label': tfds.features.ClassLabel(names=GRAY_NAMES)}))

        def _split_generators(self, dl_manager):
            return {'train': self._generate_examples(NUM_TRAIN, 0),
                    'test': self._generate_examples(NUM_TEST, 150)}

        def _generate_examples(self, count, first_value):
            for index in range(count):
                yield _gray_example(index, first_value)

    class TinyBoxes(tfds.core.GeneratorBasedBuilder):
        """Colour JPEGs with object boxes, two unnamed classes."""

        VERSION = tfds.core.Version('1.0.0')

        def _info(self):
            return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict({
                'image': tfds.features.Image(shape=(20, 24, 3), encoding_format='jpeg'),
                'label': tfds.features.ClassLabel(num_classes=2),
                'objects': tfds.features.Sequence({'bbox': tfds.features.BBoxFeature()})}))

        def _split_generators(self, dl_manager):
            return {'train': self._generate_examples()}

        def _generate_examples(self):
            image = np.full((20, 24, 3), 128, np.uint8)
            yield 0, {'image': image, 'label': 1,
                      'objects': {'bbox': [tfds.features.BBox(*box) for box in BOXES]}}


@pytest.fixture(scope='module')
def data_dir(tmp_path_factory):
    """A TFDS data directory holding tiny_gray and tiny_boxes, version 1.0.0."""
    directory = str(tmp_path_factory.mktemp('tfds_data'))
    for builder_class, num_shards in ((TinyGray, NUM_SHARDS), (TinyBoxes, 1)):
        builder_class(data_dir=directory).download_and_prepare(download_config=(
            tfds.download.DownloadConfig(try_download_gcs=False, num_shards=num_shards)))
    return directory


def _read(split, count=None, **read_arguments):
    """(first pixel, label, height) of each record read_records gives, through parse_record.

    Reads `count` records, or all of them.
    """
    with tf.Graph().as_default():
        records = split.read_records(**read_arguments)
        if count:
            records = records.take(count)

        def decode(record):
            parsed = split.parse_record(record)
            image = tf.io.decode_image(parsed['encoded'], channels=split.image_channels)
            return image[0, 0, 0], parsed['label'], tf.shape(image)[0]

        next_example = tf.data.make_one_shot_iterator(records.map(decode)).get_next()
        examples = []
        with tf.Session() as session:
            while True:
                try:
                    examples.append(tuple(int(value) for value in session.run(next_example)))
                except tf.errors.OutOfRangeError:
                    return examples


def _gray_identities(examples, first_value=0):
    """The example index of each (first pixel, label, height), after checking they agree."""
    indices = [(pixel - first_value) // 10 for pixel, _, _ in examples]
    assert [(label, height) for _, label, height in examples] == [
        (index % 3, 8 + index) for index in indices]
    return indices


def test_split_describes_the_prepared_dataset(data_dir):
    split = dataset_factory.get_dataset('tfds:tiny_gray', 'train[:50%]', data_dir)
    assert isinstance(split, tfds_bridge.TfdsSplit)
    assert (split.name, split.split_name, split.num_samples) == (
        'tfds:tiny_gray', 'train[:50%]', NUM_TRAIN // 2)
    assert split.num_classes == 3
    assert split.labels_to_names == {0: 'circle', 1: 'square', 2: 'triangle'}
    assert split.image_channels == 1
    assert dataset_factory.get_dataset('tfds:tiny_gray', 'test', data_dir).num_samples == 6
    boxes = dataset_factory.get_dataset('tfds:tiny_boxes', 'train', data_dir)
    assert (boxes.num_classes, boxes.labels_to_names, boxes.image_channels) == (
        2, {0: '0', 1: '1'}, 3)


def test_evaluation_reads_every_record_once_in_a_fixed_order(data_dir):
    split = dataset_factory.get_dataset('tfds:tiny_gray', 'test', data_dir)
    first = _read(split, is_training=False)
    assert sorted(_gray_identities(first, first_value=150)) == list(range(NUM_TEST))
    assert _read(split, is_training=False) == first
    half = dataset_factory.get_dataset('tfds:tiny_gray', 'train[:50%]', data_dir)
    assert len(_read(half, is_training=False)) == NUM_TRAIN // 2


def test_training_repeats_and_a_seed_fixes_the_order(data_dir):
    split = dataset_factory.get_dataset('tfds:tiny_gray', 'train', data_dir)
    two_epochs = _read(split, 2 * NUM_TRAIN, is_training=True, seed=7, num_readers=2)
    indices = _gray_identities(two_epochs)
    assert sorted(indices[:NUM_TRAIN]) == sorted(indices[NUM_TRAIN:]) == list(range(NUM_TRAIN))
    assert _read(split, 2 * NUM_TRAIN, is_training=True, seed=7, num_readers=2) == two_epochs


def test_workers_read_disjoint_shares(data_dir):
    split = dataset_factory.get_dataset('tfds:tiny_gray', 'train', data_dir)
    shard_lengths = split.builder.info.splits['train'].shard_lengths
    assert len(shard_lengths) == NUM_SHARDS
    for num_workers, share_sizes in ((NUM_SHARDS, sorted(shard_lengths)),  # whole files
                                     (4, [3, 3, 3, 3])):  # every 4th record of 3 files
        shares = [_gray_identities(_read(split, is_training=False, num_workers=num_workers,
                                         worker_index=index))
                  for index in range(num_workers)]
        assert sorted(len(share) for share in shares) == share_sizes
        assert sorted(sum(shares, [])) == list(range(NUM_TRAIN))


def test_parse_record_keeps_object_boxes_and_encoded_jpeg(data_dir):
    split = dataset_factory.get_dataset('tfds:tiny_boxes', 'train', data_dir)
    with tf.Graph().as_default(), tf.Session() as session:
        record = tf.data.make_one_shot_iterator(split.read_records(False)).get_next()
        parsed = session.run(split.parse_record(record))
    assert parsed['encoded'][:2] == b'\xff\xd8'  # a JPEG, not yet decoded
    assert parsed['label'] == 1
    np.testing.assert_allclose(parsed['bbox'], [BOXES])


def test_parse_record_boxes_from_a_bbox_feature_or_none():
    split = tfds_bridge.TfdsSplit('tfds:x', 'train', 1, 2, {}, {}, 3, builder=None)
    with tf.Graph().as_default(), tf.Session() as session:
        one_box = split.parse_record({'image': tf.constant(b'x'), 'label': tf.constant(1),
                                      'bbox': tf.constant(BOXES[0])})
        no_box = split.parse_record({'image': tf.constant(b'x'), 'label': tf.constant(0)})
        one_box, no_box = session.run([one_box, no_box])
    np.testing.assert_allclose(one_box['bbox'], [[BOXES[0]]])
    assert one_box['label'].dtype == np.int64
    assert no_box['bbox'].shape == (1, 0, 4) and no_box['bbox'].dtype == np.float32


def test_a_dataset_not_prepared_fails_with_the_command_that_prepares_it(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        dataset_factory.get_dataset('tfds:cifar10', 'train', str(tmp_path))
    message = str(error.value)
    assert "TFDS dataset 'cifar10' (version 3.0.2) is not prepared in %s" % tmp_path in message
    assert 'nothing is downloaded at run time' in message
    assert '`tfds build cifar10 --data_dir=%s`' % tmp_path in message
    assert 'set --dataset_dir' in message
    with pytest.raises(FileNotFoundError) as error:
        dataset_factory.get_dataset('tfds:imagenet2012', 'validation', str(tmp_path))
    message = str(error.value)
    assert ('`tfds build imagenet2012 --data_dir=%s --manual_dir=DIRECTORY_OF_DOWNLOADED_FILES`'
            % tmp_path) in message
    assert 'ILSVRC2012_img_train.tar' in message


def test_a_version_not_prepared_lists_those_that_are(data_dir):
    with pytest.raises(FileNotFoundError, match=(
            r"No prepared copy of TFDS dataset 'tiny_gray:2.0.0' in .*tiny_gray \(it holds: "
            r'1.0.0\). Set --dataset_name')):
        dataset_factory.get_dataset('tfds:tiny_gray:2.0.0', 'train', data_dir)
    with pytest.raises(ValueError, match=r'tfds:cifar10:9.9.9: .*only: 3.0.2.\nSet '
                                         r'--dataset_name to tfds:NAME\[/CONFIG\]\[:VERSION\]'):
        dataset_factory.get_dataset('tfds:cifar10:9.9.9', 'train', data_dir)


def test_unknown_names_splits_and_features_say_what_to_change(data_dir):
    with pytest.raises(ValueError) as error:
        dataset_factory.get_dataset('tfds:cifar11', 'train', data_dir)
    message = str(error.value)
    assert "Unknown TFDS dataset 'cifar11' in --dataset_name=tfds:cifar11" in message
    assert 'did you mean' in message and 'cifar10' in message
    assert 'print(tfds.list_builders())' in message
    with pytest.raises(ValueError, match=r"tfds:tiny_gray has no split 'validation' .*Its "
                                         r'splits: test, train; .*Set --dataset_split_name.'):
        dataset_factory.get_dataset('tfds:tiny_gray', 'validation', data_dir)
    with pytest.raises(ValueError, match=r"Split 'train\[:0%\]' of TFDS dataset tfds:tiny_gray "
                                         r'has no examples: set --dataset_split_name'):
        dataset_factory.get_dataset('tfds:tiny_gray', 'train[:0%]', data_dir)
    with pytest.raises(ValueError, match=r'tfds:imdb_reviews is not an image classification '
                                         r'dataset: .*features are text \(Text\), label '
                                         r'\(ClassLabel\). Set --dataset_name'):
        dataset_factory.get_dataset('tfds:imdb_reviews', 'train', data_dir)
    with pytest.raises(ValueError, match=r'--dataset_name=tfds: names no dataset: set it to '
                                         r'tfds:NAME'):
        dataset_factory.get_dataset('tfds:', 'train', data_dir)


def test_class_names_come_from_the_tfds_info_with_background_for_a_negative_offset(data_dir):
    assert class_names.class_names('tfds:tiny_gray', data_dir) == GRAY_NAMES
    assert class_names.class_names('tfds:tiny_gray', data_dir, num_classes=4,
                                   labels_offset=-1) == ['background'] + GRAY_NAMES
    with pytest.raises(ValueError, match=r"'tfds:tiny_gray' with --labels_offset=-1 has 4 "
                                         r'classes, not --num_classes=3'):
        class_names.class_names('tfds:tiny_gray', data_dir, num_classes=3, labels_offset=-1)
    # ImageNet's info comes from TFDS's code: no data needed for a 1001-class head.
    imagenet = class_names.class_names('tfds:imagenet2012', labels_offset=-1)
    assert len(imagenet) == 1001
    assert imagenet[:3] == ['background', 'n01440764', 'n01443537']


def test_class_counts_and_channels_without_reading_data(data_dir):
    assert dataset_factory.image_channels('tfds:tiny_gray', data_dir) == 1
    assert dataset_factory.image_channels('tfds:tiny_boxes', data_dir) == 3
    assert dataset_factory.image_channels('tfds:mnist') == 1
    assert dataset_factory.num_classes('tfds:imagenet2012') == 1000
    # The TFRecord datasets say it in their module: no --dataset_dir needed.
    assert [dataset_factory.image_channels(name) for name in ('digits', 'mnist', 'cifar10')] == [
        1, 1, 3]
    assert dataset_factory.image_channels('pets') == 3
    assert dataset_factory.num_classes('digits') == 10
    spec = graph_export.model_spec(ExportOptions(
        model_name='lenet', dataset_name='tfds:tiny_gray', dataset_dir=data_dir,
        labels_offset=-1))
    assert (spec.num_classes, spec.image_channels, spec.input_channels) == (4, 1, 1)


# Depends on datasets/input_pipeline.py calling read_records/parse_record.
def test_train_evaluate_export_and_classify_a_tfds_dataset(data_dir, tmp_path):
    train_dir = str(tmp_path / 'train')
    common = dict(dataset_name='tfds:tiny_gray', dataset_dir=data_dir, model_name='lenet',
                  labels_offset=-1)
    # A split in TFDS syntax for training; the prepared dataset is found without its builder
    # class, which only this test module defines.
    train, _, results = train_and_evaluate_through_the_scripts(
        ['--dataset_name=tfds:tiny_gray', '--dataset_dir=' + data_dir, '--labels_offset=-1'],
        'test', train_dir, num_steps=3, train_flags=['--dataset_split_name=train[:75%]'])
    assert 'on tfds:tiny_gray/train[:75%] (9 examples)' in train.stderr
    assert results['num_examples'] == NUM_TEST
    assert len(results['per_class_accuracy']) == 4  # background + 3 classes
    with open(os.path.join(train_dir, 'eval', 'confusion_matrix_3.json')) as f:
        assert json.load(f)['class_names'] == ['background'] + GRAY_NAMES

    saved_model_dir = str(tmp_path / 'saved_model')
    exporter.export(ExportOptions(**common, checkpoint_path=train_dir,
                                  saved_model_dir=saved_model_dir))
    image_path = str(tmp_path / 'square.png')
    with open(image_path, 'wb') as f:
        f.write(encode_images([_gray_example(4, 0)[1]['image']], 'png')[0])
    names = ['background'] + GRAY_NAMES
    exported, = classifier.classify(
        ClassifyOptions(saved_model_dir=saved_model_dir, top_k=4), [image_path])
    from_checkpoint, = classifier.classify(
        ClassifyOptions(**common, checkpoint_path=train_dir, top_k=4), [image_path])
    for prediction in (exported, from_checkpoint):
        assert sorted(score.class_id for score in prediction.top) == [0, 1, 2, 3]
        assert all(score.name == names[score.class_id] for score in prediction.top)
    np.testing.assert_allclose([score.probability for score in exported.top],
                               [score.probability for score in from_checkpoint.top],
                               rtol=1e-5)
