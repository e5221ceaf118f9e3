"""The option groups: every option declared once, each tool's defaults, one-pass checks."""

import dataclasses

import pytest
from absl import flags

import flag_options
import option_groups
from common.errors import ConfigurationError, UserError
from evaluation.eval_options import EvalOptions
from exporting.export_options import ExportOptions
from inference.classify_options import ClassifyOptions
from training.train_options import TrainOptions

TOOLS = (TrainOptions, EvalOptions, ExportOptions, ClassifyOptions)


def _declaring_classes():
    """{field name: [the classes whose own annotations declare it]}, over every class of the
    tools' option dataclasses; `with_defaults` subclasses only set defaults."""
    classes = {cls for tool in TOOLS for cls in tool.__mro__
               if dataclasses.is_dataclass(cls) and 'defaults_of' not in vars(cls)}
    declared = {}
    for cls in classes:
        for name in vars(cls).get('__annotations__', {}):
            declared.setdefault(name, []).append(cls.__qualname__)
    return declared


def test_no_option_is_declared_twice():
    twice = {name: owners for name, owners in _declaring_classes().items() if len(owners) > 1}
    assert twice == {}


def test_the_shared_options_are_declared_once_for_every_tool():
    declared = _declaring_classes()
    for name in ('checkpoint_path', 'moving_average_decay', 'dataset_dir', 'model_name',
                 'batch_size', 'saved_model_dir', 'image_size', 'master'):
        assert len(declared[name]) == 1, name


def _flag_default(tool, name):
    values = flags.FlagValues()
    flag_options.define_flags(tool, values)
    return values[name].default, values[name].help


@pytest.mark.parametrize('tool, name, default', [
    # TF-Slim's defaults, which differ between the tools.
    (TrainOptions, 'checkpoint_path', None),
    (EvalOptions, 'checkpoint_path', '/tmp/tfmodel/'),
    (ExportOptions, 'checkpoint_path', None),
    (TrainOptions, 'batch_size', 32),
    (EvalOptions, 'batch_size', 100),
    (ExportOptions, 'batch_size', None),
    (TrainOptions, 'dataset_split_name', 'train'),
    (EvalOptions, 'dataset_split_name', 'test'),
    (ExportOptions, 'dataset_dir', ''),
    (EvalOptions, 'dataset_dir', None),
    (ExportOptions, 'saved_model_dir', ''),
    (ClassifyOptions, 'saved_model_dir', None),
    (ExportOptions, 'model_name', 'inception_v3'),
    (ClassifyOptions, 'model_name', None),
])
def test_each_tool_keeps_its_default_with_the_one_help_text(tool, name, default):
    flag_default, help_text = _flag_default(tool, name)
    assert flag_default == default
    assert getattr(tool(), name) == (None if default == '' and name == 'dataset_dir'
                                     else default)
    # One declaration: the same help text whatever the default.
    assert help_text == _flag_default(TrainOptions if name != 'saved_model_dir'
                                      else ExportOptions, name)[1]


def test_an_empty_dataset_dir_means_none():
    assert ExportOptions().dataset_dir is None
    assert ExportOptions(dataset_dir='').dataset_dir is None
    assert ExportOptions(dataset_dir='/data').dataset_dir == '/data'


def test_with_defaults_refuses_an_unknown_field():
    with pytest.raises(TypeError, match='CheckpointOptions has no field checkpoint'):
        option_groups.with_defaults(option_groups.CheckpointOptions, checkpoint='x')


def test_check_runs_each_groups_check_once_ranges_first(tmp_path):
    # A range error comes before any group's own check (here the missing checkpoint path).
    with pytest.raises(ValueError, match='--top_k=0 is out of range'):
        ClassifyOptions(top_k=0).check()
    with pytest.raises(ConfigurationError, match='Nothing to classify with'):
        ClassifyOptions().check()
    # Every comma-separated checkpoint path is checked for pattern characters.
    with pytest.raises(UserError, match=r'--checkpoint_path=runs/\[1\] contains \['):
        EvalOptions(eval_dir=str(tmp_path), checkpoint_path='a,runs/[1]').check()
    EvalOptions(eval_dir=str(tmp_path), checkpoint_path=str(tmp_path)).check()
