"""EchoForge's module ablation (paper Table 3) on synthetic clips, in one command
(``tools/experiments/echoforge_ablation.py``).

    python tools/experiments/echoforge_ablation.py [--config FAITHFUL [VARIANT ...]]
        [--seeds 0 1 2] [--epochs 6] [--num-videos 32] [--rows I II III IV]
        [--reference-modes two_pass causal ...]
        [--extra-configs configs/pkechonet/r18_synthetic.py]
        [--work-dir work_dirs/echoforge_ablation] [...]

Trains the four rows of every design (``--config``: by default the paper-faithful
``configs/echoforge/r18_synthetic.py`` and the variant
``configs/echoforge/variants/ms_r18_synthetic.py``), for every seed, with the same budget
(epochs, training videos, schedule, loss) through MMEngine's Runner, evaluates each on the
synthetic test split (every frame; the ED frames and the ES frames also on their own) and
writes ``ablation.md`` (mean and standard deviation over the seeds) and ``ablation.json``
(every run) to the work dir. ``--reference-modes`` also runs every design with each of
TSF's reference schemes (``TSFHead.reference_mode``) for the comparison of how references
are formed in training and inference:

    I    per-frame baseline: backbone + mmseg FCNHead (no TSF, no ARC, no CPR)
    II   + TSF             : backbone + TSFHead
    III  + TSF + ARC       : backbone + ARCNeck + TSFHead
    IV   + TSF + ARC + CPR : backbone + ARCNeck + TSFHead + CPRPseudoLabeler + FlameRiseHook

The rows are derived from ``--config`` (default ``configs/echoforge/r18_synthetic.py``,
row IV): the backbone, the head's input levels, channels, output channels and loss
(BCE + Dice, eq. 9), the data and the schedule are shared; only the modules differ. Where
TSF has a pixel decoder (several input levels), row I's FCN reads the same levels resized
to the finest and concatenated.

Pseudo-label quality: the segmentor logs ``pseudo_dice``, the Dice of the pseudo-labels of
the unlabelled frames of every training batch against their hidden synthetic masks, and the
log processor averages it over each epoch (``vis_data/scalars.json``). Rows I-III have no
pseudo-labeler; they get the plain self-training labeler (the model's own prediction) with
``unsup_weight = 0``, which adds no loss and leaves training unchanged, so that the same
number is measured the same way on the model's own predictions. Every row also logs
``own_dice``, the same measure on the decode head's own prediction (the input of the
pseudo-labeler): equal to ``pseudo_dice`` in rows I-III, it shows what CPR changes in row IV.

``--extra-configs`` adds other methods' full configs (e.g. PKEcho-Net's
``configs/pkechonet/r18_synthetic.py``, NCM-Net's ``configs/ncmnet/r18_synthetic.py``,
MSSNet's ``configs/mssnet/synthetic.py``; a config with a clip mixer trains with it) as
single rows (``full``) of the same protocol: the same data, epochs, seeds and evaluation,
the model and hooks of the config unchanged (a
config without a pseudo-labeler gets the weight-0 measuring probe, as rows I-III), reported
in the same table. ``--config`` with no value runs only the extra configs.
On a CPU shared with other jobs, ``--threads 1`` avoids OpenMP oversubscription.
"""
import argparse
import copy
import json
import math
import os
import os.path as osp
import time
from typing import Dict, List, Optional

import numpy as np
from mmengine.config import DictAction

from echoseg.evaluation.results_io import _clean as json_safe  # NaN -> null
from echoseg.structures import IGNORE_INDEX

from .paths import CONFIG_ROOT, REPO_ROOT

DEFAULT_CONFIGS = [osp.join(CONFIG_ROOT, 'echoforge', 'r18_synthetic.py'),
                   osp.join(CONFIG_ROOT, 'echoforge', 'variants', 'ms_r18_synthetic.py')]
ROWS = ('I', 'II', 'III', 'IV')
ROW_NAMES = {'I': 'baseline (per-frame FCN)', 'II': '+TSF', 'III': '+TSF +ARC',
             'IV': '+TSF +ARC +CPR'}
#: the one row of an ``--extra-configs`` config: its model as it is
EXTRA_ROW = 'full'
ROW_NAMES[EXTRA_ROW] = 'full config'
METRICS = (('mDice', 'mDice'), ('Dice_ED', 'Dice ED'), ('Dice_ES', 'Dice ES'),
           ('mHD95', 'mHD (HD95)'), ('mASD', 'ASD'), ('EF_MAE', 'EF MAE'))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--config', nargs='*', default=DEFAULT_CONFIGS,
                        help='full EchoForge configs (row IV), one design each; no value: '
                        'none (only --extra-configs)')
    parser.add_argument('--extra-configs', nargs='+', default=[],
                        help='full configs of other methods, each run as one row '
                        f'({EXTRA_ROW!r}) of the same protocol')
    parser.add_argument('--epochs', type=int, default=6)
    parser.add_argument('--num-videos', type=int, default=32,
                        help='synthetic training videos (ED and ES labelled)')
    parser.add_argument('--test-videos', type=int, default=16,
                        help='synthetic test videos (every frame evaluated)')
    parser.add_argument('--image-size', type=int, default=None,
                        help='square input size (default: the config\'s)')
    parser.add_argument('--num-frames', type=int, default=None,
                        help='frames per clip (default: the config\'s)')
    parser.add_argument('--batch-size', type=int, default=None)
    parser.add_argument('--seeds', type=int, nargs='+', default=[0])
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default=None,
                        help='override settings of every config (key=value, dotted keys), '
                        'e.g. model.decode_head.noref_loss_weight=0')
    parser.add_argument('--reference-modes', nargs='+', default=None,
                        choices=('two_pass', 'two_pass_gt', 'causal'),
                        help="TSF reference schemes to run (default: each config's own)")
    parser.add_argument('--rows', nargs='+', default=list(ROWS), choices=ROWS)
    parser.add_argument('--work-dir', default=osp.join('work_dirs', 'echoforge_ablation'))
    parser.add_argument('--num-workers', type=int, default=0,
                        help='dataloader workers (0: render clips in the main process)')
    parser.add_argument('--threads', type=int, default=0,
                        help='torch CPU threads (0: PyTorch\'s default). On a CPU shared '
                        'with other jobs, 1 avoids OpenMP oversubscription, which can make '
                        'a step 10x slower')
    return parser.parse_args(argv)


# ---------------------------------------------------------------------------- rows
def _hook_type(hook) -> str:
    return str(hook.get('type', '')).split('.')[-1]


def row_model(model: dict, row: str) -> dict:
    """The model config of one row, derived from the full EchoForge model config."""
    full = copy.deepcopy(model)
    if row == EXTRA_ROW:  # another method's config, unchanged (plus the measuring probe)
        if not full.get('pseudo_labeler'):
            full['pseudo_labeler'] = dict(type='SelfTrainingPseudoLabeler')
            full['train_cfg'] = dict(unsup_weight=0.0, unsup_threshold=1.0)
        return full
    types = {k: (full.get(k) or {}).get('type') for k in ('neck', 'decode_head',
                                                          'pseudo_labeler')}
    if types != dict(neck='ARCNeck', decode_head='TSFHead', pseudo_labeler='CPRPseudoLabeler'):
        raise ValueError('the ablation config must have neck ARCNeck, decode_head TSFHead and '
                         f'pseudo_labeler CPRPseudoLabeler, got {types}')
    if row == 'IV':
        return full
    head = full['decode_head']
    out = copy.deepcopy(full)
    # rows I-III: no CPR; the self-training labeler with weight 0 only measures pseudo_dice
    out['pseudo_labeler'] = dict(type='SelfTrainingPseudoLabeler')
    out['train_cfg'] = dict(unsup_weight=0.0, unsup_threshold=1.0)
    if row in ('I', 'II'):
        out['neck'] = None
    if row == 'I':
        shared = ('in_channels', 'in_index', 'input_transform', 'channels', 'num_classes',
                  'out_channels', 'threshold', 'norm_cfg', 'align_corners', 'loss_decode',
                  'dropout_ratio')
        out['decode_head'] = dict(type='FCNHead', num_convs=2, kernel_size=3,
                                  concat_input=True,
                                  **{k: copy.deepcopy(head[k]) for k in shared if k in head})
        if head.get('input_transform') == 'multiple_select':
            # TSF with a pixel decoder reads several levels: the FCN reads the same levels,
            # resized to the finest and concatenated (a per-frame baseline at stride 4)
            out['decode_head']['input_transform'] = 'resize_concat'
    return out


def modules_of(model: dict) -> Dict[str, Optional[str]]:
    """The module types of a row; ``pseudo_labeler`` is None for a measuring-only probe."""
    labeler = (model.get('pseudo_labeler') or {}).get('type')
    probe = labeler is not None and float(
        (model.get('train_cfg') or {}).get('unsup_weight', 1.0)) == 0.0 \
        and labeler != 'CPRPseudoLabeler'
    return dict(backbone=model['backbone']['type'],
                neck=(model.get('neck') or {}).get('type'),
                decode_head=model['decode_head']['type'],
                pseudo_labeler=None if probe else labeler,
                pseudo_dice_probe=labeler if probe else None)


def _set_pipeline(pipeline: List[dict], size, frames) -> None:
    for step in pipeline:
        if step.get('type') == 'ResizeClip' and size is not None:
            step['scale'] = (size, size)
        if step.get('type') == 'SampleClipFrames' and frames is not None:
            step['num_frames'] = frames


def row_config(base_cfg, row: str, args, work_dir: str, stamp: str, seed: int = 0,
               reference_mode: Optional[str] = None):
    """A complete runnable config of one row."""
    cfg = copy.deepcopy(base_cfg)
    base_epochs = int(cfg.train_cfg.max_epochs)
    cfg.model = row_model(cfg.model, row)
    if reference_mode is not None and cfg.model['decode_head']['type'] == 'TSFHead':
        cfg.model['decode_head']['reference_mode'] = reference_mode
    cfg.work_dir = work_dir
    name = f'{osp.basename(work_dir)}_{abs(hash(work_dir)) % 10**8}_{stamp}'
    cfg.experiment_name = f'ablation_{name}'
    cfg.visualizer = dict(cfg.visualizer, name=f'visualizer_ablation_{name}')
    cfg.randomness = dict(seed=seed)
    cfg.load_from = None
    cfg.resume = False

    # data: the same training videos, test videos and clip shape for every row
    for name in ('train_dataloader', 'test_dataloader'):
        loader = cfg[name]
        loader['num_workers'] = args.num_workers
        loader['persistent_workers'] = args.num_workers > 0
        ds = loader['dataset']
        if ds.get('type') != 'SyntheticEchoDataset':
            raise ValueError(f'the ablation runs on SyntheticEchoDataset, the config has '
                             f'{ds.get("type")}')
        ds['num_videos'] = args.num_videos if name == 'train_dataloader' else args.test_videos
        if args.image_size is not None:
            ds['image_size'] = (args.image_size, args.image_size)
        _set_pipeline(ds['pipeline'], args.image_size, args.num_frames)
    if args.batch_size is not None:
        cfg.train_dataloader['batch_size'] = args.batch_size
    # no validation during training: every row is evaluated once, on the test split
    cfg.val_dataloader = None
    cfg.val_cfg = None
    cfg.val_evaluator = None
    # failed (empty) predictions get the image diagonal as HD95/ASD instead of being left
    # out of the means, so that the rows compare on the same frames
    cfg.test_evaluator = dict(type='EchoMetric', empty_distance='diagonal')

    # schedule: the same epochs for every row; FlameRise (row IV) scaled to them
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=args.epochs,
                         val_interval=args.epochs + 1)
    for sched in cfg.param_scheduler:
        if sched.get('by_epoch', True) and sched.get('end') == base_epochs:
            sched['end'] = args.epochs
    hooks = []
    for hook in cfg.custom_hooks:
        if _hook_type(hook) == 'FlameRiseHook':
            if row not in ('IV', EXTRA_ROW):
                continue
            hook = copy.deepcopy(hook)
            if args.epochs != base_epochs:
                scale = args.epochs / base_epochs
                hook['e0'] = hook.get('e0', 5) * scale
                hook['e1'] = max(hook.get('e1', 30) * scale, hook['e0'] + 1e-3)
        hooks.append(hook)
    cfg.custom_hooks = hooks
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=True,
                                        interval=args.epochs, max_keep_ckpts=1,
                                        save_best=None)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=10, ignore_last=False)
    cfg.log_processor = dict(by_epoch=True, custom_cfg=[
        dict(data_src='pseudo_dice', method_name='mean', window_size='epoch'),
        dict(data_src='own_dice', method_name='mean', window_size='epoch')])
    return cfg


# ---------------------------------------------------------------------------- run
def _own_dice(pred, truth, ignore_index: int = IGNORE_INDEX) -> float:
    """Dice of label 1 pooled over the pixels where ``truth`` is not ``ignore_index``
    (:func:`~echoseg.evaluation.functional.dice_score`; the segmentor's ``pseudo_dice``
    pools the same pixels, and reads 0 rather than 1 when neither mask has any)."""
    from echoseg.evaluation.functional import dice_score
    valid = truth != ignore_index
    return dice_score(pred[valid].cpu().numpy(), truth[valid].cpu().numpy(), label=1)


def own_dice_hook():
    """A hook logging ``own_dice``: the Dice of the model's own prediction (the logits the
    pseudo-labeler receives) on the unlabelled frames of each training batch against their
    hidden synthetic masks. In rows I-III it equals ``pseudo_dice``; in row IV it shows
    what CPR changes. Measurement only: nothing is returned to the model."""
    from mmengine.hooks import Hook
    from mmengine.model import is_model_wrapper

    class OwnPredictionDiceHook(Hook):
        priority = 'LOW'

        def before_train(self, runner) -> None:
            model = runner.model.module if is_model_wrapper(runner.model) else runner.model
            labeler = getattr(model, 'pseudo_labeler', None)
            if labeler is None:
                return
            hub = runner.message_hub

            def measure(module, args, output) -> None:
                seg_logits, _, clip = args[:3]
                oracle = clip.extras.get('oracle_masks')
                unlabelled = ~clip.labelled_flat
                if not module.training or oracle is None or not bool(unlabelled.any()):
                    return
                logits = seg_logits.detach()
                if logits.shape[1] == 1:
                    pred = (logits[:, 0].sigmoid() > model.decode_head.threshold).long()
                else:
                    pred = logits.argmax(dim=1)
                hub.update_scalar('train/own_dice', _own_dice(
                    pred[unlabelled], clip.fold(oracle)[unlabelled]))

            labeler.register_forward_hook(measure)

    return OwnPredictionDiceHook()


def epoch_means(runner, key: str) -> List[float]:
    """Mean of a per-iteration training scalar over every epoch (message hub history)."""
    hub = runner.message_hub
    if f'train/{key}' not in hub.log_scalars:
        return []
    values, _ = hub.log_scalars[f'train/{key}'].data
    ipe = len(runner.train_dataloader)
    return [float(np.mean(values[i:i + ipe])) for i in range(0, len(values), ipe)]


def logged_epoch_values(log_dir: str, key: str = 'pseudo_dice') -> List[float]:
    """Per-epoch values of ``key`` as written to ``vis_data/scalars.json`` (the last
    record of each epoch holds the epoch mean)."""
    path = osp.join(log_dir, 'vis_data', 'scalars.json')
    per_epoch = {}
    if osp.isfile(path):
        with open(path) as f:
            for line in f:
                rec = json.loads(line)
                if key in rec and 'epoch' in rec:
                    per_epoch[int(rec['epoch'])] = float(rec[key])
    return [per_epoch[e] for e in sorted(per_epoch)]


def run_row(base_cfg, row: str, args, stamp: str, work_dir: str, seed: int = 0,
            reference_mode: Optional[str] = None) -> Dict:
    import torch
    from mmengine.runner import Runner
    cfg = row_config(base_cfg, row, args, work_dir, stamp, seed, reference_mode)
    start = time.time()
    runner = Runner.from_cfg(cfg)
    runner.register_hook(own_dice_hook())
    runner.train()
    train_s = time.time() - start
    metrics = runner.test()
    model = runner.model.module if hasattr(runner.model, 'module') else runner.model
    pd_epochs = epoch_means(runner, 'pseudo_dice')
    own_epochs = epoch_means(runner, 'own_dice')
    head = cfg.model['decode_head']
    labeler = modules_of(cfg.model)['pseudo_labeler']
    result = dict(
        row=row, name=ROW_NAMES[row], modules=modules_of(cfg.model), seed=seed,
        reference_mode=head.get('reference_mode') if head['type'] == 'TSFHead' else None,
        params=int(sum(p.numel() for p in model.parameters())),
        metrics={k: float(metrics.get(k, float('nan'))) for k, _ in METRICS},
        pseudo_dice=pd_epochs[-1] if pd_epochs else float('nan'),
        pseudo_dice_per_epoch=pd_epochs,
        pseudo_dice_logged=logged_epoch_values(runner.log_dir, 'pseudo_dice'),
        own_dice=own_epochs[-1] if own_epochs else float('nan'),
        own_dice_per_epoch=own_epochs,
        pseudo_source='CPR pseudo-labels' if row == 'IV' else (
            f'{labeler} pseudo-labels' if labeler else 'own predictions'),
        train_seconds=round(train_s, 1), total_seconds=round(time.time() - start, 1),
        work_dir=work_dir, log_dir=runner.log_dir)
    del runner
    torch.cuda.empty_cache() if torch.cuda.is_available() else None
    return result


# ---------------------------------------------------------------------------- table
def _fmt(v: float, digits: int = 4) -> str:
    return 'nan' if v is None or not math.isfinite(v) else f'{v:.{digits}f}'


def _mean_sd(values: List[float], digits: int) -> str:
    vals = [v for v in values if v is not None and math.isfinite(v)]
    if not vals:
        return 'nan'
    if len(vals) == 1:
        return f'{vals[0]:.{digits}f}'
    return f'{np.mean(vals):.{digits}f} ± {np.std(vals, ddof=1):.{digits}f}'


def group_runs(results: List[Dict]) -> List[Dict]:
    """Runs grouped by (design, reference mode, row), in the order they ran."""
    groups: Dict[tuple, List[Dict]] = {}
    for r in results:
        groups.setdefault((r['design'], r['reference_mode'], r['row']), []).append(r)
    return [dict(design=d, reference_mode=m, row=row, runs=runs)
            for (d, m, row), runs in groups.items()]


def markdown_table(results: List[Dict], settings: Dict) -> str:
    header = ('| design | TSF references | row | modules | mDice | Dice ED | Dice ES | '
              'mHD (HD95) | ASD | EF MAE | pseudo-label Dice | own-prediction Dice | '
              'params (M) | train (s) |')
    lines = [header, '|' + '---|' * 14]
    for g in group_runs(results):
        runs = g['runs']
        r = runs[0]
        m = r['modules']
        mods = ' + '.join(x for x in (m['backbone'], m['neck'], m['decode_head'],
                                      m['pseudo_labeler']) if x)
        star = '' if m['pseudo_labeler'] else ' *'
        cells = [_mean_sd([x['metrics'][k] for x in runs], 4 if 'Dice' in k else 2)
                 for k, _ in METRICS]
        lines.append(
            f"| {g['design']} | {g['reference_mode'] or '-'} | {r['row']} {r['name']} | "
            f"{mods} | " + ' | '.join(cells) + ' | '
            f"{_mean_sd([x['pseudo_dice'] for x in runs], 4)}{star} | "
            f"{_mean_sd([x['own_dice'] for x in runs], 4)} | {r['params'] / 1e6:.2f} | "
            f"{np.mean([x['train_seconds'] for x in runs]):.0f} |")
    unit = settings.get('distance_unit', 'mm')
    seeds = settings['seeds']
    lines += [
        '',
        f"Synthetic data: {settings['num_videos']} training videos (ED and ES labelled), "
        f"{settings['test_videos']} test videos (every frame evaluated; Dice ED / ES: the "
        f"first / last frame of each test clip), {settings['image_size']} x "
        f"{settings['image_size']}, {settings['num_frames']} frames per clip, "
        f"{settings['epochs']} epochs, seeds {', '.join(map(str, seeds))} (mean ± sample "
        f"standard deviation over {len(seeds)} seed(s)), configs "
        + ', '.join(f'`{c}`' for c in settings['configs']) + f'. HD95 and ASD in {unit}; '
        'a frame where exactly one of prediction and reference is empty counts the image '
        'diagonal. EF MAE: mean absolute error (EF points) of the Simpson EF from the '
        'predicted ED and ES masks against the reference EF (EchoMetric: from the reference '
        'masks, or the dataset\'s EF where it gives one).',
        '',
        'Pseudo-label Dice: Dice of the labels of the unlabelled frames of the training '
        'clips against their hidden synthetic masks, averaged over the last training epoch '
        '(logged by the segmentor as `pseudo_dice`). Row IV: CPR\'s pseudo-labels. '
        '* Rows without a pseudo-labeler: the model\'s own predictions on the same frames, '
        'measured the same way (plain self-training labeler with weight 0: no loss). '
        'Own-prediction Dice: the same measure on the decode head\'s own prediction (the '
        'input of the pseudo-labeler), in every row.',
    ]
    return '\n'.join(lines)


def extra_design_name(path: str) -> str:
    """``pkechonet/r18_synthetic`` for an extra config under configs/."""
    rel = osp.relpath(osp.abspath(path), CONFIG_ROOT)
    return (osp.basename(path) if rel.startswith('..') else rel)[:-3]


def design_name(path: str) -> str:
    """``r18_synthetic`` for the faithful config, ``variants/ms_r18_synthetic`` etc."""
    rel = osp.relpath(osp.abspath(path), osp.join(CONFIG_ROOT, 'echoforge'))
    return (osp.basename(path) if rel.startswith('..') else rel)[:-3]


def main(argv=None) -> Dict:
    """The command line of ``tools/experiments/echoforge_ablation.py``; returns what
    ``ablation.json`` holds."""
    args = parse_args(argv)
    import torch
    from mmengine.registry import init_default_scope

    from echoseg.utils.config import load_config
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    cfgs = [(design_name(p), load_config(p, args.cfg_options)) for p in args.config]
    extras = [(extra_design_name(p), load_config(p, args.cfg_options))
              for p in args.extra_configs]
    if not cfgs and not extras:
        raise SystemExit('nothing to run: give --config and/or --extra-configs')
    first = (cfgs or extras)[0][1]
    init_default_scope(first.get('default_scope', 'echoseg'))
    os.makedirs(args.work_dir, exist_ok=True)
    stamp = time.strftime('%Y%m%d_%H%M%S')
    ds = first.train_dataloader.dataset
    size = args.image_size or int(list(ds.get('image_size', (128, 128)))[0])
    frames = args.num_frames
    if frames is None:
        frames = next((s['num_frames'] for s in ds.pipeline
                       if s.get('type') == 'SampleClipFrames'), 10)
    settings = dict(configs=[osp.relpath(osp.abspath(p), REPO_ROOT)
                             for p in list(args.config) + list(args.extra_configs)],
                    epochs=args.epochs, num_videos=args.num_videos,
                    test_videos=args.test_videos, image_size=size, num_frames=frames,
                    seeds=list(args.seeds), reference_modes=args.reference_modes,
                    cfg_options=args.cfg_options,
                    batch_size=args.batch_size or first.train_dataloader.batch_size,
                    torch_threads=torch.get_num_threads())
    results = []

    def finished(result, design):
        result['design'] = design
        results.append(result)
        # every finished run is on disk at once (a long sweep can be stopped)
        with open(osp.join(args.work_dir, 'ablation_partial.json'), 'w') as f:
            json.dump(json_safe(dict(settings=settings, rows=results)), f, indent=2)

    for design, base_cfg in cfgs:
        for mode in args.reference_modes or [None]:
            for seed in args.seeds:
                for row in ROWS:
                    if row not in args.rows:
                        continue
                    print(f'=== {design} references={mode or "config"} seed {seed} row {row}: '
                          f'{ROW_NAMES[row]}', flush=True)
                    work_dir = osp.join(args.work_dir, design.replace('/', '_'),
                                        mode or 'config', f'seed{seed}', f'row_{row}')
                    finished(run_row(base_cfg, row, args, stamp, work_dir, seed, mode),
                             design)
    for design, base_cfg in extras:
        for seed in args.seeds:
            print(f'=== {design} seed {seed}: {ROW_NAMES[EXTRA_ROW]}', flush=True)
            work_dir = osp.join(args.work_dir, design.replace('/', '_'), f'seed{seed}',
                                f'row_{EXTRA_ROW}')
            finished(run_row(base_cfg, EXTRA_ROW, args, stamp, work_dir, seed), design)
    table = markdown_table(results, settings)
    with open(osp.join(args.work_dir, 'ablation.md'), 'w') as f:
        f.write(f'# EchoForge ablation (Table 3) on synthetic data\n\n{table}\n')
    out = dict(settings=settings, rows=results)
    with open(osp.join(args.work_dir, 'ablation.json'), 'w') as f:
        json.dump(json_safe(out), f, indent=2)
    print('\n' + table)
    print(f"\nwrote {osp.join(args.work_dir, 'ablation.md')} and ablation.json")
    return out
