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


def _positive_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v > 0


def _count(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _positive_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0


#: dotted key -> (test, what it must be); checked where the config sets the key
VALUE_TYPES = {
    'train_cfg.max_epochs': (_positive_int, 'a positive integer'),
    'train_cfg.max_iters': (_positive_int, 'a positive integer'),
    'train_cfg.val_interval': (_positive_int, 'a positive integer'),
    'train_dataloader.batch_size': (_positive_int, 'a positive integer'),
    'val_dataloader.batch_size': (_positive_int, 'a positive integer'),
    'test_dataloader.batch_size': (_positive_int, 'a positive integer'),
    'train_dataloader.num_workers': (_count, 'an integer >= 0'),
    'val_dataloader.num_workers': (_count, 'an integer >= 0'),
    'test_dataloader.num_workers': (_count, 'an integer >= 0'),
    'optim_wrapper.optimizer.lr': (_positive_number, 'a positive number'),
    'randomness.seed': (lambda v: v is None or _count(v), 'an integer >= 0 or None'),
    'default_hooks.checkpoint.interval': (_positive_int, 'a positive integer'),
    'model': (lambda v: isinstance(v, dict) and 'type' in v, "a dict with a 'type'"),
    'work_dir': (lambda v: isinstance(v, str), 'a path (string)'),
}


def check_value_types(cfg: Config, source: str) -> None:
    """The settings every run reads must have the right type (``batch_size='4'`` would
    otherwise fail deep inside PyTorch, or ``lr='1e-3'`` inside the optimizer)."""
    for dotted, (test, what) in VALUE_TYPES.items():
        node, found = cfg, True
        for part in dotted.split('.'):
            if isinstance(node, (dict, Config)) and part in node:
                node = node[part]
            else:
                found = False
                break
        if found and not test(node):
            raise ConfigError(f'{source}: {dotted} must be {what}, got {node!r} '
                              f'({type(node).__name__})')


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
