"""The peak-memory figure (common/memory.py) and the training log's use of it."""

import logging
import re
import sys

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from common import memory
from training import hooks

linux_only = pytest.mark.skipif(not sys.platform.startswith('linux'),
                                reason='VmHWM and clear_refs are Linux\'s')


def test_peak_host_bytes_reads_the_high_water_mark_of_a_status_file(tmp_path):
    status = tmp_path / 'status'
    status.write_text('Name:\tpython\nVmPeak:\t 9000000 kB\nVmHWM:\t  5449216 kB\n'
                      'VmRSS:\t  1000000 kB\n')
    assert memory.peak_host_bytes(str(status)) == 5449216 * 1024


@linux_only
def test_the_host_peak_holds_a_freed_allocation_until_reset():
    memory.reset_peak()
    before = memory.peak_host_bytes()
    block = np.ones(100 * 10 ** 6 // 8)  # 100 MB, touched
    del block
    held = memory.peak_host_bytes()
    assert held >= before + 95 * 10 ** 6
    assert memory.reset_peak()
    assert memory.peak_host_bytes() < held - 70 * 10 ** 6


def test_reset_peak_without_clear_refs_says_so(tmp_path):
    assert not memory.reset_peak(str(tmp_path / 'missing'))


def test_peak_memory_reads_as_gigabytes_with_each_gpu():
    assert str(memory.PeakMemory(5_580_000_000)) == '5.58 GB'
    assert str(memory.PeakMemory(3_930_000_000, {'GPU:0': 1_200_000_000})) == (
        '3.93 GB host, 1.20 GB GPU:0')


@pytest.mark.skipif(not tf.config.list_physical_devices('GPU'), reason='needs a GPU')
def test_the_gpu_peak_counts_a_session_tensor():
    with tf.Graph().as_default(), tf.Session() as session, tf.device('/GPU:0'):
        memory.reset_peak()
        session.run(tf.reduce_sum(tf.ones([64, 1024, 1024])))  # 256 MB on GPU:0
    assert memory.peak_gpu_bytes()['GPU:0'] >= 256 * 2 ** 20


def test_progress_lines_report_the_peak_memory(caplog):
    with tf.Graph().as_default():
        global_step = tf.train.get_or_create_global_step()
        loss = tf.constant(0.5)
        step = tf.assign_add(global_step, 1)
        logger = hooks.ProgressLogger(loss, tf.constant(0.01), examples_per_step=2,
                                      every_n_steps=2, last_step=4)
        with caplog.at_level(logging.INFO), tf.train.MonitoredSession(hooks=[logger]) as session:
            for _ in range(4):
                session.run(step)
    lines = [record.getMessage() for record in caplog.records
             if record.getMessage().startswith('step ')]
    assert [line.split(':')[0] for line in lines] == ['step 2/4', 'step 4/4']
    for line in lines:
        peak_gigabytes = re.fullmatch(r'.*, peak memory (\d+\.\d\d) GB', line).group(1)
        assert 0.1 < float(peak_gigabytes) <= memory.peak_host_bytes() / 1e9 + 0.01
