"""Command-line flags defined from option dataclasses.

Training and evaluation take their settings as dataclasses (easy to build in tests and
other programs); the scripts turn each field into an absl flag of the same name, default
and help text, so names and defaults are written down exactly once.
"""

import dataclasses
import typing

from absl import flags


def option(default, help_text, choices=None):
    """A dataclass field carrying its flag help text; `choices` makes a string flag an enum
    (absl then rejects other values, listing the valid ones)."""
    return dataclasses.field(default=default,
                             metadata={'help': help_text, 'choices': choices})


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


def define_flags(options_class, flag_values=flags.FLAGS):
    """Defines one absl flag per field of `options_class`."""
    hints = typing.get_type_hints(options_class)
    for field in dataclasses.fields(options_class):
        if field.metadata['choices']:
            flags.DEFINE_enum(field.name, field.default, field.metadata['choices'],
                              field.metadata['help'], flag_values=flag_values)
            continue
        definer = _DEFINERS[_base_type(hints[field.name])]
        definer(field.name, field.default, field.metadata['help'], flag_values=flag_values)


def subset(options, options_class):
    """The `options_class` instance holding those fields of `options` (a dataclass that has
    them all), for helpers that need one group of settings only."""
    return options_class(**{field.name: getattr(options, field.name)
                            for field in dataclasses.fields(options_class)})


def options_from_flags(options_class, flag_values=flags.FLAGS):
    """Builds an `options_class` instance from parsed flag values."""
    return options_class(**{field.name: flag_values[field.name].value
                            for field in dataclasses.fields(options_class)})
