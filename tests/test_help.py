"""Each tool's --help lists its own flags by option group, with types, defaults and valid
values; --helpfull adds absl's and TensorFlow's. Enumerations are enum flags whose values
come from the code. The README's flags agree with the tools'."""

import ast
import dataclasses
import os
import re

import pytest
from absl import flags
from support import ROOT, run_script

import flag_options
from datasets import build_imagenet_data
from evaluation.eval_options import EvalOptions
from exporting.export_options import ExportOptions
from flag_options import option
from inference.classify_options import ClassifyOptions
from training import optimization
from training.train_options import TrainOptions

# The tools whose flags are generated from an options dataclass.
OPTIONS_OF = {
    'train_image_classifier.py': TrainOptions,
    'eval_image_classifier.py': EvalOptions,
    'export_inference_graph.py': ExportOptions,
    'classify_image.py': ClassifyOptions,
}
# The tools that define their flags themselves, and the modules whose flags they take too.
FLAG_MODULES_OF = {
    'download_and_convert_data.py': [build_imagenet_data],
    'benchmark_nets.py': [],
    'benchmark_input.py': [],
}
TOOLS = [*OPTIONS_OF, *FLAG_MODULES_OF]
# Every tool takes common.cli's --debug.
DEBUG_GROUP = 'common.cli'

# A few flags of absl and TensorFlow that --help leaves to --helpfull.
LIBRARY_FLAGS = ('logtostderr', 'only_check_args', 'verbosity', 'helpxml')


def _script_definitions(script):
    """{name: default, or None where it is no literal} of the flags `script` defines itself
    (its flags.DEFINE_* calls)."""
    with open(os.path.join(ROOT, script), encoding='utf-8') as f:
        tree = ast.parse(f.read())
    definitions = {}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr.startswith('DEFINE_')):
            try:
                definitions[node.args[0].value] = ast.literal_eval(node.args[1])
            except ValueError:
                definitions[node.args[0].value] = None
    return definitions


def _expected_groups(script):
    """{group title: {flag names}} that the --help of `script` shows, its own group first."""
    if script in OPTIONS_OF:
        options_class = OPTIONS_OF[script]
        groups = {}
        for options_group in options_class.__mro__:
            for name in vars(options_group).get('__annotations__', {}):
                groups.setdefault(flag_options.group_title(options_class, name), set()).add(name)
    else:
        groups = {script: set(_script_definitions(script))}
        for module in FLAG_MODULES_OF[script]:
            groups[module.__name__] = {
                flag.name for flag in flags.FLAGS.get_flags_for_module(module.__name__)}
    return {**groups, DEBUG_GROUP: {'debug'}}


def _listed_groups(help_text):
    """{group title: [flag names]} of a --help text, in its order."""
    groups, title = {}, None
    for line in help_text.split('\nflags:\n', 1)[1].splitlines():
        heading = re.fullmatch(r'(\S.*):', line)
        flag = re.match(r'  --(?:\[no\])?(\w+):(?: |$)', line)
        if heading:
            title = heading.group(1)
            groups[title] = []
        elif flag:
            groups[title].append(flag.group(1))
    return groups


def _flag_help(help_text, name):
    """The help of flag `name` in a --help text, its wrapped lines joined."""
    match = re.search(r'^  --(?:\[no\])?%s:\s(.*?)(?=\n  --|\n\n)' % name, help_text,
                      re.MULTILINE | re.DOTALL)
    assert match, name
    return ' '.join(match.group(1).split())


def _docstring(script):
    with open(os.path.join(ROOT, script), encoding='utf-8') as f:
        return ast.get_docstring(ast.parse(f.read()), clean=False)


@pytest.mark.parametrize('script', TOOLS)
def test_help_lists_every_flag_of_the_tool_by_group_and_no_library_flag(script, tmp_path):
    result = run_script(script, '--help', cwd=tmp_path)
    assert result.returncode == 1, result.stderr  # absl's status after help, kept
    assert result.stdout.startswith(_docstring(script).rstrip() + '\n\nflags:\n')
    listed = _listed_groups(result.stdout)
    expected = _expected_groups(script)
    assert {title: set(names) for title, names in listed.items()} == expected
    assert sum(map(len, listed.values())) == sum(map(len, expected.values()))  # each once
    assert list(listed)[0] == list(expected)[0] and list(listed)[-1] == DEBUG_GROUP
    for name in LIBRARY_FLAGS:
        assert not re.search(r'--(\[no\])?%s\b' % name, result.stdout), name
    assert 'Try --helpfull' in result.stdout
    if script not in OPTIONS_OF:
        return
    # Type (or range), default and valid values, from the dataclass.
    for field in dataclasses.fields(OPTIONS_OF[script]):
        text = _flag_help(result.stdout, field.name)
        if field.metadata['choices']:
            assert text.startswith('<%s>: ' % '|'.join(field.metadata['choices'])), text
        elif type(field.metadata['minimum']) is int and field.metadata['minimum'] == 1:
            assert '(a positive integer' in text, text
        if field.default not in (None, ''):
            assert re.search(r"default: '%s'\)$" % re.escape(
                str(field.default).lower() if isinstance(field.default, bool)
                else str(field.default)), text), text


def test_helpshort_is_help_and_helpfull_adds_the_libraries_flags(tmp_path):
    script = 'export_inference_graph.py'
    short = run_script(script, '--helpshort', cwd=tmp_path)
    assert {title: set(names) for title, names in _listed_groups(short.stdout).items()} == \
        _expected_groups(script)
    full = run_script(script, '--helpfull', cwd=tmp_path)
    assert full.returncode == 1, full.stderr
    for name in [field.name for field in dataclasses.fields(ExportOptions)] + ['debug']:
        assert re.search(r'--(\[no\])?%s: ' % name, full.stdout), name
    for name in LIBRARY_FLAGS:
        assert re.search(r'--(\[no\])?%s: ' % name, full.stdout), name


BAD_ENUM_VALUES = [
    ('train_image_classifier.py', 'optimizer', 'adamw', optimization.OPTIMIZERS),
    ('download_and_convert_data.py', 'dataset_name', 'pets',
     ('cifar10', 'custom', 'digits', 'flowers', 'imagenet', 'mnist', 'visualwakewords')),
]


@pytest.mark.parametrize('script, name, value, valid', BAD_ENUM_VALUES,
                         ids=[case[1] for case in BAD_ENUM_VALUES])
def test_a_bad_enum_value_is_one_line_naming_the_valid_values(script, name, value, valid,
                                                              tmp_path):
    result = run_script(script, '--%s=%s' % (name, value), cwd=tmp_path)
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr
    assert ('FATAL Flags parsing error: flag --%s=%s: value should be one of <%s>\n'
            % (name, value, '|'.join(valid))) in result.stderr


@pytest.mark.parametrize('options_class', list(OPTIONS_OF.values()))
def test_options_with_choices_are_enum_flags_with_their_defaults(options_class):
    flag_values = flags.FlagValues()
    flag_options.define_flags(options_class, flag_values)
    flag_values(['tool'])
    for field in dataclasses.fields(options_class):
        flag = flag_values[field.name]
        assert flag.value == field.default
        if field.metadata['choices']:
            assert list(flag.parser.enum_values) == list(field.metadata['choices'])


def test_enumerations_keep_tf_slims_defaults_and_list_the_codes_values():
    options = TrainOptions()
    assert (options.optimizer, options.learning_rate_decay_type, options.mixed_precision,
            options.augmentation) == ('rmsprop', 'exponential', 'float32', 'none')
    metadata = {field.name: field.metadata for field in dataclasses.fields(TrainOptions)}
    assert metadata['optimizer']['choices'] == optimization.OPTIMIZERS
    assert metadata['learning_rate_decay_type']['choices'] == optimization.DECAY_TYPES


@dataclasses.dataclass
class _StyleOptions:
    style: str | None = option(None, 'A style.', choices=('plain', 'fancy'))


def test_an_enum_may_default_to_none_and_options_built_in_code_are_checked():
    flag_values = flags.FlagValues()
    flag_options.define_flags(_StyleOptions, flag_values)
    flag_values(['tool'])
    assert flag_options.options_from_flags(_StyleOptions, flag_values) == _StyleOptions()
    flag_values(['tool', '--style=fancy'])
    assert flag_options.options_from_flags(_StyleOptions, flag_values) == _StyleOptions('fancy')
    flag_options.check_ranges(_StyleOptions())
    with pytest.raises(ValueError, match=r'^--style=gaudy is not a valid value: it must be one '
                                         r'of plain, fancy\.$'):
        flag_options.check_ranges(_StyleOptions('gaudy'))
    with pytest.raises(ValueError, match='^--optimizer=lamb is not a valid value: it must be one '
                                         'of adadelta, adagrad, adam, ftrl, momentum, rmsprop, '
                                         'sgd.$'):
        flag_options.check_ranges(TrainOptions(optimizer='lamb'))


def test_group_titles_are_the_dataclass_names_in_words():
    assert flag_options.group_title(TrainOptions, 'learning_rate') == 'Learning rate'
    assert flag_options.group_title(TrainOptions, 'optimizer') == 'Optimizer'
    assert flag_options.group_title(TrainOptions, 'mixed_precision') == 'Precision'


# --- The README ---

# Flags the README gives other programs: tensorboard, `tfds build`, pip; and absl's own.
OTHER_FLAGS = {'logdir', 'data_dir', 'no-deps', 'flagfile', 'help', 'helpfull', 'only-binary',
               'python-version'}

# '`--name` (default VALUE)' or '`--name`, default VALUE', VALUE a word, number or `code`.
README_DEFAULT = re.compile(r'`--(\w+)`,? \(?default:? (`[^`]+`|[\w.-]+)(?=[,;):])')
# '`--name` (default VALUE): a, b (note) or c.': an enumeration with all its values.
README_VALUES = re.compile(r'`--(\w+)` \(default\s+\w+\):\s+([^.]*)\.')


def _defaults_by_flag():
    """{flag name: [its defaults in the tools that have it]} of every tool's flags."""
    defaults = {'debug': [False]}
    for options_class in OPTIONS_OF.values():
        for field in dataclasses.fields(options_class):
            defaults.setdefault(field.name, []).append(field.default)
    for script, modules in FLAG_MODULES_OF.items():
        for name, default in _script_definitions(script).items():
            defaults.setdefault(name, []).append(default)
        for module in modules:
            for flag in flags.FLAGS.get_flags_for_module(module.__name__):
                defaults.setdefault(flag.name, []).append(flag.default)
    return defaults


def _readme():
    with open(os.path.join(ROOT, 'README.md'), encoding='utf-8') as f:
        return f.read()


def _is(text, default):
    """Whether the README's `text` states `default`."""
    text = text.strip('`')
    if isinstance(default, bool):
        return text == str(default).lower()
    if isinstance(default, (int, float)):
        return re.fullmatch(r'-?[\d.]+', text) is not None and float(text) == default
    return text == default


def test_the_readme_names_only_real_flags_and_every_flag_of_every_tool():
    mentioned = set(re.findall(r'--([a-z][a-z0-9_-]*)', _readme()))
    tool_flags = set(_defaults_by_flag())
    assert mentioned - OTHER_FLAGS <= tool_flags, sorted(mentioned - OTHER_FLAGS - tool_flags)
    assert tool_flags <= mentioned, sorted(tool_flags - mentioned)


def test_the_readme_states_the_defaults_and_valid_values_of_the_code():
    defaults = _defaults_by_flag()
    stated = README_DEFAULT.findall(_readme())
    assert len(stated) >= 10
    for name, value in stated:
        assert any(_is(value, default) for default in defaults[name]), (name, value)
    choices = {field.name: field.metadata['choices'] for field in dataclasses.fields(TrainOptions)
               if field.metadata['choices']}
    listed = {name: re.split(r'\s*,\s*|\s+or\s+', re.sub(r'\s*\([^()]*\)', '', values))
              for name, values in README_VALUES.findall(_readme())}
    assert {'optimizer', 'learning_rate_decay_type', 'mixed_precision'} <= set(listed)
    for name, values in listed.items():
        assert sorted(values) == sorted(choices[name]), name
