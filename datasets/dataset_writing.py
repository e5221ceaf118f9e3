"""Writing TFRecord files safely: atomic files, resumable parallel shards, a progress line.

Every converter writes through these functions, so a killed conversion never leaves a
truncated file under its final name and a rerun only writes what is missing.
"""

import dataclasses
import multiprocessing
import sys
import time

import numpy as np
import tensorflow.compat.v1 as tf
import tqdm

from common import files
from common.errors import ConfigurationError



def write_tfrecord_atomically(path, serialized_examples, on_example=None):
    """Writes serialized examples to `path` through a temporary name.

    Args:
      serialized_examples: an iterable of bytes.
      on_example: optional function called after each example is written.
    Returns:
      The number of examples written.
    """
    count = 0
    with files.temporary_path_for(path) as temporary_path, \
            tf.io.TFRecordWriter(temporary_path) as writer:
        for serialized in serialized_examples:
            writer.write(serialized)
            count += 1
            if on_example:
                on_example()
    return count


def shard_ranges(num_items, num_shards):
    """[(start, end)] index ranges that split `num_items` into `num_shards` near-equal parts."""
    bounds = np.linspace(0, num_items, num_shards + 1).astype(int)
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True))


@dataclasses.dataclass(frozen=True)
class Shard:
    """One output file and the items (inputs of the converter's example function) it holds."""

    path: str
    items: list


def progress_bar(total, label, unit='images', **tqdm_arguments):
    """A tqdm progress bar of `total` `unit`s (None: unknown) on stderr, redrawn twice a
    second on a terminal but at most every 10 seconds in a log, so a long conversion does not
    fill it. `tqdm_arguments` go to tqdm (e.g. unit_scale)."""
    return tqdm.tqdm(total=total, desc=label, unit=unit, file=sys.stderr,
                     mininterval=0.5 if sys.stderr.isatty() else 10, **tqdm_arguments)


def _advance_to(bar, done):
    """Moves `bar` (a tqdm bar) to `done` in all."""
    bar.update(done - bar.n)


_examples_done = None


def _share_counter(counter):
    global _examples_done
    _examples_done = counter


def _count_example():
    with _examples_done.get_lock():
        _examples_done.value += 1


def _write_shard(shard, make_example):
    write_tfrecord_atomically(shard.path, (make_example(item) for item in shard.items),
                              on_example=_count_example)


def _check_no_stray_files(shards, file_pattern):
    expected = {shard.path for shard in shards}
    stray = sorted(path for path in files.matching_files(file_pattern)
                   if path not in expected and not path.endswith(files.INCOMPLETE_SUFFIX))
    if stray:
        raise ConfigurationError(
            'The output directory already holds %d file(s) matching %s that this conversion '
            'would not write (first: %s), probably from a run with another shard count. Delete '
            'them, or rerun with the shard count that wrote them.'
            % (len(stray), file_pattern, stray[0]))


def write_shards(shards, make_example, num_processes=1, label='Writing', file_pattern=None):
    """Writes every shard whose file does not exist yet; finished shards are kept.

    Shards are written in parallel by `num_processes` processes (in this process when 1),
    each through a temporary name, so after a kill a rerun with the same shards writes
    exactly the missing ones: no example is duplicated or lost. A killed run's temporary
    files of the missing shards are removed first.

    Args:
      shards: a list of `Shard`s; the same items in the same order on every run.
      make_example: a module-level function, item -> serialized tf.train.Example bytes.
      file_pattern: optional path of this split's files whose last component is a pattern
        (`fnmatch`'s `*`, `?`, `[...]`; the directory is literal); other files matching it
        raise.
    Returns:
      The number of examples written by this call.
    Raises:
      ValueError: stray files match `file_pattern`.
    """
    if file_pattern:
        _check_no_stray_files(shards, file_pattern)
    missing = [shard for shard in shards if not tf.io.gfile.exists(shard.path)]
    for shard in missing:
        for leftover in files.temporary_paths_of(shard.path):
            files.remove_file(leftover)
    total = sum(len(shard.items) for shard in missing)
    if not missing:
        return 0
    kept = len(shards) - len(missing)
    counter = multiprocessing.get_context('spawn').Value('q', 0)
    with progress_bar(total, '%s %d shard(s)%s' % (
            label, len(missing), ' (%d already done)' % kept if kept else '')) as bar:
        if num_processes <= 1:
            _share_counter(counter)
            for shard in missing:
                _write_shard(shard, make_example)
                _advance_to(bar, counter.value)
        else:
            _write_in_processes(missing, make_example, num_processes, counter, bar)
    return total


def _write_in_processes(shards, make_example, num_processes, counter, bar):
    """Writes `shards` in up to `num_processes` processes that count the examples written in
    `counter`, advancing `bar` to it."""
    # Spawned, not forked: forking a process that runs TensorFlow threads can deadlock.
    context = multiprocessing.get_context('spawn')
    with context.Pool(min(num_processes, len(shards)), initializer=_share_counter,
                      initargs=(counter,)) as pool:
        pending = [pool.apply_async(_write_shard, (shard, make_example)) for shard in shards]
        while pending:
            time.sleep(0.2)
            _advance_to(bar, counter.value)
            for result in [result for result in pending if result.ready()]:
                result.get()  # re-raises a worker's error here
                pending.remove(result)
    _advance_to(bar, counter.value)
