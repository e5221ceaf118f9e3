"""Getting a dataset's raw files: download, extract tar/zip archives, find the expected files.

Downloads land in `<dataset_dir>/downloads` and are kept, so a rerun never fetches twice.
Archives are unpacked into `<dataset_dir>/extracted_archives`, which is deleted when the
conversion ends. `--archive` points at what the download would fetch (an archive file, or a
directory holding the downloaded or already extracted files), and then nothing is downloaded.
"""

import contextlib
import os
import shutil
import tarfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile

from common import files
from datasets import dataset_writing

DOWNLOADS_DIRNAME = 'downloads'
EXTRACTED_DIRNAME = 'extracted_archives'
_ARCHIVE_SUFFIXES = ('.tar.gz', '.tgz', '.tar.bz2', '.tar.xz', '.tar', '.zip')
_CHUNK_BYTES = 1 << 20


def download(url, directory):
    """Downloads `url` into `directory` under its own file name, unless that file exists.

    The bytes go to a temporary name first, so an interrupted download is never mistaken for a
    finished one. A progress line (MiB done, rate, ETA) goes to stderr.
    Returns:
      The path of the downloaded file.
    Raises:
      OSError: the download failed; the message names the URL and how to pass the file offline.
    """
    path = os.path.join(directory, os.path.basename(urllib.parse.urlparse(url).path))
    if os.path.exists(path):
        print('Using %s, downloaded before.' % path)
        return path
    os.makedirs(directory, exist_ok=True)
    temporary_path = path + files.INCOMPLETE_SUFFIX
    try:
        with urllib.request.urlopen(url) as response, open(temporary_path, 'wb') as output:
            total_bytes = int(response.headers.get('Content-Length') or 0)
            bar = dataset_writing.ProgressBar(total_bytes >> 20, 'Downloading %s' % url, 'MiB')
            done_bytes = 0
            while chunk := response.read(_CHUNK_BYTES):
                output.write(chunk)
                done_bytes += len(chunk)
                bar.update(done_bytes >> 20)
            bar.close(done_bytes >> 20)
    except (urllib.error.URLError, OSError) as error:
        if os.path.exists(temporary_path):
            os.remove(temporary_path)
        raise OSError(
            'Could not download %s (%s). Fetch it some other way and pass the file, or the '
            'directory holding it, with --archive.' % (url, error)) from error
    os.replace(temporary_path, path)
    return path


def is_archive(path):
    """True for a tar (any compression) or zip file."""
    return os.path.isfile(path) and (tarfile.is_tarfile(path) or zipfile.is_zipfile(path))


def _archive_stem(path):
    name = os.path.basename(path)
    for suffix in _ARCHIVE_SUFFIXES:
        if name.endswith(suffix):
            return name[:-len(suffix)]
    return name


def extract(archive_path, directory):
    """Unpacks a tar or zip archive into `directory/<archive name without its suffix>`.

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
        candidates = [root] + sorted(entry.path for entry in os.scandir(root) if entry.is_dir())
        for candidate in candidates:
            path = os.path.join(candidate, relative_path)
            if os.path.exists(path):
                return path
    return None


def _locate(required, roots):
    """{relative path: absolute path} of every path of `required` found under `roots`."""
    found = {relative_path: _find(relative_path, roots) for relative_path in required}
    return {relative_path: path for relative_path, path in found.items() if path}


@contextlib.contextmanager
def raw_files(dataset_dir, archive, urls, required, expected):
    """Yields {relative path: absolute path} of the raw files a converter reads.

    Each path of `required` is looked for in a directory and in its direct sub-directories:
    in `archive` itself when it is a directory, else in what it unpacks to. Archives named like
    the files of `urls` inside an `archive` directory are unpacked when the files are not
    there already. Without `archive`, `urls` are downloaded first.

    Args:
      archive: None, an archive file, or a directory.
      urls: the files the dataset's download fetches.
      required: relative paths (files or directories) the converter needs.
      expected: a sentence describing a valid `archive`, for error messages.
    Raises:
      ValueError: `archive` is missing, not an archive, or lacks some required path; the
        message names it, what is missing and what is expected.
    """
    work_dir = os.path.join(dataset_dir, EXTRACTED_DIRNAME)
    # A killed run leaves its unpacked files behind: start afresh.
    shutil.rmtree(work_dir, ignore_errors=True)
    try:
        if archive is None:
            source = os.path.join(dataset_dir, DOWNLOADS_DIRNAME)
            for url in urls:
                download(url, source)
        else:
            source = archive
        yield _unpack_and_locate(source, work_dir, urls, required, expected)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


def _unpack_and_locate(source, work_dir, urls, required, expected):
    if os.path.isdir(source):
        found = _locate(required, [source])
        if len(found) < len(required):
            archives = [os.path.join(source, os.path.basename(url)) for url in urls]
            roots = [source] + [extract(path, work_dir) for path in archives if is_archive(path)]
            found = _locate(required, roots)
    elif is_archive(source):
        found = _locate(required, [extract(source, work_dir)])
    elif os.path.exists(source):
        raise ValueError('--archive=%s is neither a directory nor a tar or zip archive. '
                         'Expected %s' % (source, expected))
    else:
        raise ValueError('--archive=%s does not exist. Expected %s' % (source, expected))
    missing = [relative_path for relative_path in required if relative_path not in found]
    if missing:
        raise ValueError('%s lacks %s. Expected %s' % (source, ', '.join(missing), expected))
    return found
