"""Cross-validation of a config on an EchoNet-Dynamic folder (docs/real_data.md;
``tools/analysis/cross_validate.py``).

    python tools/analysis/cross_validate.py CONFIG [--data-root DIR]
        [--folds K | --leave-one-out] [--split-seed 0] [--train-sizes N [N ...]]
        [--epochs E] [--seeds S [S ...]] [--load-from CKPT] [--cfg-options k=v ...]
        [--work-dir DIR] [--threads N] [--num-workers W] [--no-video-ef]
        [--keep-checkpoints] [--postprocess] [--resume] [--checkpoint-interval E]

The videos of the folder (default: the shared 7-video sample) are dealt into K folds in a
seeded order. For every training-set size, training seed and fold, the config is trained
through MMEngine's Runner (as tools/train.py builds it; no validation) on the fold's
training videos only (the first N of them in the seeded order with --train-sizes), then
the held-out videos are measured:

- Dice and HD95 of the traced ED and ES frames at the videos' own resolution: the
  config's test pipeline and EchoMetric (empty predictions count the image diagonal);
- EF from the predicted ED and ES masks (Simpson, EchoMetric) against FileList.csv's EF;
  with --postprocess both are of the masks after the LV post-processing tools/infer.py
  applies (largest component, holes filled), and of the masks as predicted too (_raw);
- EF of the whole video: echoseg.apis' VideoPredictor on the full AVI, mean EF over the
  beats it finds, against FileList.csv's EF.

Writes ``cross_validation.json`` (settings, folds, every run with its per-video numbers)
and ``cross_validation.md`` (one table row per training-set size: mean +- sd over the
fold x seed runs) to the work dir, and per run its log, EchoMetric dump, predicted
masks (``predictions.npz``: ED/ES and the whole test clip), whole-video results and its
record (``run.json``).

With ``--resume`` a run whose directory holds a finished record of the same settings
(``run.json``: the same config, data, checkpoint, folds, seed and epochs, by
:func:`settings_key`) is reused instead of retrained, and a run interrupted after a
checkpoint (``--checkpoint-interval``) resumes its training from it; a run directory of
other settings stops the tool with a message naming it.
"""
import argparse
import copy
import hashlib
import json
import math
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Dict, Iterator, List, Optional, Sequence

import numpy as np

from .paths import REPO_ROOT as ROOT
from .paths import default_data_root, shown_path

#: the script whose command line :func:`main` is (recorded in the results)
TOOL = 'tools/analysis/cross_validate.py'
ECHONET = 'EchoNetDynamicDataset'
#: per-video numbers summarised in the table: (key, column title, digits)
COLUMNS = (('dice_ed', 'Dice ED', 3), ('dice_es', 'Dice ES', 3), ('dice', 'Dice ED+ES', 3),
           ('hd95_ed', 'HD95 ED (px)', 1), ('hd95_es', 'HD95 ES (px)', 1),
           ('hd95', 'HD95 ED+ES (px)', 1),
           ('ef_masks_error', '\\|EF err\\| ED/ES masks', 1),
           ('ef_video_error', '\\|EF err\\| whole video', 1))
#: with --postprocess, the Dice of the masks as predicted (before post-processing); the
#: Simpson EF changes little with it (the disks are measured on the largest region either
#: way): per video as ``ef_masks_raw`` in the JSON only
RAW_COLUMNS = (('dice_raw', 'Dice ED+ES as predicted', 3), )


def table_columns(postprocess: bool) -> tuple:
    """The summarised columns: :data:`COLUMNS`, and :data:`RAW_COLUMNS` with --postprocess."""
    return COLUMNS + (RAW_COLUMNS if postprocess else ())


def parse_args(argv=None) -> argparse.Namespace:
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='a config whose train and test datasets are '
                        'EchoNetDynamicDataset')
    parser.add_argument('--data-root', default=None,
                        help='EchoNet-layout folder (default: the shared echonet_sample)')
    folds = parser.add_mutually_exclusive_group()
    folds.add_argument('--folds', type=int, default=None, help='K folds (default 5, or '
                       'one per video when there are fewer)')
    folds.add_argument('--leave-one-out', action='store_true', help='one fold per video')
    parser.add_argument('--split-seed', type=int, default=0,
                        help='seed of the video order that makes the folds and subsets')
    parser.add_argument('--train-sizes', type=int, nargs='+', default=None,
                        help='train on the first N training videos of each fold (a '
                        'learning curve); default: all of them')
    parser.add_argument('--epochs', type=int, default=None,
                        help="training epochs (default: the config's max_epochs)")
    parser.add_argument('--seeds', type=int, nargs='+', default=[0],
                        help='training seeds (weights, augmentation, sampling)')
    parser.add_argument('--load-from', default=None,
                        help='initialise every run from this checkpoint (safe loader)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value (dotted keys)')
    parser.add_argument('--work-dir', default=None,
                        help='default: work_dirs/cross_validate/<config name>')
    parser.add_argument('--threads', type=int, default=0,
                        help="torch CPU threads (0: PyTorch's default; 1 on a shared CPU)")
    parser.add_argument('--num-workers', type=int, default=0,
                        help='dataloader workers of every run (default 0: the main process)')
    parser.add_argument('--no-video-ef', action='store_true',
                        help='skip the whole-video inference (EF over beats)')
    parser.add_argument('--keep-checkpoints', action='store_true',
                        help="keep every run's checkpoint (default: deleted once measured)")
    parser.add_argument('--postprocess', action='store_true',
                        help='score the ED/ES masks after the LV post-processing of '
                             'tools/infer.py (largest component, holes filled); the scores '
                             'of the masks as predicted are kept as *_raw')
    parser.add_argument('--resume', action='store_true',
                        help='reuse the finished runs of the work dir (same settings) and '
                             'resume an interrupted one from its last checkpoint')
    parser.add_argument('--checkpoint-interval', type=int, default=None,
                        help='save a checkpoint every E epochs (default: at the end only), '
                             'so that --resume can continue an interrupted run')
    return parser.parse_args(argv)


# ---------------------------------------------------------------------------- folds
def seeded_order(names: Sequence[str], seed: int) -> List[str]:
    """Names ordered by ``sha256(f'{seed}:{name}')``: depends on the names and seed only."""
    return sorted(sorted(set(names)),
                  key=lambda n: hashlib.sha256(f'{seed}:{n}'.encode()).hexdigest())


def make_folds(names: Sequence[str], num_folds: int, seed: int = 0) -> List[List[str]]:
    """Deal the videos, in seeded order, into ``num_folds`` folds (sizes differ by <= 1)."""
    names = sorted(set(names))
    if not 2 <= num_folds <= len(names):
        raise ValueError(f'--folds must be between 2 and the number of videos '
                         f'({len(names)}), got {num_folds}')
    order = seeded_order(names, seed)
    return [sorted(order[i::num_folds]) for i in range(num_folds)]


def plan_runs(names: Sequence[str], num_folds: int, split_seed: int,
              train_sizes: Optional[Sequence[int]], seeds: Sequence[int]) -> List[Dict]:
    """Every (train size, seed, fold) run with its training and held-out videos.

    The training videos of a size-N run are the first N of the fold's training videos in
    the seeded order, so smaller sets are nested in larger ones.
    """
    folds = make_folds(names, num_folds, split_seed)
    if train_sizes:
        smallest = min(len(names) - len(f) for f in folds)
        bad = [n for n in train_sizes if not 1 <= n <= smallest]
        if bad:
            raise ValueError(f'--train-sizes {bad}: each must be between 1 and {smallest}, '
                             f'the fewest training videos of a fold ({num_folds} folds of '
                             f'{len(names)} videos)')
    runs = []
    for size in (train_sizes or [None]):
        for seed in seeds:
            for k, held_out in enumerate(folds):
                order = [n for n in seeded_order(names, split_seed) if n not in held_out]
                train = sorted(order[:size] if size else order)
                check_disjoint(train, held_out, f'fold {k}')
                runs.append(dict(name=f"{'all' if size is None else f'n{size}'}_seed{seed}"
                                 f'_fold{k}', fold=k, seed=seed, train_size=size,
                                 train=train, held_out=list(held_out)))
    return runs


def check_disjoint(train: Sequence[str], held_out: Sequence[str], where: str) -> None:
    """Stop when a held-out video is among the training videos."""
    leak = sorted(set(train) & set(held_out))
    if leak:
        raise RuntimeError(f'{where}: held-out video(s) {leak} are in the training set')


# ---------------------------------------------------------------------------- keys
#: top-level config keys that do not change what a run computes (paths, logging, the
#: process set-up); :func:`config_digest` leaves them out
VOLATILE_KEYS = ('work_dir', 'launcher', 'env_cfg', 'model_wrapper_cfg', 'experiment_name',
                 'visualizer', 'vis_backends', 'log_processor', 'log_level', 'resume',
                 'load_from', 'method_table')
#: ``default_hooks`` entries that only log, time or draw
VOLATILE_HOOKS = ('logger', 'timer', 'visualization')


def _canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, default=repr, separators=(',', ':'))


def digest(obj) -> str:
    """sha256 (hex) of an object's canonical JSON (sorted keys; tuples as lists)."""
    return hashlib.sha256(_canonical(obj).encode()).hexdigest()


def config_digest(cfg) -> str:
    """Digest of a loaded config without :data:`VOLATILE_KEYS` and the logging hooks: equal
    for configs that train and measure the same, whatever their work dir or file."""
    data = cfg.to_dict() if hasattr(cfg, 'to_dict') else dict(cfg)
    data = {k: v for k, v in data.items() if k not in VOLATILE_KEYS}
    hooks = data.get('default_hooks')
    if isinstance(hooks, dict):
        data['default_hooks'] = {k: v for k, v in hooks.items() if k not in VOLATILE_HOOKS}
    return digest(data)


def file_digest(path: str) -> str:
    """sha256 (hex) of a file's bytes."""
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def data_fingerprint(data_root: str) -> str:
    """Digest of an EchoNet-layout folder: FileList.csv, VolumeTracings.csv and the names
    and sizes of the files in Videos/ (not the folder's path)."""
    parts = {}
    for name in ('FileList.csv', 'VolumeTracings.csv'):
        path = osp.join(data_root, name)
        parts[name] = file_digest(path) if osp.isfile(path) else None
    videos = osp.join(data_root, 'Videos')
    parts['Videos'] = sorted((n, osp.getsize(osp.join(videos, n)))
                             for n in os.listdir(videos)) if osp.isdir(videos) else None
    return digest(parts)


def settings_key(cfg_digest: str, args, data_root: str, num_folds: int) -> str:
    """What a run's result depends on besides its own plan (videos, seed, epochs): the
    config (its :func:`config_digest`), the data, the initial checkpoint's bytes, the folds
    and the measurement."""
    return digest(dict(config=cfg_digest, data=data_fingerprint(data_root),
                       load_from=file_digest(args.load_from) if args.load_from else None,
                       split_seed=args.split_seed, num_folds=num_folds,
                       num_workers=args.num_workers, postprocess=bool(args.postprocess),
                       no_video_ef=bool(args.no_video_ef)))


def run_key(key: str, run: Dict, epochs: int) -> str:
    """The key of one run: :func:`settings_key` and the run's plan."""
    return digest(dict(settings=key, name=run['name'], seed=run['seed'],
                       train=sorted(run['train']), held_out=sorted(run['held_out']),
                       epochs=int(epochs)))


#: a run directory's finished record and its key (written when the run starts)
RUN_RECORD, RUN_KEY = 'run.json', 'run_key.json'


def read_json(path: str) -> Optional[Dict]:
    """A JSON file's content, or None when it is missing or unreadable."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def finished_run(run_dir: str, key: str) -> Optional[Dict]:
    """The record of a finished run of key ``key`` in ``run_dir``, or None when it has
    none; a finished run of another key raises ``RuntimeError`` naming the file."""
    path = osp.join(run_dir, RUN_RECORD)
    record = read_json(path)
    if record is None:
        return None
    if record.get('run_key') != key:
        raise RuntimeError(f'{path}: a finished run of other settings (config, data, '
                           'checkpoint, folds, seed or epochs); use another --work-dir or '
                           'delete it')
    return record


def resume_checkpoint(run_dir: str, key: str) -> Optional[str]:
    """The checkpoint an interrupted run of key ``key`` left in ``run_dir`` (None: start
    afresh); one of a run of another key raises ``RuntimeError`` naming the folder."""
    saved = read_json(osp.join(run_dir, RUN_KEY))
    last = osp.join(run_dir, 'last_checkpoint')
    if saved is None or not osp.isfile(last):
        return None
    if saved.get('run_key') != key:
        raise RuntimeError(f'{run_dir}: an interrupted run of other settings (config, data, '
                           'checkpoint, folds, seed or epochs); use another --work-dir or '
                           'delete it')
    with open(last) as f:
        path = f.read().strip()
    if not osp.isabs(path):
        path = osp.join(run_dir, osp.basename(path))
    return path if osp.isfile(path) else None


# ---------------------------------------------------------------------------- configs
def dataset_specs(dataset: dict, type_name: str) -> Iterator[dict]:
    """The dicts of type ``type_name`` in a dataset config, wrappers included."""
    stack = [dataset]
    while stack:
        ds = stack.pop()
        if not isinstance(ds, dict):
            continue
        if str(ds.get('type', '')).split('.')[-1] == type_name:
            yield ds
        stack.append(ds.get('dataset'))
        stack.extend(ds.get('datasets') or [])


def echonet_specs(dataset: dict) -> Iterator[dict]:
    """The EchoNetDynamicDataset dicts of a dataset config, wrappers included."""
    return dataset_specs(dataset, ECHONET)


def echonet_leaves(dataset) -> Iterator:
    """The built EchoNetDynamicDataset objects inside a (wrapped) dataset."""
    from echoseg.datasets.echonet import EchoNetDynamicDataset
    stack = [dataset]
    while stack:
        ds = stack.pop()
        if isinstance(ds, EchoNetDynamicDataset):
            yield ds
        stack.extend(getattr(ds, 'datasets', None) or [])
        if getattr(ds, 'dataset', None) is not None:
            stack.append(ds.dataset)


def data_infos(dataset) -> Dict[str, dict]:
    """{video_id: data info} of the EchoNet videos a built dataset really holds."""
    return {info['video_id']: info for leaf in echonet_leaves(dataset)
            for info in (leaf.get_data_info(i) for i in range(len(leaf)))}


def run_config(base_cfg, run: Dict, args, data_root: str, run_dir: str, stamp: str):
    """The runnable config of one run: the base config with the run's videos, no
    validation, EchoMetric on the held-out videos, and the run's seed and epochs."""
    from echoseg.utils.config import scale_epoch_schedule
    from echoseg.utils.config_check import ConfigError
    cfg = copy.deepcopy(base_cfg)
    cfg.work_dir = run_dir
    cfg.experiment_name = f"cv_{run['name']}_{stamp}"
    if cfg.get('visualizer'):
        cfg.visualizer = dict(cfg.visualizer, name=f"visualizer_cv_{run['name']}_{stamp}")
    cfg.randomness = dict(cfg.get('randomness') or {}, seed=run['seed'])
    cfg.load_from = args.load_from
    cfg.resume = False
    for key, ids in (('train_dataloader', run['train']), ('test_dataloader', run['held_out'])):
        loader = cfg[key]
        specs = list(echonet_specs(loader['dataset']))
        if not specs:
            raise ConfigError(f'{args.config}: {key}.dataset has no {ECHONET}')
        for spec in specs:
            spec.update(data_root=data_root, split='all', video_ids=list(ids))
        loader.update(num_workers=args.num_workers, persistent_workers=args.num_workers > 0)
    test_ds = cfg.test_dataloader['dataset']
    if str(test_ds.get('type', '')).split('.')[-1] != ECHONET:
        raise ConfigError(f'{args.config}: test_dataloader.dataset must be {ECHONET}, got '
                          f"{test_ds.get('type')}")
    for step in test_ds.get('pipeline') or []:
        if str(step.get('type', '')).split('.')[-1] == 'ResizeClip':
            step['keep_ori_masks'] = True   # score at the videos' own resolution
    evaluator = cfg.get('test_evaluator')
    evaluator = dict(evaluator) if isinstance(evaluator, dict) and str(
        evaluator.get('type', '')).split('.')[-1] == 'EchoMetric' else {}
    evaluator.update(type='EchoMetric', ef_reference='dataset', empty_distance='diagonal',
                     output_dir=None, dump_path=osp.join(run_dir, 'echo_metric_results.json'),
                     postprocess=True if args.postprocess else None)
    cfg.test_evaluator = evaluator
    cfg.val_dataloader = None
    cfg.val_cfg = None
    cfg.val_evaluator = None

    base_epochs = (cfg.get('train_cfg') or {}).get('max_epochs')
    if base_epochs is None:
        raise ConfigError(f'{args.config}: train_cfg has no max_epochs (cross_validate.py '
                          'runs epoch-based schedules)')
    epochs = args.epochs or int(base_epochs)
    cfg.train_cfg = dict(cfg.train_cfg, max_epochs=epochs, val_interval=epochs + 1)
    if epochs != base_epochs:
        scale_epoch_schedule(cfg, base_epochs, epochs)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=True,
                                        interval=getattr(args, 'checkpoint_interval', None)
                                        or epochs, max_keep_ckpts=1, save_best=None,
                                        save_last=True)
    return cfg


# ---------------------------------------------------------------------------- hooks
def run_recorder(load_from: Optional[str], init_path: Optional[str] = None,
                 resumed: bool = False):
    """A hook that (1) counts, once training starts, the model's tensors that equal the
    ``--load-from`` checkpoint's (saved to ``init_path``; a resumed run reads the count of
    its first start back from there), and (2) keeps every test clip's predicted and
    reference ED/ES masks and the whole clip's predicted masks. It records only; nothing
    goes back to the model."""
    import torch
    from mmengine.hooks import Hook
    from mmengine.model import is_model_wrapper

    from echoseg.utils.checkpoint import load_local_checkpoint

    class RunRecorder(Hook):
        priority = 'LOWEST'

        def __init__(self):
            self.init = None
            self.masks = {}

        def before_train(self, runner) -> None:
            if not load_from:
                return
            if resumed:
                self.init = read_json(init_path) if init_path else None
                return
            model = runner.model.module if is_model_wrapper(runner.model) else runner.model
            saved = load_local_checkpoint(load_from, map_location='cpu')
            saved = saved.get('state_dict', saved)
            own = model.state_dict()
            same = sum(k in saved and tuple(saved[k].shape) == tuple(v.shape)
                       and torch.equal(saved[k].to(v.device, v.dtype), v)
                       for k, v in own.items())
            self.init = dict(checkpoint=load_from, checkpoint_sha256=file_digest(load_from),
                             tensors_equal=int(same), tensors_in_model=len(own))
            if init_path:
                with open(init_path, 'w') as f:
                    json.dump(self.init, f)

        def after_test_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
            for sample in outputs or []:
                meta = sample.metainfo
                ed, es = int(meta['ed_index']), int(meta['es_index'])
                gt = sample.ori_gt_masks if 'ori_gt_masks' in sample else sample.gt_masks
                clip = sample.pred_masks.cpu().numpy().astype(np.uint8)
                self.masks[str(meta['video_id'])] = dict(
                    pred=clip[[ed, es]], gt=gt[[ed, es]].cpu().numpy().astype(np.uint8),
                    frames=np.asarray([meta['frame_indices'][ed],
                                       meta['frame_indices'][es]]),
                    clip=clip, clip_index=np.asarray([ed, es]))

    return RunRecorder()


# ---------------------------------------------------------------------------- one run
def _float(value) -> float:
    return float('nan') if value is None else float(value)


def tracing_ef(geometry: Dict) -> float:
    """Simpson EF of the reference (traced) ED and ES masks from EchoMetric's geometry."""
    from echoseg.evaluation.functional import ejection_fraction, volume_from_disks
    if 'ref_ed' not in geometry or 'ref_es' not in geometry:
        return float('nan')
    ed, es = geometry['ref_ed'], geometry['ref_es']
    return ejection_fraction(volume_from_disks(ed['diameters'], ed['length']),
                             volume_from_disks(es['diameters'], es['length']))


def whole_video_ef(cfg, checkpoint: str, infos: Dict[str, dict], out_dir: str) -> Dict:
    """{video: VideoResult numbers} from echoseg.apis on every held-out AVI."""
    import torch

    from echoseg.apis import VideoPredictor, init_model
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    predictor = VideoPredictor(init_model(cfg, checkpoint, device=device))
    out = {}
    for vid, info in infos.items():
        result = predictor.predict(info['video_path'], name=vid)
        result.to_json(osp.join(out_dir, f'{vid}.json'), extra=dict(
            source=info['video_path'], checkpoint=checkpoint))
        out[vid] = dict(ef_video=result.ef_mean, num_beats=len(result.beats),
                        video_frames=result.num_frames, video_ed_frames=result.ed_frames,
                        video_es_frames=result.es_frames)
    return out


def train_and_measure(base_cfg, run: Dict, args, data_root: str, stamp: str,
                      key: Optional[str] = None) -> Dict:
    """Train one run, measure its held-out videos; the run's record (also written to the
    run's ``run.json``). ``key``: the run's :func:`run_key`; with ``args.resume`` an
    interrupted run of that key continues from its last checkpoint."""
    from mmengine.runner import Runner

    from echoseg.evaluation.metrics.echo_metric import CLIP_RAW_SCORES
    from echoseg.evaluation.results_io import _clean as json_safe
    from echoseg.evaluation.results_io import load_results
    run_dir = osp.join(args.work_dir, run['name'])
    cfg = run_config(base_cfg, run, args, data_root, run_dir, stamp)
    start = time.time()
    resume_from = resume_checkpoint(run_dir, key) if key and args.resume else None
    os.makedirs(run_dir, exist_ok=True)
    for name in (RUN_RECORD, ) if resume_from else (RUN_RECORD, 'init.json'):
        if osp.exists(osp.join(run_dir, name)):
            os.remove(osp.join(run_dir, name))
    if key:
        with open(osp.join(run_dir, RUN_KEY), 'w') as f:
            json.dump(dict(run_key=key, name=run['name']), f)
    if resume_from:
        print(f"=== {run['name']}: resuming from {resume_from}", flush=True)
        cfg.resume = True
        cfg.load_from = resume_from
    cfg.dump(osp.join(run_dir, 'run_config.py'))
    runner = Runner.from_cfg(cfg)
    recorder = run_recorder(args.load_from, osp.join(run_dir, 'init.json'),
                            resumed=bool(resume_from))
    runner.register_hook(recorder)
    trained_ids = sorted(data_infos(runner.train_dataloader.dataset))
    infos = data_infos(runner.test_dataloader.dataset)
    measured_ids = sorted(infos)
    check_disjoint(trained_ids, measured_ids, run['name'])
    if trained_ids != sorted(run['train']) or measured_ids != sorted(run['held_out']):
        raise RuntimeError(f"{run['name']}: the built datasets hold {trained_ids} / "
                           f"{measured_ids}, planned {run['train']} / {run['held_out']}")
    runner.train()
    train_s = time.time() - start
    metrics = runner.test()
    with open(osp.join(run_dir, 'last_checkpoint')) as f:
        checkpoint = f.read().strip()
    masks = recorder.masks
    np.savez_compressed(osp.join(run_dir, 'predictions.npz'), **{
        f'{vid}__{key}': value for vid, rec in masks.items() for key, value in rec.items()})
    video = {} if args.no_video_ef else whole_video_ef(cfg, checkpoint, infos,
                                                       osp.join(run_dir, 'videos'))
    clips = {c['video_id']: c for c in load_results(cfg.test_evaluator['dump_path'])['clips']}
    videos = []
    for vid in sorted(infos):
        clip, info = clips[vid], infos[vid]
        ef = _float(info.get('ef'))
        rec = dict(video_id=vid, ed_frame=int(info['ed_frame']),
                   es_frame=int(info['es_frame']), ef_filelist=ef,
                   dice_ed=_float(clip['dice_ed']), dice_es=_float(clip['dice_es']),
                   dice=_float(clip['dice']), hd95_ed=_float(clip['hd95_ed']),
                   hd95_es=_float(clip['hd95_es']), hd95=_float(clip['hd95']),
                   ef_masks=_float(clip.get('ef_pred')),
                   ef_tracings=tracing_ef(clip['geometry']),
                   tc_flicker=_float(clip.get('tc_flicker')))
        rec['ef_masks_error'] = abs(rec['ef_masks'] - ef)
        if args.postprocess:
            rec.update({f'{key}_raw': _float(clip[f'{key}_raw']) for key in CLIP_RAW_SCORES})
            rec['ef_masks_raw'] = _float(clip.get('ef_pred_raw'))
            rec['ef_masks_raw_error'] = abs(rec['ef_masks_raw'] - ef)
        rec['ef_tracings_error'] = abs(rec['ef_tracings'] - ef)
        rec.update(video.get(vid, dict(ef_video=float('nan'), num_beats=None)))
        rec['ef_video_error'] = abs(rec['ef_video'] - ef)
        rec['fps'] = _float(info.get('fps'))
        rec.update(video_phase_errors(rec))
        videos.append(rec)
    if not args.keep_checkpoints:
        for name in os.listdir(run_dir):
            if name.endswith('.pth'):
                os.remove(osp.join(run_dir, name))
    record = dict(run, trained_video_ids=trained_ids, measured_video_ids=measured_ids,
                  init=recorder.init, checkpoint=checkpoint,
                  checkpoint_kept=bool(args.keep_checkpoints),
                  epochs=int(cfg.train_cfg['max_epochs']),
                  metrics={k: float(v) for k, v in metrics.items()},
                  videos=videos, train_seconds=round(train_s, 1),
                  total_seconds=round(time.time() - start, 1), work_dir=run_dir,
                  log_dir=runner.log_dir, run_key=key, resumed_from=resume_from)
    with open(osp.join(run_dir, RUN_RECORD), 'w') as f:
        json.dump(json_safe(record), f, indent=1)
    del runner
    return record


# ---------------------------------------------------------------------------- summary
def video_phase_errors(video: Dict) -> Dict:
    """``ed_frame_error`` / ``es_frame_error``: frames from the video's labelled ED (ES)
    to the nearest ED (ES) the whole-video read-out found (rule 5b, docs/inference.md);
    None without a read-out or when it found none."""
    from echoseg.evaluation.functional.cardiac_cycle import event_frame_errors
    out = {}
    for event in ('ed', 'es'):
        found = video.get(f'video_{event}_frames')
        out[f'{event}_frame_error'] = None if found is None else \
            event_frame_errors(found, [video[f'{event}_frame']])[0]
    return out


def phase_error_summary(runs: List[Dict]) -> Dict:
    """Median and mean frame error of the picked ED and ES over every (run, held-out
    video) pair, in frames and, where the video's frame rate is known, milliseconds."""
    out = {}
    for event in ('ed', 'es'):
        pairs = []
        for r in runs:
            for v in r['videos']:
                err = v.get(f'{event}_frame_error')
                if err is None and 'video_ed_frames' in v:   # a record written before
                    err = video_phase_errors(v)[f'{event}_frame_error']
                if err is not None:
                    pairs.append((float(err), v.get('fps')))
        frames = np.asarray([e for e, _ in pairs], float)
        ms = np.asarray([1000.0 * e / f for e, f in pairs
                         if f is not None and math.isfinite(f) and f > 0], float)
        out[event] = dict(
            median_frames=float(np.median(frames)) if frames.size else float('nan'),
            mean_frames=float(frames.mean()) if frames.size else float('nan'),
            median_ms=float(np.median(ms)) if ms.size else float('nan'), n=int(frames.size))
    return out


def _mean_sd(values) -> Dict:
    arr = np.asarray([v for v in values if v is not None and math.isfinite(v)], float)
    return dict(mean=float(arr.mean()) if arr.size else float('nan'),
                sd=float(arr.std(ddof=1)) if arr.size > 1 else float('nan'), n=int(arr.size))


def summarise(runs: List[Dict], postprocess: bool = False) -> List[Dict]:
    """One entry per training-set size: every column's mean and sd over the runs (each
    run's value is the mean over its held-out videos)."""
    out = []
    for size in dict.fromkeys(r['train_size'] for r in runs):
        group = [r for r in runs if r['train_size'] == size]
        entry = dict(train_size=size, runs=len(group),
                     train_videos=sorted({len(r['train']) for r in group}),
                     held_out_videos=len({v['video_id'] for r in group
                                          for v in r['videos']}),
                     video_results=sum(len(r['videos']) for r in group),
                     no_beat=sum(v.get('num_beats') == 0 for r in group
                                 for v in r['videos']))
        for key, _, _ in table_columns(postprocess) + (('ef_tracings_error', '', 1), ):
            entry[key] = _mean_sd(_mean_sd(v[key] for v in r['videos'])['mean']
                                  for r in group)
        entry['phase_error'] = phase_error_summary(group)
        out.append(entry)
    return out


def _cell(stat: Dict, digits: int) -> str:
    if not math.isfinite(stat['mean']):
        return 'n/a'
    sd = f" ± {stat['sd']:.{digits}f}" if math.isfinite(stat['sd']) else ''
    return f"{stat['mean']:.{digits}f}{sd}"


def markdown_table(summary: List[Dict], settings: Dict) -> str:
    """The table of ``summary`` and a note on the protocol."""
    columns = table_columns(settings.get('postprocess', False))
    head = ['training videos', 'runs', 'held-out videos'] + [c[1] for c in columns] + [
        'no beat found']
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for e in summary:
        sizes = '-'.join(str(n) for n in (e['train_videos'][0], e['train_videos'][-1])) \
            if len(e['train_videos']) > 1 else str(e['train_videos'][0])
        label = sizes if e['train_size'] else f'all ({sizes})'
        cells = [label, str(e['runs']), str(e['held_out_videos'])]
        cells += [_cell(e[key], digits) for key, _, digits in columns]
        cells.append('n/a' if settings['no_video_ef'] else
                     f"{e['no_beat']}/{e['video_results']}")
        lines.append('| ' + ' | '.join(cells) + ' |')
    floor = summary[0]['ef_tracings_error']['mean'] if summary else float('nan')
    lines += [
        '',
        f"`{settings['config']}` on `{settings['data_root']}` ({settings['num_videos']} "
        f"videos), {settings['num_folds']} folds (split seed {settings['split_seed']}), "
        f"seeds {settings['seeds']}, {settings['epochs']} epochs"
        + (f", initialised from `{settings['load_from']}`" if settings['load_from'] else '')
        + (f", --cfg-options {settings['cfg_options']}" if settings['cfg_options'] else '')
        + '. Each cell: mean ± sd over the fold × seed runs of the mean over the run\'s '
        'held-out videos; no number comes from a video its model trained on. Dice and '
        'HD95 (pixels, at the videos\' own resolution; an empty prediction counts the '
        'image diagonal) on the traced ED and ES frames. |EF err|: absolute difference '
        'from FileList.csv\'s EF in EF points, from the predicted ED/ES masks (Simpson) '
        'or as the mean over the beats found in the whole video. '
        + ('ED/ES masks are scored after the LV post-processing of tools/infer.py '
           '(largest component, holes filled); "as predicted": before it. '
           if settings.get('postprocess') else '')
        + 'Simpson EF of the '
        f'tracings themselves differs from FileList.csv by {floor:.1f} points on average.',
    ]
    for e in summary:
        phase = e.get('phase_error') or {}
        if all(phase.get(k, {}).get('n') for k in ('ed', 'es')):
            lines.append(
                f"\nED/ES picked in the whole video ({e['train_size'] or 'all'} training "
                'videos), frames from the labelled ED / ES to the nearest picked one, '
                'median (mean) over the held-out videos of every run: ED '
                + ' / ES '.join(f"{phase[k]['median_frames']:.1f} "
                                f"({phase[k]['mean_frames']:.1f}) frames, "
                                f"{phase[k]['median_ms']:.0f} ms" for k in ('ed', 'es'))
                + f" ({phase['ed']['n']} video results).")
    return '\n'.join(lines)


def video_table(runs: List[Dict]) -> str:
    """One row per training size and held-out video: its numbers averaged over seeds."""
    keys = ('dice_ed', 'dice_es', 'hd95', 'ef_filelist', 'ef_tracings', 'ef_masks',
            'ef_video')
    lines = ['| training videos | video | seeds | Dice ED | Dice ES | HD95 ED+ES (px) | '
             'EF FileList | EF tracings | EF ED/ES masks | EF whole video |',
             '|' + '---|' * 10]
    groups: Dict[tuple, List[Dict]] = {}
    for r in runs:
        for v in r['videos']:
            groups.setdefault((r['train_size'] or len(r['train']), v['video_id']), []).append(v)
    for (size, vid), vals in groups.items():
        means = [_mean_sd(v[k] for v in vals)['mean'] for k in keys]
        digits = (3, 3, 1, 1, 1, 1, 1)
        cells = ['n/a' if not math.isfinite(m) else f'{m:.{d}f}' for m, d in zip(means, digits)]
        lines.append(f'| {size} | {vid} | {len(vals)} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


# ---------------------------------------------------------------------------- main
def _git_state() -> Dict:
    def git(*a):
        try:
            return subprocess.run(['git', '-C', ROOT, *a], capture_output=True, text=True,
                                  timeout=20).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ''
    return dict(commit=git('rev-parse', 'HEAD') or None,
                uncommitted_changes=bool(git('status', '--porcelain')))


def list_videos(base_cfg, data_root: str) -> Dict[str, dict]:
    """{video_id: data info} of every video in the folder, read (and checked) with the
    config's own EchoNetDynamicDataset settings."""
    from echoseg.registry import DATASETS
    from echoseg.utils.config_check import ConfigError
    specs = list(echonet_specs(base_cfg.train_dataloader['dataset']))
    if not specs:
        raise ConfigError(f'{base_cfg.filename}: train_dataloader.dataset has no {ECHONET}')
    spec = copy.deepcopy(dict(specs[0]))
    spec.update(data_root=data_root, split='all', video_ids=None, pipeline=[])
    return data_infos(DATASETS.build(spec))


def main(argv=None) -> Dict:
    """The command line of ``tools/analysis/cross_validate.py``: run the cross-validation;
    returns what ``cross_validation.json`` holds."""
    args = parse_args(argv)
    import torch
    from mmengine.registry import init_default_scope

    from echoseg.utils.config import load_config
    from echoseg.datasets.errors import EchoDataError
    from echoseg.evaluation.results_io import _clean as json_safe  # NaN -> null
    from echoseg.utils.checkpoint import CheckpointError, load_local_checkpoint
    from echoseg.utils.config_check import ConfigError
    from echoseg.utils.pretrained import prepare_pretrained

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    data_root = osp.abspath(args.data_root or default_data_root())
    if args.work_dir is None:
        args.work_dir = osp.join('work_dirs', 'cross_validate',
                                 osp.splitext(osp.basename(args.config))[0])
    try:
        if not osp.isdir(data_root):
            raise FileNotFoundError(f'{data_root}: data folder not found (an EchoNet-Dynamic '
                                    'layout: Videos/, FileList.csv, VolumeTracings.csv)')
        if args.load_from:
            load_local_checkpoint(args.load_from, map_location='cpu')  # fail early, clearly
        if args.epochs is not None and args.epochs < 1:
            raise ValueError(f'--epochs must be >= 1, got {args.epochs}')
        if args.checkpoint_interval is not None and args.checkpoint_interval < 1:
            raise ValueError(f'--checkpoint-interval must be >= 1, got '
                             f'{args.checkpoint_interval}')
        base_cfg = load_config(args.config, args.cfg_options, work_dir=args.work_dir)
        cfg_digest = config_digest(base_cfg)   # before the ImageNet weights' paths
        prepare_pretrained(base_cfg, args.config, starts_from=bool(args.load_from))
        init_default_scope(base_cfg.get('default_scope', 'echoseg'))
        infos = list_videos(base_cfg, data_root)
        num_folds = len(infos) if args.leave_one_out else (args.folds or min(5, len(infos)))
        runs = plan_runs(list(infos), num_folds, args.split_seed, args.train_sizes,
                         args.seeds)
        key = settings_key(cfg_digest, args, data_root, num_folds)
        epochs = args.epochs or (base_cfg.get('train_cfg') or {}).get('max_epochs')
        if args.resume:   # a run directory of other settings stops before any training
            for run in runs:
                run_dir = osp.join(args.work_dir, run['name'])
                finished_run(run_dir, run_key(key, run, epochs))
                resume_checkpoint(run_dir, run_key(key, run, epochs))
    except (ConfigError, FileNotFoundError, CheckpointError, EchoDataError, ValueError,
            KeyError, RuntimeError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        raise SystemExit(2)

    os.makedirs(args.work_dir, exist_ok=True)
    stamp = time.strftime('%Y%m%d_%H%M%S')
    settings = dict(
        command=' '.join([TOOL] + list(sys.argv[1:] if argv is None else argv)),
        config=shown_path(args.config), data_root=data_root,
        num_videos=len(infos), num_folds=num_folds, leave_one_out=num_folds == len(infos),
        split_seed=args.split_seed, train_sizes=args.train_sizes, seeds=list(args.seeds),
        epochs=int(epochs), load_from=args.load_from, cfg_options=args.cfg_options,
        torch_threads=torch.get_num_threads(), num_workers=args.num_workers,
        no_video_ef=args.no_video_ef, postprocess=bool(args.postprocess),
        resume=bool(args.resume), checkpoint_interval=args.checkpoint_interval,
        settings_key=key, ef_reference='FileList.csv EF',
        empty_distance='diagonal', git=_git_state(), started=stamp)
    folds = make_folds(list(infos), num_folds, args.split_seed)
    start = time.time()
    records = []
    for i, run in enumerate(runs):
        rkey = run_key(key, run, epochs)
        done = finished_run(osp.join(args.work_dir, run['name']), rkey) \
            if args.resume else None
        if done is not None:
            print(f"=== run {i + 1}/{len(runs)} {run['name']}: finished before, reused",
                  flush=True)
            records.append(dict(done, reused=True))
            continue
        print(f"=== run {i + 1}/{len(runs)} {run['name']}: train on {len(run['train'])} "
              f"video(s), hold out {run['held_out']}", flush=True)
        records.append(train_and_measure(base_cfg, run, args, data_root, stamp, rkey))
    summary = summarise(records, args.postprocess)
    settings['wall_seconds'] = round(time.time() - start, 1)
    table = markdown_table(summary, settings)
    out = dict(settings=settings, folds=folds, summary=summary, runs=records)
    with open(osp.join(args.work_dir, 'cross_validation.json'), 'w') as f:
        json.dump(json_safe(out), f, indent=1)
    with open(osp.join(args.work_dir, 'cross_validation.md'), 'w') as f:
        f.write(f"# Cross-validation: {settings['config']}\n\n{table}\n\nPer held-out "
                f"video (mean over seeds):\n\n{video_table(records)}\n\nCommand: "
                f"`{settings['command']}` ({settings['wall_seconds']:.0f} s)\n")
    print('\n' + table)
    print(f"\n{len(records)} run(s) in {settings['wall_seconds']:.0f} s; wrote "
          f"{osp.join(args.work_dir, 'cross_validation.json')} and cross_validation.md")
    return out
