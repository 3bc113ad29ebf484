"""The command lines (``tools/*.py`` and the ``echoseg-*`` entry points of setup.py).

| module | command |
|---|---|
| :mod:`.train` | ``tools/train.py``, ``echoseg-train`` |
| :mod:`.test` | ``tools/test.py``, ``echoseg-test`` |
| :mod:`.infer` | ``tools/infer.py``, ``echoseg-infer`` |
| :mod:`.serve` | ``tools/serve.py``, ``echoseg-serve`` |
| :mod:`.args` | argument groups they share, the one error helper (``fail``) |

The library never imports this package; the config functions live in
:mod:`echoseg.utils.config` (re-exported here for existing imports).
"""
from echoseg.utils.config import build_runner, load_config, scale_epoch_schedule
from .test import main as test_main
from .test import print_metrics, write_report
from .train import main as train_main

__all__ = ['train_main', 'test_main', 'load_config', 'scale_epoch_schedule', 'build_runner',
           'print_metrics', 'write_report']
