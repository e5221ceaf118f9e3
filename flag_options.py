"""Command-line flags defined from option dataclasses.

Training and evaluation take their settings as dataclasses (easy to build in tests and
other programs); the scripts turn each field into an absl flag of the same name, default
and help text, so names and defaults are written down exactly once.
"""

import dataclasses
import typing

from absl import flags


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


def define_flags(options_class, flag_values=flags.FLAGS):
    """Defines one absl flag per field of `options_class`."""
    hints = typing.get_type_hints(options_class)
    for field in dataclasses.fields(options_class):
        if field.metadata['choices']:
            flags.DEFINE_enum(field.name, field.default, field.metadata['choices'],
                              field.metadata['help'], flag_values=flag_values)
            continue
        definer = _DEFINERS[_base_type(hints[field.name])]
        bounds = {key: field.metadata[name] for key, name in
                  (('lower_bound', 'minimum'), ('upper_bound', 'maximum'))
                  if field.metadata[name] is not None}
        definer(field.name, field.default, field.metadata['help'], flag_values=flag_values,
                **bounds)


def check_ranges(options):
    """Raises ValueError naming the first field of `options` (a dataclass of `option`s)
    outside its `minimum`/`maximum`, and the range it must be in. None is always allowed."""
    for field in dataclasses.fields(options):
        value = getattr(options, field.name)
        low, high = field.metadata['minimum'], field.metadata['maximum']
        if value is None or (low is None or value >= low) and (high is None or value <= high):
            continue
        if high is None:
            expected = 'at least %s' % low
        elif low is None:
            expected = 'at most %s' % high
        else:
            expected = 'between %s and %s' % (low, high)
        raise ValueError('--%s=%s is out of range: it must be %s.'
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
