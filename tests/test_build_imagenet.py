"""build_imagenet_data.py: a raw ILSVRC-2012 tree to TF-Slim's ImageNet TFRecords."""

import glob
import io
import json
import os
import re
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from PIL import Image

from support import ROOT, run_script, train_and_evaluate_through_the_scripts
from common import files
from datasets import build_imagenet_data, class_names

# Three real synsets: labels 1, 2 and 1000 in the default (standard) order.
TENCH, GOLDFISH, TOILET_TISSUE = 'n01440764', 'n01443537', 'n15075141'
SYNSETS = [TENCH, GOLDFISH, TOILET_TISSUE]
SYNSET_COLORS = {TENCH: (200, 40, 40), GOLDFISH: (40, 200, 40), TOILET_TISSUE: (40, 40, 200)}
WIDTH, HEIGHT = 48, 40

# The files with the raw data's quirks.
PNG_AS_JPEG = 'n01443537_3.JPEG'
CMYK_JPEG = 'n15075141_2.JPEG'
GRAYSCALE_JPEG = 'n15075141_3.JPEG'
GRAYSCALE_VALIDATION = 'ILSVRC2012_val_00000003.JPEG'
VALIDATION_SYNSETS = [GOLDFISH, TENCH, TOILET_TISSUE, TENCH, GOLDFISH, TOILET_TISSUE]


def _encode(mode, color, image_format):
    buffer = io.BytesIO()
    Image.new(mode, (WIDTH, HEIGHT), color).save(buffer, image_format)
    return buffer.getvalue()


def _image_bytes(name, synset, index):
    if name == PNG_AS_JPEG:
        return _encode('RGB', (200, 30, 60), 'PNG')
    if name == CMYK_JPEG:
        return _encode('CMYK', (0, 255, 255, 0), 'JPEG')  # red
    if name in (GRAYSCALE_JPEG, GRAYSCALE_VALIDATION):
        return _encode('L', 128, 'JPEG')
    red, green, blue = SYNSET_COLORS[synset]
    return _encode('RGB', (red + index, green, blue), 'JPEG')


def _annotation(boxes):
    objects = ''.join(
        '<object><name>x</name><bndbox><xmin>%d</xmin><ymin>%d</ymin><xmax>%d</xmax>'
        '<ymax>%d</ymax></bndbox></object>' % box for box in boxes)
    return ('<annotation><size><width>%d</width><height>%d</height><depth>3</depth></size>%s'
            '</annotation>' % (WIDTH, HEIGHT, objects))


def make_raw_tree(root):
    """Writes a tiny raw ImageNet tree under `root`; returns {name: path} of its parts.

    train/<synset>/<synset>_<i>.JPEG: 4 images per synset, with a PNG named .JPEG, a CMYK
    JPEG and a grayscale JPEG; validation/ILSVRC2012_val_0000000<i>.JPEG (flat, one
    grayscale) with validation_labels.txt; the same validation images in synset folders in
    validation_folders/; ILSVRC XML boxes in Annotation/ (nested and flat) and boxes.csv.
    """
    paths = {name: os.path.join(root, name) for name in (
        'train', 'validation', 'validation_folders', 'Annotation', 'validation_labels.txt',
        'boxes.csv')}
    for synset in SYNSETS:
        os.makedirs(os.path.join(paths['train'], synset))
        for index in range(4):
            name = '%s_%d.JPEG' % (synset, index)
            with open(os.path.join(paths['train'], synset, name), 'wb') as f:
                f.write(_image_bytes(name, synset, index))
    os.makedirs(paths['validation'])
    for index, synset in enumerate(VALIDATION_SYNSETS):
        name = 'ILSVRC2012_val_%08d.JPEG' % (index + 1)
        data = _image_bytes(name, synset, index)
        for path in (os.path.join(paths['validation'], name),
                     os.path.join(paths['validation_folders'], synset, name)):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, 'wb') as f:
                f.write(data)
    with open(paths['validation_labels.txt'], 'w') as f:
        f.write('\n'.join(VALIDATION_SYNSETS) + '\n')
    annotations = {
        os.path.join(TENCH, 'n01440764_0.xml'): [(12, 4, 36, 50), (0, 0, 24, 20)],
        os.path.join(TOILET_TISSUE, 'n15075141_2.xml'): [(-5, 10, 60, 30)],
        'ILSVRC2012_val_00000002.xml': [(24, 0, 48, 40)],
    }
    for name, boxes in annotations.items():
        path = os.path.join(paths['Annotation'], name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            f.write(_annotation(boxes))
    with open(paths['boxes.csv'], 'w') as f:
        f.write('n01443537_1.JPEG,0.1,0.2,0.3,0.4\nn01443537_1.JPEG,0.5,0.5,1.2,0.9\n'
                'ILSVRC2012_val_00000005.JPEG,0.0,0.25,1.0,0.75\n')
    return paths


# (ymin, xmin, ymax, xmax) of the boxes above, normalised and clipped.
XML_BOXES = {
    'n01440764_0.JPEG': [(0.1, 0.25, 1.0, 0.75), (0.0, 0.0, 0.5, 0.5)],
    'n15075141_2.JPEG': [(0.25, 0.0, 0.75, 1.0)],
    'ILSVRC2012_val_00000002.JPEG': [(0.0, 0.5, 1.0, 1.0)],
}
CSV_BOXES = {
    'n01443537_1.JPEG': [(0.2, 0.1, 0.4, 0.3), (0.5, 0.5, 0.9, 1.0)],
    'ILSVRC2012_val_00000005.JPEG': [(0.25, 0.0, 0.75, 1.0)],
}


@pytest.fixture(scope='module')
def raw_tree(tmp_path_factory):
    return make_raw_tree(str(tmp_path_factory.mktemp('raw_imagenet')))


def read_examples(pattern):
    """The examples of the files matching `pattern`, in file then record order, as dicts."""
    examples = []
    for path in sorted(glob.glob(pattern)):
        for record in tf.python_io.tf_record_iterator(path):
            feature = tf.train.Example.FromString(record).features.feature

            def values(key, feature=feature):
                kind = feature[key].WhichOneof('kind')
                return list(getattr(feature[key], kind).value) if kind else []

            corners = [values('image/object/bbox/' + side)
                       for side in ('ymin', 'xmin', 'ymax', 'xmax')]
            examples.append({
                'filename': values('image/filename')[0].decode(),
                'encoded': values('image/encoded')[0],
                'label': values('image/class/label')[0],
                'synset': values('image/class/synset')[0].decode(),
                'text': values('image/class/text')[0].decode(),
                'header': [values('image/format')[0], values('image/colorspace')[0],
                           values('image/channels')[0], values('image/height')[0],
                           values('image/width')[0]],
                'boxes': list(zip(*corners, strict=True)),
                'box_labels': values('image/object/bbox/label'),
            })
    return examples


def _words(synset):
    return class_names.imagenet_words()[class_names.imagenet_synsets().index(synset)]


def _read_bytes(path):
    with open(path, 'rb') as f:
        return f.read()


def _decoded(data):
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.format, image.mode, image.size, np.asarray(image)[HEIGHT // 2, WIDTH // 2]


def _assert_boxes(examples, expected_boxes):
    for example in examples:
        expected = expected_boxes.get(example['filename'], [])
        np.testing.assert_allclose(np.reshape(example['boxes'], (-1, 4)),
                                   np.reshape(expected, (-1, 4)), atol=1e-6,
                                   err_msg=example['filename'])
        assert example['box_labels'] == [example['label']] * len(expected)


def test_raw_tree_becomes_shards_with_every_image_once_labelled_and_as_rgb_jpeg(
        raw_tree, tmp_path, capsys):
    output = str(tmp_path / 'imagenet')
    labels_file = str(tmp_path / 'labels.txt')
    # A labels file of its own: labels follow its line order, not the standard one.
    (tmp_path / 'labels.txt').write_text('%s\n%s\n%s\n' % (GOLDFISH, TOILET_TISSUE, TENCH))
    labels = {GOLDFISH: 1, TOILET_TISSUE: 2, TENCH: 3}

    sizes = build_imagenet_data.build(
        output, train_directory=raw_tree['train'], validation_directory=raw_tree['validation'],
        validation_labels_file=raw_tree['validation_labels.txt'], labels_file=labels_file,
        bounding_box_file=raw_tree['Annotation'], train_shards=3, validation_shards=2,
        num_threads=1)

    assert sizes == {'train': 12, 'validation': 6}
    assert sorted(os.listdir(output)) == [
        'dataset_metadata.json', 'train-00000-of-00003', 'train-00001-of-00003',
        'train-00002-of-00003', 'validation-00000-of-00002', 'validation-00001-of-00002']
    with open(os.path.join(output, 'dataset_metadata.json')) as f:
        assert json.load(f) == {'splits_to_sizes': {'train': 12, 'validation': 6},
                                'num_classes': 1001}
    train = read_examples(os.path.join(output, 'train-*'))
    validation = read_examples(os.path.join(output, 'validation-*'))
    train_paths = sorted(glob.glob(os.path.join(raw_tree['train'], '*', '*')))
    assert sorted(example['filename'] for example in train) == sorted(
        os.path.basename(path) for path in train_paths)
    # Shuffled with the fixed seed, so the shards mix the classes.
    train_order = [example['filename'] for example in train]
    assert train_order == [os.path.basename(item.path) for item in build_imagenet_data.split_items(
        raw_tree['train'], labels_file=labels_file)['train']]
    assert train_order != sorted(train_order)
    assert [example['filename'] for example in validation] == [
        'ILSVRC2012_val_%08d.JPEG' % index for index in range(1, 7)]
    assert [example['synset'] for example in validation] == VALIDATION_SYNSETS

    assert all(example['filename'].startswith(example['synset']) for example in train)
    raw_bytes = {os.path.basename(path): _read_bytes(path) for path in
                 train_paths + glob.glob(os.path.join(raw_tree['validation'], '*'))}
    for example in train + validation:
        synset = example['synset']
        assert example['label'] == labels[synset]
        assert example['text'] == _words(synset)
        assert example['header'] == [b'JPEG', b'RGB', 3, HEIGHT, WIDTH]
        image_format, mode, size, center = _decoded(example['encoded'])
        assert (image_format, mode, size) == ('JPEG', 'RGB', (WIDTH, HEIGHT))
        if example['filename'] in (PNG_AS_JPEG, CMYK_JPEG, GRAYSCALE_JPEG, GRAYSCALE_VALIDATION):
            assert example['encoded'] != raw_bytes[example['filename']]
        else:  # RGB JPEGs are stored byte for byte.
            assert example['encoded'] == raw_bytes[example['filename']]
    centers = {example['filename']: _decoded(example['encoded'])[3] for example in train}
    np.testing.assert_allclose(centers[PNG_AS_JPEG], [200, 30, 60], atol=3)
    np.testing.assert_allclose(centers[CMYK_JPEG], [255, 0, 0], atol=3)
    np.testing.assert_allclose(centers[GRAYSCALE_JPEG], [128, 128, 128], atol=3)
    _assert_boxes(train + validation, XML_BOXES)

    printed = capsys.readouterr()
    for directory, name, why in [
            (os.path.join(raw_tree['train'], GOLDFISH), PNG_AS_JPEG, 'PNG file'),
            (os.path.join(raw_tree['train'], TOILET_TISSUE), CMYK_JPEG, 'CMYK JPEG'),
            (os.path.join(raw_tree['train'], TOILET_TISSUE), GRAYSCALE_JPEG, 'grayscale JPEG'),
            (raw_tree['validation'], GRAYSCALE_VALIDATION, 'grayscale JPEG')]:
        assert ('Re-encoded %s to RGB JPEG: it is a %s.' % (os.path.join(directory, name), why)
                in printed.err)
    assert ('Re-encoded 4 image(s) to RGB JPEG (CMYK JPEG: 1, PNG file: 1, grayscale JPEG: 2).'
            in printed.out)
    assert re.search(r'Writing train 3 shard\(s\): 100%\|.*\| 12/12 \[', printed.err)

    # A finished conversion is left alone.
    before = {name: os.path.getmtime(os.path.join(output, name)) for name in os.listdir(output)
              if name != 'dataset_metadata.json'}
    build_imagenet_data.build(
        output, train_directory=raw_tree['train'], validation_directory=raw_tree['validation'],
        validation_labels_file=raw_tree['validation_labels.txt'], labels_file=labels_file,
        train_shards=3, validation_shards=2, num_threads=1)
    printed = capsys.readouterr().out
    assert 'train: 12 examples in 3 shards in %s (0 written now).' % output in printed
    assert 'Re-encoded 0 image(s) to RGB JPEG.' in printed
    assert before == {name: os.path.getmtime(os.path.join(output, name)) for name in before}


def test_csv_boxes_synset_folders_default_labels_and_a_writer_process(raw_tree, tmp_path, capfd):
    output = str(tmp_path / 'imagenet')
    assert build_imagenet_data.build(output, train_directory=raw_tree['train'],
                                     bounding_box_file=raw_tree['boxes.csv'], train_shards=2,
                                     num_threads=1) == {'train': 12}
    # Validation converted by a later run, in a writer process: the metadata keeps both splits.
    assert build_imagenet_data.build(
        output, validation_directory=raw_tree['validation_folders'],
        bounding_box_file=raw_tree['boxes.csv'], validation_shards=1,
        num_threads=2) == {'validation': 6}

    with open(os.path.join(output, 'dataset_metadata.json')) as f:
        assert json.load(f)['splits_to_sizes'] == {'train': 12, 'validation': 6}
    train = read_examples(os.path.join(output, 'train-*'))
    validation = read_examples(os.path.join(output, 'validation-*'))
    # The default labels file: the standard ImageNet labels.
    standard_labels = {TENCH: 1, GOLDFISH: 2, TOILET_TISSUE: 1000}
    assert {(example['synset'], example['label'], example['text']) for example in train} == {
        (synset, label, _words(synset)) for synset, label in standard_labels.items()}
    assert len({example['filename'] for example in train}) == 12
    assert [(example['synset'], example['filename']) for example in validation] == [
        (TENCH, 'ILSVRC2012_val_00000002.JPEG'), (TENCH, 'ILSVRC2012_val_00000004.JPEG'),
        (GOLDFISH, 'ILSVRC2012_val_00000001.JPEG'), (GOLDFISH, 'ILSVRC2012_val_00000005.JPEG'),
        (TOILET_TISSUE, 'ILSVRC2012_val_00000003.JPEG'),
        (TOILET_TISSUE, 'ILSVRC2012_val_00000006.JPEG')]
    assert all(example['label'] == standard_labels[example['synset']]
               for example in validation)
    _assert_boxes(train + validation, CSV_BOXES)
    printed = capfd.readouterr()
    grayscale = os.path.join(raw_tree['validation_folders'], TOILET_TISSUE, GRAYSCALE_VALIDATION)
    assert 'Re-encoded %s to RGB JPEG: it is a grayscale JPEG.' % grayscale in printed.err
    assert 'Re-encoded 1 image(s) to RGB JPEG (grayscale JPEG: 1).' in printed.out


def test_shards_of_another_shard_count_are_refused(raw_tree, tmp_path):
    output = str(tmp_path / 'imagenet')
    build_imagenet_data.build(output, train_directory=raw_tree['train'], train_shards=2,
                              num_threads=1)
    with pytest.raises(ValueError, match=r'already holds 2 file\(s\) matching .*/train-\* .*'
                                         r'train-00000-of-00002\), probably from a run with '
                                         r'another shard count'):
        build_imagenet_data.build(output, train_directory=raw_tree['train'], train_shards=3,
                                  num_threads=1)


def test_an_output_directory_named_like_a_pattern_leaves_its_twin_alone(raw_tree, tmp_path):
    """As a glob, imagenet[1]/train-* matches imagenet1's shards, which were refused as
    strays of this conversion."""
    twin, output = tmp_path / 'imagenet1', tmp_path / 'imagenet[1]'
    build_imagenet_data.build(str(twin), train_directory=raw_tree['train'], train_shards=2,
                              num_threads=1)
    twin_files = {path.name: path.read_bytes() for path in twin.iterdir()}
    build_imagenet_data.build(str(output), train_directory=raw_tree['train'], train_shards=3,
                              num_threads=1)
    assert {path.name: path.read_bytes() for path in twin.iterdir()} == twin_files
    assert sorted(os.listdir(output)) == ['dataset_metadata.json'] + [
        'train-%05d-of-00003' % index for index in range(3)]


def test_an_unreadable_image_stops_the_conversion_naming_it(tmp_path):
    broken = tmp_path / 'train' / TENCH / 'n01440764_9.JPEG'
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b'\xff\xd8 not really a JPEG')
    with pytest.raises(ValueError, match=r'Cannot convert %s: not a readable image .*Replace it '
                                         r'with a readable image under the same name'
                                         % broken):
        build_imagenet_data.build(str(tmp_path / 'out'), train_directory=str(tmp_path / 'train'),
                                  train_shards=1, num_threads=1)
    # The shard's temporary file is removed too.
    assert os.listdir(tmp_path / 'out') == []


def test_bad_inputs_are_named_with_their_fix(raw_tree, tmp_path):
    short_list = tmp_path / 'two_synsets.txt'
    short_list.write_text('%s\n%s\n' % (TENCH, GOLDFISH))
    with pytest.raises(ValueError, match=r'The images of 1 synset\(s\) have no label in '
                                         r'--labels_file=%s: n15075141. List every synset'
                                         % short_list):
        build_imagenet_data.split_items(raw_tree['train'], labels_file=str(short_list))
    with pytest.raises(ValueError, match=r'--validation_directory=%s holds 6 files but '
                                         r'--validation_labels_file=%s has 2 lines'
                                         % (raw_tree['validation'], short_list)):
        build_imagenet_data.split_items(validation_directory=raw_tree['validation'],
                                        validation_labels_file=str(short_list))
    with pytest.raises(ValueError, match=r'--train_directory=%s has no synset sub-folders'
                                         % raw_tree['validation']):
        build_imagenet_data.split_items(raw_tree['validation'])
    annotations = tmp_path / 'annotations'
    annotations.mkdir()
    (annotations / 'n01440764_0.xml').write_text('<annotation><object><bndbox><xmin>1</xmin>'
                                                 '</bndbox></object></annotation>')
    with pytest.raises(ValueError, match=r'Cannot read the ILSVRC annotation .*n01440764_0.xml '
                                         r'.*it needs <size> with a non-zero <width>'):
        build_imagenet_data.split_items(raw_tree['train'], bounding_box_file=str(annotations))
    with pytest.raises(ValueError, match='Nothing to convert: set --train_directory'):
        build_imagenet_data.build(str(tmp_path / 'out'))


def test_the_default_validation_labels_are_the_50000_ilsvrc2012_synsets():
    synsets = build_imagenet_data.read_synsets(
        build_imagenet_data.default_validation_labels_file())
    assert len(synsets) == 50000 and synsets[0] == 'n01751748'
    assert set(synsets) == set(class_names.imagenet_synsets())


def _wait_until(condition, process, log_path, timeout=180):
    """Polls `condition` while `process` runs; fails with its log if it ends or times out."""
    deadline = time.time() + timeout
    while not condition():
        if process.poll() is not None or time.time() > deadline:
            with open(log_path) as f:
                pytest.fail('The conversion ended or hung before the condition held:\n' + f.read())
        time.sleep(0.05)


@pytest.fixture(scope='module')
def killed_and_resumed(tmp_path_factory):
    """Converts a raw tree with the script, kills it mid-run, resumes through
    download_and_convert_data.py. Returns what the tests check."""
    root = str(tmp_path_factory.mktemp('resume'))
    raw = make_raw_tree(root)
    output = os.path.join(root, 'imagenet')
    arguments = ['--train_directory=' + raw['train'], '--validation_directory=' + raw['validation'],
                 '--validation_labels_file=' + raw['validation_labels.txt'],
                 '--bounding_box_file=' + raw['Annotation'], '--train_shards=3',
                 '--validation_shards=2', '--num_threads=1']
    train_items = build_imagenet_data.split_items(raw['train'])['train']
    shards = build_imagenet_data.plan_shards(output, 'train', train_items, 3)
    # Reading a named pipe blocks until someone writes to it: the run stops inside shard 1.
    blocker = shards[1].items[0].path
    blocker_bytes = _read_bytes(blocker)
    os.remove(blocker)
    os.mkfifo(blocker)
    log_path = os.path.join(root, 'first_run.log')
    with open(log_path, 'w') as log:
        process = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, 'datasets', 'build_imagenet_data.py'),
             '--output_directory=' + output, *arguments],
            cwd=root, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_until(lambda: os.path.exists(shards[0].path)
                        and files.temporary_paths_of(shards[1].path), process, log_path)
        finally:
            process.kill()
            process.wait()
    files_after_kill = sorted(os.listdir(output))
    first_shard = _read_bytes(shards[0].path)
    os.remove(blocker)
    with open(blocker, 'wb') as f:
        f.write(blocker_bytes)
    # --output_directory falls back to --dataset_dir.
    rerun = run_script('download_and_convert_data.py', '--dataset_name=imagenet',
                       '--dataset_dir=' + output, *arguments, cwd=root)
    return {'output': output, 'train_items': train_items, 'shards': shards,
            'files_after_kill': files_after_kill, 'first_shard': first_shard, 'rerun': rerun}


def test_a_killed_conversion_resumes_without_duplicate_or_missing_examples(killed_and_resumed):
    output, shards = killed_and_resumed['output'], killed_and_resumed['shards']
    # Killed while writing shard 1: no partial file has a final name.
    finished, partial = killed_and_resumed['files_after_kill']
    assert finished == 'train-00000-of-00003'
    assert re.fullmatch(r'train-00001-of-00003\.\w+\.incomplete', partial)
    rerun = killed_and_resumed['rerun']
    assert rerun.returncode == 0, rerun.stderr
    assert re.search(r'Writing train 2 shard\(s\) \(1 already done\): 100%\|.*\| 8/8 \[',
                     rerun.stderr)
    assert 'train: 12 examples in 3 shards in %s (8 written now).' % output in rerun.stdout
    assert sorted(os.listdir(output)) == [
        'dataset_metadata.json', 'train-00000-of-00003', 'train-00001-of-00003',
        'train-00002-of-00003', 'validation-00000-of-00002', 'validation-00001-of-00002']
    assert _read_bytes(shards[0].path) == killed_and_resumed['first_shard']
    train = read_examples(os.path.join(output, 'train-*'))
    assert [example['filename'] for example in train] == [
        os.path.basename(item.path) for item in killed_and_resumed['train_items']]
    assert len({example['filename'] for example in train}) == 12
    assert len(read_examples(os.path.join(output, 'validation-*'))) == 6


def test_converted_shards_train_and_evaluate_through_the_scripts(killed_and_resumed, tmp_path):
    data_dir, train_dir = killed_and_resumed['output'], str(tmp_path / 'train')
    _, _, results = train_and_evaluate_through_the_scripts(
        ['--dataset_name=imagenet', '--dataset_dir=' + data_dir], 'validation', train_dir)
    assert os.path.exists(os.path.join(train_dir, 'model.ckpt-2.index'))
    assert results['num_examples'] == 6
