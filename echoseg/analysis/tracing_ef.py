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
that comes from the label convention and the read-out, not from the model. A malformed
row of either CSV stops the tool with its file and line; a traced video without a
FileList.csv row or with fewer than two traced frames is left out and listed.
"""
import argparse
import json
import os.path as osp
from typing import Dict, List, Sequence

import numpy as np

from echoseg.datasets.echonet import (_as_float, _read_csv, polygon_area, read_tracings,
                                      tracing_polygon, video_stem)
from echoseg.datasets.errors import EchoDataError
from echoseg.datasets.transforms.loading import fill_polygon
from echoseg.evaluation.functional.simpson import ejection_fraction, simpson_volume

from .paths import default_data_root

#: the FileList.csv columns the tool reads
FILELIST_COLUMNS = ('FileName', 'EF', 'FrameHeight', 'FrameWidth')


def rasterise(poly: np.ndarray, shape: Sequence[int], scale: int = 1) -> np.ndarray:
    """(K, 2) polygon of (x, y) pixel coordinates -> its (H * s, W * s) uint8 mask on a grid
    ``scale`` times finer (pixel centres at (i + 1/2) / s - 1/2 of the original grid), drawn
    by the loader's own :func:`~echoseg.datasets.transforms.loading.fill_polygon`."""
    poly = np.asarray(poly, np.float64)
    if scale != 1:
        poly = (poly + 0.5) * scale - 0.5
    return fill_polygon(poly, [int(v) * int(scale) for v in shape])


def _read_filelist(path: str) -> Dict[str, Dict]:
    """{video stem: dict(ef, shape, line)} of FileList.csv; a missing column or a value
    that is not a number raises ``EchoDataError`` naming the file, line and video."""
    rows, _ = _read_csv(path, FILELIST_COLUMNS)
    out = {}
    for line, row in enumerate(rows, 2):
        values = [_as_float(row[c]) for c in FILELIST_COLUMNS[1:]]
        if None in values:
            raise EchoDataError(f"{path}: line {line} ({row['FileName']}): EF, FrameHeight "
                                f"and FrameWidth must be numbers, got {values}")
        out[video_stem(row['FileName'])] = dict(
            ef=values[0], shape=(int(values[1]), int(values[2])))
    return out


def tracing_efs(data_root: str, scales: Sequence[int] = (1, 4, 8)) -> Dict:
    """Per video and scale: EF of the traced ED / ES masks, FileList.csv's EF, the area
    ratio mask / polygon at ED and ES; and per scale the bias and MAE over the videos.
    A malformed tracing row raises ``EchoDataError`` naming the file and line; a traced
    video with no FileList.csv row or fewer than two traced frames is left out and listed
    in ``skipped`` with the reason."""
    files = _read_filelist(osp.join(data_root, 'FileList.csv'))
    traced = read_tracings(osp.join(data_root, 'VolumeTracings.csv'))
    videos: List[Dict] = []
    skipped: List[Dict] = []
    for stem in sorted(traced):
        if '!error' in traced[stem]:
            raise EchoDataError(traced[stem]['!error'])
        frames = traced[stem]
        if stem not in files:
            skipped.append(dict(video_id=stem, reason='no FileList.csv row'))
            continue
        if len(frames) < 2:
            skipped.append(dict(video_id=stem, reason=f'{len(frames)} traced frame(s), '
                                                      'ED and ES need 2'))
            continue
        shape = files[stem]['shape']
        polys = sorted((tracing_polygon(np.asarray(rows)) for _, rows in frames.values()),
                       key=polygon_area, reverse=True)
        ed, es = polys[0], polys[-1]        # ED: the larger polygon, as the dataset does
        entry = dict(video_id=stem, ef_filelist=files[stem]['ef'], scales={})
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
    return dict(data_root=data_root, videos=videos, skipped=skipped, summary=summary)


def markdown(result: Dict) -> str:
    lines = ['| grid | videos | EF bias (traced masks - FileList) | EF MAE | '
             'mask / polygon area ED | ES |', '|---|---|---|---|---|---|']
    for s, r in result['summary'].items():
        if not r['videos']:
            continue
        lines.append(f"| {s} x | {r['videos']} | {r['bias']:+.2f} | {r['mae']:.2f} | "
                     f"{r['area_ratio_ed']:.3f} | {r['area_ratio_es']:.3f} |")
    if result.get('skipped'):
        lines.append(f"\nLeft out: {len(result['skipped'])} traced video(s): " + '; '.join(
            f"{v['video_id']} ({v['reason']})" for v in result['skipped']))
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
    try:
        result = tracing_efs(root, args.scales)
    except EchoDataError as exc:
        parser.error(str(exc))
    print(markdown(result))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=1)
    return result


__all__ = ['rasterise', 'tracing_efs', 'markdown', 'main']
