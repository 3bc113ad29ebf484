"""tools/ holds thin scripts: none imports another tool, each calls what the package has,
they run as commands, and every tools/ path the documentation, configs and scripts name
exists."""
import ast
import glob
import importlib
import os.path as osp
import re
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCRIPTS = sorted(glob.glob(osp.join(ROOT, 'tools', '**', '*.py'), recursive=True))
THIN = [p for p in SCRIPTS if osp.basename(osp.dirname(p)) in
        ('analysis', 'benchmarks', 'experiments', 'dataset_converters')]


def _imports(path):
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_no_tool_imports_another_tool():
    stems = {osp.splitext(osp.basename(p))[0] for p in SCRIPTS}
    assert {'cross_validate', 'synthetic_to_real', 'benchmark'} <= stems
    for path in SCRIPTS:
        names = set(_imports(path))
        others = {n for n in names if n.split('.')[0] in stems or n.startswith('tools')}
        assert not others, f'{path} imports the tool(s) {sorted(others)}'
        with open(path) as f:
            assert 'spec_from_file_location' not in f.read(), path


def test_thin_scripts_call_the_package():
    """Each thin script imports names the package has (no path tricks)."""
    assert len(THIN) >= 14
    for path in THIN:
        with open(path) as f:
            assert 'sys.path' not in f.read(), path
        with open(path) as f:
            tree = ast.parse(f.read(), path)
        calls = [(node.module, [a.name for a in node.names]) for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and (node.module or '').startswith(
                     'echoseg.')]
        assert calls, f'{path} calls nothing of the package'
        for module, names in calls:
            imported = importlib.import_module(module)
            assert all(hasattr(imported, n) for n in names), (path, module, names)


@pytest.mark.parametrize('script', ['tools/analysis/cross_validate.py',
                                    'tools/benchmarks/benchmark.py',
                                    'tools/experiments/echoforge_ablation.py'])
def test_a_thin_script_runs_as_a_command(script):
    proc = subprocess.run([sys.executable, script, '--help'], cwd=ROOT, text=True,
                          capture_output=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-1000:]
    assert proc.stdout.startswith('usage: ') and '--cfg-options' in proc.stdout


def _named_tool_paths():
    files = (glob.glob(osp.join(ROOT, 'docs', '**', '*.md'), recursive=True)
             + [osp.join(ROOT, 'README.md')] + SCRIPTS
             + glob.glob(osp.join(ROOT, 'tools', '**', '*.sh'), recursive=True)
             + glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True))
    for path in files:
        with open(path) as f:
            for rel in re.findall(r'(?<![\w/.])tools/[\w/]+\.(?:py|sh)\b', f.read()):
                yield osp.relpath(path, ROOT), rel


def test_every_named_tool_path_exists():
    named = list(_named_tool_paths())
    assert len(named) > 50
    missing = sorted({(src, rel) for src, rel in named if not osp.isfile(osp.join(ROOT, rel))})
    assert not missing, missing
