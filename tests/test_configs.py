"""Every flag file in configs/ parses and names things the factories know."""

import glob
import os

import pytest
from absl import flags

import flag_options
from evaluation.eval_options import EvalOptions
from nets import nets_factory
from preprocessing import preprocessing_factory
from training.train_options import TrainOptions

CONFIGS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'configs')

# Networks published without ImageNet's background class.
THOUSAND_CLASS_PREFIXES = ('vgg_', 'resnet_v1_')


def _parse(options_class, path):
    flag_values = flags.FlagValues()
    flag_options.define_flags(options_class, flag_values)
    flag_values(['program', '--flagfile=' + path])
    return flag_options.options_from_flags(options_class, flag_values)


@pytest.mark.parametrize('path', sorted(glob.glob(os.path.join(CONFIGS, 'eval', '*.flags'))),
                         ids=os.path.basename)
def test_published_checkpoint_eval_configs(path):
    options = _parse(EvalOptions, path)
    assert options.model_name in nets_factory.networks_map
    assert options.preprocessing_name in preprocessing_factory.PREPROCESSING_MODULES
    assert options.dataset_name == 'imagenet' and options.dataset_split_name == 'validation'
    assert options.eval_image_size in (128, 160, 224, 299, 331)
    expected_offset = 1 if options.model_name.startswith(THOUSAND_CLASS_PREFIXES) else 0
    assert options.labels_offset == expected_offset


def test_eval_configs_cover_every_published_checkpoint():
    names = {os.path.basename(p)[:-len('.flags')]
             for p in glob.glob(os.path.join(CONFIGS, 'eval', '*.flags'))}
    assert len(names) == 22
    assert {'inception_v3_2016_08_28', 'resnet_v1_50_2016_08_28', 'mobilenet_v1_0.25_128',
            'pnasnet-5_large_2017_12_13'} <= names


def test_lenet_digits_recipe():
    options = _parse(TrainOptions, os.path.join(CONFIGS, 'lenet_digits.flags'))
    assert (options.model_name, options.dataset_name, options.optimizer) == (
        'lenet', 'digits', 'momentum')
    assert options.max_number_of_steps == 800 and options.weight_decay == 0
