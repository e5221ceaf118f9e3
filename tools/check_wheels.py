"""Checks that every pinned requirement publishes a Linux x86_64 wheel on PyPI for each CPython
version that pyproject.toml's requires-python admits.

For each version, pip resolves requirements-dev.txt (which includes requirements.txt) as
`--only-binary=:all: --python-version X.Y`, as `pip download` would, but as a dry run that
reads each wheel's metadata through HTTP range requests (fast-deps): PyPI publishes no separate
metadata for most of these wheels, and TensorFlow's are 600 MB each. Prints one line per
version; exits 1 naming each supported version whose resolution failed and pip's error (the
package and version without a wheel). The versions just outside the range are checked too,
and reported, but never fail the check: a release may gain wheels after it is pinned.

Usage: python tools/check_wheels.py
"""

import concurrent.futures
import os
import subprocess
import sys
import tempfile
import tomllib

from packaging.specifiers import SpecifierSet

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REQUIREMENTS = os.path.join(ROOT, 'requirements-dev.txt')
# Wheels that run on glibc 2.28 or newer (Debian 10, RHEL 8, Ubuntu 20.04 and later).
NEWEST_GLIBC_MINOR = 28
PLATFORMS = ['manylinux_2_%d_x86_64' % minor for minor in range(5, NEWEST_GLIBC_MINOR + 1)] + [
    'manylinux2014_x86_64', 'manylinux2010_x86_64', 'manylinux1_x86_64']
# The CPython 3 minor versions worth asking about.
CANDIDATE_MINORS = range(8, 20)


def requires_python():
    """pyproject.toml's requires-python, as a SpecifierSet."""
    with open(os.path.join(ROOT, 'pyproject.toml'), 'rb') as f:
        return SpecifierSet(tomllib.load(f)['project']['requires-python'])


def supported_versions():
    """['3.Y', ...]: the CPython versions requires-python admits, oldest first."""
    specifier = requires_python()
    return [version for version in ('3.%d' % minor for minor in CANDIDATE_MINORS)
            if specifier.contains(version)]


def neighbour_versions(versions):
    """The versions just below and just above `versions` (['3.Y', ...], consecutive)."""
    lowest, highest = (int(version.split('.')[1]) for version in (versions[0], versions[-1]))
    return ['3.%d' % (lowest - 1), '3.%d' % (highest + 1)]


def missing_wheels(python_version):
    """pip's error lines if some pinned requirement has no wheel for `python_version`, else []."""
    with tempfile.TemporaryDirectory() as target:
        # --isolated: PyPI alone, whatever local indexes or constraints pip is configured with.
        command = [sys.executable, '-m', 'pip', 'install', '--isolated', '--quiet', '--dry-run',
                   '--ignore-installed', '--no-deps', '--only-binary=:all:',
                   '--use-feature=fast-deps', '--python-version', python_version,
                   '--target', target, '-r', REQUIREMENTS]
        for platform in PLATFORMS:
            command += ['--platform', platform]
        result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if result.returncode == 0:
        return []
    return [line for line in result.stderr.splitlines() if line.startswith('ERROR:')] or [
        result.stderr.strip()]


def main():
    supported = supported_versions()
    checked = supported + neighbour_versions(supported)
    with concurrent.futures.ThreadPoolExecutor(len(checked)) as pool:
        errors = dict(zip(checked, pool.map(missing_wheels, checked), strict=True))
    failed = []
    for version in checked:
        if version in supported:
            status = 'supported, wheels for every pin' if not errors[version] else 'MISSING WHEELS'
        else:
            status = ('not supported: ' + errors[version][-1] if errors[version] else
                      'not supported, yet every pin has a wheel: requires-python could admit it')
        print('Python %s: %s' % (version, status))
        if version in supported and errors[version]:
            failed.append(version)
            for line in errors[version]:
                print('  %s' % line)
    if failed:
        print('Pinned requirements lack Linux x86_64 wheels for Python %s; change the pins or '
              "pyproject.toml's requires-python" % ', '.join(failed))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
