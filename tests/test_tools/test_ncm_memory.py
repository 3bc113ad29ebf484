"""tools/analysis/ncm_memory.py measures NCM's memory (a smoke test, nothing timed)."""
import os.path as osp

import pytest

from echoseg import testing

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.mark.parametrize('part,mode', [('blocked', 'train'), ('full', 'infer'),
                                       ('neck', 'infer')])
def test_measure_reports_the_peak_and_the_full_matrix(part, mode):
    tool = testing.load_tool('analysis/ncm_memory.py')
    config = osp.join(ROOT, 'configs', 'ncmnet', 'r18_synthetic.py')
    r = tool.measure(config, frames=3, size=4, part=part, mode=mode)
    assert r['peak_bytes'] >= 0
    assert r['full_matrix_bytes'] == 4 * r['heads'] * (3 * 4 * 4) ** 2
    assert r['layers'] == (5 if part == 'neck' and mode == 'infer' else 1)
