"""A dataset's raw files: download, check, extract tar/zip archives, find the expected files.

Downloads land in `<dataset_dir>/downloads` and are kept, so a rerun never fetches twice.
Archives are unpacked into `<dataset_dir>/extracted_archives` (into a local temporary directory
when `dataset_dir` is on another filesystem), which is deleted when the conversion ends.
`--archive` points at what the download would fetch (an archive file, or a directory holding
the downloaded or already extracted files), and then nothing is downloaded.

What is checked against the dataset's published sizes and SHA-256 digests, before it is read
or unpacked:
- every archive that is unpacked, whatever its name: an `--archive` file, an archive in an
  `--archive` directory, a download. One named like a published file must be that file; one
  of another name must be one of the published files.
- every file named like a published file (MNIST's four .gz files, say), wherever it is found.
A file that fails stops the conversion, unless `--skip_checksum` is given (then a warning).
A file under its final name in `<dataset_dir>/downloads` that fails is deleted and fetched
again, once. Extracted files and directories have no published digest and are not checked.

Archives are inspected before anything is unpacked: a member that is a symlink, a hard link,
a device, a FIFO or any other special file, or whose path is absolute or leaves the target
directory (`..`), refuses the whole archive. This does not depend on the Python release:
`tarfile`'s `filter='data'` stays on as a second wall, but before Python 3.11.13 (3.12.11,
3.13.4) a chain of symlinks defeats it (CVE-2025-4517); an archive without links cannot.
"""

import contextlib
import dataclasses
import functools
import hashlib
import http.client
import os
import posixpath
import stat
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile

import tensorflow.compat.v1 as tf
from absl import logging

from common import files
from common.errors import ConfigurationError, DataError, MissingPathError, UserError
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


def file_name(url):
    """The file name a download of `url` is saved under."""
    return os.path.basename(urllib.parse.urlparse(url).path)


class _Checker:
    """Checks files against a dataset's published digests, computing each file's digest once.

    Args:
      published: {file name: Digest} of every file the dataset publishes.
    """

    def __init__(self, published, skip_checksum):
        self.published = published
        self.skip_checksum = skip_checksum
        self._digests = {}

    def digest(self, path):
        if path not in self._digests:
            print('Checking the SHA-256 of %s ...' % path, flush=True)
            self._digests[path] = file_digest(path)
        return self._digests[path]

    def forget(self, path):
        """Drops the digest of `path`, a file deleted to be fetched again."""
        self._digests.pop(path, None)

    def _expected(self, name):
        return self.published.get(os.path.basename(name))

    def is_published(self, path, shown_as=None):
        """Whether the file at `path` is a published file: the one of its name (`shown_as`'s,
        if given) when there is one, else any."""
        expected = self._expected(shown_as or path)
        actual = self.digest(path)
        return actual == expected if expected else actual in self.published.values()

    def check(self, path, fix, shown_as=None):
        """Fails unless `is_published(path)`, or with --skip_checksum warns.

        Args:
          fix: what the user should do, ending the error message.
          shown_as: the name of the file in messages, when `path` is a local copy of it.
        Raises:
          UserError: naming the file, its digest, the expected one(s), `fix` and the flag.
        """
        if self.is_published(path, shown_as):
            return
        name = shown_as or path
        expected = self._expected(name)
        if expected:
            described = _described(expected)
        else:
            described = 'one of ' + ', '.join(
                '%s: %s' % (published_name, _described(digest))
                for published_name, digest in sorted(self.published.items()))
        mismatch = '%s: SHA-256 %s, expected %s' % (name, _described(self.digest(path)),
                                                    described)
        if self.skip_checksum:
            logging.warning('%s; converting it anyway, as %s asks.', mismatch, SKIP_CHECKSUM_FLAG)
            return
        raise DataError('%s: the file is damaged or not the original. %s, or pass %s to convert '
                        'it anyway.' % (mismatch, fix, SKIP_CHECKSUM_FLAG))


def _described(digest):
    return '%s (%d bytes)' % (digest.sha256, digest.size)


_REPLACE_ARCHIVE = 'Replace it with the original (delete it and download it again)'
_DELETED_DOWNLOAD = 'It was deleted: rerun to download it again'


def download(url, directory):
    """Downloads `url` into `directory` under its own file name, unless that file exists.

    The bytes go to a unique temporary name first, renamed only once all the bytes the server
    announced have arrived, so a download cut short never sits under the final name. A
    progress bar (bytes done, rate, ETA) goes to stderr. A local error (a full disk) is raised
    as it is.
    Returns:
      The path of the downloaded file.
    Raises:
      UserError: the download failed or was cut short; the message names the URL, and how
        to pass the file offline.
    """
    path = os.path.join(directory, file_name(url))
    if tf.io.gfile.exists(path):
        print('Using %s, downloaded before.' % path)
        return path
    tf.io.gfile.makedirs(directory)
    try:
        response = urllib.request.urlopen(url)
    except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
        raise _download_failed(url, error) from error
    with response, files.atomic_writer(path) as output:
        for chunk in _received_chunks(response, url):
            output.write(chunk)
    return path


def _received_chunks(response, url):
    """The chunks of the body of `response`, a progress bar showing them arrive.

    Raises:
      UserError: the connection broke, or ended before the announced Content-Length.
    """
    total_bytes = int(response.headers.get('Content-Length') or 0)
    done_bytes = 0
    with dataset_writing.progress_bar(total_bytes or None, 'Downloading %s' % url, 'B',
                                      unit_scale=True, unit_divisor=1024) as bar:
        while True:
            try:
                chunk = response.read(_CHUNK_BYTES)
            except (http.client.HTTPException, OSError) as error:
                raise _download_failed(url, error) from error
            if not chunk:
                break
            done_bytes += len(chunk)
            bar.update(len(chunk))
            yield chunk
    # http.client ends a response cut short as if it were complete.
    if total_bytes and done_bytes != total_bytes:
        raise _download_failed(url, 'the connection ended after %d of its %d bytes'
                               % (done_bytes, total_bytes))


def _download_failed(url, cause):
    return UserError('Could not download %s (%s). Rerun to try again, or fetch it some other way '
                     'and pass the file, or the directory holding it, with --archive.'
                     % (url, cause))


def _download_checked(url, directory, checker):
    """Downloads `url` into `directory` as `download` does, then checks it. A file already
    there that fails the check is deleted and downloaded again, once.

    Returns:
      The path of the downloaded file.
    """
    path = os.path.join(directory, file_name(url))
    if tf.io.gfile.exists(path) and not checker.is_published(path):
        print('%s is not the published file (a download cut short, or a damaged one): '
              'deleting it and downloading it again.' % path, flush=True)
        files.remove_file(path)
        checker.forget(path)
    download(url, directory)
    try:
        checker.check(path, _DELETED_DOWNLOAD)
    except UserError:
        # Nothing that failed is left under the final name.
        files.remove_file(path)
        raise
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


def _leaves_target(member_name):
    """Whether an archive member of this name would land outside the directory it is unpacked
    into: an absolute path, or one whose '..' climb above it ('\\' counts as a separator)."""
    normalised = posixpath.normpath(member_name.replace('\\', '/'))
    return (posixpath.isabs(normalised) or normalised == '..'
            or normalised.startswith('../'))


def _tar_member_kind(member):
    """None for a regular file or a directory, else what the tar member is."""
    if member.isfile() or member.isdir():
        return None
    if member.issym():
        return 'a symbolic link to %r' % member.linkname
    if member.islnk():
        return 'a hard link to %r' % member.linkname
    if member.ischr() or member.isblk():
        return 'a device'
    if member.isfifo():
        return 'a FIFO'
    return 'a special file (tar type %r)' % member.type


def _zip_member_kind(member):
    """None for a regular file or a directory, else what the zip member is: the upper 16 bits
    of its external attributes are the Unix mode of the file it was made from, if any."""
    mode = member.external_attr >> 16
    if stat.S_IFMT(mode) in (0, stat.S_IFREG, stat.S_IFDIR):
        return None
    if stat.S_ISLNK(mode):
        return 'a symbolic link'
    return 'a special file (mode %o)' % mode


def _check_members(archive_path, members):
    """Refuses the archive unless all its members are regular files and directories that
    stay inside the target.

    Args:
      members: [(member name, None or what the member is)].
    Raises:
      UserError: naming the archive, the first offending member and the fix.
    """
    for name, kind in members:
        if _leaves_target(name):
            reason = 'its path leaves the directory the archive is unpacked into'
        elif kind:
            reason = 'it is %s' % kind
        else:
            continue
        raise DataError(
            'Refused to unpack %s: its member %r is not a plain file or directory inside it '
            '(%s); dataset archives hold only those. Nothing was unpacked. Use the original '
            'archive (download it again).' % (archive_path, name, reason))


def extract(archive_path, directory):
    """Unpacks a local tar or zip archive into `directory/<archive name without its suffix>`.

    Every member is inspected first: links, devices and other special files, and paths that
    leave the target, refuse the archive (see the module doc). The files appear under the
    final name only once all are unpacked.
    Returns:
      The directory holding the archive's contents.
    Raises:
      UserError: a damaged archive or a refused member; the message names the archive.
    """
    target = os.path.join(directory, _archive_stem(archive_path))
    os.makedirs(directory, exist_ok=True)
    # Unique and created exclusively: nothing planted at the name is written through.
    temporary_target = tempfile.mkdtemp(prefix=os.path.basename(target) + '.',
                                        suffix=files.INCOMPLETE_SUFFIX, dir=directory)
    print('Extracting %s ...' % archive_path, flush=True)
    try:
        if zipfile.is_zipfile(archive_path):
            with zipfile.ZipFile(archive_path) as archive:
                members = archive.infolist()
                _check_members(archive_path,
                               [(member.filename, _zip_member_kind(member)) for member in members])
                # COCO's image zips take minutes: show how far along they are.
                with dataset_writing.progress_bar(len(members), 'Extracting', 'files') as bar:
                    for member in members:
                        archive.extract(member, temporary_target)
                        bar.update()
        else:
            with tarfile.open(archive_path) as archive:
                members = archive.getmembers()
                _check_members(archive_path,
                               [(member.name, _tar_member_kind(member)) for member in members])
                archive.extractall(temporary_target, members, filter='data')
        os.replace(temporary_target, target)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError) as error:
        raise DataError('Cannot extract %s (%s): it is damaged or not the expected archive. '
                        'Download it again.' % (archive_path, error)) from error
    finally:
        # Gone after the rename; else the partial target, cleaned up.
        files.remove_tree(temporary_target)
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


def _locate(layouts, roots):
    """(layout, {relative path: absolute path} of its paths found under `roots`): the first
    layout found whole, else the one with the most paths found (the first of a tie)."""
    best = None
    for layout in layouts:
        found = {relative_path: path for relative_path in layout
                 if (path := _find(relative_path, roots))}
        if len(found) == len(layout):
            return layout, found
        if best is None or len(found) > len(best[1]):
            best = layout, found
    return best


@contextlib.contextmanager
def raw_files(dataset_dir, archive, downloads, required, expected, skip_checksum=False,
              alternative_layouts=(), also_accepted=None):
    """Yields {relative path: absolute path} of the raw files a converter reads.

    Each path of `required` is looked for in a directory and in its direct sub-directories:
    in `archive` itself when it is a directory, else in what it unpacks to. Archives named like
    a published file inside an `archive` directory are unpacked when the files are not there
    already. Without `archive`, `downloads` are downloaded first. Archives and files named like
    a published file are checked against the published digests (see the module doc).

    Args:
      archive: None, an archive file, or a directory.
      downloads: {URL: Digest} of the files the dataset's download fetches.
      required: relative paths (files or directories) the converter needs.
      expected: a sentence describing a valid `archive`, for error messages.
      skip_checksum: log a digest mismatch as a warning instead of raising.
      alternative_layouts: other lists of relative paths that may stand in for `required`;
        the first found whole is yielded (`required` first).
      also_accepted: {file name: Digest} of other published archives accepted as `archive`
        (not downloaded).
    Raises:
      UserError: `archive` is missing, not an archive, holds a refused member or lacks some
        required path, or a file's digest is wrong; the message names it, what is wrong and
        the fix.
    """
    published = {file_name(url): digest for url, digest in downloads.items()}
    checker = _Checker({**published, **(also_accepted or {})}, skip_checksum)
    if files.is_local(dataset_dir):
        work_dir = os.path.join(dataset_dir, EXTRACTED_DIRNAME)
        # A killed run leaves its unpacked files behind: start afresh.
        files.remove_tree(work_dir)
    else:
        # zipfile and tarfile unpack to the local disk only.
        work_dir = tempfile.mkdtemp(prefix=EXTRACTED_DIRNAME + '-')
    try:
        if archive is None:
            source = os.path.join(dataset_dir, DOWNLOADS_DIRNAME)
            for url in downloads:
                _download_checked(url, source, checker)
        else:
            source = archive
        yield _unpack_and_locate(source, work_dir, checker, [required, *alternative_layouts],
                                 expected)
    finally:
        files.remove_tree(work_dir)


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


def _extract_checked(path, work_dir, checker):
    """Checks the archive at `path`, then unpacks it into `work_dir`; returns where.

    Returns None when `path` is not an archive. The check reads the local copy of a remote
    archive: the bytes unpacked are the bytes checked.
    """
    local_path = _local_file(path, work_dir)
    if not is_archive(local_path):
        return None
    checker.check(local_path, _REPLACE_ARCHIVE, shown_as=path)
    return extract(local_path, work_dir)


def _unpack_and_locate(source, work_dir, checker, layouts, expected):
    if tf.io.gfile.isdir(source):
        layout, found = _locate(layouts, [source])
        if len(found) < len(layout):
            roots = [source]
            for name in checker.published:
                path = os.path.join(source, name)
                if tf.io.gfile.exists(path) and (unpacked := _extract_checked(path, work_dir,
                                                                              checker)):
                    roots.append(unpacked)
            layout, found = _locate(layouts, roots)
    elif unpacked := _extract_checked(source, work_dir, checker):
        layout, found = _locate(layouts, [unpacked])
    elif tf.io.gfile.exists(source):
        raise ConfigurationError('--archive=%s is neither a directory nor a tar or zip archive. '
                                 'Expected %s' % (source, expected))
    else:
        raise MissingPathError('--archive=%s does not exist. Expected %s' % (source, expected))
    missing = [relative_path for relative_path in layout if relative_path not in found]
    if missing:
        raise DataError('%s lacks %s. Expected %s' % (source, ', '.join(missing), expected))
    for path in found.values():
        if os.path.basename(path) in checker.published:
            checker.check(path, _REPLACE_ARCHIVE)
    return found
