"""A video's result files as ``tools/infer.py`` and the web viewer write them.

- :func:`write_outputs`: masks, JSON, per-frame and per-beat CSV, overlay video and curve
  plot of one :class:`~echoseg.apis.VideoResult`; returns ``{kind: path}``.
- :func:`publish_outputs`: move finished files into place, each by an atomic rename.
- :func:`write_summary`: ``summary.csv``, one row per video, written atomically.
"""
import csv
import io
import math
import os
import os.path as osp
from typing import Dict, Iterable, List, Optional

#: the kinds of file :func:`write_outputs` writes, in that order
OUTPUT_KINDS = ('masks', 'json', 'csv', 'beats', 'overlay', 'curves')
#: the columns of ``summary.csv``
SUMMARY_FIELDS = ['video', 'path', 'num_frames', 'height', 'width', 'fps', 'num_ed', 'num_es',
                  'num_beats', 'num_beats_used', 'ef_mean', 'ef_sd', 'edv_mean', 'esv_mean',
                  'heart_rate', 'volume_unit', 'area_unit', 'partial', 'flags', 'ef_note']


def write_outputs(result, video, out_dir: str, name: str, mask_format: str = 'nii.gz',
                  with_video: bool = True, extra: Optional[dict] = None) -> Dict[str, str]:
    """Write every per-video file of ``result`` into ``out_dir`` as ``<name>...``; returns
    ``{kind: path}`` over :data:`OUTPUT_KINDS` (no ``overlay`` without ``with_video``).

    ``video`` is the (N, H, W) array or the file (read again frame by frame) under the
    overlay; ``extra`` goes into the JSON. The overlay is an mp4v MP4, or an MJPG AVI when
    this OpenCV build has no mp4 codec.
    """
    from echoseg.io import EchoDataError
    base = osp.join(out_dir, name)
    paths = dict(masks=result.save_masks(f'{base}_masks.{mask_format}'),
                 json=result.to_json(f'{base}.json', extra=extra),
                 csv=result.to_csv(f'{base}.csv'), beats=result.to_beats_csv(f'{base}_beats.csv'))
    if with_video:
        try:
            paths['overlay'] = result.write_overlay_video(f'{base}_overlay.mp4', video)
        except EchoDataError:  # no mp4 codec in this OpenCV build: MJPG AVI always works
            paths['overlay'] = result.write_overlay_video(f'{base}_overlay.avi', video)
    paths['curves'] = f'{base}_curves.png'
    result.plot_curves(paths['curves'])
    return paths


def publish_outputs(staging: str, out_dir: str) -> List[str]:
    """Move the complete files of one video from ``staging`` into ``out_dir`` (each by an
    atomic rename, after fsync); returns the final paths."""
    from echoseg.utils.atomic_io import fsync_dir
    out = []
    for name in sorted(os.listdir(staging)):
        src = osp.join(staging, name)
        with open(src, 'rb') as f:
            os.fsync(f.fileno())
        out.append(osp.join(out_dir, name))
        os.replace(src, out[-1])
    fsync_dir(out_dir)
    return out


def _fmt(value) -> str:
    if value is None:
        return ''
    if isinstance(value, float):
        return '' if not math.isfinite(value) else f'{value:.4g}'
    return str(value)


def write_summary(path: str, rows: Iterable[dict]) -> str:
    """``summary.csv``: one row per video (``VideoResult.summary()`` plus ``path``) over
    :data:`SUMMARY_FIELDS`, numbers to 4 significant digits; replaced atomically."""
    from echoseg.utils.atomic_io import atomic_write
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=SUMMARY_FIELDS)
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _fmt(row.get(k)) for k in SUMMARY_FIELDS})
    atomic_write(path, text.getvalue())
    return path


__all__ = ['write_outputs', 'publish_outputs', 'write_summary', 'OUTPUT_KINDS',
           'SUMMARY_FIELDS']
