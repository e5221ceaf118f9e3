"""Crafted tar and zip archives given as --archive: each is refused in one line, first for its
digest, then, with --skip_checksum, for its members; nothing is written outside --dataset_dir,
whatever the Python patch level."""

import io
import os
import re
import stat
import sys
import tarfile
import zipfile

import pytest
from support import run_script

from common.errors import UserError
from datasets import convert_mnist, download

PATH_MAX = os.pathconf('/', 'PC_PATH_MAX')
SYMLINK_STEPS = 'abcdefghijklmnop'
PAYLOAD = b'written outside the target\n'


def _add(archive, name, kind=tarfile.REGTYPE, link_name='', data=b''):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link_name
    info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data) if data else None)


def _write_realpath_limit_tar(path, target_length, levels_up, payload_name):
    """Writes the tar of CVE-2025-4517: unpacked into a directory whose absolute path has
    `target_length` characters, it writes `payload_name` `levels_up` directories above it.

    Sixteen nested directories, each reached through a one-letter symlink, fill the resolved
    path close to PATH_MAX; a link with a 254-character name inside them points back to the
    target. os.path.realpath cannot resolve that name (too long) and goes on lexically, so
    filter='data' thinks 'escape', a link through it, stays inside; the kernel resolves it to
    `levels_up` directories above the target, and the payload is written through it.
    """
    # The 16 directories (and their separators) end ~128 characters short of PATH_MAX.
    component = 'd' * ((PATH_MAX - 128 - target_length) // len(SYMLINK_STEPS) - 1)
    with tarfile.open(path, 'w') as archive:
        directory = ''
        for step in SYMLINK_STEPS:
            _add(archive, os.path.join(directory, component), tarfile.DIRTYPE)
            _add(archive, os.path.join(directory, step), tarfile.SYMTYPE, component)
            directory = os.path.join(directory, component)
        long_link = os.path.join(*SYMLINK_STEPS, 'l' * 254)
        _add(archive, long_link, tarfile.SYMTYPE, '/'.join(['..'] * len(SYMLINK_STEPS)))
        _add(archive, 'escape', tarfile.SYMTYPE, long_link + '/..' * levels_up)
        _add(archive, 'escape/' + payload_name, data=PAYLOAD)


def _has_the_fix():
    """Whether this Python's tarfile has the fix for CVE-2025-4517."""
    return sys.version_info >= {(3, 11): (3, 11, 13), (3, 12): (3, 12, 11),
                                (3, 13): (3, 13, 4)}.get(sys.version_info[:2], (3, 14))


def test_the_realpath_limit_tar_escapes_filter_data_on_an_unpatched_python(tmp_path):
    """The attack is real: tarfile alone, with filter='data', writes outside its target."""
    target = tmp_path / 'outer' / 'target'
    target.mkdir(parents=True)
    _write_realpath_limit_tar(tmp_path / 'evil.tar', len(os.path.realpath(target)), 2,
                              'escaped.txt')
    with tarfile.open(tmp_path / 'evil.tar') as archive:
        try:
            archive.extractall(target, filter='data')
        except (tarfile.TarError, OSError):  # how a patched tarfile may refuse it
            assert _has_the_fix()
    assert (tmp_path / 'escaped.txt').exists() != _has_the_fix()


def _snapshot(directory):
    """{relative path: bytes or '<dir>' or '-> link'} of everything under `directory`."""
    contents = {}
    for root, dirs, names in os.walk(directory):
        for name in dirs + names:
            path = os.path.join(root, name)
            relative = os.path.relpath(path, directory)
            if os.path.islink(path):
                contents[relative] = '-> ' + os.readlink(path)
            elif os.path.isdir(path):
                contents[relative] = '<dir>'
            else:
                with open(path, 'rb') as f:
                    contents[relative] = f.read()
    return contents


def _extraction_target_length(dataset_dir, archive_name):
    """The length of <dataset_dir>/extracted_archives/<stem>.<8 random>.incomplete, where
    the converter unpacks an archive."""
    stem = archive_name.split('.')[0]
    return len(os.path.join(os.path.realpath(dataset_dir), download.EXTRACTED_DIRNAME,
                            '%s.%s.incomplete' % (stem, 'x' * 8)))


def test_the_realpath_limit_tar_is_refused_by_the_script_and_writes_nothing(tmp_path):
    dataset_dir = str(tmp_path / 'data')
    archive = str(tmp_path / 'evil.tar')
    # From the extraction target, three levels up is --dataset_dir's parent.
    _write_realpath_limit_tar(archive, _extraction_target_length(dataset_dir, 'evil.tar'), 3,
                              'escaped.txt')
    before = _snapshot(tmp_path)
    # Without --skip_checksum: MNIST publishes no such file.
    with pytest.raises(UserError, match='evil.tar: SHA-256 .* expected one of '):
        convert_mnist.run(dataset_dir, archive)
    result = run_script('download_and_convert_data.py', '--dataset_name=mnist',
                        '--dataset_dir=' + dataset_dir, '--archive=' + archive,
                        '--skip_checksum', cwd=str(tmp_path))
    assert result.returncode == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith('error:')]
    assert len(errors) == 1 and re.fullmatch(re.escape(
        "error: Refused to unpack %s: its member 'a' is not a plain file or directory inside it "
        "(it is a symbolic link to '" % archive) + "d+" + re.escape(
        "'); dataset archives hold only those. Nothing was unpacked. Use the original archive "
        "(download it again)."), errors[0]), result.stderr
    assert 'Traceback' not in result.stderr
    # Only the empty --dataset_dir, checked writable, is new.
    assert _snapshot(tmp_path) == {**before, 'data': '<dir>'}


# (archive name, [(member name, tar type, link name)], the refused member, why)
TAR_ATTACKS = [
    ('dot_dot.tar', [('../escaped.txt', tarfile.REGTYPE, '')], '../escaped.txt',
     'its path leaves the directory the archive is unpacked into'),
    ('nested_dot_dot.tar', [('mnist/../../escaped.txt', tarfile.REGTYPE, '')],
     'mnist/../../escaped.txt', 'its path leaves the directory the archive is unpacked into'),
    ('absolute.tar', [('{outside}/escaped.txt', tarfile.REGTYPE, '')], '{outside}/escaped.txt',
     'its path leaves the directory the archive is unpacked into'),
    ('symlink.tar', [('link', tarfile.SYMTYPE, '{outside}'),
                     ('link/escaped.txt', tarfile.REGTYPE, '')],
     'link', "it is a symbolic link to '{outside}'"),
    ('inner_symlink.tar', [('mnist/link', tarfile.SYMTYPE, '../../..')],
     'mnist/link', "it is a symbolic link to '../../..'"),
    ('hard_link.tar', [('victim', tarfile.LNKTYPE, '{outside}/victim.txt')],
     'victim', "it is a hard link to '{outside}/victim.txt'"),
    ('device.tar', [('null', tarfile.CHRTYPE, '')], 'null', 'it is a device'),
    ('fifo.tar', [('pipe', tarfile.FIFOTYPE, '')], 'pipe', 'it is a FIFO'),
]


def _write_tar(path, members, outside):
    with tarfile.open(path, 'w') as archive:
        _add(archive, 'mnist', tarfile.DIRTYPE)
        for name, kind, link_name in members:
            _add(archive, name.format(outside=outside), kind, link_name.format(outside=outside),
                 data=PAYLOAD if kind == tarfile.REGTYPE else b'')


# Zip: (archive name, member name, Unix mode in the external attributes, refused, why)
ZIP_ATTACKS = [
    ('dot_dot.zip', '../escaped.txt', stat.S_IFREG | 0o644, '../escaped.txt',
     'its path leaves the directory the archive is unpacked into'),
    ('absolute.zip', '{outside}/escaped.txt', stat.S_IFREG | 0o644, '{outside}/escaped.txt',
     'its path leaves the directory the archive is unpacked into'),
    ('backslash.zip', '..\\escaped.txt', stat.S_IFREG | 0o644, '..\\escaped.txt',
     'its path leaves the directory the archive is unpacked into'),
    ('symlink.zip', 'link', stat.S_IFLNK | 0o777, 'link', 'it is a symbolic link'),
    ('fifo.zip', 'pipe', stat.S_IFIFO | 0o644, 'pipe', 'it is a special file (mode 10644)'),
]


def _write_zip(path, name, mode, outside):
    with zipfile.ZipFile(path, 'w') as archive:
        archive.writestr('mnist/', b'')
        info = zipfile.ZipInfo(name.format(outside=outside))
        info.external_attr = mode << 16
        # A symlink's data is the path it points to.
        archive.writestr(info, outside.encode() if stat.S_ISLNK(mode) else PAYLOAD)


@pytest.mark.parametrize('attack', [attack[0] for attack in TAR_ATTACKS + ZIP_ATTACKS])
def test_an_archive_with_a_link_device_or_path_outside_is_refused_writing_nothing(attack,
                                                                                  tmp_path):
    outside = tmp_path / 'outside'
    outside.mkdir()
    (outside / 'victim.txt').write_bytes(b'the victim\n')
    archive = str(tmp_path / attack)
    if attack.endswith('.tar'):
        _, members, refused, reason = next(a for a in TAR_ATTACKS if a[0] == attack)
        _write_tar(archive, members, str(outside))
    else:
        _, name, mode, refused, reason = next(a for a in ZIP_ATTACKS if a[0] == attack)
        _write_zip(archive, name, mode, str(outside))
    dataset_dir = str(tmp_path / 'data')
    before = _snapshot(tmp_path)
    with pytest.raises(UserError, match=attack + ': SHA-256 .* expected one of '):
        convert_mnist.run(dataset_dir, archive)
    with pytest.raises(UserError) as error:
        convert_mnist.run(dataset_dir, archive, skip_checksum=True)
    assert str(error.value) == (
        'Refused to unpack %s: its member %r is not a plain file or directory inside it (%s); '
        'dataset archives hold only those. Nothing was unpacked. Use the original archive '
        '(download it again).' % (archive, refused.format(outside=outside),
                                  reason.format(outside=outside)))
    # Nothing new but the empty work directory the run cleaned up.
    assert _snapshot(tmp_path) == {**before, 'data': '<dir>'}
