"""The shipped method-table protocols (configs/method_table/): each loads, every row names
configs that exist, and a row that two protocols share is the same row in both (same
configs, so the same stage hashes: one work root or the archive serves both tables)."""
import glob
import os.path as osp

import pytest

from echoseg.analysis import method_table as mt

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PROTOCOLS = sorted(glob.glob(osp.join(ROOT, 'configs', 'method_table', '*.py')))


@pytest.mark.parametrize('path', PROTOCOLS, ids=osp.basename)
def test_protocol_loads_and_its_rows_name_existing_configs(path):
    proto = mt.load_protocol(path)
    assert proto['rows']
    for row in proto['rows']:
        for key in ('finetune', 'pretrain'):
            assert osp.isfile(osp.join(ROOT, row[key])), f'{path}: {row["name"]}: {row[key]}'


def test_a_row_shared_by_two_protocols_is_the_same_row():
    assert len(PROTOCOLS) >= 3
    seen = {}
    shared = 0
    for path in PROTOCOLS:
        proto = mt.load_protocol(path)
        for row in proto['rows']:
            key = {k: row.get(k) for k in ('finetune', 'pretrain', 'alternative', 'model')}
            if row['name'] in seen:
                shared += 1
                assert key == seen[row['name']][1], \
                    f"{row['name']}: differs in {seen[row['name']][0]} and {path}"
            else:
                seen[row['name']] = (path, key)
    assert shared >= 2   # FCN-R18 (ef_recipe), EchoForge paper-faithful (echoforge_decoder)


@pytest.mark.parametrize('name,shared', [
    ('ef_recipe.py', ['FCN-R18']),
    ('echoforge_decoder.py', ['EchoForge, paper-faithful']),
    ('semi_supervision.py', ['FCN-R18', 'EchoForge, paper-faithful']),
    ('pretraining_size.py', ['FCN-R18'])])
def test_derived_protocols_take_the_shared_rows_whole(name, shared):
    """A protocol built on real_protocol.py holds the rows it shares with it, exactly
    (every key), and each of its other rows once."""
    base = {r['name']: r for r in
            mt.load_protocol(osp.join(ROOT, 'configs', 'method_table', 'real_protocol.py'))['rows']}
    rows = mt.load_protocol(osp.join(ROOT, 'configs', 'method_table', name))['rows']
    names = [r['name'] for r in rows]
    assert len(names) == len(set(names)) and len(rows) > len(shared)
    for row_name in shared:
        assert rows[names.index(row_name)] == base[row_name]
