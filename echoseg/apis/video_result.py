"""``VideoResult``: the masks of a whole video and the clinical numbers derived from them.

:meth:`VideoResult.from_masks` is the read-out shared by the predictor and by anyone
holding masks already (reference tracings, another model): mask post-processing (one LV
component per frame, holes filled, optional temporal smoothing), LV area and single-plane
Simpson volume of every frame, ED/ES frames and beats
(:mod:`echoseg.evaluation.functional.cardiac_cycle`), and the plausibility flags of every
beat (:mod:`echoseg.evaluation.functional.plausibility`): flagged beats are left out of the
mean EF, and a video with no trustworthy beat has no EF (None, with the reason).
"""
import csv
import json
import math
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from echoseg.evaluation.functional import mask_areas, simpson_volume
from echoseg.evaluation.functional.cardiac_cycle import HEART_RATE_RANGE, beats_from_curves
from echoseg.evaluation.functional.plausibility import (FLAG_DESCRIPTIONS,
                                                        PlausibilityCriteria, describe_flags,
                                                        frame_measures)
from echoseg.evaluation.functional.postprocess import LVPostProcessing
from .compressed_masks import CompressedMasks


def _units(spacing) -> Dict[str, str]:
    if spacing is None:
        return dict(area='px^2', volume='px^3', length='px')
    return dict(area='mm^2', volume='ml', length='mm')


def _plain(value):
    """numpy scalars/arrays and NaN -> JSON-friendly Python values (NaN -> None)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


#: at most this many frames per block of the per-frame post-processing and measures:
#: whole-video (N, H, W) temporaries would make memory grow with the video's length
#: (docs/benchmarks.md) ...
FRAME_BLOCK = 256
#: ... and at most about this many pixels (a block holds several (n, H, W) temporaries:
#: 256 frames of 1024 x 768 would be 200 MB each; 2^23 pixels is 10 such frames)
FRAME_BLOCK_PIXELS = 2 ** 23


def _per_frame_pass(masks, lv_label: int, post, field_of_view, criteria, spacing,
                    inplace: bool = False
                    ) -> Tuple[np.ndarray, Dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """(post-processed masks, plausibility measures, areas, volumes), block by block of
    frames: every step is per frame, and the temporal vote of frame i only needs the
    frames within half its window, so each block is voted with that many frames of its
    neighbours (exactly the whole-stack vote). ``masks``: an (N, H, W) array, or
    :class:`CompressedMasks` (the result is then compressed too). ``inplace``: the
    post-processed masks overwrite an array ``masks`` (without a temporal vote, which
    reads the neighbours' raw masks)."""
    active = post is not None and post.active
    half = post.temporal_window // 2 if active and post.temporal_window > 1 else 0
    n = masks.shape[0]
    stored = isinstance(masks, CompressedMasks)
    if stored:
        out = CompressedMasks(masks.frame_shape, masks.level) if active else masks
    else:
        out = masks if not active or (inplace and not half) else np.empty_like(masks)
    parts, areas, volumes = [], [], []
    pixels = max(1, int(masks.shape[1]) * int(masks.shape[2]))
    step = max(1, min(FRAME_BLOCK, FRAME_BLOCK_PIXELS // pixels))
    for i in range(0, max(n, 1), step):
        j = min(i + step, n)
        block = masks[i:j]
        raw_lv = block == lv_label
        new = block
        if active:
            a, b = max(0, i - half), min(n, j + half)
            new = post(masks[a:b] if half else block, lv_label)[i - a:j - a]
            if stored:
                out.append(new)
            else:
                out[i:j] = new
        lv = new == lv_label
        parts.append(frame_measures(raw_lv, lv, field_of_view, criteria))
        areas.append(mask_areas(lv, spacing))
        volumes += [simpson_volume(m, spacing) for m in lv]
    measures = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return out, measures, np.concatenate(areas), np.array(volumes, dtype=np.float64)


def _savez_frames(path: str, masks: CompressedMasks, extra: Dict[str, np.ndarray]) -> str:
    """``np.savez_compressed(path, masks=np.asarray(masks), **extra)``, with the masks
    streamed into the archive frame by frame (``np.load`` reads it the same)."""
    import zipfile
    with zipfile.ZipFile(path, 'w', compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open('masks.npy', 'w', force_zip64=True) as f:
            np.lib.format.write_array_header_1_0(f, dict(
                descr=np.lib.format.dtype_to_descr(masks.dtype), fortran_order=False,
                shape=masks.shape))
            for frame in masks:
                f.write(frame.tobytes())
        for key, value in extra.items():
            with zf.open(f'{key}.npy', 'w') as f:
                np.lib.format.write_array(f, np.asarray(value))
    return path


@dataclass
class VideoResult:
    """Per-frame masks and the LV curves, ED/ES frames and beats of one video.

    Attributes:
        masks: (N, H, W) uint8 labels at the video's original resolution: an array, or
            :class:`~echoseg.apis.compressed_masks.CompressedMasks` (the predictor's
            ``compress_masks=True``; ``np.asarray`` gives the array).
        probs: (N, K, H, W) float32 class probabilities, or None (``keep_probs=False``).
        areas: (N,) LV area (``units['area']``: mm^2 with a spacing, px^2 without).
        volumes: (N,) single-plane Simpson LV volume (``units['volume']``: ml with a
            spacing in mm, px^3 without).
        ed_frames, es_frames: 0-based frame indices.
        beats: dicts ``ed_frame, es_frame, edv, esv, eda, esa, ef`` (EF in percent),
            ``partial``, ``flags`` (names, see ``FLAG_DESCRIPTIONS``) and ``used`` (whether
            the beat counts in ``ef_mean``).
        ef_mean: mean EF over the unflagged beats; NaN (None in JSON) when there is none,
            with the reason in ``ef_note``. Always within [0, 100] when finite.
        ef_note: why there is no EF (None when there is one).
        flags: the flags of the video (every flag of any beat, in order).
        frame_measures: per-frame ``components`` (LV components before post-processing),
            ``border_pixels``, ``border_fraction``, ``area_fraction`` (after).
        postprocess: the post-processing settings applied (None: none).
        tta_flip: whether the masks come from test-time flip averaging (set by the
            predictor).
        ef_readout: how each beat's EDV and ESV were read: ``'frames'`` (the volumes of
            its single ED and ES frames) or ``'smoothed'`` (the volume curve smoothed
            over time, at the same frames; docs/inference.md, "EF robust to noise").
        spacing: (row_mm, col_mm) or None; fps: frames per second or None.
        period: beat length in frames found on the curve, or None.
        curve: which curve ED/ES were found on (``'area'``, the default, or
            ``'volume'``); EDV, ESV and EF are always the Simpson volumes at those frames.
        windows: (start, end) frame ranges the model ran on.
        name: a label for the video (file stem in the CLI).
    """
    masks: np.ndarray
    areas: np.ndarray
    volumes: np.ndarray
    ed_frames: List[int] = field(default_factory=list)
    es_frames: List[int] = field(default_factory=list)
    beats: List[Dict] = field(default_factory=list)
    ef_mean: float = float('nan')
    units: Dict[str, str] = field(default_factory=lambda: _units(None))
    spacing: Optional[Tuple[float, float]] = None
    fps: Optional[float] = None
    period: Optional[float] = None
    curve: str = 'area'
    lv_label: int = 1
    probs: Optional[np.ndarray] = None
    windows: List[Tuple[int, int]] = field(default_factory=list)
    name: Optional[str] = None
    ef_note: Optional[str] = None
    flags: List[str] = field(default_factory=list)
    frame_measures: Dict[str, np.ndarray] = field(default_factory=dict)
    postprocess: Optional[Dict] = None
    tta_flip: bool = False
    ef_readout: str = 'frames'

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_masks(cls, masks, spacing: Optional[Sequence[float]] = None,
                   fps: Optional[float] = None, probs: Optional[np.ndarray] = None,
                   lv_label: int = 1, curve: str = 'area',
                   heart_rate_range: Sequence[float] = HEART_RATE_RANGE,
                   windows: Optional[List[Tuple[int, int]]] = None,
                   name: Optional[str] = None, postprocess=True,
                   field_of_view: Optional[np.ndarray] = None,
                   criteria: Optional[PlausibilityCriteria] = None,
                   copy: bool = True, ef_readout: str = 'frames') -> 'VideoResult':
        """Post-processing, areas, volumes, ED/ES, beats and flags of (N, H, W) label masks
        (LV = ``lv_label``).

        Args:
            postprocess: :class:`LVPostProcessing` settings (True: largest component and
                hole filling, the default; a dict of its fields; False/None: none).
            field_of_view: (H, W) bool ultrasound sector (e.g. from
                :func:`~echoseg.evaluation.functional.plausibility.estimate_field_of_view`);
                None: only the image border counts for ``touches_border``.
            criteria: the flags' thresholds (:class:`PlausibilityCriteria`).
            copy: False lets the post-processing overwrite ``masks`` (a uint8 array the
                caller no longer needs, such as the predictor's own) instead of a copy.
            ef_readout: ``'frames'`` or ``'smoothed'`` (:func:`beats_from_curves`).

        ED/ES are found on the ``curve`` (:func:`detect_cardiac_cycle`) of the
        post-processed masks; each beat's EDV, ESV and EF are the single-plane Simpson
        volumes at its ED and ES frames.
        """
        if curve not in ('volume', 'area'):
            raise ValueError(f"curve must be 'volume' or 'area', got {curve!r}")
        if not isinstance(masks, CompressedMasks):
            masks = np.asarray(masks)
            if masks.ndim != 3:
                raise ValueError(f'masks must be (N, H, W), got shape {masks.shape}')
            masks = masks.astype(np.uint8, copy=False)
        criteria = criteria or PlausibilityCriteria()
        post = LVPostProcessing.build(postprocess)
        spacing = None if spacing is None else (float(spacing[0]), float(spacing[1]))
        fps = float(fps) if fps else None
        inplace = not copy and (isinstance(masks, CompressedMasks) or masks.flags.writeable)
        masks, measures, areas, volumes = _per_frame_pass(
            masks, lv_label, post, field_of_view, criteria, spacing, inplace)
        cycle, beats, ef_mean, note = beats_from_curves(
            areas, volumes, fps=fps, curve=curve, measures=measures, criteria=criteria,
            heart_rate_range=heart_rate_range, ef_readout=ef_readout)
        flags = [f for f in FLAG_DESCRIPTIONS if any(f in b['flags'] for b in beats)]
        return cls(masks=masks, areas=areas, volumes=volumes, ed_frames=cycle.ed_frames,
                   es_frames=cycle.es_frames, beats=beats, ef_mean=ef_mean,
                   units=_units(spacing), spacing=spacing, fps=fps, period=cycle.period,
                   curve=curve, lv_label=int(lv_label), probs=probs,
                   windows=list(windows or []), name=name, ef_note=note, flags=flags,
                   frame_measures=measures, ef_readout=ef_readout,
                   postprocess=None if post is None else post.to_dict())

    def warnings(self) -> List[str]:
        """One line per excluded beat, and one when the video has no EF (for the console)."""
        out = []
        for k, b in enumerate(self.beats):
            if not b.get('used', True):
                ef = f"{b['ef']:.1f}%" if np.isfinite(b['ef']) else 'undefined'
                out.append(f"beat {k + 1} (ED frame {b['ed_frame']}, ES frame "
                           f"{b['es_frame']}, EF {ef}) left out of the mean EF: "
                           f"{describe_flags(b['flags'])}")
        if self.ef_note:
            out.append(f'EF not reported: {self.ef_note}')
        return out

    # ------------------------------------------------------------------ summaries
    @property
    def num_frames(self) -> int:
        return int(self.masks.shape[0])

    @property
    def heart_rate(self) -> Optional[float]:
        """Beats per minute from the curve's period and the frame rate (None if unknown)."""
        if self.fps and self.period:
            return 60.0 * self.fps / self.period
        return None

    def summary(self) -> Dict:
        """One row of numbers for the video (what ``summary.csv`` holds); the EF, EDV and
        ESV statistics are over the beats used for the mean EF only."""
        used = [b for b in self.beats if b.get('used', True)]
        efs = np.array([b['ef'] for b in used], dtype=np.float64)
        fin = efs[np.isfinite(efs)]

        def mean_of(key):
            vals = [b[key] for b in used if np.isfinite(b[key])]
            return float(np.mean(vals)) if vals else float('nan')

        return dict(
            video=self.name, num_frames=self.num_frames, height=int(self.masks.shape[1]),
            width=int(self.masks.shape[2]), fps=self.fps, num_ed=len(self.ed_frames),
            num_es=len(self.es_frames), num_beats=len(self.beats), num_beats_used=len(used),
            ef_mean=self.ef_mean,
            ef_sd=float(np.std(fin, ddof=1)) if fin.size > 1 else float('nan'),
            edv_mean=mean_of('edv'), esv_mean=mean_of('esv'), heart_rate=self.heart_rate,
            volume_unit=self.units['volume'], area_unit=self.units['area'],
            partial=any(b['partial'] for b in self.beats), flags=';'.join(self.flags),
            ef_note=self.ef_note or '')

    def to_dict(self) -> Dict:
        """Everything but the masks and probabilities, as plain Python data."""
        return _plain(dict(
            video=self.name, num_frames=self.num_frames,
            size=[int(self.masks.shape[1]), int(self.masks.shape[2])],
            spacing=None if self.spacing is None else list(self.spacing), fps=self.fps,
            units=self.units, lv_label=self.lv_label, curve=self.curve,
            period_frames=self.period, heart_rate_bpm=self.heart_rate,
            ed_frames=self.ed_frames, es_frames=self.es_frames, beats=self.beats,
            ef_mean=self.ef_mean, ef_note=self.ef_note, flags=self.flags,
            flag_descriptions={f: FLAG_DESCRIPTIONS[f] for f in self.flags},
            postprocess=self.postprocess, tta_flip=self.tta_flip,
            ef_readout=self.ef_readout, summary=self.summary(),
            areas=self.areas, volumes=self.volumes,
            lv_components=self.frame_measures.get('components'), windows=self.windows))

    # ------------------------------------------------------------------ writers
    @staticmethod
    def _prepare(path) -> str:
        path = os.fspath(path)
        folder = osp.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        return path

    def to_json(self, path, extra: Optional[Dict] = None) -> str:
        """:meth:`to_dict` (plus ``extra`` keys, e.g. the source file) as JSON."""
        path = self._prepare(path)
        data = self.to_dict()
        data.update(_plain(dict(extra or {})))
        with open(path, 'w') as f:
            json.dump(data, f, indent=2)
        return path

    def to_csv(self, path) -> str:
        """Per frame: ``frame, area, volume, is_ed, is_es, lv_components, border_pixels``
        (units in ``self.units``; components before post-processing, border pixels after)."""
        path = self._prepare(path)
        ed, es = set(self.ed_frames), set(self.es_frames)
        comp = self.frame_measures.get('components')
        border = self.frame_measures.get('border_pixels')
        with open(path, 'w', newline='') as f:
            writer = csv.writer(f)
            writer.writerow(['frame', 'area', 'volume', 'is_ed', 'is_es', 'lv_components',
                             'border_pixels'])
            for i in range(self.num_frames):
                writer.writerow([i, f'{self.areas[i]:.6g}', f'{self.volumes[i]:.6g}',
                                 int(i in ed), int(i in es),
                                 '' if comp is None else int(comp[i]),
                                 '' if border is None else int(border[i])])
        return path

    def to_beats_csv(self, path) -> str:
        """Per beat: ``beat, ed_frame, es_frame, edv, esv, eda, esa, ef, partial, used,
        flags`` (flags ';'-joined; ``used`` = counted in the mean EF)."""
        path = self._prepare(path)
        with open(path, 'w', newline='') as f:
            writer = csv.writer(f)
            writer.writerow(['beat', 'ed_frame', 'es_frame', 'edv', 'esv', 'eda', 'esa', 'ef',
                             'partial', 'used', 'flags'])
            for k, b in enumerate(self.beats):
                writer.writerow([k + 1, b['ed_frame'], b['es_frame']] + [
                    f'{b[key]:.6g}' if np.isfinite(b[key]) else ''
                    for key in ('edv', 'esv', 'eda', 'esa', 'ef')] + [
                    int(b['partial']), int(b.get('used', True)), ';'.join(b.get('flags', ()))])
        return path

    def save_masks(self, path) -> str:
        """The label masks: ``.nii.gz``/``.nii``/``.mhd`` (with the spacing in the header)
        or ``.npz`` (``masks``, and ``spacing`` when known). Compressed masks are written
        frame by frame (memory of one frame)."""
        path = self._prepare(path)
        if path.lower().endswith('.npz'):
            extra = {} if self.spacing is None else dict(spacing=np.asarray(self.spacing))
            if isinstance(self.masks, CompressedMasks):
                return _savez_frames(path, self.masks, extra)
            np.savez_compressed(path, masks=self.masks, **extra)
            return path
        from echoseg.io import write_video, write_volume_frames
        if isinstance(self.masks, CompressedMasks):
            return write_volume_frames(path, iter(self.masks), self.masks.frame_shape,
                                       len(self.masks), spacing=self.spacing)
        return write_video(path, self.masks, spacing=self.spacing)

    def iter_overlay_frames(self, frames) -> Iterator[np.ndarray]:
        """The overlay frames one at a time, from any iterable of (H, W) gray frames (an
        array, or :func:`echoseg.io.iter_frames` of the file): the
        predicted LV (red) on the video, frame number and ED/ES captioned."""
        import cv2

        from echoseg.visualization.overlay import overlay_masks
        ed, es = set(self.ed_frames), set(self.es_frames)
        scale = max(0.3, min(self.masks.shape[1:3]) / 300.0)
        count = 0
        for i, frame in enumerate(frames):
            if i >= len(self.masks) or tuple(np.shape(frame)[:2]) != self.masks.shape[1:]:
                raise ValueError(f'video frame {i} of shape {np.shape(frame)} does not match '
                                 f'the masks {self.masks.shape}')
            img = overlay_masks(frame, pred=self.masks[i], fg_label=self.lv_label)
            text = f'{i}' + (' ED' if i in ed else '') + (' ES' if i in es else '')
            cv2.putText(img, text, (3, int(12 * scale / 0.4)), cv2.FONT_HERSHEY_SIMPLEX,
                        scale, (255, 255, 255), 1, cv2.LINE_AA)
            count += 1
            yield img
        if count != len(self.masks):
            raise ValueError(f'video of {count} frames does not match the masks '
                             f'{self.masks.shape}')

    def overlay_frames(self, video) -> np.ndarray:
        """(N, H, W, 3) BGR frames: the predicted LV (red) on the video, ED/ES captioned."""
        video = np.asarray(video)
        if video.shape[:3] != self.masks.shape:
            raise ValueError(f'video of shape {video.shape[:3]} does not match the masks '
                             f'{self.masks.shape}')
        return np.stack(list(self.iter_overlay_frames(video)))

    def write_overlay_video(self, path, video, fps: Optional[float] = None) -> str:
        """Write the overlay frames with :func:`echoseg.io.write_video`
        (``.mp4`` mp4v, ``.avi`` MJPG) at ``fps`` (default: the video's, else 25).
        ``video`` is the (N, H, W) array or the video file, which is then read again frame
        by frame, so that memory does not grow with the video's length."""
        from echoseg.io import iter_frames, write_video
        path = self._prepare(path)
        if isinstance(video, (str, os.PathLike)):
            frames = self.iter_overlay_frames(iter_frames(video))
        else:
            frames = self.overlay_frames(video)
        return write_video(path, frames, fps=fps or self.fps or 25.0)

    def plot_curves(self, path=None, title: Optional[str] = None):
        """LV volume and area against time (s when the fps is known, else frames), ED/ES
        marked and EF per beat written; returns the ``Figure`` and saves it to ``path``."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        fig = Figure(figsize=(8.0, 5.0))
        FigureCanvasAgg(fig)
        t = np.arange(self.num_frames, dtype=np.float64)
        xlabel = 'frame'
        if self.fps:
            t, xlabel = t / self.fps, 'time (s)'
        ax_v, ax_a = fig.add_subplot(2, 1, 1), fig.add_subplot(2, 1, 2)
        for ax, y, label, unit in ((ax_v, self.volumes, 'LV volume', self.units['volume']),
                                   (ax_a, self.areas, 'LV area', self.units['area'])):
            ax.plot(t, y, color='C0', linewidth=1.2)
            if self.ed_frames:
                ax.plot(t[self.ed_frames], y[self.ed_frames], 'v', color='C3', label='ED')
            if self.es_frames:
                ax.plot(t[self.es_frames], y[self.es_frames], '^', color='C2', label='ES')
            ax.set_ylabel(f'{label} ({unit})')
            ax.grid(True, alpha=0.3)
        for b in self.beats:
            if np.isfinite(b['ef']):
                x = 0.5 * (t[b['ed_frame']] + t[b['es_frame']])
                used = b.get('used', True)
                ax_v.annotate(f"EF {b['ef']:.0f}%" + ('' if used else ' (flagged)'),
                              (x, b['edv']), textcoords='offset points', xytext=(0, 4),
                              ha='center', fontsize=8, color='black' if used else 'gray')
        if self.ed_frames or self.es_frames:
            ax_v.legend(loc='lower right', fontsize=8)
        ax_a.set_xlabel(xlabel)
        used = sum(b.get('used', True) for b in self.beats)
        ef = f'mean EF {self.ef_mean:.1f}% over {used} of {len(self.beats)} beat(s)' \
            if np.isfinite(self.ef_mean) else ('EF not reported: no beat found'
                                               if not self.beats else
                                               'EF not reported: every beat is flagged')
        ax_v.set_title(title or f'{self.name + ": " if self.name else ""}{ef}', fontsize=10)
        fig.tight_layout()
        if path is not None:
            fig.savefig(self._prepare(path), dpi=100)
        return fig
