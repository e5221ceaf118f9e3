"""The layering of the README's layout table, enforced on every module's imports.

From the bottom: the foundation, then nets/preprocessing/datasets/deployment, then
training/evaluation/exporting/inference/benchmarks, then the scripts. A module may import its
own package, the foundation and the layers below; a package of the same layer only where
ALLOWED_SIBLING_IMPORTS says so, and never a script.
"""

import ast
import os
import subprocess
import sys

import pytest
from support import ROOT

FOUNDATION = ('tf_compat', 'flag_options', 'option_groups', 'mixed_precision', 'common')
LAYERS = (
    FOUNDATION,
    ('nets', 'preprocessing', 'datasets', 'deployment'),
    ('training', 'evaluation', 'exporting', 'inference', 'benchmarks'),
)
PACKAGES = [name for layer in LAYERS for name in layer if name not in (
    'tf_compat', 'flag_options', 'option_groups', 'mixed_precision')]
LAYER_OF = {name: index for index, layer in enumerate(LAYERS) for name in layer}

# (importing package, imported module): the public module one package of a layer uses from
# another of the same layer, and why.
ALLOWED_SIBLING_IMPORTS = {
    # The input pipeline applies each network's preprocessing.
    ('datasets', 'preprocessing.preprocessing_factory'),
    # The network registry names each network's preprocessing style.
    ('preprocessing', 'nets.nets_factory'),
    # The benchmark times the train step exactly as training builds it.
    ('benchmarks', 'training.train_graph'),
    ('benchmarks', 'training.train_options'),
}


def _project_modules():
    """[(module name, path)] of every project module outside tests, scripts included."""
    modules = []
    for entry in sorted(os.listdir(ROOT)):
        path = os.path.join(ROOT, entry)
        if entry.endswith('.py'):
            modules.append((entry[:-3], path))
        elif entry in LAYER_OF:
            for directory, _, files in os.walk(path):
                package = os.path.relpath(directory, ROOT).replace(os.sep, '.')
                modules += [('%s.%s' % (package, name[:-3]), os.path.join(directory, name))
                            for name in sorted(files) if name.endswith('.py')]
    return modules


def _imported_project_modules(path, known_tops):
    """The dotted names of project modules that the file at `path` imports."""
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read(), path)
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            # `from package import module` imports package.module when that is a module.
            imported.update('%s.%s' % (node.module, alias.name) for alias in node.names)
    return {name for name in imported if name.split('.')[0] in known_tops}


def layer_violations():
    """['importer imports imported: reason'] for every import against the layering."""
    modules = _project_modules()
    module_names = {name for name, _ in modules}
    scripts = {name for name in module_names if '.' not in name and name not in LAYER_OF}
    known_tops = set(LAYER_OF) | scripts
    violations = []
    for importer, path in modules:
        top = importer.split('.')[0]
        if top in scripts:
            continue
        for name in sorted(_imported_project_modules(path, known_tops)):
            # `from package import function` names no module: keep the module part.
            while name not in module_names and '.' in name:
                name = name.rsplit('.', 1)[0]
            imported_top = name.split('.')[0]
            if imported_top == top:
                continue
            if imported_top in scripts:
                reason = 'a script'
            elif LAYER_OF[imported_top] > LAYER_OF[top]:
                reason = 'a layer above'
            elif (LAYER_OF[imported_top] == LAYER_OF[top] and LAYER_OF[top] > 0
                  and (top, name) not in ALLOWED_SIBLING_IMPORTS):
                reason = 'a package of the same layer'
            else:
                continue
            violations.append('%s imports %s: %s' % (importer, name, reason))
    return violations


def test_no_module_imports_a_layer_above_a_sibling_or_a_script():
    assert layer_violations() == []


def test_the_checker_sees_violations(monkeypatch):
    # Without the allowed sibling imports, those imports are reported.
    monkeypatch.setattr(sys.modules[__name__], 'ALLOWED_SIBLING_IMPORTS', set())
    violations = layer_violations()
    assert ('datasets.input_pipeline imports preprocessing.preprocessing_factory: a package '
            'of the same layer') in violations
    assert ('benchmarks.network_timing imports training.train_graph: a package of the same layer'
            in violations)


@pytest.mark.parametrize('package', PACKAGES)
def test_each_package_imports_on_its_own(package):
    result = subprocess.run(
        [sys.executable, '-c', 'import importlib, pkgutil, %s as p\n'
         'for m in pkgutil.walk_packages(p.__path__, p.__name__ + "."):\n'
         '    importlib.import_module(m.name)' % package],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
