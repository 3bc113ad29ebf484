"""echoseg.utils.config_check on in-memory configs: each check accepts what is right and
names the config and the key of what is wrong."""
import os

import pytest
from mmengine.config import Config

from echoseg.utils.config_check import (DOCS_DATASETS, ConfigError, check_cfg_options,
                                        check_data_roots, check_top_level_keys,
                                        check_value_types)


def _cfg(**kwargs):
    return Config(kwargs)


def test_top_level_keys_misspelt_runner_keys_only():
    ok = _cfg(model=dict(type='M'), train_dataloader={}, param_scheduler=[],
              train_pipeline=[], image_size=32, crop=8)   # plain config variables pass
    check_top_level_keys(ok, 'ok.py')
    for typo, meant in (('modle', 'model'), ('val_evalutor', 'val_evaluator'),
                        ('default_hook', 'default_hooks')):
        with pytest.raises(ConfigError) as info:
            check_top_level_keys(_cfg(**{typo: 1}), 'typo.py')
        assert str(info.value) == (f"typo.py: unknown config key '{typo}' "
                                   f"(did you mean '{meant}'?)")


def test_cfg_options_walk_dicts_and_lists():
    cfg = _cfg(model=dict(type='M', head=dict(channels=8)),
               train_pipeline=[dict(type='A'), dict(type='B', scale=2)])
    check_cfg_options(cfg, {'model.head.channels': 4,        # an existing leaf
                            'model.head.dropout': 0.1,       # a new leaf of an existing dict
                            'train_pipeline.1.scale': 3,     # a list index
                            'resume': True,                  # a runner key left at default
                            'load_from.anything': 1}, 'c.py')
    cases = {'model.haed.channels': "'model.haed' does not exist",
             'train_pipeline.2.scale': "'train_pipeline.2' does not exist",
             'model.type.x.y': "'model.type.x' does not exist"}
    for dotted, part in cases.items():
        with pytest.raises(ConfigError) as info:
            check_cfg_options(cfg, {dotted: 1}, 'c.py')
        assert f"unknown config key '{dotted}' for c.py" in str(info.value)
        assert part in str(info.value)
    with pytest.raises(ConfigError, match="'modle.head' for c.py .*did you mean 'model'"):
        check_cfg_options(cfg, {'modle.head': 1}, 'c.py')
    check_cfg_options(cfg, None, 'c.py')


@pytest.mark.parametrize('dotted, value, ok', [
    ('train_dataloader.batch_size', 4, True),
    ('train_dataloader.batch_size', 0, False),
    ('train_dataloader.batch_size', True, False),   # bool is no count
    ('train_dataloader.batch_size', '4', False),
    ('val_dataloader.num_workers', 0, True),
    ('val_dataloader.num_workers', -1, False),
    ('optim_wrapper.optimizer.lr', 3e-4, True),
    ('optim_wrapper.optimizer.lr', 0, False),
    ('optim_wrapper.optimizer.lr', '1e-3', False),
    ('randomness.seed', None, True),
    ('randomness.seed', 0, True),
    ('randomness.seed', 1.5, False),
    ('train_cfg.max_epochs', 2, True),
    ('train_cfg.max_epochs', 2.0, False),
    ('model', dict(type='M'), True),
    ('model', dict(backbone={}), False),
    ('work_dir', 'w', True),
    ('work_dir', 3, False),
])
def test_value_types(dotted, value, ok):
    tree = value
    for part in reversed(dotted.split('.')):
        tree = {part: tree}
    cfg = _cfg(**tree)
    if ok:
        check_value_types(cfg, 'v.py')
    else:
        with pytest.raises(ConfigError) as info:
            check_value_types(cfg, 'v.py')
        assert str(info.value).startswith(f'v.py: {dotted} must be ')
        if not isinstance(value, dict):   # (a dict comes back as mmengine's ConfigDict)
            assert str(info.value).endswith(f'got {value!r} ({type(value).__name__})')


def test_value_types_ignores_keys_the_config_does_not_set():
    check_value_types(_cfg(train_dataloader=dict(dataset={}), optim_wrapper={}), 'v.py')


def test_data_roots_found_in_wrapped_datasets(tmp_path):
    present = str(tmp_path)
    missing = str(tmp_path / 'nope')
    cfg = _cfg(
        train_dataloader=dict(dataset=dict(type='ConcatDataset', datasets=[
            dict(type='A', data_root=present),
            dict(type='RepeatDataset', dataset=dict(type='B', data_root=missing))])),
        test_dataloader=dict(dataset=dict(type='C', data_root=present)))
    with pytest.raises(FileNotFoundError) as info:
        check_data_roots(cfg, 'd.py')
    message = str(info.value)
    assert message.startswith(f"d.py: train_dataloader.dataset (B) data_root '{missing}' "
                              'does not exist')
    assert DOCS_DATASETS in message
    assert '--cfg-options train_dataloader.dataset.data_root=' in message
    check_data_roots(cfg, 'd.py', which=('test_dataloader', ))   # only the test data


def test_data_roots_expand_the_home_folder(tmp_path, monkeypatch):
    (tmp_path / 'data').mkdir()
    monkeypatch.setenv('HOME', str(tmp_path))
    assert os.path.expanduser('~') == str(tmp_path)
    check_data_roots(_cfg(val_dataloader=dict(dataset=dict(data_root='~/data'))), 'h.py')
    with pytest.raises(FileNotFoundError, match="'~/other' does not exist"):
        check_data_roots(_cfg(val_dataloader=dict(dataset=dict(data_root='~/other'))),
                         'h.py')
