"""The flowers, CIFAR-10, MNIST and Visual Wake Words converters, each fed a tiny archive in
its original format, then read by training and evaluation."""

import collections
import contextlib
import gzip
import io
import json
import os
import pathlib
import pickle
import random
import re
import shutil
import tarfile
import zipfile

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from support import run_script, train_and_evaluate_through_the_scripts
from PIL import Image

from common.errors import UserError
from datasets import (
    convert_cifar10,
    convert_flowers,
    convert_mnist,
    convert_visualwakewords,
    dataset_splits,
    download,
)

# What a fixture converted: the output directory, the archive, the converter's output, and
# what the archive holds.
Converted = collections.namedtuple('Converted', 'dataset_dir archive stdout contents')


def _jpeg(pixels):
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, 'JPEG', quality=90)
    return buffer.getvalue()


def _decode(data):
    return np.asarray(Image.open(io.BytesIO(data)))


def _examples(dataset_dir, names):
    """The parsed examples of the named TFRecord files, in file order."""
    return [tf.train.Example.FromString(record) for name in names
            for record in tf.python_io.tf_record_iterator(os.path.join(dataset_dir, name))]


def _value(example, key):
    feature = example.features.feature[key]
    values = feature.bytes_list.value or feature.int64_list.value or feature.float_list.value
    return values[0] if len(values) == 1 else list(values)


def _shard_names(name_pattern, split, num_shards):
    return [name_pattern % (split, index, num_shards) for index in range(num_shards)]


def _convert_through_the_script(name, dataset_dir, archive, *flags):
    """Runs download_and_convert_data.py; returns its stdout."""
    result = run_script('download_and_convert_data.py', '--dataset_name=' + name,
                        '--dataset_dir=' + dataset_dir, '--archive=' + archive, *flags,
                        cwd=os.path.dirname(dataset_dir))
    assert result.returncode == 0, result.stderr
    return result.stdout


def _convert_in_process(converter, dataset_dir, archive):
    """Runs a converter here, saving the ~7 s of CPU a script's TensorFlow import costs;
    returns its stdout. The tiny archives are not the published files: their SHA-256 check is
    skipped here (tests/test_downloads.py tests it)."""
    with contextlib.redirect_stdout(io.StringIO()) as stdout:
        converter.run(dataset_dir, archive, skip_checksum=True)
    return stdout.getvalue()


def _tar(archive_path, directory, names):
    with tarfile.open(archive_path, 'w:gz') as tar:
        for name in names:
            tar.add(os.path.join(directory, name), arcname=name)


def _read_labels_file(dataset_dir):
    with open(os.path.join(dataset_dir, 'labels.txt')) as f:
        return f.read()


# Flowers: 360 photos (10 train, 350 validation) of random pixels and varied sizes; every
# JPEG differs, so a record's encoded bytes name its photo.

def _write_flower_photos(root):
    """Writes root/flower_photos/<class>/photo_NNN.jpg; returns {jpeg bytes: (path, label)}."""
    rng = np.random.RandomState(0)
    photos = {}
    for index in range(360):
        label = index % 5
        pixels = rng.randint(0, 256, size=(16 + index // 20, 16 + index % 20, 3), dtype=np.uint8)
        directory = os.path.join(root, 'flower_photos', convert_flowers.CLASS_NAMES[label])
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, 'photo_%03d.jpg' % index)
        data = _jpeg(pixels)
        with open(path, 'wb') as f:
            f.write(data)
        photos[data] = (path, label)
    with open(os.path.join(root, 'flower_photos', 'LICENSE.txt'), 'w') as f:
        f.write('All images are licensed under the Creative Commons By-Attribution License.')
    return photos


@pytest.fixture(scope='module')
def flowers(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('flowers'))
    photos = _write_flower_photos(os.path.join(root, 'raw'))
    archive = os.path.join(root, 'flower_photos.tgz')
    _tar(archive, os.path.join(root, 'raw'), ['flower_photos'])
    dataset_dir = os.path.join(root, 'data')
    return Converted(dataset_dir, archive,
                     _convert_through_the_script('flowers', dataset_dir, archive,
                                                 '--skip_checksum'), photos)


def test_flowers_are_shuffled_with_seed_0_into_350_validation_photos_and_5_shards(flowers):
    train = _shard_names(convert_flowers.SHARD_NAME, 'train', 5)
    validation = _shard_names(convert_flowers.SHARD_NAME, 'validation', 5)
    assert sorted(os.listdir(flowers.dataset_dir)) == sorted(
        train + validation + ['dataset_metadata.json', 'labels.txt'])
    # TF-Slim's rule: photos listed class by class, shuffled with seed 0, the first 350
    # validate. Listing sorted makes the order the same on every file system.
    class_names = convert_flowers.CLASS_NAMES
    listed = sorted(flowers.contents.values())
    random.Random(0).shuffle(listed)
    for names, expected in [(validation, listed[:350]), (train, listed[350:])]:
        examples = _examples(flowers.dataset_dir, names)
        # RGB JPEGs are stored byte for byte, with their size and class.
        assert [flowers.contents[_value(e, 'image/encoded')] for e in examples] == expected
        for example, (_, label) in zip(examples, expected, strict=True):
            assert _value(example, 'image/class/label') == label
            assert _value(example, 'image/class/text') == class_names[label].encode()
            assert _value(example, 'image/format') == b'jpeg'
            height, width, _ = _decode(_value(example, 'image/encoded')).shape
            assert (_value(example, 'image/height'), _value(example, 'image/width')) == (
                height, width)
    # Consecutive runs of the shuffled photos, near-equal per shard.
    assert [len(_examples(flowers.dataset_dir, [name])) for name in train] == [2, 2, 2, 2, 2]
    assert _read_labels_file(flowers.dataset_dir) == (
        '0:daisy\n1:dandelion\n2:roses\n3:sunflowers\n4:tulips\n')
    assert dataset_splits.read_dataset_metadata(flowers.dataset_dir) == {
        'splits_to_sizes': {'train': 10, 'validation': 350}, 'num_classes': 5}
    assert 'validation: 350 examples in 5 file(s) (350 written now).' in flowers.stdout


# CIFAR-10: five training batches of 2 images and a test batch of 3, in both published
# versions: binary records (cifar-10-binary.tar.gz) and pickles (cifar-10-python.tar.gz).

CIFAR_CLASS_NAMES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse',
                     'ship', 'truck']


def _write_cifar_versions(root):
    """Writes root/cifar-10-batches-bin/ and root/cifar-10-batches-py/, the same images and
    labels in each version's format; returns {split: (images [N, 32, 32, 3], labels [N])}."""
    rng = np.random.RandomState(1)
    binary_dir = os.path.join(root, 'cifar-10-batches-bin')
    python_dir = os.path.join(root, 'cifar-10-batches-py')
    os.makedirs(binary_dir)
    os.makedirs(python_dir)
    splits = {'train': ([], []), 'test': ([], [])}
    for split, batch_name, size in [*[('train', 'data_batch_%d' % i, 2) for i in range(1, 6)],
                                    ('test', 'test_batch', 3)]:
        images = rng.randint(0, 256, size=(size, 32, 32, 3), dtype=np.uint8)
        labels = rng.randint(0, 10, size=size).tolist()
        channel_major = images.transpose(0, 3, 1, 2).reshape(size, 3072)
        with open(os.path.join(binary_dir, batch_name + '.bin'), 'wb') as f:
            f.write(b''.join(bytes([label]) + row.tobytes()
                             for label, row in zip(labels, channel_major, strict=True)))
        with open(os.path.join(python_dir, batch_name), 'wb') as f:
            pickle.dump({b'batch_label': batch_name.encode(), b'labels': labels,
                         b'data': channel_major}, f)
        splits[split][0].extend(images)
        splits[split][1].extend(labels)
    # As published: one name a line, then blank lines.
    with open(os.path.join(binary_dir, 'batches.meta.txt'), 'w') as f:
        f.write(''.join(name + '\n' for name in CIFAR_CLASS_NAMES) + '\n\n')
    with open(os.path.join(python_dir, 'batches.meta'), 'wb') as f:
        pickle.dump({b'label_names': [name.encode() for name in CIFAR_CLASS_NAMES],
                     b'num_cases_per_batch': 10000, b'num_vis': 3072}, f)
    return splits


@pytest.fixture(scope='module')
def cifar10_raw(tmp_path_factory):
    """Both versions' archives: (root, {split: (images, labels)})."""
    root = str(tmp_path_factory.mktemp('cifar10'))
    splits = _write_cifar_versions(os.path.join(root, 'raw'))
    for archive, directory in [('cifar-10-binary.tar.gz', 'cifar-10-batches-bin'),
                               ('cifar-10-python.tar.gz', 'cifar-10-batches-py')]:
        _tar(os.path.join(root, archive), os.path.join(root, 'raw'), [directory])
    return root, splits


@pytest.fixture(scope='module')
def cifar10(cifar10_raw):
    root, splits = cifar10_raw
    archive = os.path.join(root, 'cifar-10-binary.tar.gz')
    dataset_dir = os.path.join(root, 'data')
    return Converted(dataset_dir, archive, _convert_in_process(convert_cifar10, dataset_dir,
                                                               archive), splits)


def test_cifar10_batches_become_lossless_32x32_pngs_in_batch_order(cifar10):
    assert sorted(os.listdir(cifar10.dataset_dir)) == [
        'cifar10_test.tfrecord', 'cifar10_train.tfrecord', 'dataset_metadata.json',
        'labels.txt']
    for split, (images, labels) in cifar10.contents.items():
        examples = _examples(cifar10.dataset_dir, ['cifar10_%s.tfrecord' % split])
        assert [_value(e, 'image/class/label') for e in examples] == labels
        for example, image in zip(examples, images, strict=True):
            assert _value(example, 'image/format') == b'png'
            assert (_value(example, 'image/height'), _value(example, 'image/width')) == (32, 32)
            np.testing.assert_array_equal(_decode(_value(example, 'image/encoded')), image)
    assert _read_labels_file(cifar10.dataset_dir) == ''.join(
        '%d:%s\n' % item for item in enumerate(CIFAR_CLASS_NAMES))
    assert dataset_splits.read_dataset_metadata(cifar10.dataset_dir) == {
        'splits_to_sizes': {'train': 10, 'test': 3}, 'num_classes': 10}


def _cifar10_outputs(dataset_dir):
    """{name: bytes} of every file a CIFAR-10 conversion wrote."""
    return {path.name: path.read_bytes() for path in sorted(pathlib.Path(dataset_dir).iterdir())}


def test_cifar10_python_version_gives_the_same_dataset_as_the_binary_one(cifar10, cifar10_raw,
                                                                         tmp_path):
    """Same images, labels, order and class names: the same bytes in every output file."""
    root, _ = cifar10_raw
    # The python version's archive, a directory holding it, and one holding its batches.
    (tmp_path / 'holding_the_archive').mkdir()
    shutil.copy(os.path.join(root, 'cifar-10-python.tar.gz'), tmp_path / 'holding_the_archive')
    shutil.copytree(os.path.join(root, 'raw', 'cifar-10-batches-py'),
                    tmp_path / 'holding_the_batches' / 'cifar-10-batches-py')
    for archive in [os.path.join(root, 'cifar-10-python.tar.gz'),
                    str(tmp_path / 'holding_the_archive'), str(tmp_path / 'holding_the_batches')]:
        dataset_dir = str(tmp_path / ('data_' + os.path.basename(archive)))
        stdout = _convert_in_process(convert_cifar10, dataset_dir, archive)
        assert _cifar10_outputs(dataset_dir) == _cifar10_outputs(cifar10.dataset_dir)
        assert ('Extracting' in stdout) == (archive != str(tmp_path / 'holding_the_batches'))


@pytest.mark.parametrize('name, data, reason', [
    ('data_batch_3.bin', b'\x00' * 3074, 'it holds 3074 bytes, not a whole number of '
     '3073-byte records'),
    ('test_batch.bin', b'', 'it holds 0 bytes, not a whole number of 3073-byte records'),
    ('test_batch.bin', b'\x0a' + b'\x00' * 3072, 'it holds label 10; labels are 0 to 9'),
    ('batches.meta.txt', b'airplane\nautomobile\n', 'it names 2 classes, not 10'),
    ('batches.meta.txt', b'\xff\n' * 10, 'its class names are not UTF-8'),
])
def test_a_bad_cifar10_binary_file_is_refused_naming_it(name, data, reason, cifar10_raw,
                                                         tmp_path):
    root, _ = cifar10_raw
    raw = tmp_path / 'raw'
    shutil.copytree(os.path.join(root, 'raw', 'cifar-10-batches-bin'),
                    raw / 'cifar-10-batches-bin')
    (raw / 'cifar-10-batches-bin' / name).write_bytes(data)
    with pytest.raises(UserError) as error:
        convert_cifar10.run(str(tmp_path / 'data'), str(raw))
    assert str(error.value) == (
        '%s is not a CIFAR-10 file (%s): refused. Convert the original cifar-10-binary.tar.gz '
        'or cifar-10-python.tar.gz.' % (raw / 'cifar-10-batches-bin' / name, reason))


# MNIST: the four gzipped IDX files, 12 training and 5 test digits.

def _write_idx(path, magic, array):
    header = np.array([magic, *array.shape], dtype='>i4').tobytes()
    with gzip.open(path, 'wb') as f:
        f.write(header + array.astype(np.uint8).tobytes())


def _write_mnist_files(directory):
    """Writes the four .gz files; returns {split: (images [N, 28, 28], labels [N])}."""
    rng = np.random.RandomState(2)
    os.makedirs(directory)
    splits = {}
    for split, prefix, size in [('train', 'train', 12), ('test', 't10k', 5)]:
        images = rng.randint(0, 256, size=(size, 28, 28), dtype=np.uint8)
        labels = rng.randint(0, 10, size=size)
        _write_idx(os.path.join(directory, prefix + '-images-idx3-ubyte.gz'), 2051, images)
        _write_idx(os.path.join(directory, prefix + '-labels-idx1-ubyte.gz'), 2049, labels)
        splits[split] = (images, labels.tolist())
    return splits


@pytest.fixture(scope='module')
def mnist(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('mnist'))
    archive = os.path.join(root, 'mnist_files')
    splits = _write_mnist_files(archive)
    dataset_dir = os.path.join(root, 'data')
    return Converted(dataset_dir, archive, _convert_in_process(convert_mnist, dataset_dir,
                                                               archive), splits)


def _check_mnist(dataset_dir, splits, also_listed=()):
    assert sorted(os.listdir(dataset_dir)) == sorted([
        'dataset_metadata.json', 'labels.txt', 'mnist_test.tfrecord', 'mnist_train.tfrecord',
        *also_listed])
    for split, (images, labels) in splits.items():
        examples = _examples(dataset_dir, ['mnist_%s.tfrecord' % split])
        assert [_value(e, 'image/class/label') for e in examples] == labels
        for example, image in zip(examples, images, strict=True):
            assert (_value(example, 'image/height'), _value(example, 'image/width')) == (28, 28)
            # Grayscale PNGs: one channel, pixels unchanged.
            np.testing.assert_array_equal(_decode(_value(example, 'image/encoded')), image)
    assert _read_labels_file(dataset_dir) == (
        '0:zero\n1:one\n2:two\n3:three\n4:four\n5:five\n6:six\n7:seven\n8:eight\n9:nine\n')
    assert dataset_splits.read_dataset_metadata(dataset_dir) == {
        'splits_to_sizes': {'train': 12, 'test': 5}, 'num_classes': 10}


def test_mnist_idx_files_become_28x28_grayscale_pngs(mnist):
    _check_mnist(mnist.dataset_dir, mnist.contents)


def test_mnist_without_archive_downloads_the_four_files_and_keeps_them(mnist, tmp_path,
                                                                      monkeypatch):
    # file:// URLs stand for Google's mirror: same code path, no network.
    monkeypatch.setattr(convert_mnist, 'downloads', lambda: {
        'file://%s/%s' % (mnist.archive, name): download.file_digest(
            os.path.join(mnist.archive, name)) for name in os.listdir(mnist.archive)})
    dataset_dir = str(tmp_path / 'data')
    _convert_in_process(convert_mnist, dataset_dir, None)
    downloads = os.path.join(dataset_dir, download.DOWNLOADS_DIRNAME)
    assert sorted(os.listdir(downloads)) == sorted(os.listdir(mnist.archive))
    _check_mnist(dataset_dir, mnist.contents, also_listed=[download.DOWNLOADS_DIRNAME])


def test_mnist_also_converts_a_tar_of_the_four_files(mnist, tmp_path):
    archive = str(tmp_path / 'mnist.tar.gz')
    _tar(archive, os.path.dirname(mnist.archive), [os.path.basename(mnist.archive)])
    convert_mnist.run(str(tmp_path / 'data'), archive, skip_checksum=True)
    _check_mnist(str(tmp_path / 'data'), mnist.contents)


# Visual Wake Words: a COCO 2014 miniature, 5 training and 3 validation images of 20 x 10.

def _coco_annotations(prefix, image_ids, objects):
    """An instances JSON: 20 x 10 images and `objects` as (image id, category id, area, bbox)."""
    return {
        'images': [{'id': image_id, 'file_name': 'COCO_%s_%012d.jpg' % (prefix, image_id),
                    'height': 10, 'width': 20} for image_id in image_ids],
        'annotations': [{'id': index, 'image_id': image_id, 'category_id': category, 'area': area,
                         'bbox': bbox, 'iscrowd': 0}
                        for index, (image_id, category, area, bbox) in enumerate(objects)],
        'categories': [{'id': 1, 'name': 'person', 'supercategory': 'person'},
                       {'id': 18, 'name': 'dog', 'supercategory': 'animal'}],
    }


PERSON, DOG = 1, 18
# Image areas are 200 px: the default threshold (0.005) keeps objects of more than 1 px.
COCO_SPLITS = {
    'train2014': _coco_annotations('train2014', [11, 12, 13, 14, 15], [
        (11, PERSON, 50.0, [2, 1, 10, 5]),    # a person: label 1, box kept
        (12, PERSON, 0.8, [0, 0, 1, 1]),      # a person under 0.005 but over 0.001 of the image
        (13, DOG, 120.0, [0, 0, 20, 10]),     # a dog only: label 0
        (15, PERSON, 30.0, [-1, 4, 25, 8]),   # a box reaching out of the image is clipped
        (15, PERSON, 0.1, [5, 5, 1, 1]),      # too small whatever the threshold
    ]),                                       # 14: no objects at all
    'val2014': _coco_annotations('val2014', [21, 22, 23], [(22, PERSON, 20.0, [4, 2, 4, 5])]),
}


def _write_coco(root):
    """Writes COCO's extracted layout under root/coco and its three zips under root/zips."""
    rng = np.random.RandomState(3)
    layout = os.path.join(root, 'coco')
    os.makedirs(os.path.join(layout, 'annotations'))
    for folder, annotations in COCO_SPLITS.items():
        os.makedirs(os.path.join(layout, folder))
        for image in annotations['images']:
            pixels = rng.randint(0, 256, size=(10, 20, 3), dtype=np.uint8)
            if image['id'] == 15:
                pixels = pixels[..., 0]  # COCO has grayscale JPEGs too
            with open(os.path.join(layout, folder, image['file_name']), 'wb') as f:
                f.write(_jpeg(pixels))
        with open(os.path.join(layout, 'annotations', 'instances_%s.json' % folder), 'w') as f:
            json.dump(annotations, f)
    zips = os.path.join(root, 'zips')
    os.makedirs(zips)
    for zip_name, members in [('train2014.zip', ['train2014']), ('val2014.zip', ['val2014']),
                              ('annotations_trainval2014.zip', ['annotations'])]:
        with zipfile.ZipFile(os.path.join(zips, zip_name), 'w') as archive:
            for member in members:
                for name in sorted(os.listdir(os.path.join(layout, member))):
                    archive.write(os.path.join(layout, member, name), member + '/' + name)
    return layout, zips


@pytest.fixture(scope='module')
def visualwakewords(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('visualwakewords'))
    layout, zips = _write_coco(root)
    dataset_dir = os.path.join(root, 'data')
    # A threshold under the default shows the flag reaches the converter: image 12 turns 1.
    stdout = _convert_through_the_script('visualwakewords', dataset_dir, zips,
                                         '--small_object_area_threshold=0.001',
                                         '--skip_checksum')
    return Converted(dataset_dir, zips, stdout, layout)


def test_visualwakewords_labels_images_showing_a_large_enough_person(visualwakewords):
    train = _shard_names(convert_visualwakewords.SHARD_NAME, 'train', 100)
    val = _shard_names(convert_visualwakewords.SHARD_NAME, 'val', 10)
    assert sorted(os.listdir(visualwakewords.dataset_dir)) == sorted(
        train + val + ['dataset_metadata.json', 'labels.txt'])
    examples = _examples(visualwakewords.dataset_dir, train)
    assert [_value(e, 'image/class/label') for e in examples] == [1, 1, 0, 0, 1]
    boxes = [[e.features.feature['image/object/bbox/' + key].float_list.value
              for key in ('ymin', 'xmin', 'ymax', 'xmax')] for e in examples]
    # (ymin, xmin, ymax, xmax) of each kept person, normalised by 10 x 20 and clipped.
    np.testing.assert_allclose(np.array(boxes[0]).T, [[0.1, 0.1, 0.6, 0.6]], rtol=1e-6)
    np.testing.assert_allclose(np.array(boxes[1]).T, [[0.0, 0.0, 0.1, 0.05]], rtol=1e-6)
    assert boxes[2] == boxes[3] == [[], [], [], []]
    np.testing.assert_allclose(np.array(boxes[4]).T, [[0.4, 0.0, 1.0, 1.0]], rtol=1e-6)
    for example in examples:
        image = _decode(_value(example, 'image/encoded'))
        # Every image an RGB JPEG, the grayscale one re-encoded.
        assert image.shape == (10, 20, 3) and _value(example, 'image/format') == b'jpeg'
    val_examples = _examples(visualwakewords.dataset_dir, val)
    assert [_value(e, 'image/class/label') for e in val_examples] == [0, 1, 0]
    assert _read_labels_file(visualwakewords.dataset_dir) == '0:background\n1:person\n'
    assert dataset_splits.read_dataset_metadata(visualwakewords.dataset_dir) == {
        'splits_to_sizes': {'train': 5, 'val': 3}, 'num_classes': 2}
    assert 'train: 3 of 5 images show a person.' in visualwakewords.stdout


def test_visualwakewords_reads_the_extracted_layout_and_any_class(visualwakewords, tmp_path,
                                                                 capsys):
    dataset_dir = str(tmp_path / 'data')
    convert_visualwakewords.run(dataset_dir, visualwakewords.contents,
                                foreground_class_of_interest='dog')
    examples = _examples(dataset_dir, _shard_names(convert_visualwakewords.SHARD_NAME,
                                                   'train', 100))
    assert [_value(e, 'image/class/label') for e in examples] == [0, 0, 1, 0, 0]
    assert _read_labels_file(dataset_dir) == '0:background\n1:dog\n'
    # Nothing was unpacked: the layout was read where it is.
    assert 'Extracting' not in capsys.readouterr().out


# Every converter: reruns do nothing, and training and evaluation read what it wrote.

CONVERTERS = {'flowers': convert_flowers, 'cifar10': convert_cifar10, 'mnist': convert_mnist,
              'visualwakewords': convert_visualwakewords}


@pytest.mark.parametrize('name', sorted(CONVERTERS))
def test_rerunning_a_finished_conversion_changes_nothing(name, request, capsys):
    converted = request.getfixturevalue(name)
    files = sorted(os.listdir(converted.dataset_dir))
    modified = [os.stat(os.path.join(converted.dataset_dir, f)).st_mtime_ns for f in files]
    CONVERTERS[name].run(converted.dataset_dir, converted.archive)
    assert 'already holds the converted dataset; nothing to do' in capsys.readouterr().out
    assert sorted(os.listdir(converted.dataset_dir)) == files
    assert [os.stat(os.path.join(converted.dataset_dir, f)).st_mtime_ns for f in files] == modified


# Two datasets in `make test`, all four in `make test-slow`: the scripts' path is the same.
@pytest.mark.parametrize('name, eval_split, num_eval_examples, num_classes', [
    pytest.param('cifar10', 'test', 3, 10, marks=pytest.mark.slow),
    ('flowers', 'validation', 350, 5),
    ('mnist', 'test', 5, 10),
    pytest.param('visualwakewords', 'val', 3, 2, marks=pytest.mark.slow),
])
def test_the_scripts_train_and_evaluate_on_the_converted_dataset(
        name, eval_split, num_eval_examples, num_classes, request, tmp_path):
    dataset_dir = request.getfixturevalue(name).dataset_dir
    train_dir = str(tmp_path / 'train')
    _, _, results = train_and_evaluate_through_the_scripts(
        ['--dataset_name=' + name, '--dataset_dir=' + dataset_dir], eval_split, train_dir,
        batch_size=50)
    assert tf.train.load_variable(train_dir, 'LeNet/fc4/weights').shape == (1024, num_classes)
    assert results['num_examples'] == num_eval_examples
    assert len(results['per_class_accuracy']) == num_classes


# Bad archives and the download helpers.

@pytest.mark.parametrize('converter, archive, message', [
    (convert_flowers, 'missing.tgz',
     '--archive=%s/missing.tgz does not exist. Expected flower_photos.tgz, or a directory '
     'holding it or its extracted flower_photos/{daisy,dandelion,roses,sunflowers,tulips}/*.jpg.'),
    (convert_cifar10, 'notes.txt',
     '--archive=%s/notes.txt is neither a directory nor a tar or zip archive. Expected '
     'cifar-10-binary.tar.gz or cifar-10-python.tar.gz, or a directory holding one of them'),
    (convert_mnist, '.',
     '%s/. lacks train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, '
     't10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz. Expected a directory holding the '
     'four MNIST files'),
    (convert_visualwakewords, '.',
     '%s/. lacks train2014, annotations/instances_train2014.json. Expected a directory '
     'holding COCO 2014 as extracted'),
])
def test_a_bad_archive_names_the_path_and_what_it_should_hold(converter, archive, message,
                                                              tmp_path):
    (tmp_path / 'notes.txt').write_text('not an archive')
    (tmp_path / 'val2014').mkdir()
    (tmp_path / 'annotations').mkdir()
    (tmp_path / 'annotations' / 'instances_val2014.json').write_text('{}')
    with pytest.raises(UserError) as error:
        converter.run(str(tmp_path / 'data'), os.path.join(tmp_path, archive))
    assert message % tmp_path in str(error.value)
    assert not os.path.exists(tmp_path / 'data' / download.EXTRACTED_DIRNAME)


def test_flowers_needs_more_photos_than_the_validation_split(tmp_path):
    for class_name in convert_flowers.CLASS_NAMES:
        (tmp_path / 'flower_photos' / class_name).mkdir(parents=True)
        (tmp_path / 'flower_photos' / class_name / 'a.jpg').write_bytes(
            _jpeg(np.zeros((8, 8, 3), np.uint8)))
    with pytest.raises(ValueError, match=r'Found 5 photos in %s; flowers needs more than 350 '
                       % (tmp_path / 'flower_photos')):
        convert_flowers.run(str(tmp_path / 'data'), str(tmp_path))


def test_a_damaged_mnist_file_is_named(tmp_path):
    _write_mnist_files(str(tmp_path / 'raw'))
    _write_idx(str(tmp_path / 'raw' / 't10k-labels-idx1-ubyte.gz'), 2051, np.zeros(5))
    with pytest.raises(ValueError, match='t10k-labels-idx1-ubyte.gz is not an MNIST IDX file: it '
                       'should start with the magic number 2049. Download it again.'):
        convert_mnist.run(str(tmp_path / 'data'), str(tmp_path / 'raw'), skip_checksum=True)


def test_download_writes_atomically_once_and_names_a_failed_url(tmp_path, capsys):
    source = tmp_path / 'remote' / 'flower_photos.tgz'
    source.parent.mkdir()
    source.write_bytes(b'x' * (3 << 20))
    url = source.as_uri()
    path = download.download(url, str(tmp_path / 'downloads'))
    assert path == str(tmp_path / 'downloads' / 'flower_photos.tgz')
    assert os.listdir(tmp_path / 'downloads') == ['flower_photos.tgz']
    assert open(path, 'rb').read() == source.read_bytes()
    progress = capsys.readouterr().err
    assert 'Downloading %s: 100%%' % url in progress and '| 3.00M/3.00M [' in progress
    source.write_bytes(b'changed')
    assert download.download(url, str(tmp_path / 'downloads')) == path
    assert 'Using %s, downloaded before.' % path in capsys.readouterr().out
    assert open(path, 'rb').read() == b'x' * (3 << 20)
    gone = (tmp_path / 'remote' / 'gone.zip').as_uri()
    with pytest.raises(UserError, match='Could not download %s .*No such file.*Rerun to try '
                       'again, or fetch it some other way and pass the file, or the directory '
                       'holding it, with --archive.' % re.escape(gone)):
        download.download(gone, str(tmp_path / 'downloads'))
    assert os.listdir(tmp_path / 'downloads') == ['flower_photos.tgz']


def test_extract_unpacks_tar_and_zip_and_refuses_members_outside(tmp_path):
    (tmp_path / 'raw' / 'folder').mkdir(parents=True)
    (tmp_path / 'raw' / 'folder' / 'file.txt').write_text('content')
    _tar(str(tmp_path / 'bundle.tar.gz'), str(tmp_path / 'raw'), ['folder'])
    with zipfile.ZipFile(tmp_path / 'bundle2.zip', 'w') as archive:
        archive.write(tmp_path / 'raw' / 'folder' / 'file.txt', 'folder/file.txt')
    for name, stem in [('bundle.tar.gz', 'bundle'), ('bundle2.zip', 'bundle2')]:
        target = download.extract(str(tmp_path / name), str(tmp_path / 'out'))
        assert target == str(tmp_path / 'out' / stem)
        assert (tmp_path / 'out' / stem / 'folder' / 'file.txt').read_text() == 'content'
    with tarfile.open(tmp_path / 'evil.tar', 'w') as archive:
        archive.add(tmp_path / 'raw' / 'folder' / 'file.txt', '../escaped.txt')
    with pytest.raises(UserError, match=re.escape(
            "Refused to unpack %s: its member '../escaped.txt' is not a plain file or directory "
            "inside it (its path leaves the directory the archive is unpacked into); dataset "
            "archives hold only those. Nothing was unpacked. Use the original archive (download "
            "it again)." % (tmp_path / 'evil.tar'))):
        download.extract(str(tmp_path / 'evil.tar'), str(tmp_path / 'out'))
    assert sorted(os.listdir(tmp_path)) == ['bundle.tar.gz', 'bundle2.zip', 'evil.tar', 'out',
                                            'raw']
    assert sorted(os.listdir(tmp_path / 'out')) == ['bundle', 'bundle2']


def test_an_archive_failing_midway_leaves_nothing_unpacked(tmp_path):
    # A file, then a file inside it: the second cannot be written.
    with tarfile.open(tmp_path / 'clash.tar', 'w') as archive:
        for name in ['folder/file', 'folder/file/inner']:
            info = tarfile.TarInfo(name)
            info.size = 4
            archive.addfile(info, io.BytesIO(b'data'))
    with pytest.raises(NotADirectoryError):
        download.extract(str(tmp_path / 'clash.tar'), str(tmp_path / 'out'))
    assert os.listdir(tmp_path / 'out') == []
