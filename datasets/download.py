"""Getting a dataset's raw files: download, extract tar/zip archives, find the expected files.

Downloads land in `<dataset_dir>/downloads` and are kept, so a rerun never fetches twice.
Archives are unpacked into `<dataset_dir>/extracted_archives` (into a local temporary directory
when `dataset_dir` is on another filesystem), which is deleted when the conversion ends.
`--archive` points at what the download would fetch (an archive file, or a directory holding
the downloaded or already extracted files), and then nothing is downloaded.

Every file named like one of a dataset's downloads is checked against its published size and
SHA-256 before it is read or unpacked: a download, an `--archive` file (whatever its name when
the dataset downloads a single file), a file found in an `--archive` directory or unpacked
from an `--archive` tar. Extracted files have no published digest and are not checked.
"""

import contextlib
import dataclasses
import functools
import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile

import tensorflow.compat.v1 as tf
from absl import logging

from common import files
from datasets import dataset_writing

DOWNLOADS_DIRNAME = 'downloads'
EXTRACTED_DIRNAME = 'extracted_archives'
_ARCHIVE_SUFFIXES = ('.tar.gz', '.tgz', '.tar.bz2', '.tar.xz', '.tar', '.zip')
_CHUNK_BYTES = 1 << 20
SKIP_CHECKSUM_FLAG = '--skip_checksum'


@dataclasses.dataclass(frozen=True)
class Digest:
    """The size in bytes and the SHA-256 (64 hex digits) of a file."""

    size: int
    sha256: str


def tfds_digest(checksums_file, url):
    """The Digest TensorFlow Datasets records for `url` in one of its checksums files.

    Args:
      checksums_file: the file's path inside the tensorflow_datasets package, like
        'url_checksums/mnist.txt'.
    """
    url_info = _tfds_url_infos(checksums_file)[url]
    return Digest(int(url_info.size), url_info.checksum)


@functools.cache
def _tfds_url_infos(checksums_file):
    """{URL: UrlInfo} of a TFDS checksums file, parsed once per process."""
    # Importing tensorflow_datasets takes seconds: only conversions that need a digest pay it.
    import tensorflow_datasets as tfds
    from tensorflow_datasets.core.download import checksums
    return checksums.load_url_infos(tfds.core.tfds_path(checksums_file))


def file_digest(path):
    """The Digest of the file at `path`."""
    sha256 = hashlib.sha256()
    size = 0
    with tf.io.gfile.GFile(path, 'rb') as f:
        while chunk := f.read(_CHUNK_BYTES):
            sha256.update(chunk)
            size += len(chunk)
    return Digest(size, sha256.hexdigest())


def check_digest(path, expected, skip_checksum=False):
    """Checks that the file at `path` has the `expected` Digest.

    Raises:
      ValueError: it has another one; the message names the file, both digests and
        --skip_checksum. With `skip_checksum` a warning says so instead.
    """
    print('Checking the SHA-256 of %s ...' % path, flush=True)
    actual = file_digest(path)
    if actual == expected:
        return
    mismatch = '%s: SHA-256 %s (%d bytes), expected %s (%d bytes)' % (
        path, actual.sha256, actual.size, expected.sha256, expected.size)
    if skip_checksum:
        logging.warning('%s; converting it anyway, as %s asks.', mismatch, SKIP_CHECKSUM_FLAG)
        return
    raise ValueError('%s: the file is damaged or not the original. Fetch it again, or pass %s '
                     'to convert it anyway.' % (mismatch, SKIP_CHECKSUM_FLAG))


def _file_name(url):
    return os.path.basename(urllib.parse.urlparse(url).path)


def _check_if_known(path, digests, skip_checksum, name=None):
    """Checks `path` against the Digest of the download called `name` (by default its own
    name); a file of another name is not checked."""
    expected = digests.get(name or os.path.basename(path))
    if expected:
        check_digest(path, expected, skip_checksum)


def download(url, directory):
    """Downloads `url` into `directory` under its own file name, unless that file exists.

    The bytes go to a temporary name first, so an interrupted download is never mistaken for a
    finished one. A progress line (MiB done, rate, ETA) goes to stderr.
    Returns:
      The path of the downloaded file.
    Raises:
      OSError: the download failed; the message names the URL and how to pass the file offline.
    """
    path = os.path.join(directory, _file_name(url))
    if tf.io.gfile.exists(path):
        print('Using %s, downloaded before.' % path)
        return path
    tf.io.gfile.makedirs(directory)
    temporary_path = path + files.INCOMPLETE_SUFFIX
    try:
        with (urllib.request.urlopen(url) as response,
              tf.io.gfile.GFile(temporary_path, 'wb') as output):
            total_bytes = int(response.headers.get('Content-Length') or 0)
            bar = dataset_writing.ProgressBar(total_bytes >> 20, 'Downloading %s' % url, 'MiB')
            done_bytes = 0
            while chunk := response.read(_CHUNK_BYTES):
                output.write(chunk)
                done_bytes += len(chunk)
                bar.update(done_bytes >> 20)
            bar.close(done_bytes >> 20)
    except (urllib.error.URLError, OSError) as error:
        if tf.io.gfile.exists(temporary_path):
            tf.io.gfile.remove(temporary_path)
        raise OSError(
            'Could not download %s (%s). Fetch it some other way and pass the file, or the '
            'directory holding it, with --archive.' % (url, error)) from error
    tf.io.gfile.rename(temporary_path, path, overwrite=True)
    return path


def is_archive(path):
    """True for a local tar (any compression) or zip file."""
    return os.path.isfile(path) and (tarfile.is_tarfile(path) or zipfile.is_zipfile(path))


def _archive_stem(path):
    name = os.path.basename(path)
    for suffix in _ARCHIVE_SUFFIXES:
        if name.endswith(suffix):
            return name[:-len(suffix)]
    return name


def extract(archive_path, directory):
    """Unpacks a local tar or zip archive into `directory/<archive name without its suffix>`.

    Members that would land outside that directory (absolute paths, `..`, links out) are
    refused. The files appear under the final name only once all are unpacked.
    Returns:
      The directory holding the archive's contents.
    Raises:
      ValueError: a damaged archive or a refused member; the message names the archive.
    """
    target = os.path.join(directory, _archive_stem(archive_path))
    temporary_target = target + files.INCOMPLETE_SUFFIX
    shutil.rmtree(temporary_target, ignore_errors=True)
    print('Extracting %s ...' % archive_path, flush=True)
    try:
        if zipfile.is_zipfile(archive_path):
            with zipfile.ZipFile(archive_path) as archive:
                members = archive.infolist()
                # COCO's image zips take minutes: show how far along they are.
                bar = dataset_writing.ProgressBar(len(members), 'Extracting', 'files')
                for done, member in enumerate(members, 1):
                    archive.extract(member, temporary_target)
                    bar.update(done)
                bar.close(len(members))
        else:
            with tarfile.open(archive_path) as archive:
                archive.extractall(temporary_target, filter='data')
    except (tarfile.TarError, zipfile.BadZipFile, EOFError) as error:
        shutil.rmtree(temporary_target, ignore_errors=True)
        raise ValueError('Cannot extract %s (%s): it is damaged or not the expected archive. '
                         'Download it again.' % (archive_path, error)) from error
    os.replace(temporary_target, target)
    return target


def _find(relative_path, roots):
    """The first `root/relative_path` or `root/<sub-directory>/relative_path` that exists."""
    for root in roots:
        candidates = [root] + [os.path.join(root, name) for name in files.list_directory(root)
                               if tf.io.gfile.isdir(os.path.join(root, name))]
        for candidate in candidates:
            path = os.path.join(candidate, relative_path)
            if tf.io.gfile.exists(path):
                return path
    return None


def _locate(required, roots):
    """{relative path: absolute path} of every path of `required` found under `roots`."""
    found = {relative_path: _find(relative_path, roots) for relative_path in required}
    return {relative_path: path for relative_path, path in found.items() if path}


@contextlib.contextmanager
def raw_files(dataset_dir, archive, downloads, required, expected, skip_checksum=False):
    """Yields {relative path: absolute path} of the raw files a converter reads.

    Each path of `required` is looked for in a directory and in its direct sub-directories:
    in `archive` itself when it is a directory, else in what it unpacks to. Archives named like
    the files of `downloads` inside an `archive` directory are unpacked when the files are not
    there already. Without `archive`, `downloads` are downloaded first. Files named like a
    download are checked against its Digest before they are unpacked or yielded.

    Args:
      archive: None, an archive file, or a directory.
      downloads: {URL: Digest} of the files the dataset's download fetches.
      required: relative paths (files or directories) the converter needs.
      expected: a sentence describing a valid `archive`, for error messages.
      skip_checksum: log a digest mismatch as a warning instead of raising.
    Raises:
      ValueError: `archive` is missing, not an archive, or lacks some required path, or a
        file's digest is wrong; the message names it, what is wrong and the fix.
    """
    if files.is_local(dataset_dir):
        work_dir = os.path.join(dataset_dir, EXTRACTED_DIRNAME)
        # A killed run leaves its unpacked files behind: start afresh.
        shutil.rmtree(work_dir, ignore_errors=True)
    else:
        # zipfile and tarfile unpack to the local disk only.
        work_dir = tempfile.mkdtemp(prefix=EXTRACTED_DIRNAME + '-')
    try:
        if archive is None:
            source = os.path.join(dataset_dir, DOWNLOADS_DIRNAME)
            for url in downloads:
                download(url, source)
        else:
            source = archive
        digests = {_file_name(url): digest for url, digest in downloads.items()}
        yield _unpack_and_locate(source, work_dir, digests, skip_checksum, required, expected)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


def _local_file(path, work_dir):
    """`path` if it is on the local disk or is no file, else a local copy of it in `work_dir`:
    zipfile and tarfile need local files (on a GFile they miss the OSError they expect)."""
    if files.is_local(path) or not files.is_file(path):
        return path
    local_path = os.path.join(work_dir, 'copies', os.path.basename(path))
    print('Copying %s to %s ...' % (path, local_path), flush=True)
    os.makedirs(os.path.dirname(local_path), exist_ok=True)
    tf.io.gfile.copy(path, local_path, overwrite=True)
    return local_path


def _unpack_and_locate(source, work_dir, digests, skip_checksum, required, expected):
    if tf.io.gfile.isdir(source):
        found = _locate(required, [source])
        if len(found) < len(required):
            roots = [source]
            for name in digests:
                path = os.path.join(source, name)
                local_path = _local_file(path, work_dir)
                if is_archive(local_path):
                    _check_if_known(path, digests, skip_checksum)
                    roots.append(extract(local_path, work_dir))
            found = _locate(required, roots)
    elif is_archive(local_source := _local_file(source, work_dir)):
        # A dataset's only download is what --archive names, whatever the file is called.
        only_download = next(iter(digests)) if len(digests) == 1 else None
        _check_if_known(source, digests, skip_checksum, name=only_download)
        found = _locate(required, [extract(local_source, work_dir)])
    elif tf.io.gfile.exists(source):
        raise ValueError('--archive=%s is neither a directory nor a tar or zip archive. '
                         'Expected %s' % (source, expected))
    else:
        raise ValueError('--archive=%s does not exist. Expected %s' % (source, expected))
    missing = [relative_path for relative_path in required if relative_path not in found]
    if missing:
        raise ValueError('%s lacks %s. Expected %s' % (source, ', '.join(missing), expected))
    for path in found.values():
        _check_if_known(path, digests, skip_checksum)
    return found
