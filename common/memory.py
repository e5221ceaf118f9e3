"""The peak memory of this process: the host's resident-set high-water mark and, with GPUs,
each GPU allocator's peak, as one figure for logs and benchmark tables.

On Linux the host peak is /proc/self/status's VmHWM, which `reset_peak` restarts from the
current resident memory (by writing 5 to /proc/self/clear_refs), so one process can measure
a stretch of its life. Elsewhere it is getrusage's ru_maxrss, which cannot be reset.
"""

import dataclasses
import resource
import sys

import tensorflow.compat.v1 as tf

from common import devices

STATUS_PATH = '/proc/self/status'
CLEAR_REFS_PATH = '/proc/self/clear_refs'
# What /proc/<pid>/clear_refs takes to reset the peak resident set size (Linux >= 4.0).
_RESET_PEAK_RSS = '5'
GIGABYTE = 10 ** 9
KILOBYTE = 1024


@dataclasses.dataclass(frozen=True)
class PeakMemory:
    """host_bytes: the most resident host memory. gpu_bytes: {GPU device name: its
    allocator's peak bytes}, empty without GPUs."""

    host_bytes: int
    gpu_bytes: dict = dataclasses.field(default_factory=dict)

    def __str__(self):
        """'5.58 GB', or with GPUs '5.58 GB host, 1.20 GB GPU:0'."""
        host = '%.2f GB' % (self.host_bytes / GIGABYTE)
        if not self.gpu_bytes:
            return host
        return ', '.join([host + ' host'] + ['%.2f GB %s' % (peak / GIGABYTE, name)
                                             for name, peak in self.gpu_bytes.items()])


def peak_host_bytes(status_path=STATUS_PATH):
    """The most resident memory this process has held, in bytes: since it started, or since
    the last `reset_peak`."""
    if tf.io.gfile.exists(status_path):
        with tf.io.gfile.GFile(status_path) as status:
            for line in status:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) * KILOBYTE
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Kilobytes on Linux, bytes on macOS.
    return maxrss if sys.platform == 'darwin' else maxrss * KILOBYTE


def _gpu_device(physical_name):
    """'GPU:0' of the physical device name '/physical_device:GPU:0'."""
    return physical_name.rpartition('physical_device:')[2]


def peak_gpu_bytes():
    """{'GPU:0': peak bytes, ...}: each GPU allocator's peak since start-up or the last
    `reset_peak`; {} without GPUs. The allocators are per process, so this counts the
    sessions' tensors too."""
    return {device: tf.config.experimental.get_memory_info(device)['peak']
            for device in map(_gpu_device, devices.gpu_names())}


def peak_memory():
    """This process's `PeakMemory`."""
    return PeakMemory(peak_host_bytes(), peak_gpu_bytes())


def reset_peak(clear_refs_path=CLEAR_REFS_PATH):
    """Restarts the peaks from the memory in use now; returns whether the host's could be
    (Linux only)."""
    for device in map(_gpu_device, devices.gpu_names()):
        tf.config.experimental.reset_memory_stats(device)
    if not tf.io.gfile.exists(clear_refs_path):
        return False
    with tf.io.gfile.GFile(clear_refs_path, 'w') as clear_refs:
        clear_refs.write(_RESET_PEAK_RSS)
    return True
