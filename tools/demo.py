"""The echoseg demo: train on built-in synthetic echo clips, evaluate, write results.

    python tools/demo.py [--config CONFIG] [--work-dir work_dirs/demo] [--cfg-options ...]
                         [--real-data ECHONET_FOLDER | --real-data none]

The default config is ``configs/baselines/fcn_r18_synthetic_ef.py`` (``DEMO_CONFIG``: 512
synthetic videos, 12 epochs, tested on 64 clips; docs/evaluation.md).

Writes under the work dir: the training log (<timestamp>/<timestamp>.log), checkpoints,
``metrics.json`` (test metrics and timings) and ``overlay.png`` (predicted = red, reference =
green, overlap = yellow on a few frames of test clips). When real EchoNet-Dynamic samples
are at hand (``--real-data``, default the shared ``echonet_sample`` if present) the model,
trained on synthetic clips only, is also scored on their traced ED/ES frames
(``echoseg.analysis.synthetic_to_real``, as ``tools/experiments/synthetic_to_real.py``),
under ``real`` in ``metrics.json``.
"""
import argparse
import json
import os.path as osp
import sys
import time

import cv2
import numpy as np
import torch
from mmengine.config import DictAction

from echoseg.analysis import synthetic_to_real as s2r
from echoseg.analysis.phase_bias import ef_line
from echoseg.cli.args import DEMO_CONFIG, DEMO_WORK_DIR

DEFAULT_CONFIG = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), DEMO_CONFIG)


def render_overlays(runner, out_path: str, num_clips: int = 3,
                    frames_per_clip: int = 5) -> None:
    """Predict a few test clips with the trained model and save one overlay row each."""
    from mmengine.dataset import pseudo_collate

    from echoseg.visualization import clip_overlay_grid

    dataset = runner.test_dataloader.dataset
    model = runner.model
    model.eval()
    rows = []
    for idx in range(min(num_clips, len(dataset))):
        item = dataset[idx]
        with torch.no_grad():
            sample = model.test_step(pseudo_collate([item]))[0]
        frames = item['inputs'][:, 0].numpy()
        pred = sample.pred_masks.cpu().numpy()
        gt = sample.ori_gt_masks if sample.ori_gt_masks is not None else sample.gt_masks
        gt = gt.cpu().numpy()
        if pred.shape[-2:] != frames.shape[-2:]:  # frames are at network size
            frames = np.stack([cv2.resize(f, pred.shape[::-1][:2]) for f in frames])
        pick = np.linspace(0, len(frames) - 1, frames_per_clip).round().astype(int)
        meta = sample.metainfo
        labels = [f"{meta.get('video_id', idx)} f{meta['frame_indices'][i]}"
                  + (' ED' if i == meta.get('ed_index') else '')
                  + (' ES' if i == meta.get('es_index') else '') for i in pick]
        rows.append(clip_overlay_grid(frames[pick], pred[pick], gt[pick], labels))
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 4), (0, width - r.shape[1]), (0, 0)), constant_values=255)
            for r in rows]
    cv2.imwrite(out_path, np.concatenate(rows, axis=0))


def real_data_root(arg):
    """The EchoNet-layout folder to score on (checked now, before training), or None."""
    if arg is not None and arg.lower() == 'none':
        return None
    if arg is None:
        if not osp.isdir(s2r.default_data_root()):
            print(f'(no real samples at {s2r.default_data_root()}: real-data check skipped)')
            return None
        arg = s2r.default_data_root()
    return s2r.check_data_root(arg)


def evaluate_real(runner, cfg, data_root):
    """Score the trained model on a real EchoNet-layout folder; None without one."""
    if data_root is None:
        return None
    metrics, _, _ = s2r.evaluate(runner.model, s2r.real_dataset(cfg, data_root),
                                 osp.join(cfg.work_dir, 'real'))
    keys = ('mDice', 'Dice_ED', 'Dice_ES', 'mHD95', 'EF_MAE', 'EF_bias', 'num_clips')
    return dict({k: float(metrics[k]) for k in keys}, data_root=data_root)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--config', default=DEFAULT_CONFIG)
    parser.add_argument('--work-dir', default=DEMO_WORK_DIR)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--real-data', default=None,
                        help="EchoNet-layout folder to score the model on ('none': skip; "
                        'default: the shared sample when present)')
    args = parser.parse_args()

    from mmengine.runner import Runner

    from echoseg.cli.test import print_metrics
    from echoseg.utils.config import load_config
    try:
        real_root = real_data_root(args.real_data)
    except FileNotFoundError as exc:
        sys.exit(f'error: {exc}')
    cfg = load_config(args.config, args.cfg_options, work_dir=args.work_dir)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    start = time.time()
    runner = Runner.from_cfg(cfg)
    runner.train()
    train_s = time.time() - start
    metrics = runner.test()
    total_s = time.time() - start

    overlay_path = osp.join(cfg.work_dir, 'overlay.png')
    render_overlays(runner, overlay_path)
    real = evaluate_real(runner, cfg, real_root)
    result = dict(config=args.config, metrics={k: float(v) for k, v in metrics.items()},
                  train_seconds=round(train_s, 1), total_seconds=round(total_s, 1),
                  epochs=int(cfg.train_cfg.max_epochs),
                  train_clips=len(runner.train_dataloader.dataset),
                  test_clips=len(runner.test_dataloader.dataset), real=real)
    with open(osp.join(cfg.work_dir, 'metrics.json'), 'w') as f:
        json.dump(result, f, indent=2)
    print('\necho demo: test metrics on synthetic clips (every frame evaluated)')
    print_metrics(metrics)
    if 'EF_MAE' in metrics:
        print(ef_line(float(metrics['EF_MAE']), float(metrics['EF_bias']),
                      int(metrics.get('EF_num', metrics.get('num_clips', 0))),
                      'synthetic test clips (ED/ES masks, exact truth)'))
    if real is not None:
        print(f"real EchoNet-Dynamic ED/ES frames ({real['data_root']}, model trained on "
              f"synthetic clips only): mean Dice {real['mDice']:.3f}, HD95 "
              f"{real['mHD95']:.2f} px")
        print(ef_line(real['EF_MAE'], real['EF_bias'], real['num_clips'],
                      'real videos (ED/ES masks vs FileList.csv)'))
    print(f'train {train_s / 60:.1f} min, total {total_s / 60:.1f} min')
    print(f'wrote {osp.join(cfg.work_dir, "metrics.json")}, {overlay_path}, '
          f'checkpoints and logs in {cfg.work_dir}')


if __name__ == '__main__':
    main()
