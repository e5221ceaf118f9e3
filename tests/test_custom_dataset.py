"""A user's own image folder: the custom converter, its dataset module, and the scripts on it."""

import glob
import io
import json
import os
import re
import shutil

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from PIL import Image

from support import run_script, train_and_evaluate_through_the_scripts
from datasets import convert_custom, custom, dataset_factory, dataset_splits, dataset_utils
from inference import classifier
from inference.classify_options import ClassifyOptions

CLASS_SIZES = {'cat': 10, 'dog': 12, 'zebra': 15}
FRACTION = 0.25
# round(0.25 * n), halves up: 2.5 -> 3, 3 -> 3, 3.75 -> 4.
VALIDATION_PER_LABEL = {0: 3, 1: 3, 2: 4}
TRAIN_PER_LABEL = {0: 7, 1: 9, 2: 11}

# (file extension, how the image is saved): every format the converter must turn into RGB JPEG.
FORMATS = [
    ('.jpg', 'RGB JPEG'),
    ('.png', 'RGB PNG'),
    ('.jpeg', 'grayscale JPEG'),
    ('.png', 'JPEG named .png'),
    ('.BMP', 'BMP'),
    ('.webp', 'lossless WebP'),
    ('.gif', 'GIF'),
]


def _encode(pixels, kind):
    """Encoded bytes of a uint8 [H, W, 3] or [H, W] array in the format named by `kind`."""
    image = Image.fromarray(pixels)
    buffer = io.BytesIO()
    if kind in ('RGB JPEG', 'grayscale JPEG', 'JPEG named .png'):
        image.save(buffer, 'JPEG', quality=95)
    elif kind == 'RGB PNG':
        image.save(buffer, 'PNG')
    elif kind == 'BMP':
        image.save(buffer, 'BMP')
    elif kind == 'lossless WebP':
        image.save(buffer, 'WEBP', lossless=True)
    else:
        image.convert('P', palette=Image.ADAPTIVE).save(buffer, 'GIF')
    return buffer.getvalue()


def _make_image_folder(root, class_sizes, first_index=0):
    """Writes solid-colour images, one sub-folder per class, each of a unique size.

    Returns:
      {(label, height, width): expected RGB colour} of every image written.
    """
    sources = {}
    for label, (class_name, size) in enumerate(sorted(class_sizes.items())):
        os.makedirs(os.path.join(root, class_name), exist_ok=True)
        for index in range(first_index, first_index + size):
            extension, kind = FORMATS[index % len(FORMATS)]
            height, width = 12 + index, 12 + 3 * label
            colour = (60 * label + 30, 9 * index + 20, 220 - 7 * index)
            if kind == 'grayscale JPEG':
                pixels = np.full((height, width), colour[1], np.uint8)
                colour = (colour[1],) * 3
            else:
                pixels = np.full((height, width, 3), colour, np.uint8)
            with open(os.path.join(root, class_name, '%d%s' % (index, extension)), 'wb') as f:
                f.write(_encode(pixels, kind))
            sources[(label, height, width)] = colour
    return sources


@pytest.fixture(scope='module')
def image_folder(tmp_path_factory):
    """3 classes of 10, 12 and 15 images, plus files and folders the converter must ignore."""
    root = str(tmp_path_factory.mktemp('photos'))
    sources = _make_image_folder(root, CLASS_SIZES)
    for hidden in ('cat/.DS_Store', 'dog/._0.jpg'):  # Finder junk, not images
        with open(os.path.join(root, hidden), 'wb') as f:
            f.write(b'\x00\x05\x16\x07 junk')
    with open(os.path.join(root, 'zebra', 'notes.txt'), 'w') as f:
        f.write('not an image')
    with open(os.path.join(root, 'README.txt'), 'w') as f:
        f.write('a file next to the class folders')
    _make_image_folder(os.path.join(root, '.thumbnails'), {'tiny': 2})
    return root, sources


@pytest.fixture(scope='module')
def converted(image_folder, tmp_path_factory):
    """The converter script's output directory and its CompletedProcess."""
    work_dir = tmp_path_factory.mktemp('convert')
    dataset_dir = str(work_dir / 'dataset')
    result = run_script('download_and_convert_data.py', '--dataset_name=custom',
                        '--image_dir=' + image_folder[0], '--dataset_dir=' + dataset_dir,
                        '--validation_fraction=%g' % FRACTION, cwd=work_dir)
    assert result.returncode == 0, result.stderr
    return dataset_dir, result


def _read_split(dataset_dir, split_name):
    """Every record of a split as (label, height, width, class text, format, pixels)."""
    records = []
    for path in sorted(glob.glob(os.path.join(dataset_dir, custom.FILE_PATTERN % split_name))):
        for serialized in tf.io.tf_record_iterator(path):
            feature = tf.train.Example.FromString(serialized).features.feature
            with Image.open(io.BytesIO(feature['image/encoded'].bytes_list.value[0])) as image:
                assert (image.format, image.mode) == ('JPEG', 'RGB')
                pixels = np.asarray(image)
            records.append((feature['image/class/label'].int64_list.value[0],
                            feature['image/height'].int64_list.value[0],
                            feature['image/width'].int64_list.value[0],
                            feature['image/class/text'].bytes_list.value[0].decode(),
                            feature['image/format'].bytes_list.value[0], pixels))
    return records


def _count_per_label(records):
    labels, counts = np.unique([record[0] for record in records], return_counts=True)
    return dict(zip(labels.tolist(), counts.tolist(), strict=True))


def _file_states(directory):
    """{file name: (modification time in ns, bytes)} of every file in directory."""
    states = {}
    for name in os.listdir(directory):
        path = os.path.join(directory, name)
        with open(path, 'rb') as f:
            states[name] = (os.stat(path).st_mtime_ns, f.read())
    return states


def test_converter_script_writes_stratified_rgb_jpeg_splits(image_folder, converted):
    root, sources = image_folder
    dataset_dir, result = converted
    assert ('Found 37 images of 3 classes in %s: 27 train, 10 validation. Ignored 1 file(s) '
            'not ending in .bmp .gif .jpeg .jpg .png .webp.' % root) in result.stdout
    assert sorted(os.listdir(dataset_dir)) == [
        'custom_conversion.json', 'custom_train-00000-of-00001.tfrecord',
        'custom_validation-00000-of-00001.tfrecord', 'dataset_metadata.json', 'labels.txt']
    assert dataset_utils.read_label_file(dataset_dir) == {0: 'cat', 1: 'dog', 2: 'zebra'}
    assert dataset_splits.read_dataset_metadata(dataset_dir) == {
        'splits_to_sizes': {'train': 27, 'validation': 10}, 'num_classes': 3}
    with open(os.path.join(dataset_dir, 'custom_conversion.json')) as f:
        record = json.load(f)
    assert (record['image_dir'], record['validation_fraction'], record['num_images']) == (
        root, FRACTION, 37)

    splits = {split: _read_split(dataset_dir, split) for split in ('train', 'validation')}
    assert _count_per_label(splits['train']) == TRAIN_PER_LABEL
    assert _count_per_label(splits['validation']) == VALIDATION_PER_LABEL
    every_record = splits['train'] + splits['validation']
    keys = [(label, height, width) for label, height, width, *_ in every_record]
    assert sorted(keys) == sorted(sources)  # every image exactly once, hidden ones never
    class_names = ['cat', 'dog', 'zebra']
    for label, height, width, class_text, image_format, pixels in every_record:
        assert (class_text, image_format) == (class_names[label], b'jpeg')
        assert pixels.shape == (height, width, 3)
        np.testing.assert_allclose(pixels.reshape(-1, 3).mean(axis=0),
                                   sources[(label, height, width)], atol=4)


def test_factory_reads_sizes_classes_and_names_from_the_directory(converted):
    dataset_dir, _ = converted
    split = dataset_factory.get_dataset('custom', 'validation', dataset_dir)
    assert (split.num_samples, split.num_classes, split.image_channels) == (10, 3, 3)
    assert split.labels_to_names == {0: 'cat', 1: 'dog', 2: 'zebra'}
    assert split.data_files() == [
        os.path.join(dataset_dir, 'custom_validation-00000-of-00001.tfrecord')]


def test_rerunning_a_finished_conversion_changes_nothing(image_folder, converted, capsys):
    dataset_dir, _ = converted
    before = _file_states(dataset_dir)
    convert_custom.run(image_folder[0], dataset_dir, FRACTION)
    assert 'already holds the converted dataset; nothing to do' in capsys.readouterr().out
    assert _file_states(dataset_dir) == before


@pytest.mark.parametrize('num_images, fraction, expected', [
    (10, 0.25, 3),  # 2.5 rounds up
    (12, 0.25, 3),
    (15, 0.1, 2),  # 1.5 rounds up
    (3, 0.1, 1),  # at least one
    (5, 0.9, 4),  # at least one left to train
    (1, 0.5, 0),  # a single image trains
    (10, 0.0, 0),
])
def test_validation_count(num_images, fraction, expected):
    assert convert_custom.validation_count(num_images, fraction) == expected


def test_killed_conversion_is_finished_by_a_rerun(image_folder, tmp_path, monkeypatch):
    monkeypatch.setattr(convert_custom, 'IMAGES_PER_SHARD', 8)
    dataset_dir = str(tmp_path / 'dataset')
    convert_custom.run(image_folder[0], dataset_dir, FRACTION)
    finished = _file_states(dataset_dir)
    assert sorted(name for name in finished if name.endswith('.tfrecord')) == (
        ['custom_train-%05d-of-00004.tfrecord' % index for index in range(4)]
        + ['custom_validation-%05d-of-00002.tfrecord' % index for index in range(2)])
    # A kill while writing train shard 2: its temporary file is half written, and the
    # labels and metadata, written last, do not exist yet.
    lost = 'custom_train-00002-of-00004.tfrecord'
    temporary = os.path.join(dataset_dir, lost + '.k1ll3d_x.incomplete')
    os.rename(os.path.join(dataset_dir, lost), temporary)
    with open(temporary, 'r+b') as f:
        f.truncate(100)
    for name in ('labels.txt', 'dataset_metadata.json'):
        os.remove(os.path.join(dataset_dir, name))

    convert_custom.run(image_folder[0], dataset_dir, FRACTION)
    resumed = _file_states(dataset_dir)
    assert sorted(resumed) == sorted(finished)
    assert resumed[lost][1] == finished[lost][1]
    kept = [name for name in finished if name.startswith('custom_') and name != lost]
    assert {name: resumed[name] for name in kept} == {name: finished[name] for name in kept}
    assert dataset_splits.read_dataset_metadata(dataset_dir)['splits_to_sizes'] == {
        'train': 27, 'validation': 10}


def test_unfinished_conversion_of_other_images_starts_over(image_folder, tmp_path, monkeypatch,
                                                          capsys):
    monkeypatch.setattr(convert_custom, 'IMAGES_PER_SHARD', 8)
    root, dataset_dir = str(tmp_path / 'photos'), str(tmp_path / 'dataset')
    shutil.copytree(image_folder[0], root)
    convert_custom.run(root, dataset_dir, FRACTION)
    os.remove(os.path.join(dataset_dir, 'dataset_metadata.json'))  # killed before finishing
    # One more cat: the same shard names would now hold other images.
    added = _make_image_folder(root, {'cat': 1}, first_index=CLASS_SIZES['cat'])

    convert_custom.run(root, dataset_dir, FRACTION)
    assert 'holds an unfinished conversion of other images' in capsys.readouterr().out
    splits = {split: _read_split(dataset_dir, split) for split in ('train', 'validation')}
    assert _count_per_label(splits['train']) == {0: 8, 1: 9, 2: 11}
    assert _count_per_label(splits['validation']) == VALIDATION_PER_LABEL
    keys = [record[:3] for records in splits.values() for record in records]
    assert sorted(keys) == sorted({**image_folder[1], **added})
    assert dataset_splits.read_dataset_metadata(dataset_dir)['splits_to_sizes'] == {
        'train': 28, 'validation': 10}


@pytest.mark.parametrize('twin_name, name', [('run1', 'run[1]'), ('runXY', 'run*'),
                                             ('runZ', 'run?')])
def test_a_dataset_dir_named_like_a_pattern_leaves_its_twin_alone(
        image_folder, tmp_path, monkeypatch, capsys, twin_name, name):
    """As a glob, run[1]/custom_train-*.tfrecord matches run1's shards: they were taken for
    strays of this conversion, and deleted when it started over."""
    monkeypatch.setattr(convert_custom, 'IMAGES_PER_SHARD', 8)
    twin = str(tmp_path / twin_name)
    convert_custom.run(image_folder[0], twin, FRACTION)
    twin_states = _file_states(twin)
    # Another shard count, and an unfinished conversion of other images to start over from.
    monkeypatch.setattr(convert_custom, 'IMAGES_PER_SHARD', 16)
    root, dataset_dir = str(tmp_path / 'photos'), str(tmp_path / name)
    shutil.copytree(image_folder[0], root)
    convert_custom.run(root, dataset_dir, FRACTION)
    os.remove(os.path.join(dataset_dir, 'dataset_metadata.json'))
    _make_image_folder(root, {'cat': 1}, first_index=CLASS_SIZES['cat'])

    convert_custom.run(root, dataset_dir, FRACTION)

    assert 'holds an unfinished conversion of other images' in capsys.readouterr().out
    assert _file_states(twin) == twin_states
    split = custom.get_split('train', dataset_dir)
    assert split.data_files() == [os.path.join(dataset_dir, 'custom_train-%05d-of-00002.tfrecord'
                                               % index) for index in range(2)]
    assert sum(1 for path in split.data_files()
               for _ in tf.python_io.tf_record_iterator(path)) == 28


def test_finished_dataset_is_never_overwritten_by_another_conversion(
        image_folder, converted, tmp_path):
    dataset_dir, _ = converted
    with pytest.raises(ValueError, match=re.escape(
            'already holds a custom dataset converted from other images or another '
            '--validation_fraction (37 images of %s with fraction 0.25; now 37 images of %s '
            'with fraction 0.5). Use a new --dataset_dir' % (image_folder[0], image_folder[0]))):
        convert_custom.run(image_folder[0], dataset_dir, 0.5)
    other_dataset = str(tmp_path / 'digits')
    os.makedirs(other_dataset)
    dataset_splits.write_dataset_metadata(other_dataset, {'train': 5}, 10)
    with pytest.raises(ValueError, match=re.escape(
            '--dataset_dir=%s already holds another dataset (dataset_metadata.json without '
            'custom_conversion.json). Choose a new --dataset_dir' % other_dataset)):
        convert_custom.run(image_folder[0], other_dataset, FRACTION)


@pytest.mark.parametrize('folders, fraction, message', [
    ({}, FRACTION, '/photos has 0 class sub-folder(s); a classifier needs at least 2. Put the '
                   'images of each class in their own sub-folder'),
    ({'cat': 2}, FRACTION, '/photos has 1 class sub-folder(s) (cat); a classifier needs at '
                           'least 2.'),
    ({'cat': 2, 'dog': 0}, FRACTION, '/photos/dog has no images (files ending in .bmp .gif '
                                     '.jpeg .jpg .png .webp, any case, directly in the '
                                     'folder). Add images or remove the folder.'),
    ({'cat': 2, 'dog': 2}, 1.0, '--validation_fraction=1: set it to at least 0 and below 1'),
])
def test_unusable_folders_and_settings_name_the_fix(folders, fraction, message, tmp_path):
    root = str(tmp_path / 'photos')
    os.makedirs(root)
    for class_name, size in folders.items():
        os.makedirs(os.path.join(root, class_name))
        _make_image_folder(root, {class_name: size})
    with pytest.raises(ValueError, match=re.escape(message)):
        convert_custom.run(root, str(tmp_path / 'dataset'), fraction)
    assert not os.path.exists(tmp_path / 'dataset')


def test_output_inside_the_image_folder_fails(tmp_path):
    root = str(tmp_path / 'photos')
    _make_image_folder(root, {'cat': 2, 'dog': 2})
    with pytest.raises(ValueError, match=re.escape(
            '--dataset_dir=%s/tfrecords is inside --image_dir=%s, where it would be read as a '
            'class' % (root, root))):
        convert_custom.run(root, root + '/tfrecords', FRACTION)


def test_unreadable_image_fails_naming_it_and_its_replacement_resumes(tmp_path, monkeypatch):
    monkeypatch.setattr(convert_custom, 'IMAGES_PER_SHARD', 1)
    root, dataset_dir = str(tmp_path / 'photos'), str(tmp_path / 'dataset')
    sources = _make_image_folder(root, {'cat': 4, 'dog': 4})
    bad = os.path.join(root, 'dog', '2.jpeg')
    with open(bad, 'rb') as f:
        data = f.read()
    with open(bad, 'wb') as f:
        f.write(data[:len(data) // 2])  # truncated
    with pytest.raises(ValueError, match=re.escape(
            'Cannot convert %s: not a readable image (' % bad)):
        convert_custom.run(root, dataset_dir, FRACTION)
    assert not os.path.exists(os.path.join(dataset_dir, 'dataset_metadata.json'))
    written = {name: state for name, state in _file_states(dataset_dir).items()
               if name.endswith('.tfrecord')}
    assert 0 < len(written) < 8  # of 8: those finished before the bad image's one

    with open(bad, 'wb') as f:  # replaced by another readable image
        f.write(_encode(np.full((30, 15), 77, np.uint8), 'grayscale JPEG'))
    convert_custom.run(root, dataset_dir, FRACTION)
    finished = _file_states(dataset_dir)
    assert {name: finished[name] for name in written} == written
    records = _read_split(dataset_dir, 'train') + _read_split(dataset_dir, 'validation')
    del sources[(1, 14, 15)]  # dog 2
    assert sorted(record[:3] for record in records) == sorted([*sources, (1, 30, 15)])


def test_converter_script_without_image_dir_is_a_usage_error(tmp_path):
    result = run_script('download_and_convert_data.py', '--dataset_name=custom',
                        '--dataset_dir=' + str(tmp_path / 'dataset'), cwd=tmp_path)
    assert result.returncode == 1
    assert ('--dataset_name=custom needs --image_dir: a folder with one sub-folder of images '
            'per class.') in result.stderr
    assert not os.path.exists(tmp_path / 'dataset')


def test_directory_without_a_conversion_says_how_to_make_one(tmp_path):
    with pytest.raises(FileNotFoundError, match=re.escape(
            'No converted custom dataset in %s: it has no dataset_metadata.json, which the '
            'converter writes when it finishes. Create the dataset with `python '
            'download_and_convert_data.py --dataset_name=custom --image_dir=YOUR_IMAGE_FOLDER '
            '--dataset_dir=%s`' % (tmp_path, tmp_path))):
        dataset_factory.get_dataset('custom', 'train', str(tmp_path))


def test_train_evaluate_export_and_classify_on_the_converted_folder(
        image_folder, converted, tmp_path):
    dataset_dir, _ = converted
    train_dir = str(tmp_path / 'train')
    _, _, results = train_and_evaluate_through_the_scripts(
        ['--dataset_name=custom', '--dataset_dir=' + dataset_dir], 'validation', train_dir,
        num_steps=3)
    reader = tf.train.load_checkpoint(os.path.join(train_dir, 'model.ckpt-3'))
    assert reader.get_variable_to_shape_map()['LeNet/fc4/weights'][-1] == 3
    assert results['num_examples'] == 10

    frozen = str(tmp_path / 'frozen.pb')
    export = run_script('export_inference_graph.py', '--dataset_name=custom',
                        '--dataset_dir=' + dataset_dir, '--model_name=lenet',
                        '--checkpoint_path=' + train_dir, '--output_file=' + frozen, cwd=tmp_path)
    assert export.returncode == 0, export.stderr
    output_node = re.search(r'output node (\S+)\.', export.stdout).group(1)
    graph_def = tf.GraphDef()
    with open(frozen, 'rb') as f:
        graph_def.ParseFromString(f.read())
    with tf.Graph().as_default() as graph, tf.Session() as session:
        tf.import_graph_def(graph_def, name='')
        probabilities = session.run(graph.get_tensor_by_name(output_node + ':0'),
                                    {'input:0': np.zeros([2, 28, 28, 3], np.float32)})
    assert probabilities.shape == (2, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)

    options = ClassifyOptions(model_name='lenet', checkpoint_path=train_dir,
                              dataset_name='custom', dataset_dir=dataset_dir, top_k=3)
    image = os.path.join(image_folder[0], 'zebra', '0.jpg')
    [prediction] = classifier.classify(options, [image])
    assert prediction.image_path == image
    assert sorted((score.class_id, score.name) for score in prediction.top) == [
        (0, 'cat'), (1, 'dog'), (2, 'zebra')]
