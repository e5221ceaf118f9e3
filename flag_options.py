"""Command-line flags defined from option dataclasses.

Training and evaluation take their settings as dataclasses (easy to build in tests and
other programs); the scripts turn each field into an absl flag of the same name, default
and help text, so names and defaults are written down exactly once.

A tool's `--help` lists its own flags, grouped by the option dataclass declaring each, with
types, defaults and valid values (absl's own `--help` shows only the flags the script defines
itself, ungrouped); `--helpfull` lists absl's and TensorFlow's too.
"""

import dataclasses
import os
import re
import sys
import typing

from absl import app, flags

from common.errors import ConfigurationError


def option(default, help_text, choices=None, minimum=None, maximum=None):
    """A dataclass field carrying its flag help text.

    `choices` makes a string flag an enum; `minimum` and `maximum` bound a number
    (inclusive). absl rejects other values while parsing the flags, and `check_ranges`
    rejects them in options built in code.
    """
    return dataclasses.field(default=default, metadata={
        'help': help_text, 'choices': choices, 'minimum': minimum, 'maximum': maximum})


_DEFINERS = {
    str: flags.DEFINE_string,
    int: flags.DEFINE_integer,
    float: flags.DEFINE_float,
    bool: flags.DEFINE_boolean,
}


def _base_type(annotation):
    """`int` for `int` and for `int | None`."""
    arguments = [a for a in typing.get_args(annotation) if a is not type(None)]
    return arguments[0] if arguments else annotation


def _declaring_class(options_class, field_name):
    """The first class of the MRO of `options_class` that declares field `field_name`."""
    return next(cls for cls in options_class.__mro__
                if field_name in vars(cls).get('__annotations__', {}))


def group_title(options_class, field_name):
    """The title of the option group declaring field `field_name` of `options_class`: the
    name of its dataclass in words ('LearningRateOptions' gives 'Learning rate')."""
    name = _declaring_class(options_class, field_name).__name__
    title = ' '.join(re.findall(r'[A-Z][a-z0-9]*', name.removesuffix('Options'))).capitalize()
    return title or name


def define_flags(options_class, flag_values=flags.FLAGS):
    """Defines one absl flag per field of `options_class`, as flags of the tool running (the
    main module): `--help` lists them under the title of their option group, the groups in
    the order of the MRO (the tool's own class first, then the groups it inherits)."""
    hints = typing.get_type_hints(options_class)
    mro = options_class.__mro__
    fields = sorted(dataclasses.fields(options_class),
                    key=lambda field: mro.index(_declaring_class(options_class, field.name)))
    for field in fields:
        # absl files each flag under the module defining it; the group's title takes its place.
        where = dict(flag_values=flag_values, module_name=group_title(options_class, field.name))
        if field.metadata['choices']:
            flags.DEFINE_enum(field.name, field.default, field.metadata['choices'],
                              field.metadata['help'], **where)
        else:
            definer = _DEFINERS[_base_type(hints[field.name])]
            bounds = {key: field.metadata[name] for key, name in
                      (('lower_bound', 'minimum'), ('upper_bound', 'maximum'))
                      if field.metadata[name] is not None}
            definer(field.name, field.default, field.metadata['help'], **where, **bounds)
    _declare_tool_flags([field.name for field in fields], flag_values)


def _declare_tool_flags(names, flag_values):
    """Makes the flags `names` key flags of the main module (absl names it by sys.argv[0])."""
    for name in names:
        flag_values.register_key_flag_for_module(sys.argv[0], flag_values[name])


def define_help_flags(*modules):
    """Makes `--help` (and `--helpshort`) print the tool's flags by group (`tool_help`): the
    flags `define_flags` defined, those the script itself defines, and every flag of
    `modules` (modules whose flags the tool takes too, such as `common.cli`'s --debug).

    absl's own help flags print only the flags the main module defines, ungrouped; they are
    replaced here, before `app.run` would define them.
    """
    for module in modules:
        _declare_tool_flags([flag.name for flag in flags.FLAGS.get_flags_for_module(module)],
                            flags.FLAGS)
    app.define_help_flags()
    for help_flag in (_ToolHelpFlag(), _ToolHelpshortFlag()):
        for name in (help_flag.name, help_flag.short_name):
            if name:
                delattr(flags.FLAGS, name)
        flags.DEFINE_flag(help_flag, module_name=app.__name__)


def tool_help(flag_values=flags.FLAGS):
    """The help of the running tool: its docstring, then its flags (the key flags of the main
    module) under the title of the group or module defining each, with type, default and
    valid values."""
    groups = {}
    for flag in flag_values.get_key_flags_for_module(sys.argv[0]):
        module = flag_values.find_module_defining_flag(flag.name)
        title = os.path.basename(module) if module == sys.argv[0] else module
        groups.setdefault(title, []).append(flag)
    lines = [(sys.modules['__main__'].__doc__ or 'USAGE: %s [flags]' % sys.argv[0]).rstrip(),
             '', 'flags:']
    for title, group in groups.items():
        lines += ['', '%s:' % title]
        lines += [_flag_help(flag) for flag in sorted(group, key=lambda flag: flag.name)]
    lines += ['', flags.text_wrap('Flags can also be read from a file: --flagfile=FILE. Try '
                                  '--helpfull to get a list of all flags, absl\'s and '
                                  'TensorFlow\'s included.')]
    return '\n'.join(lines)


def _flag_help(flag):
    """The wrapped help lines of `flag`: name, help text, then its type (or range) and default.
    An enum's help text starts with its valid values, as absl writes it."""
    name = '--[no]%s' % flag.name if flag.boolean else '--%s' % flag.name
    kind = flag.parser.syntactic_help or ('a string' if flag.flag_type() == 'string' else '')
    default = 'default: %s' % flag.default_as_str if flag.default_as_str else ''
    notes = '; '.join(note for note in (kind, default) if note)
    text = '%s: %s%s' % (name, flag.help, ' (%s)' % notes if notes else '')
    return flags.text_wrap(text, indent='      ', firstline_indent='  ')


class _ToolHelpFlag(app.HelpFlag):
    """--help: prints `tool_help` and exits, with absl's exit status of help."""

    def parse(self, argument):
        if self._parse(argument):
            print(tool_help())
            sys.exit(1)


class _ToolHelpshortFlag(_ToolHelpFlag):
    """--helpshort: the same as --help, as in absl."""

    NAME = 'helpshort'
    SHORT_NAME = None


def check_ranges(options):
    """Raises ConfigurationError naming the first field of `options` (a dataclass of `option`s)
    outside its `choices` or its `minimum`/`maximum`, and the values it may take; absl checks
    the flags so while parsing them. None is always allowed."""
    for field in dataclasses.fields(options):
        value = getattr(options, field.name)
        choices = field.metadata['choices']
        if value is not None and choices and value not in choices:
            raise ConfigurationError('--%s=%s is not a valid value: it must be one of %s.'
                                     % (field.name, value, ', '.join(choices)))
        low, high = field.metadata['minimum'], field.metadata['maximum']
        if value is None or (low is None or value >= low) and (high is None or value <= high):
            continue
        if high is None:
            expected = 'at least %s' % low
        elif low is None:
            expected = 'at most %s' % high
        else:
            expected = 'between %s and %s' % (low, high)
        raise ConfigurationError('--%s=%s is out of range: it must be %s.'
                                 % (field.name, value, expected))


def subset(options, options_class):
    """The `options_class` instance holding those fields of `options` (a dataclass that has
    them all), for helpers that need one group of settings only."""
    return options_class(**{field.name: getattr(options, field.name)
                            for field in dataclasses.fields(options_class)})


def options_from_flags(options_class, flag_values=flags.FLAGS):
    """Builds an `options_class` instance from parsed flag values."""
    return options_class(**{field.name: flag_values[field.name].value
                            for field in dataclasses.fields(options_class)})
