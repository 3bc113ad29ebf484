"""tools/train.py (echoseg.cli.train): clear errors for the user's usual mistakes."""
import os.path as osp
import re
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BASELINE = osp.join(ROOT, 'configs', 'baselines', 'fcn_r18_synthetic.py')


def _run(*args):
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def _write_cfg(tmp_path, body, name='cfg.py'):
    path = tmp_path / name
    path.write_text(f"_base_ = [{BASELINE!r}]\n{body}\n")
    return str(path)


def test_misspelt_top_level_key(tmp_path):
    cfg = _write_cfg(tmp_path, "optim_wrapperr = dict(type='OptimWrapper')")
    proc = _run('tools/train.py', cfg, '--work-dir', str(tmp_path / 'w'))
    assert proc.returncode == 2
    assert "unknown config key 'optim_wrapperr'" in proc.stderr
    assert "did you mean 'optim_wrapper'" in proc.stderr and 'cfg.py' in proc.stderr


def test_missing_data_root_points_to_docs(tmp_path):
    cfg = _write_cfg(tmp_path, "train_dataloader = dict(dataset=dict(data_root='/no/such/dir'))")
    proc = _run('tools/train.py', cfg, '--work-dir', str(tmp_path / 'w'))
    assert proc.returncode == 2
    assert "/no/such/dir' does not exist" in proc.stderr and 'docs/datasets.md' in proc.stderr


def test_resume_from_a_missing_checkpoint(tmp_path):
    proc = _run('tools/train.py', BASELINE, '--resume', str(tmp_path / 'missing.pth'),
                '--work-dir', str(tmp_path / 'w'))
    assert proc.returncode == 2 and 'missing.pth: checkpoint file not found' in proc.stderr


def test_console_entry_points():
    setup = open(osp.join(ROOT, 'setup.py')).read()
    for command in ('train', 'test', 'infer', 'serve'):
        assert re.search(rf"'echoseg-{command}=echoseg\.cli\.{command}:main'", setup), command
