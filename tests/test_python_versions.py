"""The supported Python versions, stated once (pyproject.toml's requires-python) and repeated
consistently: the classifiers, the README, ruff's target version, and the versions that
`make check-wheels` (tools/check_wheels.py) checks. No network: the wheel check itself runs in
`make test` before pytest."""

import os
import re
import sys
import tomllib

from support import ROOT

from tools import check_wheels


def _pyproject():
    with open(os.path.join(ROOT, 'pyproject.toml'), 'rb') as f:
        return tomllib.load(f)


def test_the_wheel_check_covers_exactly_the_classifiers_versions():
    classified = [classifier.rsplit(' :: ', 1)[1]
                  for classifier in _pyproject()['project']['classifiers']
                  if re.fullmatch(r'Programming Language :: Python :: 3\.\d+', classifier)]
    supported = check_wheels.supported_versions()
    assert supported == classified
    # A closed range of consecutive versions, bounded above.
    assert len(supported) >= 1 and supported[-1] != '3.%d' % check_wheels.CANDIDATE_MINORS[-1]
    minors = [int(version.split('.')[1]) for version in supported]
    assert minors == list(range(minors[0], minors[-1] + 1))
    assert check_wheels.neighbour_versions(supported) == [
        '3.%d' % (minors[0] - 1), '3.%d' % (minors[-1] + 1)]


def test_ruff_checks_the_code_against_the_lowest_supported_version():
    """Ruff's target version flags syntax and library use newer than the lowest version."""
    lowest = check_wheels.supported_versions()[0]
    assert _pyproject()['tool']['ruff']['target-version'] == 'py' + lowest.replace('.', '')
    assert 'UP' in _pyproject()['tool']['ruff']['lint']['select']


def test_the_readme_names_the_supported_versions():
    with open(os.path.join(ROOT, 'README.md'), encoding='utf-8') as f:
        (line,) = [line for line in f if line.startswith('**Supported Python versions:')]
    assert re.findall(r'3\.\d+', line) == check_wheels.supported_versions()


def test_this_python_is_supported():
    assert '%d.%d' % sys.version_info[:2] in check_wheels.supported_versions()
