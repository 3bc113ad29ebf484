"""Train on synthetic echo only, test on real labelled EchoNet-Dynamic frames
(``tools/experiments/synthetic_to_real.py``; ``tools/demo.py`` scores its model with it).

    python tools/experiments/synthetic_to_real.py                   # train, then evaluate
    python tools/experiments/synthetic_to_real.py --checkpoint work_dirs/x/epoch_6.pth
    python tools/experiments/synthetic_to_real.py --data-root /data/EchoNet-Dynamic \\
        --config configs/baselines/fcn_r18_synthetic.py --work-dir work_dirs/syn2real

Without ``--checkpoint`` the config (default ``configs/baselines/fcn_r18_synthetic.py``) is
trained as it is, on its synthetic data, then its final weights are evaluated. The
evaluation runs the config's test pipeline on every video of an EchoNet-layout folder
(``Videos/``, ``FileList.csv``, ``VolumeTracings.csv``; default the shared sample
``$ECHOSEG_ECHODATA/echonet_sample`` or ``../shared/echodata/echonet_sample``) and scores
the traced ED and ES frames with :class:`~echoseg.evaluation.EchoMetric`: Dice and HD95
(pixels: EchoNet has no spacing) at the videos' resolution, and EF from the predicted ED/ES
masks (Simpson, single plane) against FileList.csv's EF.

Writes under the work dir: ``synthetic_to_real.json`` (summary, per-video rows),
``echo_metric_results.json`` (EchoMetric's dump), ``predictions.npz`` (predicted ED/ES
masks per video at the original resolution: ``<video>_ED``, ``<video>_ES``) and
``synthetic_vs_real.png`` (real frames with reference green / prediction red beside
synthetic training frames with their LV label).
"""
import argparse
import json
import os
import os.path as osp
import time

import cv2
import numpy as np

from .paths import CONFIG_ROOT, default_data_root
from .paths import REPO_ROOT as ROOT

DEFAULT_CONFIG = osp.join(CONFIG_ROOT, 'baselines', 'fcn_r18_synthetic.py')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--config', default=DEFAULT_CONFIG, help='a synthetic training config')
    parser.add_argument('--checkpoint', help='evaluate these weights instead of training')
    parser.add_argument('--data-root', default=None,
                        help='EchoNet-layout folder (default: the shared sample)')
    parser.add_argument('--work-dir', default='work_dirs/synthetic_to_real')
    parser.add_argument('--cfg-options', nargs='+', default=None,
                        help='config overrides, key=value (as tools/train.py)')
    parser.add_argument('--threads', type=int, default=1, help='torch CPU threads')
    parser.add_argument('--num-synthetic', type=int, default=4,
                        help='real and synthetic frames shown in the PNG')
    args = parser.parse_args(argv)
    if args.cfg_options:
        from mmengine.config import DictAction
        ns = argparse.Namespace()
        DictAction(option_strings=[], dest='opts')(parser, ns, args.cfg_options)
        args.cfg_options = ns.opts
    return args


def check_data_root(path: str) -> str:
    """The folder and its EchoNet files must exist; the message names what is missing."""
    if not osp.isdir(path):
        raise FileNotFoundError(f'EchoNet data root not found: {path} (give an EchoNet-layout '
                                'folder, or set ECHOSEG_ECHODATA to the folder holding '
                                'echonet_sample/)')
    for name in ('Videos', 'FileList.csv', 'VolumeTracings.csv'):
        if not osp.exists(osp.join(path, name)):
            raise FileNotFoundError(f'{osp.join(path, name)}: missing (an EchoNet-layout '
                                    'folder has Videos/, FileList.csv, VolumeTracings.csv)')
    return path


def real_dataset(cfg, data_root: str):
    """Every traced video of ``data_root`` through the config's test pipeline."""
    from echoseg.registry import DATASETS
    pipeline = cfg.test_dataloader.dataset.pipeline
    return DATASETS.build(dict(type='EchoNetDynamicDataset', data_root=data_root, split='all',
                               test_mode=True, pipeline=pipeline))


def evaluate(model, dataset, work_dir: str):
    """Predict every clip, score it with EchoMetric (EF against FileList.csv's EF).

    Returns (metrics, clip rows of the dump, {name: predicted mask}).
    """
    import torch
    from mmengine.dataset import pseudo_collate

    from echoseg.evaluation import EchoMetric, load_results
    os.makedirs(work_dir, exist_ok=True)
    dump = osp.join(work_dir, 'echo_metric_results.json')
    metric = EchoMetric(ef_reference='dataset', dump_path=dump)
    predictions = {}
    model.eval()
    for idx in range(len(dataset)):
        item = dataset[idx]
        with torch.no_grad():
            sample = model.test_step(pseudo_collate([item]))[0]
        metric.process([item], [sample])
        meta = sample.metainfo
        pred = sample.pred_masks.cpu().numpy().astype(np.uint8)
        for phase in ('ED', 'ES'):
            predictions[f"{meta['video_id']}_{phase}"] = pred[meta[f'{phase.lower()}_index']]
    metrics = metric.compute_metrics(metric.results)
    return metrics, load_results(dump)['clips'], predictions


def train_model(cfg):
    """Train the config (synthetic data) and return the runner's model."""
    from mmengine.runner import Runner
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner.model


def synthetic_frames(cfg, count: int):
    """ED frames and LV masks of the first ``count`` videos of the config's training set."""
    from echoseg.datasets.synthetic import SyntheticEchoDataset
    ds_cfg = dict(cfg.train_dataloader.dataset)
    if ds_cfg.get('type') != 'SyntheticEchoDataset':
        return [], []
    for key in ('type', 'pipeline', 'num_videos'):
        ds_cfg.pop(key, None)
    ds = SyntheticEchoDataset(num_videos=count, **ds_cfg)
    frames, masks = [], []
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        frames.append(info['video'][info['ed_frame']])
        masks.append(info['oracle_masks'][info['ed_frame']] == 1)
    return frames, masks


def write_figure(path: str, dataset, predictions, syn_frames, syn_masks, size: int = 112):
    """Row 1: real ED frames (reference green, prediction red, overlap yellow); row 2:
    synthetic training frames with their LV label (green)."""
    from echoseg.visualization import overlay_masks
    from echoseg.datasets.transforms import LoadEchoAnnotations, LoadEchoVideo
    real = []
    for idx in range(min(len(dataset), max(len(syn_frames), 1))):
        info = dataset.get_data_info(idx)
        res = LoadEchoAnnotations()(LoadEchoVideo()(dict(info)))
        ed = info['ed_frame']
        pred = predictions.get(f"{info['video_id']}_ED")
        real.append(overlay_masks(res['video'][ed], pred, res['masks'][ed]))
    synth = [overlay_masks(f, None, m.astype(np.uint8)) for f, m in zip(syn_frames, syn_masks)]

    def row(tiles):
        tiles = [cv2.resize(t, (size, size), interpolation=cv2.INTER_AREA) for t in tiles]
        return np.concatenate(tiles, axis=1)

    rows = [row(real)] + ([row(synth)] if synth else [])
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 2), (0, width - r.shape[1]), (0, 0)), constant_values=255)
            for r in rows]
    cv2.imwrite(path, np.concatenate(rows, axis=0), [cv2.IMWRITE_PNG_COMPRESSION, 9])


def summarise(metrics, clips, data_root, args, train_seconds):
    """The JSON written by the tool: settings, headline metrics and one row per video."""
    keys = ('mDice', 'Dice_ED', 'Dice_ES', 'mHD95', 'HD95_ED', 'HD95_ES', 'EF_MAE',
            'EF_bias', 'EF_corr', 'num_clips', 'num_frames')
    rows = [dict(video_id=c['video_id'], dice_ed=c['dice_ed'], dice_es=c['dice_es'],
                 hd95_ed=c['hd95_ed'], hd95_es=c['hd95_es'], ef_pred=c.get('ef_pred'),
                 ef_ref=c.get('ef_ref'), ef_abs_error=abs(c['ef_pred'] - c['ef_ref'])
                 if c.get('ef_pred') is not None and c.get('ef_ref') is not None else None)
            for c in clips]
    return dict(config=osp.relpath(args.config, ROOT) if args.config.startswith(ROOT)
                else args.config,
                checkpoint=args.checkpoint, data_root=data_root,
                distance_unit='px', ef_reference='FileList.csv EF',
                train_seconds=train_seconds,
                metrics={k: float(metrics[k]) for k in keys if k in metrics},
                videos=rows)


def print_table(summary) -> None:
    print(f"\nsynthetic -> real: {summary['data_root']}")
    print(f"{'video':22s} {'Dice ED':>8s} {'Dice ES':>8s} {'HD95 ED':>8s} {'HD95 ES':>8s} "
          f"{'EF pred':>8s} {'EF ref':>7s}")
    for r in summary['videos']:
        ef = '' if r['ef_pred'] is None else f"{r['ef_pred']:8.1f} {r['ef_ref']:7.1f}"
        print(f"{r['video_id']:22s} {r['dice_ed']:8.3f} {r['dice_es']:8.3f} "
              f"{r['hd95_ed']:8.2f} {r['hd95_es']:8.2f} {ef}")
    m = summary['metrics']
    print(f"mean Dice {m['mDice']:.3f} (ED {m['Dice_ED']:.3f}, ES {m['Dice_ES']:.3f}), "
          f"HD95 {m['mHD95']:.2f} px, EF MAE {m.get('EF_MAE', float('nan')):.1f} points "
          f"(bias {m.get('EF_bias', float('nan')):+.1f}) over {int(m['num_clips'])} videos")


def main(argv=None):
    """The command line of ``tools/experiments/synthetic_to_real.py``; returns the summary
    it writes."""
    args = parse_args(argv)
    import torch
    torch.set_num_threads(max(1, args.threads))
    from mmengine.registry import init_default_scope

    from echoseg.apis import init_model
    from echoseg.utils.config import load_config

    data_root = check_data_root(args.data_root or default_data_root())
    cfg = load_config(args.config, args.cfg_options, work_dir=args.work_dir)
    os.makedirs(cfg.work_dir, exist_ok=True)
    init_default_scope('echoseg')
    dataset = real_dataset(cfg, data_root)  # fail on bad data before training

    start = time.time()
    if args.checkpoint:
        model = init_model(cfg, args.checkpoint)
        train_seconds = 0.0
    else:
        model = train_model(cfg)
        train_seconds = round(time.time() - start, 1)
    metrics, clips, predictions = evaluate(model, dataset, cfg.work_dir)

    summary = summarise(metrics, clips, data_root, args, train_seconds)
    json_path = osp.join(cfg.work_dir, 'synthetic_to_real.json')
    with open(json_path, 'w') as f:
        json.dump(summary, f, indent=2)
    np.savez_compressed(osp.join(cfg.work_dir, 'predictions.npz'), **predictions)
    syn_frames, syn_masks = synthetic_frames(cfg, args.num_synthetic)
    png = osp.join(cfg.work_dir, 'synthetic_vs_real.png')
    write_figure(png, dataset, predictions, syn_frames, syn_masks)
    print_table(summary)
    print(f'wrote {json_path}, {png}, predictions.npz and echo_metric_results.json')
    return summary

