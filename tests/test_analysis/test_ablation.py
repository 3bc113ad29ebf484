"""echoseg.analysis.ablation (tools/experiments/echoforge_ablation.py): the four rows of
Table 3 in one command (smoke run)."""
import json
import math
import os.path as osp

import torch

from echoseg.analysis import ablation as tool
from echoseg.analysis.paths import CONFIG_ROOT


def _scalars(log_dir):
    with open(osp.join(log_dir, 'vis_data', 'scalars.json')) as f:
        return [json.loads(line) for line in f]


def test_ablation_smoke(tmp_path):
    threads = torch.get_num_threads()
    try:
        out = tool.main(['--epochs', '1', '--num-videos', '2', '--test-videos', '2',
                            '--image-size', '32', '--num-frames', '4', '--threads', '1',
                            '--work-dir', str(tmp_path)])
    finally:
        torch.set_num_threads(threads)
    runs = out['rows']
    # both designs (the paper-faithful model and the variant), four rows each
    assert [(r['design'], r['row']) for r in runs] == [
        (d, row) for d in ('r18_synthetic', 'variants/ms_r18_synthetic')
        for row in ('I', 'II', 'III', 'IV')]
    heads = [r['modules']['decode_head'] for r in runs]
    assert heads == ['FCNHead', 'TSFHead', 'TSFHead', 'TSFHead'] * 2
    assert runs[3]['params'] != runs[7]['params']  # two different models
    for r in runs:
        for key in ('Dice_ED', 'Dice_ES'):
            assert 0.0 <= r['metrics'][key] <= 1.0
    rows = runs[:4]
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
    assert sum(line.startswith('| r18_synthetic |') or
               line.startswith('| variants/ms_r18_synthetic |')
               for line in md.splitlines()) == 8
    saved = json.loads((tmp_path / 'ablation.json').read_text())
    assert [r['row'] for r in saved['rows']] == ['I', 'II', 'III', 'IV'] * 2


def test_table_reports_mean_and_spread_over_seeds():
    runs = []
    for seed, dice in ((0, 0.90), (1, 0.94), (2, 0.92)):
        metrics = dict(mDice=dice, Dice_ED=dice + 0.01, Dice_ES=dice - 0.01, mHD95=3.0,
                       mASD=1.0, EF_MAE=5.0 + 100 * (dice - 0.92))
        runs.append(dict(design='d', reference_mode='two_pass', row='IV', name='+CPR',
                         seed=seed, metrics=metrics, pseudo_dice=dice, own_dice=dice,
                         params=1e6, train_seconds=10.0,
                         modules=dict(backbone='B', neck='N', decode_head='H',
                                      pseudo_labeler='P')))
    groups = tool.group_runs(runs)
    assert len(groups) == 1 and len(groups[0]['runs']) == 3
    settings = dict(num_videos=2, test_videos=2, image_size=32, num_frames=4, epochs=1,
                    seeds=[0, 1, 2], configs=['c.py'])
    line = [x for x in tool.markdown_table(runs, settings).splitlines()
            if x.startswith('| d |')][0]
    # mean 0.92, sample standard deviation 0.02 (computed by hand)
    assert '0.9200 ± 0.0200' in line and '0.9300 ± 0.0200' in line
    assert '5.00 ± 2.00' in line  # EF MAE: 3, 7, 5 points


def test_cfg_options_reach_every_design():
    args = tool.parse_args(['--cfg-options', 'model.decode_head.noref_loss_weight=0',
                            '--seeds', '0', '1'])
    assert args.cfg_options == {'model.decode_head.noref_loss_weight': 0}
    from echoseg.utils.config import load_config
    for path in tool.DEFAULT_CONFIGS:
        cfg = load_config(path, args.cfg_options)
        assert cfg.model.decode_head.noref_loss_weight == 0
    assert args.seeds == [0, 1]


def test_extra_config_runs_as_one_row_of_the_same_protocol(tmp_path):
    """``--extra-configs``: another method's full config (PKEcho-Net) as one row, same
    data, epochs and evaluation, same table columns; no EchoForge design with --config."""
    extra = osp.join(CONFIG_ROOT, 'pkechonet', 'r18_synthetic.py')
    threads = torch.get_num_threads()
    try:
        out = tool.main(['--config', '--extra-configs', extra, '--epochs', '1',
                         '--num-videos', '2', '--test-videos', '2', '--image-size', '32',
                         '--num-frames', '4', '--threads', '1', '--work-dir', str(tmp_path)])
    finally:
        torch.set_num_threads(threads)
    runs = out['rows']
    assert [(r['design'], r['row']) for r in runs] == [('pkechonet/r18_synthetic', 'full')]
    r = runs[0]
    # the config's own modules; the weight-0 probe measures its own predictions
    assert r['modules'] == dict(backbone='ResNet', neck='MRPNeck', decode_head='KSSHead',
                                pseudo_labeler=None,
                                pseudo_dice_probe='SelfTrainingPseudoLabeler')
    from echoseg.utils.config import load_config
    from echoseg.registry import MODELS
    from mmengine.registry import init_default_scope
    init_default_scope('echoseg')
    params = sum(p.numel() for p in MODELS.build(load_config(extra).model).parameters())
    assert r['params'] == params
    values = [r['metrics'][k] for k in ('mDice', 'mHD95', 'mASD')] + [r['pseudo_dice']]
    assert all(math.isfinite(v) for v in values)
    assert abs(r['own_dice'] - r['pseudo_dice']) < 1e-6
    assert not any(k.startswith('unsup.loss') for rec in _scalars(r['log_dir']) for k in rec)
    settings = out['settings']
    assert (settings['epochs'], settings['num_videos'], settings['image_size']) == (1, 2, 32)
    lines = (tmp_path / 'ablation.md').read_text().splitlines()
    header = [x for x in lines if x.startswith('| design |')][0]
    row = [x for x in lines if x.startswith('| pkechonet/r18_synthetic |')]
    assert len(row) == 1 and row[0].count('|') == header.count('|')
    assert 'configs/pkechonet/r18_synthetic.py' in '\n'.join(lines)


def test_own_dice_pools_the_pixels_that_are_not_ignored():
    pred = torch.tensor([[1, 1, 0], [1, 0, 1]])
    truth = torch.tensor([[1, 0, 0], [255, 1, 255]])
    # counted: (1, 1), (1, 0), (0, 0), (0, 1): one common pixel, 2 predicted, 2 true
    assert tool._own_dice(pred, truth) == 0.5
