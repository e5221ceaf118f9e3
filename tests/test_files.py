"""common.files against hostile files and paths: links planted where the project writes or
deletes, and directory names that read as glob patterns; on local disk, ram:// and gs://."""

import json
import os
import subprocess
import sys
import types
import uuid

import pytest
import tensorflow.compat.v1 as tf

from gcs_emulator import BUCKET, local_gcs, write_object
from support import ROOT
from common import checkpoints, files
from common.errors import UserError

# A time no write of the test could give a file: a changed victim cannot keep it.
OLD_TIME = 1_000_000_000


@pytest.fixture
def victim(tmp_path):
    """A file outside the directories the tests write into, with a known content and time."""
    path = tmp_path / 'victim' / 'precious.txt'
    path.parent.mkdir()
    path.write_bytes(b'precious')
    os.utime(path, (OLD_TIME, OLD_TIME))
    return path


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _unchanged(victim):
    return victim.read_bytes() == b'precious' and os.stat(victim).st_mtime == OLD_TIME


def test_a_link_at_the_temporary_name_tried_is_skipped_not_followed(tmp_path, victim,
                                                                    monkeypatch):
    output = tmp_path / 'out'
    output.mkdir()
    # The attacker guessed the first random name that will be tried, and planted a link there.
    guessed = output / 'flags.txt.guessed.incomplete'
    os.symlink(victim, guessed)
    draws = iter(['guessed', 'second'])
    monkeypatch.setattr(uuid, 'uuid4', lambda: types.SimpleNamespace(hex=next(draws)))

    files.write_file_atomically(str(output / 'flags.txt'), b'--flag=1\n')

    assert _unchanged(victim)
    assert (output / 'flags.txt').read_bytes() == b'--flag=1\n'
    assert sorted(os.listdir(output)) == ['flags.txt', guessed.name]
    assert os.path.islink(guessed)


def test_links_at_the_old_fixed_names_and_at_the_target_are_not_written_through(
        tmp_path, victim):
    output = tmp_path / 'train'
    output.mkdir()
    for name in ('flags.txt.incomplete', '.write_check.incomplete', 'final_step.txt'):
        os.symlink(victim, output / name)

    files.write_file_atomically(str(output / 'flags.txt'), b'flags')
    files.write_file_atomically(str(output / 'final_step.txt'), b'7\n')
    files.check_writable_directory(str(output), 'train_dir', 'checkpoints')

    assert _unchanged(victim)
    # The link at the target is replaced by the file, not written through.
    assert not os.path.islink(output / 'final_step.txt')
    assert (output / 'final_step.txt').read_bytes() == b'7\n'
    assert (output / 'flags.txt').read_bytes() == b'flags'


def test_temporary_names_are_new_files_beside_the_target(tmp_path):
    target = str(tmp_path / 'shard-00000')
    first, second = files.new_temporary_path(target), files.new_temporary_path(target)
    assert first != second
    for path in (first, second):
        assert os.path.dirname(path) == str(tmp_path)
        assert path.startswith(target + '.') and path.endswith(files.INCOMPLETE_SUFFIX)
        assert os.path.isfile(path) and not os.path.islink(path)
        # The permissions of any new file (0666 less the umask), not mkstemp's 0600.
        assert os.stat(path).st_mode & 0o777 == 0o666 & ~_umask()
    # What a killed writer leaves are found as its leftovers; another file's are not.
    other = files.new_temporary_path(target + '.index')
    assert files.temporary_paths_of(target) == sorted([first, second])
    assert files.temporary_paths_of(target + '.index') == [other]


def test_a_failed_write_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError), files.atomic_writer(str(tmp_path / 'out.json')) as output:
        output.write(b'half')
        raise RuntimeError('killed')
    assert os.listdir(tmp_path) == []


def test_removing_a_link_removes_the_link_never_its_target(tmp_path, victim):
    os.symlink(victim, tmp_path / 'file_link')
    os.symlink(victim.parent, tmp_path / 'directory_link')
    tree = tmp_path / 'tree'
    (tree / 'sub').mkdir(parents=True)
    os.symlink(victim.parent, tree / 'sub' / 'inner_link')
    os.symlink(victim, tree / 'file_link')

    files.remove_file(str(tmp_path / 'file_link'))
    files.remove_tree(str(tmp_path / 'directory_link'))
    files.remove_tree(str(tree))
    files.remove_file(str(tmp_path / 'absent'))
    files.remove_tree(str(tmp_path / 'absent'))

    assert sorted(os.listdir(tmp_path)) == ['victim']
    assert os.listdir(victim.parent) == ['precious.txt'] and _unchanged(victim)


@pytest.mark.parametrize('name, twin_name', [('run[1]', 'run1'), ('run*', 'runXY'),
                                             ('run?', 'runZ')])
def test_the_directory_of_a_pattern_is_literal(tmp_path, name, twin_name):
    directory, twin = tmp_path / name, tmp_path / twin_name
    for folder in (directory, twin):
        folder.mkdir()
        for shard in ('part-0', 'part-1', 'other'):
            (folder / shard).write_bytes(b'')
    assert files.matching_files(str(directory / 'part-*')) == [str(directory / 'part-0'),
                                                               str(directory / 'part-1')]
    assert files.matching_paths(str(directory), 'part-[1]') == [str(directory / 'part-1')]
    assert files.matching_files(str(tmp_path / 'absent' / '*')) == []


def test_the_primitives_on_ram():
    root = 'ram://test_files/run[1]'
    # ram:// deletes only the directories made as such (makedirs), as the project makes them.
    tf.io.gfile.makedirs(root)
    for path in ('ram://test_files/run1/part-0', root + '/part-0', root + '/part-1',
                 root + '/other'):
        files.write_file_atomically(path, b'x')
    assert files.matching_files(root + '/part-*') == [root + '/part-0', root + '/part-1']
    files.remove_file(root + '/part-1')
    files.remove_tree(root)
    assert not tf.io.gfile.exists(root)
    assert files.matching_files('ram://test_files/run1/*') == ['ram://test_files/run1/part-0']
    files.remove_file('ram://test_files/run1/part-0')


_GCS_CHECK = '''
import json, sys
import tf_compat
from common import files
root = sys.argv[1]
files.write_file_atomically(root + '/run[1]/part-1', b'written')
found = files.matching_files(root + '/run[1]/part-*')
files.remove_tree(root + '/run[1]')
print(json.dumps({'found': found, 'after': files.list_directory(root)}))
'''


def test_the_primitives_on_gcs(tmp_path):
    root = 'gs://%s/files' % BUCKET
    with local_gcs(str(tmp_path)) as gcs_environment:
        for name in ('run1/part-0', 'run[1]/part-0', 'run[1]/other'):
            write_object(gcs_environment, '%s/%s' % (root, name), b'x')
        process = subprocess.run([sys.executable, '-c', _GCS_CHECK, root], cwd=ROOT,
                                 env={**os.environ, **gcs_environment}, capture_output=True,
                                 text=True, timeout=300)
    assert process.returncode == 0, process.stderr[-3000:]
    printed = json.loads(process.stdout.strip().splitlines()[-1])
    assert printed == {'found': [root + '/run[1]/part-0', root + '/run[1]/part-1'],
                       'after': ['run1']}


@pytest.mark.parametrize('path', ['runs/[1]', 'runs/run*', 'runs/run?', 'runs\\1'])
def test_paths_tensorflow_would_read_as_patterns_are_refused(path):
    """TensorFlow's Saver deletes old checkpoints by matching '<prefix>.index' and the like:
    under runs/[1] it deletes runs/1's checkpoints (tried), and never finds its own."""
    with pytest.raises(UserError, match=r'--train_dir=.* contains .* reads as a file pattern'):
        checkpoints.check_literal_path(path, 'train_dir')
    checkpoints.check_literal_path('runs/1', 'train_dir')
