"""tools/echoforge_ablation.py: the four rows of Table 3 in one command (smoke run)."""
import json
import math
import os.path as osp

import torch

from echoseg.testing import load_tool


def _tool():
    return load_tool('echoforge_ablation.py')


def _scalars(log_dir):
    with open(osp.join(log_dir, 'vis_data', 'scalars.json')) as f:
        return [json.loads(line) for line in f]


def test_ablation_smoke(tmp_path):
    threads = torch.get_num_threads()
    try:
        out = _tool().main(['--epochs', '1', '--num-videos', '2', '--test-videos', '2',
                            '--image-size', '32', '--num-frames', '4', '--threads', '1',
                            '--work-dir', str(tmp_path)])
    finally:
        torch.set_num_threads(threads)
    rows = out['rows']
    assert [r['row'] for r in rows] == ['I', 'II', 'III', 'IV']
    for r in rows:
        values = [r['metrics'][k] for k in ('mDice', 'mHD95', 'mASD')] + [r['pseudo_dice']]
        assert all(math.isfinite(v) for v in values), (r['row'], values)
        assert 0.0 <= r['metrics']['mDice'] <= 1.0 and 0.0 <= r['pseudo_dice'] <= 1.0
        # pseudo_dice reaches the training log (vis_data), one epoch mean per epoch
        assert r['pseudo_dice_logged'] and abs(r['pseudo_dice_logged'][-1]
                                               - r['pseudo_dice']) < 1e-4
        assert math.isfinite(r['own_dice'])
        if r['row'] != 'IV':  # the probe's pseudo-labels are the model's own prediction
            assert abs(r['own_dice'] - r['pseudo_dice']) < 1e-6
    mods = [r['modules'] for r in rows]
    compositions = {(m['neck'], m['decode_head'], m['pseudo_labeler']) for m in mods}
    assert len(compositions) == 4
    assert len({m['backbone'] for m in mods}) == 1  # the same backbone everywhere
    assert (mods[0]['neck'], mods[0]['decode_head'], mods[0]['pseudo_labeler']) == (
        None, 'FCNHead', None)
    assert (mods[1]['neck'], mods[1]['decode_head']) == (None, 'TSFHead')
    assert (mods[2]['neck'], mods[2]['decode_head']) == ('ARCNeck', 'TSFHead')
    assert (mods[3]['neck'], mods[3]['decode_head'], mods[3]['pseudo_labeler']) == (
        'ARCNeck', 'TSFHead', 'CPRPseudoLabeler')
    # FlameRise runs in row IV only; rows I-III add no unsupervised loss
    for r in rows:
        recs = _scalars(r['log_dir'])
        assert any('pseudo_dice' in rec for rec in recs)
        assert any('flame_lambda' in rec for rec in recs) == (r['row'] == 'IV')
        assert not any(k.startswith('unsup.loss') for rec in recs for k in rec) \
            or r['row'] == 'IV'
    # the same budget for every row
    settings = out['settings']
    assert (settings['epochs'], settings['num_videos'], settings['image_size']) == (1, 2, 32)
    md = (tmp_path / 'ablation.md').read_text()
    assert sum(line.startswith(f'| {row} ') for row in ('I', 'II', 'III', 'IV')
               for line in md.splitlines()) == 4
    saved = json.loads((tmp_path / 'ablation.json').read_text())
    assert [r['row'] for r in saved['rows']] == ['I', 'II', 'III', 'IV']
