"""The EF read-out on the traced masks themselves (docs/evaluation.md, "How much of the
masks' bias is the read-out's"; ``tools/analysis/tracing_ef.py``):

    python tools/analysis/tracing_ef.py [--data-root DIR] [--scales 1 4 8] [--out FILE.json]

For every traced video of an EchoNet-layout folder (``FileList.csv``,
``VolumeTracings.csv``), its ED and ES tracing polygons are rasterised the way the
dataset's loader rasterises them (vertices rounded to the pixel grid, ``cv2.fillPoly``,
which takes in every pixel the outline touches) at the video's size and at finer grids
(``scale`` s: the polygon's coordinates times s, spacing 1/s), and read out with the
Simpson method of disks (:func:`~echoseg.evaluation.functional.simpson.simpson_volume`).
Reported per scale: the EF of the traced masks against FileList.csv's EF (signed error,
bias and mean absolute error over the videos) and the mask area against the polygon's own
area (shoelace). At scale 1 this is the part of any model's EF error from the ED/ES masks
that comes from the label convention and the read-out, not from the model.
"""
import argparse
import json
import os.path as osp
from typing import Dict, List, Sequence

import numpy as np

from echoseg.datasets.echonet import (polygon_area, read_tracings, tracing_polygon,
                                      video_stem)
from echoseg.datasets.transforms.loading import fill_polygon
from echoseg.evaluation.functional.simpson import ejection_fraction, simpson_volume

from .paths import default_data_root


def rasterise(poly: np.ndarray, shape: Sequence[int], scale: int = 1) -> np.ndarray:
    """(K, 2) polygon of (x, y) pixel coordinates -> its (H * s, W * s) uint8 mask on a grid
    ``scale`` times finer (pixel centres at (i + 1/2) / s - 1/2 of the original grid), drawn
    by the loader's own :func:`~echoseg.datasets.transforms.loading.fill_polygon`."""
    poly = np.asarray(poly, np.float64)
    if scale != 1:
        poly = (poly + 0.5) * scale - 0.5
    return fill_polygon(poly, [int(v) * int(scale) for v in shape])


def _read_filelist(path: str) -> Dict[str, Dict[str, str]]:
    import csv
    with open(path, newline='', encoding='utf-8-sig') as f:
        return {video_stem(r['FileName']): r for r in csv.DictReader(f)}


def tracing_efs(data_root: str, scales: Sequence[int] = (1, 4, 8)) -> Dict:
    """Per video and scale: EF of the traced ED / ES masks, FileList.csv's EF, the area
    ratio mask / polygon at ED and ES; and per scale the bias and MAE over the videos."""
    files = _read_filelist(osp.join(data_root, 'FileList.csv'))
    traced = read_tracings(osp.join(data_root, 'VolumeTracings.csv'))
    videos: List[Dict] = []
    for stem in sorted(traced):
        frames = {f: v for f, v in traced[stem].items() if f != '!error'}
        if stem not in files or len(frames) < 2 or '!error' in traced[stem]:
            continue
        row = files[stem]
        shape = (int(float(row['FrameHeight'])), int(float(row['FrameWidth'])))
        polys = sorted((tracing_polygon(np.asarray(rows)) for _, rows in frames.values()),
                       key=polygon_area, reverse=True)
        ed, es = polys[0], polys[-1]        # ED: the larger polygon, as the dataset does
        entry = dict(video_id=stem, ef_filelist=float(row['EF']), scales={})
        for s in scales:
            masks = [rasterise(p, shape, s) for p in (ed, es)]
            vols = [simpson_volume(m, spacing=(1.0 / s, 1.0 / s)) for m in masks]
            ef = ejection_fraction(*vols)
            entry['scales'][str(s)] = dict(
                ef=float(ef), error=float(ef - entry['ef_filelist']),
                area_ratio_ed=float(masks[0].sum() / s ** 2 / polygon_area(ed)),
                area_ratio_es=float(masks[1].sum() / s ** 2 / polygon_area(es)))
        videos.append(entry)
    summary = {}
    for s in scales:
        errors = np.array([v['scales'][str(s)]['error'] for v in videos])
        summary[str(s)] = dict(
            videos=len(videos),
            bias=float(errors.mean()) if len(errors) else None,
            mae=float(np.abs(errors).mean()) if len(errors) else None,
            area_ratio_ed=float(np.mean([v['scales'][str(s)]['area_ratio_ed']
                                         for v in videos])) if videos else None,
            area_ratio_es=float(np.mean([v['scales'][str(s)]['area_ratio_es']
                                         for v in videos])) if videos else None)
    return dict(data_root=data_root, videos=videos, summary=summary)


def markdown(result: Dict) -> str:
    lines = ['| grid | videos | EF bias (traced masks - FileList) | EF MAE | '
             'mask / polygon area ED | ES |', '|---|---|---|---|---|---|']
    for s, r in result['summary'].items():
        if not r['videos']:
            continue
        lines.append(f"| {s} x | {r['videos']} | {r['bias']:+.2f} | {r['mae']:.2f} | "
                     f"{r['area_ratio_ed']:.3f} | {r['area_ratio_es']:.3f} |")
    return '\n'.join(lines)


def main(argv=None) -> Dict:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data-root', default=None,
                        help='EchoNet-layout folder (default: the shared 7-video sample)')
    parser.add_argument('--scales', nargs='+', type=int, default=[1, 4, 8])
    parser.add_argument('--out', default=None, help='write the result as JSON here')
    args = parser.parse_args(argv)
    if min(args.scales) < 1:
        parser.error('--scales: at least 1')
    root = args.data_root or default_data_root()
    for name in ('FileList.csv', 'VolumeTracings.csv'):
        if not osp.isfile(osp.join(root, name)):
            parser.error(f'{osp.join(root, name)}: file not found')
    result = tracing_efs(root, args.scales)
    print(markdown(result))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=1)
    return result


__all__ = ['rasterise', 'tracing_efs', 'markdown', 'main']
