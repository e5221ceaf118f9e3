"""Data format round trips, the digits converter, the dataset factory and input pipelines."""

import os

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from support import write_records
from sklearn.datasets import load_digits

from datasets import (
    convert_digits,
    dataset_factory,
    dataset_splits,
    dataset_utils,
    digits,
    input_pipeline,
)


def _read_all(path, image_channels):
    """Decodes every example of a TFRecord file as the input pipeline does."""
    split = dataset_splits.DatasetSplit('test', 'test', path, num_samples=0, num_classes=0,
                                       labels_to_names=None, items_to_descriptions={},
                                       image_channels=image_channels)

    def decode(record):
        example = split.parse_record(record)
        return {'image': input_pipeline.decode_image(example['encoded'], image_channels),
                'label': example['label'], 'bbox': example['bbox']}

    with tf.Graph().as_default():
        records = split.read_records(is_training=False).map(decode)
        next_example = tf.data.make_one_shot_iterator(records).get_next()
        examples = []
        with tf.Session() as session:
            while True:
                try:
                    examples.append(session.run(next_example))
                except tf.errors.OutOfRangeError:
                    return examples


def test_png_round_trip_gives_identical_pixels_labels_and_boxes(tmp_path):
    rng = np.random.RandomState(1)
    images = [rng.randint(0, 256, size=(7 + i, 11, 3)).astype(np.uint8) for i in range(3)]
    labels = [4, 0, 2]
    boxes = [[(0.1, 0.2, 0.5, 0.6)], [(0.0, 0.0, 1.0, 1.0), (0.25, 0.3, 0.75, 0.9)],
             [(0.5, 0.5, 0.6, 0.7)]]
    path = str(tmp_path / 'data.tfrecord')
    write_records(path, images, labels, image_format='png', bboxes=boxes)
    examples = _read_all(path, 3)
    assert len(examples) == 3
    for example, image, label, box in zip(examples, images, labels, boxes, strict=True):
        np.testing.assert_array_equal(example['image'], image)
        assert example['label'] == label
        assert example['bbox'].shape == (1, len(box), 4)
        np.testing.assert_allclose(example['bbox'][0], box, atol=1e-6)


def test_jpeg_round_trip_is_close_and_records_without_boxes_give_empty_bbox(tmp_path):
    image = np.full((16, 20, 3), 90, np.uint8)
    image[4:12, 5:15] = (200, 30, 60)
    path = str(tmp_path / 'data.tfrecord')
    write_records(path, [image], [3], image_format='jpeg')
    (example,) = _read_all(path, 3)
    assert example['image'].shape == (16, 20, 3)
    # JPEG is lossy, most of all at the sharp colour edges of this image.
    assert np.abs(example['image'].astype(int) - image).mean() < 10
    assert example['label'] == 3
    assert example['bbox'].shape == (1, 0, 4)


def test_image_to_tfexample_stores_tf_slim_keys():
    example = dataset_utils.image_to_tfexample(b'abc', b'png', 5, 6, 7, class_text='seven',
                                               bboxes=[(0.1, 0.2, 0.3, 0.4)])
    feature = example.features.feature
    assert feature['image/encoded'].bytes_list.value == [b'abc']
    assert feature['image/format'].bytes_list.value == [b'png']
    assert feature['image/class/label'].int64_list.value == [7]
    assert feature['image/height'].int64_list.value == [5]
    assert feature['image/width'].int64_list.value == [6]
    assert feature['image/class/text'].bytes_list.value == [b'seven']
    assert feature['image/object/bbox/ymin'].float_list.value == pytest.approx([0.1])
    assert feature['image/object/bbox/xmax'].float_list.value == pytest.approx([0.4])


def test_digits_conversion_writes_the_documented_split(digits_dir):
    labels_to_names = dataset_utils.read_label_file(digits_dir)
    assert labels_to_names[0] == 'zero' and labels_to_names[9] == 'nine'
    data = load_digits()
    indices = convert_digits.split_indices(data.target)
    for split, size in digits.SPLITS_TO_SIZES.items():
        examples = _read_all(os.path.join(digits_dir, 'digits_%s.tfrecord' % split), 1)
        assert len(examples) == size == len(indices[split])
        first = indices[split][0]
        expected = np.round(data.images[first] * 255 / 16).astype(np.uint8)[..., None]
        np.testing.assert_array_equal(examples[0]['image'], expected)
        assert [e['label'] for e in examples] == list(data.target[indices[split]])
    # Stratified: every class has about a fifth of its images in validation.
    validation_counts = np.bincount(data.target[indices['validation']], minlength=10)
    assert np.all(np.abs(validation_counts - np.bincount(data.target) / 5) <= 1)
    assert not set(indices['train']) & set(indices['validation'])


def test_digits_conversion_twice_leaves_files_untouched(digits_dir, capsys):
    path = os.path.join(digits_dir, 'digits_train.tfrecord')
    before = os.stat(path).st_mtime_ns
    convert_digits.run(digits_dir)
    assert os.stat(path).st_mtime_ns == before
    assert 'nothing to do' in capsys.readouterr().out


def test_every_registered_dataset_has_tf_slim_sizes():
    expected = {
        'imagenet': (1001, {'train': 1281167, 'validation': 50000}),
        'flowers': (5, {'train': 3320, 'validation': 350}),
        'cifar10': (10, {'train': 50000, 'test': 10000}),
        'mnist': (10, {'train': 60000, 'test': 10000}),
        'digits': (10, {'train': 1433, 'validation': 364}),
    }
    for name, (num_classes, sizes) in expected.items():
        for split, size in sizes.items():
            dataset = dataset_factory.get_dataset(name, split, '/nonexistent')
            assert (dataset.num_classes, dataset.num_samples) == (num_classes, size)
    assert dataset_factory.get_dataset('imagenet', 'train', '/d').file_pattern == '/d/train-*'
    assert dataset_factory.get_dataset('mnist', 'test', '/d').image_channels == 1


def test_unknown_dataset_name_lists_valid_names():
    with pytest.raises(ValueError, match=r"Unknown dataset 'imagenet2012'; valid names: "
                                         r"cifar10, .*digits, flowers, imagenet, mnist"):
        dataset_factory.get_dataset('imagenet2012', 'train', '/tmp')


def test_unknown_split_lists_valid_splits():
    with pytest.raises(ValueError, match=r"no split 'test'; valid splits: train, validation"):
        dataset_factory.get_dataset('flowers', 'test', '/tmp')


def test_missing_dataset_dir_is_reported():
    with pytest.raises(ValueError, match='--dataset_dir'):
        dataset_factory.get_dataset('digits', 'train', None)


def test_empty_dataset_dir_names_the_expected_files(tmp_path):
    dataset = dataset_factory.get_dataset('digits', 'train', str(tmp_path))
    with pytest.raises(FileNotFoundError) as error:
        dataset.data_files()
    message = str(error.value)
    assert os.path.join(str(tmp_path), 'digits_train.tfrecord') in message
    assert 'download_and_convert_data.py --dataset_name=digits' in message
