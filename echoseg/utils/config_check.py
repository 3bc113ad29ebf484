"""Checks run on a config before the runner starts, so mistakes fail early and clearly."""
import difflib
import inspect
import os.path as osp
from typing import Iterable, List

from mmengine.config import Config
from mmengine.runner import Runner

#: top-level keys the runner reads (from Runner.__init__) plus MMEngine's own extras
RUNNER_KEYS = set(inspect.signature(Runner.__init__).parameters) - {'self'}
RUNNER_KEYS |= {'_base_', 'default_scope', 'custom_imports', 'launcher', 'work_dir',
                'resume', 'load_from', 'cfg', 'log_level', 'env_cfg', 'randomness',
                'visualizer', 'log_processor', 'experiment_name', 'auto_scale_lr',
                'sync_bn', 'find_unused_parameters'}  # read by Runner.wrap_model
DOCS_DATASETS = 'docs/datasets.md'


class ConfigError(ValueError):
    """A config mistake; the message names the config file and the key."""


def _close_runner_key(key: str) -> List[str]:
    return difflib.get_close_matches(key, sorted(RUNNER_KEYS), n=1, cutoff=0.8)


def check_top_level_keys(cfg: Config, source: str) -> None:
    """Reject a top-level key that looks like a misspelt runner key (``modle``).

    Other unknown names are config variables (``train_pipeline``, ``image_size``...) and
    are allowed: classic configs use them freely.
    """
    for key in cfg.keys():
        if key in RUNNER_KEYS:
            continue
        match = _close_runner_key(key)
        if match:
            raise ConfigError(f"{source}: unknown config key '{key}' "
                              f"(did you mean '{match[0]}'?)")


def check_cfg_options(cfg: Config, options: dict, source: str) -> None:
    """Every ``--cfg-options`` key must name something that exists in the config
    (its parent for a new leaf), or a runner key."""
    for dotted in options or {}:
        parts = dotted.split('.')
        if parts[0] not in cfg and parts[0] not in RUNNER_KEYS:
            hint = difflib.get_close_matches(parts[0], list(cfg.keys()), n=1, cutoff=0.6)
            extra = f" (did you mean '{hint[0]}'?)" if hint else ''
            raise ConfigError(f"--cfg-options: unknown config key '{dotted}' for {source}"
                              f'{extra}')
        if parts[0] not in cfg:
            continue  # a runner key the config leaves at its default: new subtree
        node = cfg
        for depth, part in enumerate(parts[:-1]):
            if isinstance(node, (list, tuple)) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
                continue
            if not isinstance(node, (dict, Config)) or part not in node:
                raise ConfigError(f"--cfg-options: unknown config key '{dotted}' for "
                                  f"{source}: '{'.'.join(parts[:depth + 1])}' does not "
                                  'exist')
            node = node[part]


def _datasets(cfg: Config) -> Iterable[tuple]:
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(name)
        if not loader:
            continue
        stack = [loader.get('dataset')]
        while stack:
            ds = stack.pop()
            if not isinstance(ds, dict):
                continue
            yield name, ds
            stack.append(ds.get('dataset'))
            stack.extend(ds.get('datasets', []) or [])


def check_data_roots(cfg: Config, source: str, which=('train_dataloader', 'val_dataloader',
                                                       'test_dataloader')) -> None:
    """A dataset whose ``data_root`` is missing stops with a pointer to the docs."""
    for name, ds in _datasets(cfg):
        if name not in which:
            continue
        root = ds.get('data_root')
        if root and not osp.isdir(osp.expanduser(root)):
            raise FileNotFoundError(
                f"{source}: {name}.dataset ({ds.get('type')}) data_root '{root}' does not "
                f'exist. Download the dataset and lay it out as {DOCS_DATASETS} describes, '
                f"or point to it with --cfg-options {name}.dataset.data_root=/path/to/data")
