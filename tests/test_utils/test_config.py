"""echoseg.utils.config: configs as every tool reads them."""
import os
import os.path as osp
import subprocess
import sys

import torch

from echoseg.utils.config import load_config
from echoseg.utils.config_check import ConfigError, check_cfg_options, check_top_level_keys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BASELINE = osp.join(ROOT, 'configs', 'baselines', 'fcn_r18_synthetic.py')


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


def test_library_does_not_import_the_command_lines():
    """``echoseg.utils.config`` and ``echoseg.apis`` load without ``echoseg.cli``."""
    code = ('import sys, echoseg.apis, echoseg.utils.config, echoseg.io, echoseg.datasets, '
            'echoseg.web; '
            'print(sorted(m for m in sys.modules if m.startswith("echoseg.cli")))')
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          cwd=ROOT, timeout=300, env=dict(os.environ, PYTHONPATH=ROOT))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == '[]'
