"""tools/train.py and tools/test.py: clear errors for the user's usual mistakes."""
import os.path as osp
import subprocess
import sys

import torch

from echoseg.cli import load_config
from echoseg.utils.config_check import ConfigError, check_cfg_options, check_top_level_keys

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


def test_unknown_cfg_option_key(tmp_path):
    from mmengine.config import Config
    cfg = Config.fromfile(BASELINE)
    check_cfg_options(cfg, {'model.decode_head.channels': 8}, 'x.py')  # exists: fine
    for bad in ('modle.decode_head.channels', 'model.decode_haed.channels'):
        try:
            check_cfg_options(cfg, {bad: 8}, 'x.py')
        except ConfigError as exc:
            assert bad in str(exc)
        else:
            raise AssertionError(f'{bad} accepted')


def test_missing_data_root_points_to_docs(tmp_path):
    cfg = _write_cfg(tmp_path, "train_dataloader = dict(dataset=dict(data_root='/no/such/dir'))")
    proc = _run('tools/train.py', cfg, '--work-dir', str(tmp_path / 'w'))
    assert proc.returncode == 2
    assert "/no/such/dir' does not exist" in proc.stderr and 'docs/datasets.md' in proc.stderr


def test_corrupt_checkpoint_for_test_and_resume(tmp_path):
    bad = tmp_path / 'corrupt.pth'
    bad.write_bytes(b'PK\x03\x04 not really a zip')
    proc = _run('tools/test.py', BASELINE, str(bad), '--work-dir', str(tmp_path / 'w'))
    assert proc.returncode == 2
    assert 'corrupt.pth: not a readable PyTorch checkpoint' in proc.stderr
    proc = _run('tools/train.py', BASELINE, '--resume', str(tmp_path / 'missing.pth'),
                '--work-dir', str(tmp_path / 'w'))
    assert proc.returncode == 2 and 'missing.pth: checkpoint file not found' in proc.stderr


def test_load_config_adds_safe_hook_and_cpu_backend(tmp_path):
    cfg = load_config(BASELINE, {'custom_hooks': []}, work_dir=str(tmp_path))
    assert any(h['type'] == 'PlainCheckpointHook' for h in cfg.custom_hooks)
    assert cfg.default_scope == 'echoseg' and cfg.work_dir == str(tmp_path)
    if not torch.cuda.is_available():
        assert cfg.env_cfg['dist_cfg']['backend'] == 'gloo'
    check_top_level_keys(cfg, BASELINE)  # the shipped config is clean


def test_cfg_option_max_epochs_moves_the_schedule_end(tmp_path):
    """--cfg-options train_cfg.max_epochs=N: the PolyLR that ran over the config's 6 epochs
    runs over N; the 20-iteration warm-up (by iteration) and an explicit scheduler option
    are left alone."""
    base = load_config(BASELINE)
    assert base.train_cfg.max_epochs == 6
    assert [s.get('end') for s in base.param_scheduler] == [20, 6]
    cfg = load_config(BASELINE, {'train_cfg.max_epochs': 3})
    assert [s.get('end') for s in cfg.param_scheduler] == [20, 3]
    longer = load_config(BASELINE, {'train_cfg.max_epochs': 12})
    assert [s.get('end') for s in longer.param_scheduler] == [20, 12]
    explicit = load_config(BASELINE, {'train_cfg.max_epochs': 12,
                                      'param_scheduler.1.end': 9})
    assert [s.get('end') for s in explicit.param_scheduler] == [20, 9]
