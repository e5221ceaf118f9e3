"""What the converters trust: every archive they unpack and every download is checked against
the dataset's published sizes and SHA-256 digests, a download cut short never keeps its final
name, and CIFAR-10's pickles may hold nothing but numbers. No network: downloads come from an
HTTP server on 127.0.0.1 in a thread of the test."""

import http.server
import logging
import os
import pickle
import re
import shutil
import signal
import struct
import subprocess
import sys
import tarfile
import threading
import zipfile

import numpy as np
import pytest
from support import run_script

from common.errors import UserError
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
    """Writes cifar-10-batches-py/ with two images per batch into `directory`; returns it.

    Args:
      data_batch_1: the object, or the bytes of the pickle, to write as data_batch_1.
    """
    batches_dir = os.path.join(directory, 'cifar-10-batches-py')
    os.makedirs(batches_dir)
    for seed, name in enumerate(CIFAR_BATCH_NAMES):
        _write_pickle(os.path.join(batches_dir, name), _cifar_batch(2, seed))
    if isinstance(data_batch_1, bytes):
        with open(os.path.join(batches_dir, 'data_batch_1'), 'wb') as f:
            f.write(data_batch_1)
    elif data_batch_1 is not None:
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


def _read(path):
    with open(path, 'rb') as f:
        return f.read()


def _mismatch(path, actual, expected):
    """The start of the error or warning naming a file whose digest is not the expected one."""
    return '%s: SHA-256 %s (%d bytes), expected %s (%d bytes)' % (
        path, actual.sha256, actual.size, expected.sha256, expected.size)


def _cifar_published():
    """What a CIFAR-10 file of another name is compared with: both published archives."""
    binary = convert_cifar10.downloads()[convert_cifar10.BINARY_URL]
    python = convert_cifar10.PYTHON_DIGEST
    return 'one of cifar-10-binary.tar.gz: %s (%d bytes), cifar-10-python.tar.gz: %s (%d bytes)' % (
        binary.sha256, binary.size, python.sha256, python.size)


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
    # CIFAR-10's download is the binary version, with the digest TFDS records for it.
    assert downloads['https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz'] == (
        download.Digest(170052171,
                        'c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd'))


# Downloads, from a local HTTP server.

class _Server(http.server.ThreadingHTTPServer):
    """Serves queued responses: `serve(name, data, cut_after)` queues one for /name, which
    announces len(data) bytes but closes the connection after `cut_after` of them if given.
    `requests` lists the names asked for."""

    def __init__(self):
        super().__init__(('127.0.0.1', 0), _Handler)
        self.responses = {}
        self.requests = []

    def url(self, name):
        return 'http://127.0.0.1:%d/%s' % (self.server_address[1], name)

    def serve(self, name, data, cut_after=None):
        self.responses.setdefault(name, []).append((data, cut_after))


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        name = self.path.lstrip('/')
        self.server.requests.append(name)
        if not self.server.responses.get(name):
            self.send_error(404)
            return
        data, cut_after = self.server.responses[name].pop(0)
        self.send_response(200)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data[:cut_after])

    def log_message(self, *args):
        del args


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv('no_proxy', '127.0.0.1')
    served = _Server()
    thread = threading.Thread(target=served.serve_forever, daemon=True)
    thread.start()
    yield served
    served.shutdown()
    served.server_close()
    thread.join()


SERVED_NAME = 'cifar-10-served.tar.gz'


@pytest.fixture
def served_cifar(cifar_archive, server, monkeypatch):
    """CIFAR-10's download fetches the tiny archive from the local server; returns its URL."""
    url = server.url(SERVED_NAME)
    monkeypatch.setattr(convert_cifar10, 'downloads',
                        lambda: {url: download.file_digest(cifar_archive)})
    return url


def _downloads_dir(dataset_dir):
    return os.path.join(dataset_dir, download.DOWNLOADS_DIRNAME)


def test_a_download_with_the_published_digest_is_converted(cifar_archive, server, served_cifar,
                                                           tmp_path, capsys):
    server.serve(SERVED_NAME, _read(cifar_archive))
    dataset_dir = str(tmp_path / 'data')
    convert_cifar10.run(dataset_dir)
    downloaded = os.path.join(_downloads_dir(dataset_dir), SERVED_NAME)
    assert 'Checking the SHA-256 of %s' % downloaded in capsys.readouterr().out
    assert _read(downloaded) == _read(cifar_archive)
    assert os.path.exists(os.path.join(dataset_dir, 'cifar10_train.tfrecord'))
    assert server.requests == [SERVED_NAME]


def test_a_download_with_another_digest_is_refused_and_deleted(cifar_archive, server,
                                                               served_cifar, monkeypatch,
                                                               tmp_path):
    expected = download.Digest(1, '0' * 64)
    monkeypatch.setattr(convert_cifar10, 'downloads', lambda: {served_cifar: expected})
    server.serve(SERVED_NAME, _read(cifar_archive))
    dataset_dir = str(tmp_path / 'data')
    downloaded = os.path.join(_downloads_dir(dataset_dir), SERVED_NAME)
    with pytest.raises(UserError) as error:
        convert_cifar10.run(dataset_dir)
    assert str(error.value) == (
        '%s: the file is damaged or not the original. It was deleted: rerun to download it '
        'again, or pass --skip_checksum to convert it anyway.'
        % _mismatch(downloaded, download.file_digest(cifar_archive), expected))
    assert sorted(os.listdir(dataset_dir)) == [download.DOWNLOADS_DIRNAME]
    assert os.listdir(_downloads_dir(dataset_dir)) == []


def test_a_download_cut_short_is_never_kept_and_the_rerun_fetches_it_whole(
        cifar_archive, server, served_cifar, tmp_path):
    data = _read(cifar_archive)
    server.serve(SERVED_NAME, data, cut_after=len(data) // 2)
    server.serve(SERVED_NAME, data)
    dataset_dir = str(tmp_path / 'data')
    with pytest.raises(UserError, match=re.escape(
            'Could not download %s (the connection ended after %d of its %d bytes). Rerun to '
            'try again, or fetch it some other way and pass the file, or the directory holding '
            'it, with --archive.' % (served_cifar, len(data) // 2, len(data)))):
        convert_cifar10.run(dataset_dir)
    # Neither under its final name nor as a temporary file.
    assert os.listdir(_downloads_dir(dataset_dir)) == []
    convert_cifar10.run(dataset_dir)
    assert os.listdir(_downloads_dir(dataset_dir)) == [SERVED_NAME]
    assert _read(os.path.join(_downloads_dir(dataset_dir), SERVED_NAME)) == data
    assert os.path.exists(os.path.join(dataset_dir, 'cifar10_test.tfrecord'))
    assert server.requests == [SERVED_NAME, SERVED_NAME]


def test_a_damaged_file_under_the_final_name_is_deleted_and_fetched_again(
        cifar_archive, server, served_cifar, tmp_path, capsys):
    data = _read(cifar_archive)
    dataset_dir = str(tmp_path / 'data')
    downloaded = os.path.join(_downloads_dir(dataset_dir), SERVED_NAME)
    # What an older version of the converter left when a download was cut short.
    os.makedirs(_downloads_dir(dataset_dir))
    with open(downloaded, 'wb') as f:
        f.write(data[:1000])
    server.serve(SERVED_NAME, data)
    convert_cifar10.run(dataset_dir)
    assert ('%s is not the published file (a download cut short, or a damaged one): deleting '
            'it and downloading it again.' % downloaded) in capsys.readouterr().out
    assert _read(downloaded) == data
    assert os.path.exists(os.path.join(dataset_dir, 'cifar10_train.tfrecord'))
    assert server.requests == [SERVED_NAME]


def test_a_download_that_fails_again_is_fetched_only_once_and_deleted(cifar_archive, server,
                                                                      served_cifar, tmp_path):
    dataset_dir = str(tmp_path / 'data')
    downloaded = os.path.join(_downloads_dir(dataset_dir), SERVED_NAME)
    os.makedirs(_downloads_dir(dataset_dir))
    with open(downloaded, 'wb') as f:
        f.write(b'damaged')
    server.serve(SERVED_NAME, b'damaged too')
    with pytest.raises(UserError, match=re.escape(downloaded + ': SHA-256 ') + '.*'
                       + re.escape('It was deleted: rerun to download it again, or pass '
                                   '--skip_checksum')):
        convert_cifar10.run(dataset_dir)
    assert server.requests == [SERVED_NAME]
    assert os.listdir(_downloads_dir(dataset_dir)) == []


# --archive files and directories.

def test_an_archive_with_a_published_digest_is_converted_whatever_its_name(
        cifar_archive, monkeypatch, tmp_path):
    monkeypatch.setattr(convert_cifar10, 'PYTHON_DIGEST', download.file_digest(cifar_archive))
    renamed = str(tmp_path / 'cifar.tgz')
    shutil.copy(cifar_archive, renamed)
    convert_cifar10.run(str(tmp_path / 'data'), renamed)
    assert os.path.exists(tmp_path / 'data' / 'cifar10_test.tfrecord')


def test_an_archive_of_another_name_and_digest_is_refused_naming_every_published_file(
        cifar_archive, tmp_path):
    renamed = str(tmp_path / 'cifar.tgz')
    shutil.copy(cifar_archive, renamed)
    actual = download.file_digest(renamed)
    with pytest.raises(UserError) as error:
        convert_cifar10.run(str(tmp_path / 'data'), renamed)
    assert str(error.value) == (
        '%s: SHA-256 %s (%d bytes), expected %s: the file is damaged or not the original. '
        'Replace it with the original (delete it and download it again), or pass '
        '--skip_checksum to convert it anyway.'
        % (renamed, actual.sha256, actual.size, _cifar_published()))
    assert not os.path.exists(tmp_path / 'data')


def test_an_archive_with_another_digest_is_refused_by_the_script_in_one_line(cifar_archive,
                                                                             tmp_path):
    result = run_script('download_and_convert_data.py', '--dataset_name=cifar10',
                        '--dataset_dir=' + str(tmp_path / 'data'), '--archive=' + cifar_archive,
                        cwd=str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        'error: %s: the file is damaged or not the original. Replace it with the original '
        '(delete it and download it again), or pass --skip_checksum to convert it anyway.'
        % _mismatch(cifar_archive, download.file_digest(cifar_archive),
                    convert_cifar10.PYTHON_DIGEST))
    assert 'Traceback' not in result.stderr
    assert not os.path.exists(tmp_path / 'data' / 'cifar10_train.tfrecord')


def test_skip_checksum_converts_a_mismatching_archive_with_a_warning(cifar_archive, tmp_path,
                                                                     caplog):
    caplog.set_level(logging.WARNING)
    convert_cifar10.run(str(tmp_path / 'data'), cifar_archive, skip_checksum=True)
    assert os.path.exists(tmp_path / 'data' / 'cifar10_train.tfrecord')
    assert '%s; converting it anyway, as --skip_checksum asks.' % _mismatch(
        cifar_archive, download.file_digest(cifar_archive),
        convert_cifar10.PYTHON_DIGEST) in caplog.text


def test_a_file_named_like_a_download_in_an_archive_directory_is_checked(tmp_path):
    # Files named as MNIST's, but not MNIST's: TFDS's digests reject the first one checked.
    names = [name for names in convert_mnist.SPLIT_FILES.values() for name in names]
    for name in names:
        (tmp_path / name).write_bytes(b'not MNIST')
    expected = convert_mnist.downloads()[convert_mnist.BASE_URL + names[0]]
    with pytest.raises(UserError, match=re.escape(_mismatch(
            str(tmp_path / names[0]), download.file_digest(str(tmp_path / names[0])),
            expected))):
        convert_mnist.run(str(tmp_path / 'data'), str(tmp_path))


def test_an_mnist_tar_or_coco_zip_that_is_no_published_file_is_not_unpacked(tmp_path, capsys):
    """Neither MNIST nor COCO publishes such a file: whatever it holds, it is refused before
    anything is unpacked."""
    (tmp_path / 'raw').mkdir()
    (tmp_path / 'raw' / 'notes.txt').write_text('anything')
    with tarfile.open(tmp_path / 'mnist.tar', 'w') as archive:
        archive.add(tmp_path / 'raw' / 'notes.txt', 'notes.txt')
    with zipfile.ZipFile(tmp_path / 'coco.zip', 'w') as archive:
        archive.write(tmp_path / 'raw' / 'notes.txt', 'notes.txt')
    for converter, name in [(convert_mnist, 'mnist.tar'), (convert_visualwakewords, 'coco.zip')]:
        archive = str(tmp_path / name)
        with pytest.raises(UserError, match=re.escape(archive) + r': SHA-256 \w+ \(\d+ bytes\), '
                           r'expected one of .*Replace it with the original'):
            converter.run(str(tmp_path / ('data_' + name)), archive)
        assert not os.path.exists(tmp_path / ('data_' + name))
        assert 'Extracting' not in capsys.readouterr().out


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


def test_numeric_arrays_of_any_byte_order_load_and_others_are_refused(tmp_path):
    path = str(tmp_path / 'arrays')
    values = {b'big': np.arange(4, dtype='>f4'), b'little': np.arange(4, dtype='<i8'),
              b'flags': np.array([True, False]), b'complex': np.array([1j])}
    for protocol in (2, pickle.HIGHEST_PROTOCOL):
        _write_pickle(path, values, protocol)
        loaded = convert_cifar10.unpickle_batch(path)
        # As numpy itself unpickles them (protocol 2 swaps them to the native byte order).
        with open(path, 'rb') as f:
            expected = pickle.load(f)
        for key, value in values.items():
            assert loaded[key].dtype == expected[key].dtype
            np.testing.assert_array_equal(loaded[key], value)
    for refused in [np.array(['text']), np.zeros(2, dtype=[('x', 'u1')]),
                    np.array([1, 'a'], dtype=object)]:
        _write_pickle(path, refused)
        with pytest.raises(UserError, match=re.escape(path) + r' is not a CIFAR-10 file'):
            convert_cifar10.unpickle_batch(path)


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
    with pytest.raises(UserError, match=re.escape(data_batch_1) + r' is not a CIFAR-10 file '
                       r'\(it calls (posix|nt|os)\.system, which could run any code; nothing in '
                       r'it was run\): refused. Convert the original cifar-10-binary.tar.gz or '
                       r'cifar-10-python.tar.gz.'):
        convert_cifar10.run(str(tmp_path / 'data'), raw, skip_checksum=True)
    assert not marker.exists()
    # The same pickle loaded without restriction does run the command.
    with open(data_batch_1, 'rb') as f:
        pickle.load(f, encoding='bytes')
    assert marker.exists()


# Pickles that forge object pointers, written opcode by opcode as an attacker would: they name
# only the globals a CIFAR-10 batch needs (numpy.ndarray, numpy.dtype, _reconstruct).

def _global(module, name):
    return b'c%s\n%s\n' % (module.encode(), name.encode())


def _int(value):
    return b'J' + struct.pack('<i', value)


def _bytes(value):
    return b'B' + struct.pack('<I', len(value)) + value


def _text(value):
    return b'X' + struct.pack('<I', len(value)) + value.encode()


def _object_dtype(flags):
    """numpy.dtype('O', False, True), given the state (3, '|', None, None, None, -1, -1,
    flags): flags 0 claims an object dtype whose data may be raw bytes."""
    return (_global('numpy', 'dtype') + b'(' + _text('O') + b'\x89\x88tR'
            + b'(' + _int(3) + _text('|') + b'NNN' + _int(-1) + _int(-1) + _int(flags)
            + b'tb')


FORGED_POINTERS = b'\x41' * 8 * 4


def _pickled_batch(array_opcodes):
    """The pickle of {b'data': <array>, b'labels': [0, 0, 0, 0]}."""
    return (b'\x80\x03}' + _bytes(b'data') + array_opcodes + b's'
            + _bytes(b'labels') + b'(' + _int(0) * 4 + b'ls.')


# numpy.ndarray((4,), dtype('O'), <bytes>): an object array over the attacker's bytes.
NDARRAY_OVER_BYTES = _pickled_batch(
    _global('numpy', 'ndarray') + b'(' + _int(4) + b'\x85' + _object_dtype(63)
    + _bytes(FORGED_POINTERS) + b'tR')
# _reconstruct(numpy.ndarray, (0,), b'b'), then __setstate__((1, (4,), dtype('O'), False,
# <bytes>)) with the dtype's list-pickle flag cleared, so the bytes are taken as pointers.
RECONSTRUCT_AND_SETSTATE = _pickled_batch(
    _global('numpy.core.multiarray', '_reconstruct')
    + b'(' + _global('numpy', 'ndarray') + _int(0) + b'\x85' + _bytes(b'b') + b'tR'
    + b'(' + _int(1) + _int(4) + b'\x85' + _object_dtype(0) + b'\x89'
    + _bytes(FORGED_POINTERS) + b'tb')


@pytest.mark.parametrize('forged', [NDARRAY_OVER_BYTES, RECONSTRUCT_AND_SETSTATE],
                         ids=['ndarray over bytes', '_reconstruct and __setstate__'])
def test_a_batch_forging_object_pointers_is_refused_in_one_line_without_a_crash(forged,
                                                                                tmp_path):
    path = tmp_path / 'forged'
    path.write_bytes(forged)
    # The attack is real: unpickled without restriction and read, the batch crashes Python.
    unrestricted = subprocess.run(
        [sys.executable, '-c', 'import pickle, sys, numpy; '
         'batch = pickle.load(open(sys.argv[1], "rb"), encoding="bytes"); '
         'print(numpy.asarray(batch[b"data"], dtype=numpy.uint8))', str(path)],
        capture_output=True, text=True, timeout=60)
    assert unrestricted.returncode == -signal.SIGSEGV, unrestricted.stderr
    # The converter, in its own process so that a crash would show as one.
    raw = _write_cifar_directory(str(tmp_path / 'raw'), data_batch_1=forged)
    data_batch_1 = os.path.join(raw, 'cifar-10-batches-py', 'data_batch_1')
    result = run_script('download_and_convert_data.py', '--dataset_name=cifar10',
                        '--dataset_dir=' + str(tmp_path / 'data'), '--archive=' + raw,
                        cwd=str(tmp_path))
    assert result.returncode == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith('error:')]
    assert len(errors) == 1 and errors[0].startswith(
        'error: %s is not a CIFAR-10 file (it ' % data_batch_1), result.stderr
    assert errors == [result.stderr.splitlines()[-1]]
    assert 'Segmentation fault' not in result.stderr and 'Traceback' not in result.stderr
    assert not os.path.exists(tmp_path / 'data' / 'cifar10_train.tfrecord')


@pytest.mark.parametrize('name, value, reason', [
    ('data_batch_1', ['not', 'a', 'dict'], "its b'data' is not a uint8 array [N, 3072]"),
    ('data_batch_1', {b'data': np.zeros((2, 3072), np.float32), b'labels': [0, 1]},
     "its b'data' is not a uint8 array [N, 3072]"),
    ('data_batch_1', {b'data': np.zeros((2, 1024), np.uint8), b'labels': [0, 1]},
     "its b'data' is not a uint8 array [N, 3072]"),
    ('test_batch', {b'data': np.zeros((2, 3072), np.uint8), b'labels': [0, 10]},
     "its b'labels' is not a list of 2 labels from 0 to 9"),
    ('test_batch', {b'data': np.zeros((2, 3072), np.uint8), b'labels': [0]},
     "its b'labels' is not a list of 2 labels from 0 to 9"),
    ('test_batch', {b'data': np.zeros((2, 3072), np.uint8), b'labels': [0, -1]},
     "its b'labels' is not a list of 2 labels from 0 to 9"),
    ('batches.meta', {b'label_names': [b'one', b'two']}, 'it names 2 classes, not 10'),
    ('batches.meta', {b'label_names': 'airplane'}, "its b'label_names' is not a list of bytes"),
])
def test_a_python_batch_of_another_shape_dtype_or_label_range_is_refused_naming_it(
        name, value, reason, tmp_path):
    raw = _write_cifar_directory(str(tmp_path / 'raw'))
    path = os.path.join(raw, 'cifar-10-batches-py', name)
    _write_pickle(path, value)
    with pytest.raises(UserError) as error:
        convert_cifar10.run(str(tmp_path / 'data'), raw)
    assert str(error.value) == (
        '%s is not a CIFAR-10 file (%s): refused. Convert the original cifar-10-binary.tar.gz '
        'or cifar-10-python.tar.gz.' % (path, reason))
