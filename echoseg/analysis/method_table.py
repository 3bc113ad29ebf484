"""Every method on real echo under one protocol (docs/real_data.md, "Method table";
``tools/analysis/method_table.py``).

    python tools/analysis/method_table.py [PROTOCOL] [--configs CFG [CFG ...]]
        [--data-root DIR] [--work-root DIR] [--seeds S [S ...]] [--folds K]
        [--rows NAME [NAME ...]] [--stages STAGE [STAGE ...] | --table-only] [--threads N]
        [--retime] [--plot PNG] [--dry-run]

A protocol (default ``configs/method_table/real_protocol.py``) lists rows: a name, the
fine-tuning config (an EchoNet-Dynamic config), the synthetic-pretraining config of the
same method, and at most one alternative setting declared before any result
(``alternative=dict(...)`` in the row, or ``method_table = dict(alternative=dict(...))``
in the fine-tuning config: ``--cfg-options``-style keys), reported as its own row. For
every row:

1. *pretrain*: the pretraining config on ``synthetic_videos`` synthetic videos, through
   ``tools/train.py --resume`` in ``<work root>/pretrain/<name>-<hash>``, the hash that
   of the resolved config (:func:`~.cross_validation.config_digest`): a finished stage
   (``done.json``) is reused, an interrupted one resumes from its last checkpoint;
2. *cv*: ``tools/analysis/cross_validate.py --resume`` of the fine-tuning config with the
   recipe's optimiser, learning-rate schedule, batch size and epochs forced on it (the
   same for every row), ``--load-from`` the stage-1 checkpoint, the protocol's folds,
   seeds and post-processing, in ``<work root>/cv/<name>-<hash>`` (the hash of that config,
   the pretraining, the data, the folds and the measurement, not of the seeds: more seeds
   add runs); finished runs are reused, an interrupted one continues;
3. *complexity*: parameters and multiply-adds at 112 x 112 (:mod:`.complexity`);
4. *speed*: frames/s at 112 x 112 on 2 threads (:func:`.benchmark.benchmark_model`), every
   row timed side by side in one process (a row whose model is new re-times all rows);

then one markdown table and JSON (``method_table.md`` / ``.json`` in the work root) and
the plot of Dice against frames/s (``--plot``). A row whose stages are not finished is
listed as "not measured yet" with what remains, so the table grows across sessions;
``--dry-run`` prints the plan (stages, hashes, done / remaining, whether the pretrained
weights fit the fine-tuning model) and runs nothing.
"""
import argparse
import contextlib
import copy
import json
import math
import os
import os.path as osp
import re
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence

import numpy as np

from .cross_validation import (RUN_RECORD, _git_state, config_digest, data_fingerprint,
                               dataset_specs, digest, file_digest, read_json)
from .method_table_archive import (DEFAULT_ARCHIVE, ArchiveConflict, archive_cv,
                                   archive_file, archived_runs, read_archived)
from .paths import REPO_ROOT, default_data_root, shown_path

#: the protocol the tool runs by default
DEFAULT_PROTOCOL = osp.join('configs', 'method_table', 'real_protocol.py')
#: protocol settings and their defaults (a protocol file may set any of them)
PROTOCOL_DEFAULTS = dict(
    recipe='configs/baselines/fcn_r18_echonet_synpre.py', synthetic_videos=512,
    synthetic_dataset='SyntheticEchoDataset', seeds=[0, 1], folds=4, split_seed=0,
    postprocess=True, video_ef=True, checkpoint_interval=5,
    speed=dict(shape=(112, 112), threads=2, warmup=2, runs=5))
#: row keys a protocol may give
ROW_KEYS = ('name', 'finetune', 'pretrain', 'model', 'encoder', 'note', 'alternative',
            'synthetic_videos')
STAGES = ('pretrain', 'cv', 'complexity', 'speed')
PRETRAIN_DONE = 'done.json'
#: stage files kept under the same relative paths in a work root and in the archive
COMPLEXITY_DIR, SPEED_FILE = 'complexity', 'speed.json'
#: per-video keys summarised per row: (key, digits)
SCORES = (('dice_ed', 3), ('dice_es', 3), ('dice', 3), ('dice_ed_raw', 3),
          ('dice_es_raw', 3), ('dice_raw', 3), ('hd95', 1), ('ef_video_error', 1),
          ('ef_masks_error', 1), ('ef_video_bias', 1), ('ef_masks_bias', 1),
          ('tc_flicker', 3))
#: the Dice of the ED / ES masks under each LV component choice (from the saved clips)
COMPONENT_SCORES = ('dice_ed', 'dice_es', 'dice')
#: predicted / reference LV area of the ED and ES masks, per component choice (where the
#: EF bias starts: docs/evaluation.md)
AREA_SCORES = ('area_ratio_ed', 'area_ratio_es')


class StageError(RuntimeError):
    """A stage could not run or failed; the message names the file to read."""


# ---------------------------------------------------------------------------- protocol
def _repo_path(path: str) -> str:
    """A config path as given, else relative to the repository."""
    if osp.isabs(path) or osp.exists(path):
        return osp.abspath(path)
    return osp.join(REPO_ROOT, path)


def load_protocol(path: Optional[str] = None, configs: Sequence[str] = ()) -> Dict:
    """The protocol settings and rows: from a protocol file, or one row per config of
    ``configs`` (each with a ``method_table = dict(name=..., pretrain=..., ...)`` key)."""
    from mmengine.config import Config
    proto = copy.deepcopy(PROTOCOL_DEFAULTS)
    rows = []
    if configs:
        for cfg_path in configs:
            if not osp.isfile(_repo_path(cfg_path)):
                raise FileNotFoundError(f'{cfg_path}: config file not found')
            own = dict(Config.fromfile(_repo_path(cfg_path)).get('method_table') or {})
            own.pop('alternative', None)   # read from the config with the row's other keys
            rows.append(dict(own, finetune=cfg_path,
                             name=own.get('name') or osp.splitext(osp.basename(cfg_path))[0]))
        proto['source'] = None
    else:
        path = path or DEFAULT_PROTOCOL
        if not osp.isfile(_repo_path(path)):
            raise FileNotFoundError(f'{path}: protocol file not found')
        data = Config.fromfile(_repo_path(path)).to_dict()
        unknown = set(data) - set(PROTOCOL_DEFAULTS) - {'rows'}
        if unknown:
            raise ValueError(f'{path}: unknown protocol key(s) {sorted(unknown)}; known: '
                             f"{sorted(PROTOCOL_DEFAULTS) + ['rows']}")
        proto.update({k: v for k, v in data.items() if k != 'rows'})
        rows = list(data.get('rows') or [])
        proto['source'] = shown_path(_repo_path(path))
    where = proto['source'] or 'the configs'
    if not rows:
        raise ValueError(f'{where}: no rows')
    names = set()
    for row in rows:
        unknown = set(row) - set(ROW_KEYS)
        if unknown:
            raise ValueError(f"{where}: row {row.get('name')!r}: unknown key(s) "
                             f'{sorted(unknown)}; known: {list(ROW_KEYS)}')
        if not row.get('name') or not row.get('finetune'):
            raise ValueError(f'{where}: every row needs a name and a finetune config: {row}')
        if row['name'] in names:
            raise ValueError(f"{where}: two rows named {row['name']!r}")
        names.add(row['name'])
        if row.get('model', 'finetune') not in ('finetune', 'pretrain'):
            raise ValueError(f"{where}: row {row['name']!r}: model must be 'finetune' or "
                             f"'pretrain', got {row['model']!r}")
        videos = row.get('synthetic_videos')
        if videos is not None and (not row.get('pretrain') or isinstance(videos, bool)
                                   or not isinstance(videos, int) or videos < 1):
            raise ValueError(f"{where}: row {row['name']!r}: synthetic_videos must be a "
                             f'positive count of pretraining videos and needs a pretrain '
                             f'config, got {videos!r}')
        for key in ('finetune', 'pretrain'):
            if row.get(key) and not osp.isfile(_repo_path(row[key])):
                raise FileNotFoundError(f"{where}: row {row['name']!r}: {row[key]}: config "
                                        'file not found')
    proto['rows'] = rows
    return proto


def expand_rows(proto: Dict) -> List[Dict]:
    """The table's rows: every protocol row, and after it its declared alternative (from
    the row, or the fine-tuning config's ``method_table.alternative``) as a row of its own.
    A config that does not read, or an alternative declared in both places, is the row's
    ``error`` (the other rows go on)."""
    from mmengine.config import Config
    out = []
    for row in proto['rows']:
        base = dict(model='finetune', encoder='', note='', pretrain=None)
        base.update({k: v for k, v in row.items() if k != 'alternative'})
        base.update(alternative=None, method=row['name'], declared_in=None)
        out.append(base)
        try:
            own = (Config.fromfile(_repo_path(row['finetune'])).get('method_table')
                   or {}).get('alternative')
        except Exception as exc:  # another helper's broken edit must not stop the table
            base['error'] = f"{row['finetune']}: {type(exc).__name__}: {exc}"[:300]
            continue
        given = row.get('alternative')
        if own and given:
            base['error'] = (f"an alternative is declared both in the protocol and in "
                             f"{row['finetune']} (method_table.alternative); at most one "
                             'per method')
            continue
        if own or given:
            out.append(dict(base, name=f"{row['name']}, alternative",
                            alternative=dict(own or given),
                            declared_in=row['finetune'] if own else 'protocol'))
    return out


# ---------------------------------------------------------------------------- configs
def _slug(text: str) -> str:
    return re.sub(r'[^A-Za-z0-9]+', '_', text).strip('_').lower() or 'row'


def pretrain_config(row: Dict, proto: Dict):
    """The row's pretraining config with ``synthetic_videos`` training videos (the row's
    own count, else the protocol's; raw: before :func:`~echoseg.utils.config.load_config`'s
    completion), or None."""
    from mmengine.config import Config
    if not row.get('pretrain'):
        return None
    cfg = Config.fromfile(_repo_path(row['pretrain']))
    specs = list(dataset_specs(cfg.train_dataloader['dataset'], proto['synthetic_dataset']))
    if not specs:
        raise ValueError(f"{row['pretrain']}: train_dataloader.dataset has no "
                         f"{proto['synthetic_dataset']} to set num_videos on")
    for spec in specs:
        spec['num_videos'] = synthetic_videos(row, proto)
    return cfg


def synthetic_videos(row: Dict, proto: Dict) -> Optional[int]:
    """The number of synthetic videos the row's model is pretrained on (the row's own
    count, else the protocol's; None when neither says)."""
    videos = row.get('synthetic_videos') or proto.get('synthetic_videos')
    return int(videos) if videos else None


def recipe_settings(proto: Dict) -> Dict:
    """The settings every row gets from the recipe config: optimiser, learning-rate
    schedule, batch size, epochs."""
    from mmengine.config import Config
    recipe = Config.fromfile(_repo_path(proto['recipe']))
    return dict(optimizer=copy.deepcopy(recipe.optim_wrapper['optimizer']),
                param_scheduler=copy.deepcopy(recipe.get('param_scheduler')),
                batch_size=int(recipe.train_dataloader['batch_size']),
                max_epochs=int(recipe.train_cfg['max_epochs']))


def finetune_config(row: Dict, proto: Dict, pre_cfg=None, recipe: Optional[Dict] = None):
    """The row's fine-tuning config (raw): its own, with the pretraining config's model
    when ``model='pretrain'``, the recipe's optimiser (replaced whole), learning-rate
    schedule, batch size and epochs, then the row's alternative (``--cfg-options``-style;
    a new ``train_cfg.max_epochs`` moves the schedule's end as ``--cfg-options`` do)."""
    from mmengine.config import Config

    from echoseg.utils.config import scale_epoch_schedule
    from echoseg.utils.config_check import check_cfg_options
    path = _repo_path(row['finetune'])
    cfg = Config.fromfile(path)
    if row.get('model') == 'pretrain':
        if pre_cfg is None:
            raise ValueError(f"row {row['name']!r}: model='pretrain' needs a pretrain config")
        cfg.model = copy.deepcopy(pre_cfg.model)
    recipe = recipe or recipe_settings(proto)
    cfg.optim_wrapper = dict(cfg.optim_wrapper, optimizer=copy.deepcopy(recipe['optimizer']))
    if recipe['param_scheduler'] is not None:
        cfg.param_scheduler = copy.deepcopy(recipe['param_scheduler'])
    cfg.train_dataloader.batch_size = recipe['batch_size']
    cfg.train_cfg = dict(cfg.train_cfg, max_epochs=recipe['max_epochs'])
    cfg.pop('method_table', None)
    options = row.get('alternative')
    if options:
        check_cfg_options(cfg, options, row['finetune'])
        epochs = cfg.train_cfg['max_epochs']
        cfg.merge_from_dict(options)
        new = cfg.train_cfg['max_epochs']
        if new != epochs and not any(k.startswith('param_scheduler') for k in options):
            scale_epoch_schedule(cfg, epochs, new)
    return cfg


def pretrain_key(pre_cfg) -> str:
    return digest(dict(stage='pretrain', config=config_digest(pre_cfg)))[:12]


def cv_key(ft_cfg, pre_key: Optional[str], data_print: str, proto: Dict) -> str:
    """Everything a row's cross-validation depends on but its seeds."""
    return digest(dict(stage='cv', config=config_digest(ft_cfg), pretrain=pre_key,
                       data=data_print, folds=int(proto['folds']),
                       split_seed=int(proto['split_seed']),
                       postprocess=bool(proto['postprocess']),
                       video_ef=bool(proto['video_ef'])))[:12]


def inference_model(model) -> Dict:
    """The model config without what only training reads (``train_cfg`` and every
    ``loss_*`` key, at any depth): what complexity and speed depend on."""
    if hasattr(model, 'to_dict'):
        model = model.to_dict()
    if isinstance(model, dict):
        return {k: inference_model(v) for k, v in model.items()
                if k != 'train_cfg' and not str(k).startswith('loss_')}
    if isinstance(model, (list, tuple)):
        return [inference_model(v) for v in model]
    return model


def model_key(ft_cfg, shape, frames: int) -> str:
    """Stages 3 and 4 (complexity, speed): the inference model, input shape and clip
    length; a change of loss or training settings keeps the key."""
    return digest(dict(model=inference_model(ft_cfg.model), shape=list(shape),
                       frames=int(frames)))[:12]


def clip_frames(cfg) -> int:
    return int(cfg.get('num_frames', 10))


# ---------------------------------------------------------------------------- plan
def run_names(proto: Dict, seeds: Sequence[int]) -> List[str]:
    """The run directories cross_validate.py makes (``all_seed<S>_fold<K>``)."""
    return [f'all_seed{s}_fold{k}' for s in seeds for k in range(int(proto['folds']))]


def _locked(directory: str) -> bool:
    """Whether another process holds the stage's lock."""
    import fcntl
    path = osp.join(directory, '.lock')
    if not osp.isfile(path):
        return False
    with open(path, 'a') as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(f, fcntl.LOCK_UN)
    return False


@contextlib.contextmanager
def stage_lock(directory: str):
    """Hold the stage directory's lock (two processes never run one stage); yields the
    lock's file descriptor, which the stage's subprocess inherits, so that the lock lasts
    while either lives. Raises :class:`StageError` when another process holds it."""
    import fcntl
    os.makedirs(directory, exist_ok=True)
    with open(osp.join(directory, '.lock'), 'a') as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StageError(f'{directory}: another process is running this stage')
        yield f.fileno()


def pretrain_state(directory: str, max_epochs: int) -> Dict:
    """``done`` (with its checkpoint), ``partial`` (epochs saved so far) or ``todo``."""
    done = read_json(osp.join(directory, PRETRAIN_DONE))
    if done and osp.isfile(done.get('checkpoint', '')):
        return dict(state='done', checkpoint=done['checkpoint'], record=done)
    state = dict(state='todo', epochs_saved=0, max_epochs=max_epochs)
    if osp.isdir(directory):
        saved = [int(m.group(1)) for n in os.listdir(directory)
                 for m in [re.fullmatch(r'epoch_(\d+)\.pth', n)] if m]
        if saved:
            state.update(state='partial', epochs_saved=max(saved))
        if _locked(directory):
            state['running'] = True
    return state


def cv_state(directory: str, names: Sequence[str], archived: Optional[Dict] = None) -> Dict:
    """``done`` when every planned run has its ``run.json`` (in ``directory`` or among
    the ``archived`` runs, :mod:`.method_table_archive`), else ``partial`` / ``todo``."""
    local = [n for n in names if osp.isfile(osp.join(directory, n, RUN_RECORD))]
    finished = [n for n in names if n in local or n in (archived or {})]
    state = 'done' if len(finished) == len(names) else 'partial' if finished else 'todo'
    out = dict(state=state, runs_done=len(finished), runs=len(names),
               runs_archived_only=len(finished) - len(local))
    if state != 'done' and osp.isdir(directory) and _locked(directory):
        out['running'] = True
    return out


def plan(proto: Dict, data_root: str, work_root: str, seeds: Sequence[int],
         archive: Optional[str] = None) -> List[Dict]:
    """Every row with its configs, stage keys, directories and states (a run archived in
    ``archive`` counts as finished)."""
    data_print = data_fingerprint(data_root)
    recipe = recipe_settings(proto)
    shape = tuple(proto['speed']['shape'])
    rows = []
    for row in expand_rows(proto):
        entry = dict(row, archive=archive)
        if entry.get('error'):
            rows.append(entry)
            continue
        try:
            pre = pretrain_config(row, proto)
            ft = finetune_config(row, proto, pre, recipe)
        except Exception as exc:  # a config others broke must not hide the other rows
            entry.update(error=f'{type(exc).__name__}: {exc}'.splitlines()[0][:300])
            rows.append(entry)
            continue
        pre_key = pretrain_key(pre) if pre is not None else None
        entry.update(pre_cfg=pre, ft_cfg=ft, pretrain_key=pre_key,
                     cv_key=cv_key(ft, pre_key, data_print, proto),
                     model_key=model_key(ft, shape, clip_frames(ft)),
                     frames=clip_frames(ft), epochs=int(ft.train_cfg['max_epochs']))
        if pre is not None:
            folder, stem = osp.split(osp.splitext(_repo_path(row['pretrain']))[0])
            # a row's own count is in the folder's name (the config's stem may name another)
            own = f"_n{row['synthetic_videos']}" if row.get('synthetic_videos') else ''
            entry['pretrain_dir'] = osp.join(
                work_root, 'pretrain',
                f'{_slug(osp.basename(folder) + "_" + stem + own)}-{pre_key}')
            entry['pretrain_state'] = pretrain_state(entry['pretrain_dir'],
                                                     int(pre.train_cfg['max_epochs']))
        entry['cv_dir'] = osp.join(work_root, 'cv', f"{_slug(row['name'])}-{entry['cv_key']}")
        entry['archived_runs'] = archived_runs(archive, entry['cv_dir'])
        entry['cv_state'] = cv_state(entry['cv_dir'], run_names(proto, seeds),
                                     entry['archived_runs'])
        rows.append(entry)
    return rows


def weights_fit(entry: Dict) -> Optional[Dict]:
    """How many tensors of the fine-tuning model the pretraining model has, by name and
    shape (both models built, nothing trained)."""
    if entry.get('pre_cfg') is None:
        return None
    from mmengine.registry import init_default_scope

    import echoseg  # noqa: F401  (registers the models)
    from echoseg.registry import MODELS
    init_default_scope('echoseg')
    own = MODELS.build(copy.deepcopy(entry['ft_cfg'].model)).state_dict()
    pre = MODELS.build(copy.deepcopy(entry['pre_cfg'].model)).state_dict()
    fit = sum(k in pre and tuple(pre[k].shape) == tuple(v.shape) for k, v in own.items())
    return dict(tensors_fit=int(fit), tensors_in_model=len(own))


# ---------------------------------------------------------------------------- stages
def _env(threads: int) -> Dict[str, str]:
    path = os.pathsep.join([REPO_ROOT] + [p for p in [os.environ.get('PYTHONPATH')] if p])
    return dict(os.environ, PYTHONPATH=path, OMP_NUM_THREADS=str(threads),
                MKL_NUM_THREADS=str(threads))


def _run_logged(cmd: List[str], log_path: str, threads: int, lock_fd: int) -> int:
    with open(log_path, 'a') as log:
        log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(cmd)}\n")
        log.flush()
        return subprocess.run(cmd, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
                              env=_env(threads), pass_fds=(lock_fd, )).returncode


def final_checkpoint(directory: str, max_epochs: int) -> Optional[str]:
    """``epoch_<max_epochs>.pth`` of a training's work dir, else its ``last_checkpoint``."""
    path = osp.join(directory, f'epoch_{max_epochs}.pth')
    if osp.isfile(path):
        return path
    last = osp.join(directory, 'last_checkpoint')
    if osp.isfile(last):
        with open(last) as f:
            path = f.read().strip()
        path = path if osp.isabs(path) else osp.join(directory, osp.basename(path))
        return path if osp.isfile(path) else None
    return None


def run_pretrain(entry: Dict, threads: int) -> str:
    """Stage 1 (reused when done, resumed when interrupted); the final checkpoint."""
    directory = entry['pretrain_dir']
    with stage_lock(directory) as lock_fd:
        state = pretrain_state(directory, int(entry['pre_cfg'].train_cfg['max_epochs']))
        if state['state'] == 'done':
            return state['checkpoint']
        config = osp.join(directory, 'config.py')
        entry['pre_cfg'].dump(config)
        log = osp.join(directory, 'stage.log')
        start = time.time()
        print(f"[{entry['name']}] pretraining in {directory} ({state['state']}: "
              f"{state.get('epochs_saved', 0)} epoch(s) saved), log {log}", flush=True)
        code = _run_logged([sys.executable, osp.join(REPO_ROOT, 'tools', 'train.py'), config,
                            '--work-dir', directory, '--resume'], log, threads, lock_fd)
        max_epochs = int(entry['pre_cfg'].train_cfg['max_epochs'])
        checkpoint = final_checkpoint(directory, max_epochs)
        if code != 0 or checkpoint is None:
            raise StageError(f'{directory}: pretraining failed (exit status {code}); see {log}')
        record = dict(checkpoint=checkpoint, sha256=file_digest(checkpoint),
                      config=entry['pretrain'], key=entry['pretrain_key'],
                      max_epochs=max_epochs, seconds=round(time.time() - start, 1),
                      threads=threads, git=_git_state(),
                      finished=time.strftime('%Y-%m-%d %H:%M:%S'))
        with open(osp.join(directory, PRETRAIN_DONE), 'w') as f:
            json.dump(record, f, indent=1)
        return checkpoint


def cv_command(entry: Dict, proto: Dict, data_root: str, seeds: Sequence[int], threads: int,
               checkpoint: Optional[str]) -> List[str]:
    cmd = [sys.executable, osp.join(REPO_ROOT, 'tools', 'analysis', 'cross_validate.py'),
           osp.join(entry['cv_dir'], 'config.py'), '--data-root', data_root,
           '--folds', str(proto['folds']), '--split-seed', str(proto['split_seed']),
           '--seeds', *map(str, seeds), '--work-dir', entry['cv_dir'],
           '--threads', str(threads), '--resume',
           '--checkpoint-interval', str(proto['checkpoint_interval'])]
    if checkpoint:
        cmd += ['--load-from', checkpoint]
    if proto['postprocess']:
        cmd.append('--postprocess')
    if not proto['video_ef']:
        cmd.append('--no-video-ef')
    return cmd


def run_cv(entry: Dict, proto: Dict, data_root: str, seeds: Sequence[int], threads: int,
           checkpoint: Optional[str]) -> None:
    """Stage 2: the row's cross-validation (finished runs reused, an interrupted one
    continued: cross_validate.py --resume)."""
    directory = entry['cv_dir']
    with stage_lock(directory) as lock_fd:
        state = cv_state(directory, run_names(proto, seeds), entry.get('archived_runs'))
        if state['state'] == 'done':
            return
        entry['ft_cfg'].dump(osp.join(directory, 'config.py'))
        log = osp.join(directory, 'stage.log')
        print(f"[{entry['name']}] cross-validation in {directory} ({state['runs_done']}/"
              f"{state['runs']} runs done), log {log}", flush=True)
        code = _run_logged(cv_command(entry, proto, data_root, seeds, threads, checkpoint),
                           log, threads, lock_fd)
        if code != 0:
            raise StageError(f'{directory}: cross-validation failed (exit status {code}); '
                             f'see {log}')


def complexity_file(key: str) -> str:
    """A model's complexity file, relative to the work root and to the archive."""
    return osp.join(COMPLEXITY_DIR, f'{key}.json')


def complexity_path(work_root: str, key: str) -> str:
    return osp.join(work_root, complexity_file(key))


def read_saved(work_root: str, archive: Optional[str], relative: str) -> Optional[Dict]:
    """A stage's JSON by its path relative to the work root (``speed.json``,
    ``complexity/<key>.json``), else the archive's copy, else None."""
    return read_json(osp.join(work_root, relative)) or read_archived(archive, relative)


def run_complexity(entry: Dict, work_root: str, shape) -> Dict:
    """Stage 3: parameters and multiply-adds of the row's model at ``shape`` (cached in
    the work root or the archive)."""
    path = complexity_path(work_root, entry['model_key'])
    saved = read_saved(work_root, entry.get('archive'), complexity_file(entry['model_key']))
    if saved is not None:
        return saved
    import echoseg  # noqa: F401  (registers the models)
    from .complexity import model_complexity
    result = model_complexity(entry['ft_cfg'], tuple(shape), entry['frames'])
    out = dict(params=int(result['params_inference']), macs_frame=float(result['macs_frame']),
               macs_clip=float(result['macs_clip']['total']), shape=list(shape),
               frames=entry['frames'])
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(out, f, indent=1)
    return out


def run_speed(entries: List[Dict], work_root: str, speed: Dict, retime: bool = False,
              archive: Optional[str] = None) -> Dict:
    """Stage 4: frames/s of every row's model, all timed in this process one after the
    other (``speed.json`` in the work root, else the archive's); kept while it covers
    every row's model."""
    import torch

    from .benchmark import benchmark_model, load_average, machine_info, matmul_gmacs
    path = osp.join(work_root, SPEED_FILE)
    saved = read_saved(work_root, archive, SPEED_FILE)
    wanted = {e['model_key']: e for e in entries if 'model_key' in e}
    if saved is not None and not retime and set(wanted) <= set(saved['models']):
        return saved
    threads = torch.get_num_threads()
    torch.set_num_threads(int(speed['threads']))
    try:
        device = torch.device('cpu')
        out = dict(machine=machine_info(device), matmul_gmacs=matmul_gmacs(device),
                   load_before=load_average(), threads=int(speed['threads']),
                   shape=list(speed['shape']), models={},
                   measured=time.strftime('%Y-%m-%d %H:%M:%S'))
        for key, entry in wanted.items():
            print(f"[{entry['name']}] timing at {speed['shape']} on {speed['threads']} "
                  'threads', flush=True)
            row = benchmark_model(entry['ft_cfg'], tuple(speed['shape']), entry['frames'],
                                  device, int(speed['warmup']), int(speed['runs']),
                                  macs=False)
            out['models'][key] = dict(fps=row['fps'], ms_clip=row['ms_clip'],
                                      ms_frame=row['ms_frame'], frames=entry['frames'],
                                      row=entry['name'], load=load_average())
        out['load_after'] = load_average()
    finally:
        torch.set_num_threads(threads)
    with open(path, 'w') as f:
        json.dump(out, f, indent=1)
    return out


# ---------------------------------------------------------------------------- declarations
def record_declarations(rows: List[Dict], work_root: str) -> Dict:
    """``declarations.json``: per method, the alternative first seen by the tool and
    whether results of the method's main row existed then (a later change is recorded as
    a new declaration). Returns {method: latest declaration}."""
    path = osp.join(work_root, 'declarations.json')
    saved = read_json(path) or {}
    for row in rows:
        if not row.get('alternative') or 'cv_dir' not in row:
            continue
        main = next((r for r in rows if r['name'] == row['method']), None)
        history = saved.setdefault(row['method'], [])
        if history and history[-1]['alternative'] == row['alternative']:
            continue
        seen = bool(main and main.get('cv_state', {}).get('runs_done'))
        history.append(dict(alternative=row['alternative'], declared_in=row['declared_in'],
                            first_seen=time.strftime('%Y-%m-%d %H:%M:%S'),
                            results_of_the_method_existed=seen))
    os.makedirs(work_root, exist_ok=True)
    with open(path, 'w') as f:
        json.dump(saved, f, indent=1)
    return {k: v[-1] for k, v in saved.items() if v}


# ---------------------------------------------------------------------------- aggregate
def _finite(values) -> List[float]:
    return [float(v) for v in values if v is not None and math.isfinite(float(v))]


def seed_stat(per_seed: Sequence[Optional[float]]) -> Dict:
    """Mean and sample sd over the seeds' values (None and NaN left out; None where too
    few), and the values themselves."""
    vals = _finite(per_seed)
    return dict(mean=float(np.mean(vals)) if vals else None,
                sd=float(np.std(vals, ddof=1)) if len(vals) > 1 else None,
                per_seed=[None if v is None or not math.isfinite(v) else float(v)
                          for v in per_seed])


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    total = int(a.sum()) + int(b.sum())
    return 1.0 if total == 0 else 2.0 * int((a & b).sum()) / total


def component_scores(run_dir: str, video_id: str) -> Optional[Dict]:
    """Dice of a held-out video's ED and ES masks post-processed with each LV component
    choice (largest, overlap), and their predicted / reference LV areas
    (``area_ratio_ed``, ``area_ratio_es``), from the whole test clip ``predictions.npz``
    keeps; None without it."""
    from echoseg.evaluation.functional.postprocess import LVPostProcessing
    path = osp.join(run_dir, 'predictions.npz')
    if not osp.isfile(path):
        return None
    with np.load(path) as saved:
        if f'{video_id}__clip' not in saved.files:
            return None
        clip, index = saved[f'{video_id}__clip'], saved[f'{video_id}__clip_index']
        gt = saved[f'{video_id}__gt'] == 1
    out = {}
    for choice in ('largest', 'overlap'):
        post = LVPostProcessing(component=choice)(clip)[index] == 1
        ed, es = _dice(post[0], gt[0]), _dice(post[1], gt[1])
        out[choice] = dict(dice_ed=ed, dice_es=es, dice=(ed + es) / 2)
        for k, name in enumerate(('ed', 'es')):
            ref = int(gt[k].sum())
            out[choice][f'area_ratio_{name}'] = float(post[k].sum()) / ref if ref else None
    return out


def aggregate_row(cv_dir: str, names: Sequence[str], seeds: Sequence[int],
                  archived: Optional[Dict] = None) -> Dict:
    """One row's numbers from its runs' ``run.json`` files (or their ``archived``
    records): per seed the mean over the held-out videos of every fold (each video once),
    then mean and sd over the seeds; the whole-video EF error over the videos that have
    one (counted); the Dice of each LV component choice from the saved clips (or the
    archived ``components``)."""
    per_seed = {s: [] for s in seeds}
    for name in names:
        record = read_json(osp.join(cv_dir, name, RUN_RECORD))
        from_archive = record is None and name in (archived or {})
        if from_archive:
            record = archived[name]
        if record is None:
            raise StageError(f'{cv_dir}/{name}: no {RUN_RECORD}')
        for video in record['videos']:
            video = dict(video)
            scores = (video.get('components') if from_archive else
                      component_scores(osp.join(cv_dir, name), video['video_id']))
            ref = video.get('ef_filelist')
            for kind in ('video', 'masks'):   # signed: predicted - FileList.csv
                ef = video.get(f'ef_{kind}')
                video[f'ef_{kind}_bias'] = (float(ef) - float(ref)) if None not in (ef, ref) \
                    else None
            for choice, vals in (scores or {}).items():
                video.update({f'{k}_{choice}': v for k, v in vals.items()})
            per_seed[int(record['seed'])].append(video)
    out = dict(videos=sum(len(v) for v in per_seed.values()))
    keys = [k for k, _ in SCORES] + [f'{k}_{c}' for c in ('largest', 'overlap')
                                     for k in COMPONENT_SCORES + AREA_SCORES]
    for key in keys:
        means = []
        for s in seeds:
            vals = _finite(v.get(key) for v in per_seed[s])
            means.append(float(np.mean(vals)) if vals else float('nan'))
        out[key] = seed_stat(means)
    with_ef = [sum(v.get('ef_video') is not None and math.isfinite(v['ef_video'])
                   for v in per_seed[s]) for s in seeds]
    out['ef_video_count'] = int(sum(with_ef))
    out['ef_video_of'] = int(out['videos'])
    return out


def remaining(entry: Dict) -> str:
    """What a row still needs, in words."""
    if entry.get('error'):
        return f"config error: {entry['error']}"
    parts = []
    pre = entry.get('pretrain_state')
    cv_done = entry['cv_state']['state'] == 'done'
    if pre and pre['state'] != 'done' and not cv_done:
        parts.append(f"pretraining ({pre['epochs_saved']}/{pre['max_epochs']} epochs saved"
                     + (', running' if pre.get('running') else '') + ')')
    cv = entry['cv_state']
    if cv['state'] != 'done':
        parts.append(f"cross-validation ({cv['runs_done']}/{cv['runs']} runs"
                     + (', running' if cv.get('running') else '') + ')')
    return ', '.join(parts)


def _fmt(stat: Optional[Dict], digits: int, sd: bool = True) -> str:
    if not stat or stat.get('mean') is None:
        return 'n/a'
    text = f"{stat['mean']:.{digits}f}"
    if sd and stat.get('sd') is not None:
        text += f" ± {stat['sd']:.{digits}f}"
    return text


def table_rows(entries: List[Dict], proto: Dict, seeds: Sequence[int], work_root: str,
               speed: Optional[Dict], declarations: Dict) -> List[Dict]:
    """The JSON rows of the table: settings, stage states, numbers (when measured)."""
    out = []
    for e in entries:
        row = {k: e.get(k) for k in ('name', 'method', 'finetune', 'pretrain', 'model',
                                     'encoder', 'note', 'alternative', 'declared_in',
                                     'pretrain_key', 'cv_key', 'model_key', 'epochs',
                                     'error', 'pretrain_state', 'cv_state')}
        row['synthetic_videos'] = synthetic_videos(e, proto) if e.get('pretrain') else None
        row['pretrain_dir'] = e.get('pretrain_dir')
        row['cv_dir'] = e.get('cv_dir')
        if e.get('alternative'):
            row['declaration'] = declarations.get(e['method'])
        todo = remaining(e)
        row['remaining'] = todo
        row['measured'] = not todo
        if not todo:
            row['scores'] = aggregate_row(e['cv_dir'], run_names(proto, seeds), seeds,
                                          e.get('archived_runs'))
            row['runs_archived_only'] = e['cv_state'].get('runs_archived_only', 0)
        if 'model_key' in e:
            row['complexity'] = read_saved(work_root, e.get('archive'),
                                           complexity_file(e['model_key']))
            row['speed'] = (speed or {}).get('models', {}).get(e['model_key'])
        out.append(row)
    return out


def markdown(rows: List[Dict], settings: Dict) -> str:
    """The method table, the post-processing comparison and the protocol notes."""
    head = ['method', 'configs (fine-tuning / synthetic pretraining)', 'Dice ED', 'Dice ES',
            'Dice ED+ES', 'as predicted: ED / ES / ED+ES', 'HD95 ED+ES (px)',
            '\\|EF err\\| whole video (videos with an EF)', '\\|EF err\\| ED/ES masks',
            'EF bias whole video / masks', 'TC_flicker', 'params (M)',
            'MACs / frame (G)', 'frames/s', 'state']
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for r in rows:
        name = r['name'] + (f" ({r['encoder']})" if r.get('encoder') else '')
        configs = f"`{r['finetune']}` / " + (f"`{r['pretrain']}`" if r['pretrain'] else
                                             'none')
        if r.get('synthetic_videos') and r['synthetic_videos'] != settings['protocol'].get(
                'synthetic_videos'):
            configs += f" on {r['synthetic_videos']} synthetic videos"
        if r.get('alternative'):
            configs += ' + ' + ', '.join(f'`{k}={v}`' for k, v in r['alternative'].items())
        comp, speed = r.get('complexity') or {}, r.get('speed') or {}
        params = f"{comp['params'] / 1e6:.2f}" if comp else 'n/a'
        macs = f"{comp['macs_frame'] / 1e9:.2f}" if comp else 'n/a'
        fps = f"{speed['fps']:.1f}" if speed else 'n/a'
        if r['measured']:
            s = r['scores']
            raw = ' / '.join(_fmt(s[k], 3, sd=False) for k in ('dice_ed_raw', 'dice_es_raw',
                                                               'dice_raw'))
            ef = f"{_fmt(s['ef_video_error'], 1)} ({s['ef_video_count']}/{s['ef_video_of']})"
            bias = ' / '.join(_fmt(s[k], 1, sd=False) for k in ('ef_video_bias',
                                                                 'ef_masks_bias'))
            cells = [_fmt(s['dice_ed'], 3), _fmt(s['dice_es'], 3), _fmt(s['dice'], 3), raw,
                     _fmt(s['hd95'], 1), ef, _fmt(s['ef_masks_error'], 1), bias,
                     _fmt(s['tc_flicker'], 3)]
            state = 'measured'
        else:
            cells = ['not measured yet'] + [''] * 8
            state = 'remaining: ' + r['remaining']
        if r.get('alternative'):
            d = r.get('declaration') or {}
            state += ('; alternative declared before any result of the method'
                      if d and not d.get('results_of_the_method_existed') else
                      '; alternative declared after results of the method existed')
        lines.append('| ' + ' | '.join([name, configs] + cells + [params, macs, fps, state])
                     + ' |')
    lines += ['', 'LV component kept by the post-processing (Dice of the ED and ES masks '
              'of the same predictions; mean ± sd over seeds), and the LV area of the '
              'post-processed ED and ES masks (largest component) over the traced one:', '',
              '| method | as predicted ED+ES | largest: ED / ES / ED+ES | overlap with the '
              'neighbouring frames: ED / ES / ED+ES | LV area predicted / traced: ED / ES |',
              '|---|---|---|---|---|']
    for r in rows:
        if not r['measured']:
            continue
        s = r['scores']
        triple = {c: ' / '.join(_fmt(s[f'{k}_{c}'], 3, sd=k == 'dice')
                                for k in COMPONENT_SCORES) for c in ('largest', 'overlap')}
        areas = ' / '.join(_fmt(s.get(f'{k}_largest'), 3) for k in AREA_SCORES)
        lines.append(f"| {r['name']} | {_fmt(s['dice_raw'], 3)} | {triple['largest']} | "
                     f"{triple['overlap']} | {areas} |")
    lines += ['', protocol_note(settings)]
    return '\n'.join(lines)


def protocol_note(settings: Dict) -> str:
    p = settings['protocol']
    speed = settings.get('speed_machine') or {}
    recipe = settings['recipe']
    return (
        f"Protocol (`{p.get('source') or 'configs given on the command line'}`): on "
        f"`{settings['data_root']}` ({settings['num_videos']} videos; data fingerprint "
        f"{settings['data_fingerprint'][:12]}), {p['folds']} folds (split seed "
        f"{p['split_seed']}), seeds {settings['seeds']}; every row is pretrained on "
        f"{p['synthetic_videos']} synthetic videos (unless its configs cell names another "
        "count) with its own model and pretraining config, "
        f"then fine-tuned with the optimiser {recipe['optimizer']}, the learning-rate "
        f"schedule, batch size {recipe['batch_size']} and {recipe['max_epochs']} epochs of "
        f"`{p['recipe']}` (the few-video recipe), whatever its own config says; a row's "
        'declared alternative is its own row. Each cell: mean ± sd over the seeds of the '
        "seed's mean over the held-out videos (every video once per seed); no number comes "
        'from a video its model trained on. Dice and HD95 on the traced ED and ES frames, '
        + ('after the LV post-processing of tools/infer.py (largest component, holes '
           'filled); "as predicted": before it. ' if p['postprocess'] else 'as predicted. ')
        + '|EF err|: whole-video EF (mean over the beats found) against FileList.csv, over '
        'the held-out videos that get one (counted over seeds); ED/ES masks: the Simpson '
        'EF of the post-processed masks of the traced ED and ES frames; EF bias: the mean '
        'of predicted - FileList.csv (< 0: read low). TC_flicker: the area '
        'curve\'s variation beyond its net change over the ED -> ES test clip (its middle '
        'frames unlabelled), relative to the ED area. Params and multiply-adds of the '
        f"fine-tuned model on {p['speed']['shape'][0]} x {p['speed']['shape'][1]} frames; "
        f"frames/s of its predict on a clip at that size, batch 1, on "
        f"{p['speed']['threads']} thread{'s' if p['speed']['threads'] != 1 else ''}"
        + (f" ({speed.get('cpu', '?')}, every row timed in one process on "
           f"{settings.get('speed_measured')}; load average {settings.get('speed_load')})"
           if speed else '')
        + '.' + (' The recipe\'s learning rate, epochs and pretraining size were chosen on '
                 'these same videos (the shared sample) for FCN-R18 (docs/real_data.md, '
                 '"Result: the few-video recipe"): its row is somewhat optimistic next to the '
                 'others.' if settings['data_root'] == osp.abspath(default_data_root())
                 else ''))


def plot(rows: List[Dict], path: str, title: str = '', speed: Optional[Dict] = None) -> str:
    """Dice ED+ES against frames/s (timed as ``speed`` says: the protocol's speed
    settings): one point per measured row (mean over seeds), a bar for its sd over seeds
    and a dot per seed."""
    speed = speed or PROTOCOL_DEFAULTS['speed']
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(7, 4.5))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    shown, missing, speeds = 0, [], []
    for r in rows:
        fps = (r.get('speed') or {}).get('fps')
        if not r['measured'] or not fps:
            missing.append(r['name'])
            continue
        stat = r['scores']['dice']
        if stat['mean'] is None:
            missing.append(r['name'])
            continue
        line = ax.errorbar([fps], [stat['mean']], yerr=[stat['sd'] or 0.0], fmt='o',
                           capsize=3, label=r['name'])
        seeds = [v for v in stat['per_seed'] if v is not None]
        ax.scatter([fps] * len(seeds), seeds, s=10, color=line[0].get_color(), alpha=0.6)
        ax.annotate(r['name'], (fps, stat['mean']), textcoords='offset points',
                    xytext=(5, 4), fontsize=7)
        shown += 1
        speeds.append(fps)
    ax.set_xscale('log')
    if speeds:  # room for the labels right of the fastest point; plain numbers on the axis
        from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter
        ax.set_xlim(min(speeds) / 1.5, max(speeds) * 2.5)
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(f"frames/s ({speed['shape'][0]} x {speed['shape'][1]}, "
                  f"{speed['threads']} thread(s), log scale)")
    ax.set_ylabel('Dice ED+ES on held-out real videos')
    ax.set_title(title or 'Methods on real echo', fontsize=9)
    if not shown:
        ax.text(0.5, 0.5, 'no method with both its Dice and its frames/s yet',
                transform=ax.transAxes, ha='center')
    if missing:
        fig.text(0.01, 0.01, 'not plotted (not measured or not timed yet): '
                 + ', '.join(missing), fontsize=6)
    ax.grid(True, alpha=0.3)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=120)
    return path


def keep_in_archive(entries: List[Dict], proto: Dict, seeds: Sequence[int],
                    work_root: str, archive: str, speed: Optional[Dict]) -> List[str]:
    """Copy what the work root finished into the archive (:mod:`.method_table_archive`):
    every row's finished cross-validation runs, complexities and the speed figures; the
    files written."""
    from echoseg.evaluation.results_io import _clean as json_safe
    written = []
    for e in entries:
        if e.get('error') or 'cv_dir' not in e:
            continue
        try:
            written.append(archive_cv(archive, e, run_names(proto, seeds),
                                      component_scores, json_safe))
        except ArchiveConflict as exc:
            print(f"[{e['name']}] {exc}", file=sys.stderr, flush=True)
        written.append(archive_file(archive, complexity_file(e['model_key']),
                                    read_json(complexity_path(work_root, e['model_key']))))
    # timings are compared only within one timing session: a work root's copy replaces
    # the archive's only when it was timed later (a stale work-root copy never wins)
    archived = read_archived(archive, SPEED_FILE)
    if speed is not None and (archived is None or str(speed.get('measured', ''))
                              > str(archived.get('measured', ''))):
        written.append(archive_file(archive, SPEED_FILE, speed))
    written = [w for w in written if w]
    for path in written:
        print(f'archived {shown_path(path)}', flush=True)
    return written


# ---------------------------------------------------------------------------- main
def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('protocol', nargs='?', default=None,
                        help=f'protocol file (default {DEFAULT_PROTOCOL})')
    parser.add_argument('--configs', nargs='+', default=(),
                        help='instead of a protocol: fine-tuning configs, each with a '
                             'method_table = dict(pretrain=..., ...) key')
    parser.add_argument('--data-root', default=None,
                        help='EchoNet-layout folder (default: the shared echonet_sample)')
    parser.add_argument('--work-root', default=osp.join('work_dirs', 'method_table'),
                        help='where every stage lives (reused across sessions)')
    parser.add_argument('--seeds', type=int, nargs='+', default=None,
                        help="training seeds (default: the protocol's)")
    parser.add_argument('--folds', type=int, default=None,
                        help="folds (default: the protocol's)")
    parser.add_argument('--rows', nargs='+', default=None,
                        help='run only these rows (names as in the protocol); the table '
                             'lists every row')
    stages = parser.add_mutually_exclusive_group()
    stages.add_argument('--stages', nargs='+', choices=STAGES, default=list(STAGES),
                        help='stages to run (default all)')
    stages.add_argument('--table-only', action='store_true',
                        help='run nothing: the table and plot of what is finished')
    parser.add_argument('--threads', type=int, default=1,
                        help='torch threads of the training and cross-validation stages')
    parser.add_argument('--retime', action='store_true',
                        help='time every row again (speed stage)')
    parser.add_argument('--plot', default=None,
                        help='plot path (default: <work root>/methods_real.png)')
    parser.add_argument('--archive', default=DEFAULT_ARCHIVE,
                        help='where finished stages are kept as small JSON, so that the '
                             'table survives its work root (default: '
                             f'{shown_path(DEFAULT_ARCHIVE)}, in the repository)')
    parser.add_argument('--no-archive', action='store_true',
                        help='neither read nor write the archive')
    parser.add_argument('--dry-run', action='store_true',
                        help='print the plan (stages, hashes, done / remaining) and stop')
    return parser.parse_args(argv)


def print_plan(entries: List[Dict], proto: Dict, data_root: str, seeds, threads: int) -> None:
    for e in entries:
        print(f"\n== {e['name']}")
        if e.get('error'):
            print(f"   config error: {e['error']}")
            continue
        if e.get('alternative'):
            print(f"   alternative {e['alternative']} (declared in {e['declared_in']})")
        if e.get('pre_cfg') is not None:
            st = e['pretrain_state']
            print(f"   pretrain {e['pretrain_key']} {e['pretrain_dir']}: {st['state']}"
                  + ('' if st['state'] == 'done' else
                     f" ({st['epochs_saved']}/{st['max_epochs']} epochs saved)")
                  + (', running in another process' if st.get('running') else ''))
            fit = weights_fit(e)
            print(f"   weights that fit the fine-tuning model: {fit['tensors_fit']}/"
                  f"{fit['tensors_in_model']}")
        cv = e['cv_state']
        print(f"   cv {e['cv_key']} {e['cv_dir']}: {cv['state']} ({cv['runs_done']}/"
              f"{cv['runs']} runs), {e['epochs']} epochs per run"
              + (', running in another process' if cv.get('running') else ''))
        checkpoint = (e.get('pretrain_state') or {}).get('checkpoint') or (
            '<pretrain checkpoint>' if e.get('pre_cfg') is not None else None)
        print('   ' + ' '.join(cv_command(e, proto, data_root, seeds, threads, checkpoint)))


def main(argv=None) -> Dict:
    """The command line of ``tools/analysis/method_table.py``; returns what
    ``method_table.json`` holds (the plan with ``--dry-run``)."""
    args = parse_args(argv)
    try:
        proto = load_protocol(args.protocol, args.configs)
        if args.folds is not None:
            proto['folds'] = args.folds
        seeds = list(args.seeds if args.seeds is not None else proto['seeds'])
        data_root = osp.abspath(args.data_root or default_data_root())
        if not osp.isfile(osp.join(data_root, 'FileList.csv')):
            raise FileNotFoundError(f'{data_root}: no FileList.csv (an EchoNet-Dynamic '
                                    'layout: Videos/, FileList.csv, VolumeTracings.csv)')
        work_root = osp.abspath(args.work_root)
        archive = None if args.no_archive else osp.abspath(args.archive)
        entries = plan(proto, data_root, work_root, seeds, archive)
        names = {e['name'] for e in entries}
        unknown = sorted(set(args.rows or ()) - names)
        if unknown:
            raise ValueError(f'--rows {unknown}: not in the protocol ({sorted(names)})')
    except (FileNotFoundError, ValueError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        raise SystemExit(2)
    declarations = record_declarations(entries, work_root)
    selected = [e for e in entries if not args.rows or e['name'] in args.rows]
    if args.dry_run:  # the plan of the rows asked for
        print_plan(selected, proto, data_root, seeds, args.threads)
        return dict(rows=[{k: v for k, v in e.items() if k not in ('pre_cfg', 'ft_cfg')}
                          for e in selected])
    stages = [] if args.table_only else args.stages
    shape = tuple(proto['speed']['shape'])
    failures = {}
    for e in selected:
        if e.get('error'):
            continue
        try:
            checkpoint = None
            if e.get('pre_cfg') is not None:
                if 'pretrain' in stages:
                    checkpoint = run_pretrain(e, args.threads)
                else:
                    checkpoint = e['pretrain_state'].get('checkpoint')
            if 'cv' in stages:
                if e.get('pre_cfg') is not None and checkpoint is None:
                    raise StageError(f"{e['pretrain_dir']}: pretraining not finished")
                run_cv(e, proto, data_root, seeds, args.threads, checkpoint)
            if 'complexity' in stages:
                run_complexity(e, work_root, shape)
        except StageError as exc:
            failures[e['name']] = str(exc)
            print(f"[{e['name']}] {exc}", file=sys.stderr, flush=True)
    speed = read_saved(work_root, archive, SPEED_FILE)
    if 'speed' in stages:
        speed = run_speed([e for e in entries if not e.get('error')], work_root,
                          proto['speed'], args.retime, archive)
    if archive:
        keep_in_archive(entries, proto, seeds, work_root, archive, speed)
    entries = plan(proto, data_root, work_root, seeds, archive)   # the states now
    rows = table_rows(entries, proto, seeds, work_root, speed, declarations)
    from echoseg.evaluation.results_io import _clean as json_safe
    settings = dict(
        command=' '.join(['tools/analysis/method_table.py']
                         + list(sys.argv[1:] if argv is None else argv)),
        protocol={k: v for k, v in proto.items() if k != 'rows'},
        recipe=recipe_settings(proto), data_root=data_root,
        data_fingerprint=data_fingerprint(data_root),
        num_videos=len(os.listdir(osp.join(data_root, 'Videos')))
        if osp.isdir(osp.join(data_root, 'Videos')) else None,
        seeds=seeds, work_root=work_root, git=_git_state(), failures=failures,
        written=time.strftime('%Y-%m-%d %H:%M:%S'))
    if speed:
        settings.update(speed_machine=speed.get('machine'), speed_measured=speed.get(
            'measured'), speed_load=speed.get('load_before'))
    table = markdown(rows, settings)
    out = dict(settings=settings, rows=rows)
    with open(osp.join(work_root, 'method_table.json'), 'w') as f:
        json.dump(json_safe(out), f, indent=1, default=str)
    with open(osp.join(work_root, 'method_table.md'), 'w') as f:
        f.write(f'# Methods on real echo\n\n{table}\n\nCommand: `{settings["command"]}`\n')
    out['plot'] = plot(rows, args.plot or osp.join(work_root, 'methods_real.png'),
                       f"{settings['num_videos']} real videos, {proto['folds']} folds, "
                       f"seeds {seeds}", proto['speed'])
    print('\n' + table)
    print(f"\nwrote {osp.join(work_root, 'method_table.md')}, method_table.json and "
          f"{out['plot']}")
    return out
