"""What the converters trust: every download and --archive file is checked against its
published size and SHA-256, and CIFAR-10's pickles may name nothing but numpy's array
rebuilders. No network: a fake urlopen serves local bytes."""

import io
import logging
import os
import pickle
import re
import shutil
import tarfile
import urllib.request

import numpy as np
import pytest
from support import run_script

from datasets import (
    convert_cifar10,
    convert_flowers,
    convert_mnist,
    convert_visualwakewords,
    download,
)

CIFAR_BATCH_NAMES = ['data_batch_%d' % index for index in range(1, 6)] + ['test_batch']


def _cifar_batch(num_images, seed):
    """A batch as CIFAR-10 stores it: uint8 data [N, 3072] (channel-major) and int labels."""
    rng = np.random.RandomState(seed)
    return {b'batch_label': b'batch %d' % seed, b'labels': rng.randint(0, 10, num_images).tolist(),
            b'data': rng.randint(0, 256, size=(num_images, 3072), dtype=np.uint8),
            b'filenames': [b'image_%d.png' % index for index in range(num_images)]}


def _write_pickle(path, value, protocol=None):
    with open(path, 'wb') as f:
        pickle.dump(value, f, protocol=protocol)


def _write_cifar_directory(directory, data_batch_1=None):
    """Writes cifar-10-batches-py/ with two images per batch into `directory`; returns it."""
    batches_dir = os.path.join(directory, 'cifar-10-batches-py')
    os.makedirs(batches_dir)
    for seed, name in enumerate(CIFAR_BATCH_NAMES):
        _write_pickle(os.path.join(batches_dir, name), _cifar_batch(2, seed))
    if data_batch_1 is not None:
        _write_pickle(os.path.join(batches_dir, 'data_batch_1'), data_batch_1)
    _write_pickle(os.path.join(batches_dir, 'batches.meta'),
                  {b'label_names': [b'class_%d' % label for label in range(10)]})
    return directory


@pytest.fixture(scope='module')
def cifar_archive(tmp_path_factory):
    """A tiny cifar-10-python.tar.gz: CIFAR-10's layout, but not the published file."""
    root = str(tmp_path_factory.mktemp('cifar_archive'))
    raw = _write_cifar_directory(os.path.join(root, 'raw'))
    path = os.path.join(root, 'cifar-10-python.tar.gz')
    with tarfile.open(path, 'w:gz') as tar:
        tar.add(os.path.join(raw, 'cifar-10-batches-py'), arcname='cifar-10-batches-py')
    return path


class _Response(io.BytesIO):
    def __init__(self, data):
        super().__init__(data)
        self.headers = {'Content-Length': str(len(data))}


@pytest.fixture
def served(monkeypatch):
    """{URL: bytes} that urllib.request.urlopen returns instead of fetching; any other URL
    fails as an unreachable host would."""
    files = {}

    def urlopen(url):
        if url not in files:
            raise urllib.error.URLError('no network in tests')
        return _Response(files[url])

    monkeypatch.setattr(urllib.request, 'urlopen', urlopen)
    return files


def _read(path):
    with open(path, 'rb') as f:
        return f.read()


def _mismatch(path, actual, expected):
    """The start of the error or warning naming a file whose digest is not the expected one."""
    return '%s: SHA-256 %s (%d bytes), expected %s (%d bytes)' % (
        path, actual.sha256, actual.size, expected.sha256, expected.size)


def test_every_download_has_a_published_digest_and_https_where_the_host_serves_it():
    converters = [convert_cifar10, convert_flowers, convert_mnist, convert_visualwakewords]
    downloads = {url: digest for converter in converters
                 for url, digest in converter.downloads().items()}
    assert len(downloads) == 1 + 1 + 4 + 3
    for url, digest in downloads.items():
        assert digest.size > 0 and re.fullmatch('[0-9a-f]{64}', digest.sha256), url
        # COCO publishes its zips at http addresses, and TFDS fetches them so.
        assert url.startswith('http://images.cocodataset.org/' if url in
                              convert_visualwakewords.URLS else 'https://'), url
    # TFDS records flowers under the http address of the same object.
    assert downloads[convert_flowers.URL] == download.Digest(
        228813984, '4c54ace7911aaffe13a365c34f650e71dd5bf1be0a58b464e5a7183e3e595d9c')


def test_a_download_with_the_published_digest_is_converted(cifar_archive, served, monkeypatch,
                                                           tmp_path, capsys):
    served[convert_cifar10.URL] = _read(cifar_archive)
    monkeypatch.setattr(convert_cifar10, 'DIGEST', download.file_digest(cifar_archive))
    dataset_dir = str(tmp_path / 'data')
    convert_cifar10.run(dataset_dir)
    downloaded = os.path.join(dataset_dir, download.DOWNLOADS_DIRNAME, 'cifar-10-python.tar.gz')
    assert 'Checking the SHA-256 of %s' % downloaded in capsys.readouterr().out
    assert _read(downloaded) == _read(cifar_archive)
    assert os.path.exists(os.path.join(dataset_dir, 'cifar10_train.tfrecord'))


def test_a_download_with_another_digest_is_refused_naming_both_digests_and_the_override(
        cifar_archive, served, tmp_path):
    served[convert_cifar10.URL] = _read(cifar_archive)
    dataset_dir = str(tmp_path / 'data')
    downloaded = os.path.join(dataset_dir, download.DOWNLOADS_DIRNAME, 'cifar-10-python.tar.gz')
    with pytest.raises(ValueError) as error:
        convert_cifar10.run(dataset_dir)
    assert str(error.value) == (
        '%s: the file is damaged or not the original. Fetch it again, or pass --skip_checksum '
        'to convert it anyway.' % _mismatch(downloaded, download.file_digest(cifar_archive),
                                            convert_cifar10.DIGEST))
    assert sorted(os.listdir(dataset_dir)) == [download.DOWNLOADS_DIRNAME]


def test_an_archive_with_the_published_digest_is_converted_whatever_its_name(
        cifar_archive, monkeypatch, tmp_path):
    monkeypatch.setattr(convert_cifar10, 'DIGEST', download.file_digest(cifar_archive))
    renamed = str(tmp_path / 'cifar.tgz')
    shutil.copy(cifar_archive, renamed)
    convert_cifar10.run(str(tmp_path / 'data'), renamed)
    assert os.path.exists(tmp_path / 'data' / 'cifar10_test.tfrecord')
    # The single download of CIFAR-10 is what --archive names, so the check applies.
    monkeypatch.setattr(convert_cifar10, 'DIGEST', download.Digest(1, '0' * 64))
    with pytest.raises(ValueError, match=re.escape(renamed + ': SHA-256 ')):
        convert_cifar10.run(str(tmp_path / 'data2'), renamed)


def test_an_archive_with_another_digest_is_refused_by_the_script_in_one_line(cifar_archive,
                                                                             tmp_path):
    result = run_script('download_and_convert_data.py', '--dataset_name=cifar10',
                        '--dataset_dir=' + str(tmp_path / 'data'), '--archive=' + cifar_archive,
                        cwd=str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        'error: %s: the file is damaged or not the original. Fetch it again, or pass '
        '--skip_checksum to convert it anyway.' % _mismatch(
            cifar_archive, download.file_digest(cifar_archive), convert_cifar10.DIGEST))
    assert not os.path.exists(tmp_path / 'data' / 'cifar10_train.tfrecord')


def test_skip_checksum_converts_a_mismatching_archive_with_a_warning(cifar_archive, tmp_path,
                                                                     caplog):
    caplog.set_level(logging.WARNING)
    convert_cifar10.run(str(tmp_path / 'data'), cifar_archive, skip_checksum=True)
    assert os.path.exists(tmp_path / 'data' / 'cifar10_train.tfrecord')
    assert '%s; converting it anyway, as --skip_checksum asks.' % _mismatch(
        cifar_archive, download.file_digest(cifar_archive), convert_cifar10.DIGEST) in caplog.text


def test_a_file_named_like_a_download_in_an_archive_directory_is_checked(tmp_path):
    # Files named as MNIST's, but not MNIST's: TFDS's digests reject the first one checked.
    names = [name for names in convert_mnist.SPLIT_FILES.values() for name in names]
    for name in names:
        (tmp_path / name).write_bytes(b'not MNIST')
    expected = convert_mnist.downloads()[convert_mnist.BASE_URL + names[0]]
    with pytest.raises(ValueError, match=re.escape(_mismatch(
            str(tmp_path / names[0]), download.file_digest(str(tmp_path / names[0])),
            expected))):
        convert_mnist.run(str(tmp_path / 'data'), str(tmp_path))


# CIFAR-10's pickles.

def _as_numpy_1_wrote_it(protocol_2_pickle):
    """The pickle with numpy 1's module name, as in CIFAR-10's own files (protocol 2 names
    globals as text lines)."""
    return protocol_2_pickle.replace(b'numpy._core.multiarray\n', b'numpy.core.multiarray\n')


@pytest.mark.parametrize('protocol', [2, 'numpy 1', pickle.DEFAULT_PROTOCOL,
                                      pickle.HIGHEST_PROTOCOL])
def test_a_cifar_batch_loads_whatever_its_pickle_protocol(protocol, tmp_path):
    batch = _cifar_batch(3, seed=7)
    data = (_as_numpy_1_wrote_it(pickle.dumps(batch, protocol=2)) if protocol == 'numpy 1'
            else pickle.dumps(batch, protocol=protocol))
    (tmp_path / 'data_batch_1').write_bytes(data)
    loaded = convert_cifar10.unpickle_batch(str(tmp_path / 'data_batch_1'))
    assert sorted(loaded) == sorted(batch)
    assert loaded[b'data'].dtype == np.uint8
    np.testing.assert_array_equal(loaded[b'data'], batch[b'data'])
    assert loaded[b'labels'] == batch[b'labels']
    assert loaded[b'filenames'] == batch[b'filenames']


class _RunsACommand:
    """Unpickling it would run a shell command."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


def test_a_pickle_that_would_run_code_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / 'ran'
    batch = _cifar_batch(2, seed=0)
    batch[b'labels'] = _RunsACommand('touch %s' % marker)
    raw = _write_cifar_directory(str(tmp_path / 'raw'), data_batch_1=batch)
    data_batch_1 = os.path.join(raw, 'cifar-10-batches-py', 'data_batch_1')
    with pytest.raises(ValueError, match=re.escape(data_batch_1) + r' is not a CIFAR-10 batch '
                       r'\(it calls (posix|nt|os)\.system, which could run any code\): refused, '
                       r'nothing in it was run. Convert the original cifar-10-python.tar.gz.'):
        convert_cifar10.run(str(tmp_path / 'data'), raw)
    assert not marker.exists()
    # The same pickle loaded without restriction does run the command.
    with open(data_batch_1, 'rb') as f:
        pickle.load(f, encoding='bytes')
    assert marker.exists()
