"""echoseg.analysis.ncm_memory (tools/benchmarks/ncm_memory.py): the peak it reports against
the size of the attention matrix the full form must hold, and what the cases report."""
import os.path as osp

import pytest

from echoseg.analysis import ncm_memory as tool

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'ncmnet', 'r18_synthetic.py')


def test_full_attention_peak_holds_its_matrix_and_its_softmax():
    """3 frames of 16 x 16: the full attention's (heads, 768, 768) float32 scores are
    several MiB; they are alive, with their softmax, while it runs, so the peak the probe
    reports (in a fresh process) is at least twice their size."""
    full = tool.measure_in_subprocess(CONFIG, frames=3, size=16, part='full', mode='infer')
    matrix = full['full_matrix_bytes']
    assert matrix == 4 * full['heads'] * (3 * 16 * 16) ** 2 >= 2 ** 20
    # less 1 MiB: Linux updates the resident-set counters in batches of pages
    assert full['peak_bytes'] >= 2 * matrix - 2 ** 20


@pytest.mark.parametrize('part,mode', [('blocked', 'train'), ('full', 'infer'),
                                       ('neck', 'infer')])
def test_measure_reports_the_case(part, mode):
    r = tool.measure(CONFIG, frames=3, size=4, part=part, mode=mode)
    assert (r['part'], r['mode'], r['frames'], r['size']) == (part, mode, 3, 4)
    assert r['full_matrix_bytes'] == 4 * r['heads'] * (3 * 4 * 4) ** 2
    assert r['layers'] == (5 if part == 'neck' and mode == 'infer' else 1)
