"""Shared test data: the built-in digits TFRecords and tiny generated datasets, as fixtures;
the order in which the test modules run. Helper functions are in support.py."""

import tf_compat  # noqa: F401  (first: TensorFlow fixes; see tf_compat.py)

import dataclasses

import pytest
from support import make_flowers_like, make_random_split

from datasets import convert_digits
from nets import nets_factory

# The test modules that take longest, in the order they start. `make test` hands whole modules
# to two workers in collection order (`--dist loadfile --no-loadscope-reorder`): a long module
# taken last would keep one worker busy while the other has nothing left to do.
SLOWEST_MODULES_FIRST = (
    'test_recipes.py', 'test_nets_factory.py', 'test_training.py', 'test_converters.py',
    'test_nets_nasnet.py', 'test_nets_resnet_mobilenet.py', 'test_fine_tuning.py',
    'test_filesystems.py', 'test_scripts.py', 'test_nets_inception_family.py',
    'test_classify.py', 'test_replicated.py', 'test_eval_pictures.py',
)


def pytest_collection_modifyitems(items):
    """Runs SLOWEST_MODULES_FIRST first; the other modules follow in their usual order."""
    def rank(item):
        name = item.path.name
        return SLOWEST_MODULES_FIRST.index(name) if name in SLOWEST_MODULES_FIRST \
            else len(SLOWEST_MODULES_FIRST)
    items.sort(key=rank)


@pytest.fixture
def lenet_forward_in_bfloat16(monkeypatch):
    """LeNet's evaluation and classification compute in bfloat16 when asked, as faster
    networks' do: its measured 0.92x forward pass would otherwise keep them in float32, and
    the tests of bfloat16's numerics use LeNet for its speed."""
    spec = nets_factory.NETWORKS['lenet']
    monkeypatch.setitem(nets_factory.NETWORKS, 'lenet',
                        dataclasses.replace(spec, slower_in_bfloat16=None))


@pytest.fixture(scope='session')
def digits_dir(tmp_path_factory):
    directory = str(tmp_path_factory.mktemp('digits'))
    convert_digits.run(directory)
    return directory


@pytest.fixture(scope='session')
def flowers_like_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp('flowers_like')
    make_flowers_like(str(directory))
    return str(directory)


@pytest.fixture(scope='session')
def mnist_like_dir(tmp_path_factory):
    """A few 28 x 28 grayscale PNGs in MNIST's layout (mnist_train.tfrecord)."""
    directory = str(tmp_path_factory.mktemp('mnist_like'))
    make_random_split(directory + '/mnist_train.tfrecord', 6, list(range(10)), 1, 'png', (28, 28))
    return directory


@pytest.fixture(scope='session')
def cifar10_like_dir(tmp_path_factory):
    """A few 32 x 32 RGB PNGs in CIFAR-10's layout (cifar10_train.tfrecord)."""
    directory = str(tmp_path_factory.mktemp('cifar10_like'))
    make_random_split(directory + '/cifar10_train.tfrecord', 6, list(range(10)), 3, 'png',
                      (32, 32))
    return directory


@pytest.fixture(scope='session')
def imagenet_like_dir(tmp_path_factory):
    """A few JPEGs with boxes in ImageNet's layout (train-00000-of-00001), labels 1..1000."""
    directory = str(tmp_path_factory.mktemp('imagenet_like'))
    make_random_split(directory + '/train-00000-of-00001', 6, [1, 1000, 500], 3, 'jpeg',
                      (60, 140))
    return directory
