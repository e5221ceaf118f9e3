"""The input pipeline: reading, per-worker shares, skipping unreadable records, batching."""

import glob
import json
import logging
import os
import re

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from support import digits_train_options, encode_images
from sklearn.datasets import load_digits

from datasets import convert_digits, dataset_factory, dataset_splits, dataset_utils, input_pipeline
from evaluation import evaluator
from evaluation.eval_options import EvalOptions
from training import trainer

GOOD_LABELS = [0, 1, 2, 3]


def _split(file_pattern, image_channels=3):
    return dataset_splits.DatasetSplit(
        'test', 'train', file_pattern, num_samples=6, num_classes=5, labels_to_names=None,
        items_to_descriptions={}, image_channels=image_channels)


def write_split_with_corrupt_records(path, labels, image_channels, image_format, side):
    """Writes an example per label with a random image, plus two unreadable records: after
    the first two examples one whose image bytes are no image, and last a record that is not
    an Example at all (so the last record read is unreadable)."""
    rng = np.random.RandomState(0)
    images = [rng.randint(0, 256, (side, side + 2, image_channels)).astype(np.uint8)
              for _ in labels]
    records = [dataset_utils.image_to_tfexample(data, image_format.encode(), side, side + 2,
                                                label).SerializeToString()
               for data, label in zip(encode_images(images, image_format), labels, strict=True)]
    garbage_image = dataset_utils.image_to_tfexample(b'not an image', b'jpeg', side, side, 1)
    records.insert(2, garbage_image.SerializeToString())
    records.append(b'not a tf.train.Example')
    with tf.io.TFRecordWriter(path) as writer:
        for record in records:
            writer.write(record)


@pytest.fixture(scope='module')
def corrupt_split(tmp_path_factory):
    path = str(tmp_path_factory.mktemp('corrupt') / 'data.tfrecord')
    write_split_with_corrupt_records(path, GOOD_LABELS, 3, 'jpeg', 10)
    return _split(path)


def _read_batches(batches, iterator_kind='one_shot', max_batches=None, repeats=1):
    """The values of `batches`' elements (to its end or `max_batches`), read `repeats` times."""
    if iterator_kind == 'one_shot':
        iterator = tf.data.make_one_shot_iterator(batches)
    else:
        iterator = tf.data.make_initializable_iterator(batches)
    next_batch = iterator.get_next()
    runs = []
    with tf.Session() as session:
        for _ in range(repeats):
            if iterator_kind == 'initializable':
                session.run(iterator.initializer)
            values = []
            while max_batches is None or len(values) < max_batches:
                try:
                    values.append(session.run(next_batch))
                except tf.errors.OutOfRangeError:
                    break
            runs.append(values)
    return runs if repeats > 1 else runs[0]


def test_eval_reads_every_good_record_once_and_counts_the_unreadable(corrupt_split):
    with tf.Graph().as_default():
        batches = input_pipeline.batched_images(corrupt_split, 'cifarnet', is_training=False,
                                                image_size=8, batch_size=2)
        # Read twice: re-initialising the iterator starts the count again.
        runs = _read_batches(batches, 'initializable', repeats=2)
    for batches in runs:
        # Records: good 0, good 1 | no image, good 2 | good 3, not an Example.
        assert [batch['labels'].tolist() for batch in batches] == [[0, 1], [2], [3]]
        assert [batch['skipped'] for batch in batches] == [0, 1, 2]
        assert [batch['images'].shape for batch in batches] == [
            (2, 8, 8, 3), (1, 8, 8, 3), (1, 8, 8, 3)]


@pytest.mark.parametrize('image_format', ['jpeg', 'png'])
def test_windows_decoded_by_inception_preprocessing_skip_and_count_unreadable_records(
        tmp_path, image_format):
    path = str(tmp_path / 'data.tfrecord')
    write_split_with_corrupt_records(path, GOOD_LABELS, 3, image_format, 10)
    with tf.Graph().as_default() as graph:
        batches = input_pipeline.batched_images(_split(path), 'inception_v3', is_training=False,
                                                image_size=12, batch_size=2)
        # Both decoders are in the pipeline's functions; a record's first bytes choose one.
        assert {'DecodeAndCropJpeg', 'DecodeImage'} <= {
            node.op for function in graph.as_graph_def().library.function
            for node in function.node_def}
        evaluated = _read_batches(batches)
    assert [batch['labels'].tolist() for batch in evaluated] == [[0, 1], [2], [3]]
    assert [batch['skipped'] for batch in evaluated] == [0, 1, 2]
    with tf.Graph().as_default():
        trained = _read_batches(input_pipeline.batched_images(
            _split(path), 'inception_v3', is_training=True, image_size=12, batch_size=3,
            seed=1), max_batches=4)
    assert {label for batch in trained for label in batch['labels']} == set(GOOD_LABELS)
    assert all(batch['images'].shape == (3, 12, 12, 3) for batch in trained)
    assert trained[-1]['skipped'] >= 3


def test_training_skips_unreadable_records_and_counts_them(corrupt_split):
    with tf.Graph().as_default():
        batches = input_pipeline.batched_images(
            corrupt_split, 'cifarnet', is_training=True, image_size=8, batch_size=3,
            labels_offset=1, seed=5)
        assert batches.element_spec['images'].shape.as_list() == [3, 8, 8, 3]
        values = _read_batches(batches, max_batches=8)
    labels = np.concatenate([batch['labels'] for batch in values])
    # Only readable records; the labels of a failed record (-1) would give -2.
    assert sorted(set(labels.tolist())) == [label - 1 for label in GOOD_LABELS]
    skipped = [int(batch['skipped']) for batch in values]
    # One record in three is unreadable, so about 12 come with 24 examples; the seed fixes
    # the order, so the count is the same on every run.
    assert skipped == sorted(skipped) and skipped[-1] >= 6


def test_fail_on_corrupt_records_stops_at_the_first_one(corrupt_split):
    with tf.Graph().as_default():
        batches = input_pipeline.batched_images(corrupt_split, 'cifarnet', is_training=False,
                                                image_size=8, batch_size=1, skip_corrupt=False)
        assert _read_batches(batches, max_batches=2)[1]['skipped'] == 0
        with pytest.raises(tf.errors.InvalidArgumentError, match='Unknown image file format'):
            _read_batches(batches)


def test_training_on_unreadable_data_fails_instead_of_waiting_forever(tmp_path):
    path = str(tmp_path / 'data.tfrecord')
    with tf.io.TFRecordWriter(path) as writer:
        for index in range(3):
            writer.write(b'record %d' % index)
    with tf.Graph().as_default():
        batches = input_pipeline.batched_images(_split(path), 'cifarnet', is_training=True,
                                                image_size=8, batch_size=2)
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match='None of the last 1000 records of split train of dataset '
                                 'test could be read.*Check --dataset_name and --dataset_dir'):
            _read_batches(batches, max_batches=1)


@pytest.mark.parametrize('preprocessing_name', ['vgg_16', 'inception_v3'])
def test_deterministic_mode_repeats_files_records_and_random_preprocessing(corrupt_split,
                                                                          preprocessing_name):
    def first_batches(seed):
        with tf.Graph().as_default():
            return _read_batches(input_pipeline.batched_images(
                corrupt_split, preprocessing_name, is_training=True, image_size=12, batch_size=3,
                seed=seed), max_batches=3)

    first, second = first_batches(seed=7), first_batches(seed=7)
    for batch, again in zip(first, second, strict=True):
        np.testing.assert_array_equal(batch['images'], again['images'])
        np.testing.assert_array_equal(batch['labels'], again['labels'])
        assert batch['skipped'] == again['skipped']
    # Without a seed the random crops and flips differ.
    unseeded = first_batches(seed=None)
    assert not all(np.array_equal(batch['images'], other['images'])
                   for batch, other in zip(first, unseeded, strict=True))


def _write_byte_records(directory, num_files, records_per_file):
    """Files of records that are just their names; returns the split and every record."""
    everything = []
    for file_index in range(num_files):
        names = [b'file%d-record%d' % (file_index, index) for index in range(records_per_file)]
        with tf.io.TFRecordWriter(str(directory / ('part-%d' % file_index))) as writer:
            for name in names:
                writer.write(name)
        everything += names
    return _split(str(directory / 'part-*')), everything


def _worker_shares(split, num_workers, is_training, num_records):
    """The records each worker reads: in evaluation all, in training the first num_records."""
    shares = []
    for worker_index in range(num_workers):
        with tf.Graph().as_default():
            records = split.read_records(is_training, seed=1, num_workers=num_workers,
                                         worker_index=worker_index)
            next_record = tf.data.make_one_shot_iterator(records.take(num_records)).get_next()
            with tf.Session() as session:
                share = []
                while True:
                    try:
                        share.append(session.run(next_record))
                    except tf.errors.OutOfRangeError:
                        break
        shares.append(share)
    return shares


@pytest.mark.parametrize('num_files, num_workers', [(4, 2), (2, 3)], ids=['files', 'records'])
def test_workers_read_disjoint_shares_that_cover_every_record(tmp_path, num_files, num_workers):
    split, everything = _write_byte_records(tmp_path, num_files, records_per_file=3)
    shares = _worker_shares(split, num_workers, is_training=False, num_records=-1)
    assert sorted(sum(shares, [])) == sorted(everything)
    assert all(len(share) == len(everything) // num_workers for share in shares)
    if num_files >= num_workers:
        # Whole files: worker i reads files i, i + num_workers, ...
        assert {record.split(b'-')[0] for record in shares[1]} == {b'file1', b'file3'}
    # Training repeats each worker's own share only.
    training_shares = _worker_shares(split, num_workers, is_training=True,
                                     num_records=3 * len(shares[0]))
    for share, training_share in zip(shares, training_shares, strict=True):
        assert sorted(training_share) == sorted(share * 3)


def test_a_worker_index_outside_the_workers_is_rejected(tmp_path):
    split, _ = _write_byte_records(tmp_path, 1, 1)
    with pytest.raises(ValueError, match=r'Worker index 2 is not in \[0, 2\): pass --task'):
        split.read_records(is_training=True, num_workers=2, worker_index=2)


def _parallelism(graph):
    """{dataset op type: [its parallel calls (and for interleave, its cycle length)]}."""
    found = {}
    for op in graph.get_operations():
        if op.type == 'ParallelInterleaveDatasetV4':
            # Inputs end with cycle_length, block_length, buffer_output_elements,
            # prefetch_input_elements, num_parallel_calls.
            found.setdefault(op.type, []).append(
                (tf.get_static_value(op.inputs[-5]), tf.get_static_value(op.inputs[-1])))
        elif op.type == 'ParallelMapDatasetV2':
            found.setdefault(op.type, []).append(tf.get_static_value(op.inputs[-1]))
    return found


def test_num_readers_and_preprocessing_threads_reach_the_datasets(tmp_path, corrupt_split):
    split, _ = _write_byte_records(tmp_path, 4, 1)
    with tf.Graph().as_default() as graph:
        split.read_records(is_training=True, num_readers=3)
        assert _parallelism(graph) == {'ParallelInterleaveDatasetV4': [(3, 3)]}
    with tf.Graph().as_default() as graph:
        input_pipeline.batched_images(corrupt_split, 'cifarnet', is_training=False,
                                      image_size=8, batch_size=2, num_readers=2,
                                      num_preprocessing_threads=5)
        # One file: one reader. Decoding, then preprocessing.
        assert _parallelism(graph) == {'ParallelInterleaveDatasetV4': [(1, 2)],
                                       'ParallelMapDatasetV2': [5, 5]}
    with tf.Graph().as_default() as graph:
        input_pipeline.batched_images(corrupt_split, 'cifarnet', is_training=False,
                                      image_size=8, batch_size=2)
        assert _parallelism(graph) == {
            'ParallelInterleaveDatasetV4': [(1, tf.data.AUTOTUNE)],
            'ParallelMapDatasetV2': [tf.data.AUTOTUNE, tf.data.AUTOTUNE]}


def test_eval_pipeline_reads_every_example_once_with_a_partial_last_batch(digits_dir):
    with tf.Graph().as_default():
        split = dataset_factory.get_dataset('digits', 'validation', digits_dir)
        batches = _read_batches(input_pipeline.batched_images(
            split, 'lenet', is_training=False, image_size=28, batch_size=100))
    assert [len(batch['labels']) for batch in batches] == [100, 100, 100, 64]
    labels = np.concatenate([batch['labels'] for batch in batches])
    data = load_digits()
    expected = data.target[convert_digits.split_indices(data.target)['validation']]
    np.testing.assert_array_equal(labels, expected)
    assert batches[0]['images'].shape == (100, 28, 28, 1)
    assert [batch['skipped'] for batch in batches] == [0, 0, 0, 0]


def test_training_pipeline_gives_full_shuffled_batches_with_labels_offset(flowers_like_dir):
    with tf.Graph().as_default():
        split = dataset_factory.get_dataset('flowers', 'train', flowers_like_dir)
        batches = input_pipeline.batched_images(
            split, 'inception_v3', is_training=True, image_size=33, batch_size=5,
            labels_offset=1, seed=3)
        assert batches.element_spec['images'].shape.as_list() == [5, 33, 33, 3]
        values = _read_batches(batches, max_batches=4)
    all_labels = np.concatenate([batch['labels'] for batch in values])
    assert all_labels.min() >= -1 and all_labels.max() <= 3
    assert all(batch['images'].min() >= -1.0 and batch['images'].max() <= 1.0
               for batch in values)


def test_training_skips_corrupt_records_and_evaluation_reports_them(tmp_path, caplog):
    data_dir, train_dir = tmp_path / 'digits', str(tmp_path / 'train')
    data_dir.mkdir()
    for split_name in ('train', 'validation'):
        write_split_with_corrupt_records(str(data_dir / ('digits_%s.tfrecord' % split_name)),
                                         [0, 1, 2, 3, 4, 5], 1, 'png', 8)
    dataset_splits.write_dataset_metadata(str(data_dir), {'train': 8, 'validation': 8}, 10)

    caplog.set_level(logging.INFO)
    trainer.train(digits_train_options(str(data_dir), train_dir, batch_size=4,
                                       max_number_of_steps=4, log_every_n_steps=4,
                                       deterministic_input=True))
    # One record in four is unreadable, so about 5 come with 16 examples (a fixed order).
    logged = re.search(r'step 4/4: .*, (\d+) corrupt input records skipped so far', caplog.text)
    assert logged and int(logged.group(1)) >= 4
    skipped_summaries = [value.simple_value
                         for path in glob.glob(os.path.join(train_dir, 'events.out.tfevents.*'))
                         for event in tf.train.summary_iterator(path)
                         for value in event.summary.value
                         if value.tag == 'input/corrupt_records_skipped']
    # Written at the first step; in this fixed order an unreadable record precedes it.
    assert skipped_summaries and min(skipped_summaries) >= 1

    caplog.clear()
    evaluator.evaluate(EvalOptions(
        dataset_name='digits', dataset_split_name='validation', model_name='lenet',
        dataset_dir=str(data_dir), checkpoint_path=train_dir, eval_dir=train_dir + '/eval',
        batch_size=4))
    with open(os.path.join(train_dir, 'eval', 'eval_results.json')) as f:
        results = json.load(f)
    assert (results['num_examples'], results['num_unreadable_examples']) == (6, 2)
    assert "2 example(s) of split 'validation' of 'digits' could not be read" in caplog.text
    assert 'eval batch 2/2: 6 examples (2 unreadable)' in caplog.text
    assert 'should have' not in caplog.text  # the unreadable records count as read
