"""Atomic, resumable TFRecord writing and the RGB JPEG re-encoding every converter shares."""

import io
import os

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from PIL import Image

from datasets import dataset_writing, image_coding


def _serialize(item):
    return b'record %d' % item


def _records(path):
    return list(tf.python_io.tf_record_iterator(path))


def _shards(directory, num_items, num_shards):
    return [dataset_writing.Shard('%s/part-%05d-of-%05d' % (directory, index, num_shards),
                                  list(range(start, end)))
            for index, (start, end)
            in enumerate(dataset_writing.shard_ranges(num_items, num_shards))]


def test_shard_ranges_cover_every_item_once_in_near_equal_parts():
    assert dataset_writing.shard_ranges(10, 3) == [(0, 3), (3, 6), (6, 10)]
    assert dataset_writing.shard_ranges(2, 4) == [(0, 0), (0, 1), (1, 1), (1, 2)]


def test_atomic_write_leaves_no_file_under_the_final_name_when_interrupted(tmp_path):
    path = str(tmp_path / 'split.tfrecord')

    def examples():
        yield b'first'
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        dataset_writing.write_tfrecord_atomically(path, examples())
    assert not os.path.exists(path)
    assert dataset_writing.write_tfrecord_atomically(path, [b'a', b'b']) == 2
    assert _records(path) == [b'a', b'b']
    assert os.listdir(tmp_path) == ['split.tfrecord']


def test_write_shards_keeps_finished_shards_and_writes_the_missing_ones(tmp_path, capsys):
    shards = _shards(str(tmp_path), 7, 3)
    dataset_writing.write_tfrecord_atomically(shards[1].path, [b'kept'])
    # What a killed run leaves behind: a partial temporary file (removed), and another
    # file's (kept).
    (tmp_path / 'part-00002-of-00003.k1ll3d_x.incomplete').write_bytes(b'partial')
    (tmp_path / 'part-00002-of-00003.other.k1ll3d_x.incomplete').write_bytes(b'not ours')

    written = dataset_writing.write_shards(shards, _serialize, label='Converting',
                                           file_pattern=str(tmp_path / 'part-*'))

    assert written == 2 + 3
    assert _records(shards[0].path) == [b'record 0', b'record 1']
    assert _records(shards[1].path) == [b'kept']
    assert _records(shards[2].path) == [b'record 4', b'record 5', b'record 6']
    assert sorted(os.listdir(tmp_path)) == [os.path.basename(s.path) for s in shards] + [
        'part-00002-of-00003.other.k1ll3d_x.incomplete']
    progress = capsys.readouterr().err
    assert 'Converting 2 shard(s) (1 already done): 100%' in progress and '| 5/5 [' in progress
    # stderr is no terminal here: tqdm draws at most every 10 s, so only the start and the end.
    assert progress.count('Converting') == 2
    assert dataset_writing.write_shards(shards, _serialize) == 0


def test_write_shards_refuses_files_from_a_run_with_another_shard_count(tmp_path):
    dataset_writing.write_tfrecord_atomically(str(tmp_path / 'part-00000-of-00002'), [b'x'])
    with pytest.raises(ValueError, match=r'1 file\(s\) matching .*part-\* .*part-00000-of-00002.*'
                                         r'another shard count'):
        dataset_writing.write_shards(_shards(str(tmp_path), 4, 3), _serialize,
                                     file_pattern=str(tmp_path / 'part-*'))


def test_a_link_at_a_temporary_name_is_not_written_through(tmp_path):
    victim = tmp_path / 'victim.txt'
    victim.write_bytes(b'precious')
    os.utime(victim, (1_000_000_000, 1_000_000_000))
    output = tmp_path / 'out'
    output.mkdir()
    shards = _shards(str(output), 4, 2)
    # Links at the names the writer used before (fixed '<shard>.incomplete'), and at names
    # like those it uses now.
    planted = [shards[0].path + '.incomplete', shards[1].path + '.incomplete',
               shards[0].path + '.aaaaaaaa.incomplete', shards[1].path + '.tmp']
    for link in planted:
        os.symlink(victim, link)

    assert dataset_writing.write_shards(shards, _serialize) == 4

    assert victim.read_bytes() == b'precious'
    assert os.stat(victim).st_mtime == 1_000_000_000
    assert [_records(shard.path) for shard in shards] == [[b'record 0', b'record 1'],
                                                          [b'record 2', b'record 3']]
    assert not any(os.path.islink(shard.path) for shard in shards)


def test_shards_in_a_bracketed_directory_leave_its_twin_alone(tmp_path):
    """run[1]/part-* as a glob would match run1/part-*: the stray-file check would refuse
    (or a cleanup delete) the twin's files."""
    for twin_name, name in (('run1', 'run[1]'), ('runXY', 'run*'), ('runZ', 'run?')):
        twin, directory = tmp_path / twin_name, tmp_path / name
        twin.mkdir()
        twin_shards = _shards(str(twin), 4, 2)
        dataset_writing.write_shards(twin_shards, _serialize)
        twin_files = {path: open(path, 'rb').read() for path in sorted(map(str, twin.iterdir()))}
        directory.mkdir()
        shards = _shards(str(directory), 3, 3)

        assert dataset_writing.write_shards(shards, _serialize,
                                            file_pattern=str(directory / 'part-*')) == 3

        assert {path: open(path, 'rb').read() for path in twin_files} == twin_files
        assert sorted(os.listdir(twin)) == ['part-00000-of-00002', 'part-00001-of-00002']
        assert sorted(os.listdir(directory)) == ['part-0000%d-of-00003' % i for i in range(3)]


def test_write_shards_in_several_processes(tmp_path):
    shards = _shards(str(tmp_path), 5, 2)
    assert dataset_writing.write_shards(shards, _serialize, num_processes=2) == 5
    assert [len(_records(shard.path)) for shard in shards] == [2, 3]


def _encoded(array, image_format, mode=None):
    buffer = io.BytesIO()
    image = Image.fromarray(array)
    (image.convert(mode) if mode else image).save(buffer, image_format)
    return buffer.getvalue()


@pytest.fixture(scope='module')
def pixels():
    """A smooth 12 x 20 colour gradient, which JPEG keeps close to the original."""
    rows, columns = np.mgrid[0:12, 0:20]
    return np.stack([rows * 20, columns * 12, 255 - rows * 10], axis=-1).astype(np.uint8)


def test_an_rgb_jpeg_is_kept_byte_for_byte(pixels):
    data = _encoded(pixels, 'JPEG')
    result = image_coding.to_rgb_jpeg(data)
    assert (result.data, result.height, result.width, result.repair) == (data, 12, 20, None)


@pytest.mark.parametrize('image_format, mode, repair', [
    ('PNG', None, 'PNG file'),
    ('JPEG', 'CMYK', 'CMYK JPEG'),
    ('JPEG', 'L', 'grayscale JPEG'),
])
def test_other_images_become_rgb_jpegs(pixels, image_format, mode, repair):
    result = image_coding.to_rgb_jpeg(_encoded(pixels, image_format, mode))
    assert result.repair == repair
    with Image.open(io.BytesIO(result.data)) as image:
        assert (image.format, image.mode, image.size) == ('JPEG', 'RGB', (20, 12))
        if mode is None:
            # Lossless input: only JPEG's own error remains.
            assert np.abs(np.asarray(image, np.int32) - pixels).mean() < 5


def test_bytes_that_are_no_image_raise():
    with pytest.raises(ValueError, match='not a readable image'):
        image_coding.to_rgb_jpeg(b'<html>404</html>')
