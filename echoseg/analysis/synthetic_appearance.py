"""Compare the synthetic generator's look with real echo, region by region
(``tools/experiments/fit_synthetic_appearance.py``).

    python tools/experiments/fit_synthetic_appearance.py
    python tools/experiments/fit_synthetic_appearance.py --data-root /data/EchoNet-Dynamic \\
        --max-videos 50 --synthetic-videos 40

Real EchoNet-Dynamic ED/ES frames (an EchoNet-layout folder: ``Videos/``,
``FileList.csv``, ``VolumeTracings.csv``; default the shared sample
``$ECHOSEG_ECHODATA/echonet_sample`` or ``../shared/echodata/echonet_sample``) are split
into regions with the traced LV polygon; synthetic ED/ES frames of the *old* generator
settings (``style='classic'``) and the *new* ones (the default realistic style) are split
the same way with their LV label, so both sides are measured alike:

* ``blood``: the LV cavity eroded by 1 pixel;
* ``myocardium``: a 2-6 pixel band outside the cavity, above its base;
* ``tissue``: the rest of the sector, 9 pixels or more from the cavity (other chambers,
  walls, pericardium, fat, lung);
* ``outside``: outside the sector (found from the video's temporal mean, as a convex fan).

Per region it prints the mean, standard deviation and median of the gray levels, and the
distance of the synthetic histogram to the real one: Wasserstein-1 (gray levels) and
chi-square (32 bins). Speckle: the autocorrelation width (the lag, in pixels, where the
normalised autocorrelation of the high-passed image falls to 0.5) along the beam and
across it, measured in the sector's central wedge (within 20 degrees of the vertical
through the fan's apex, where the beams are nearly vertical). With ``--camus`` /
``--other`` (default: the shared CAMUS 2CH and GE A4C NIfTI sequences when present) it also
compares the whole-sector statistics and the speckle widths in mm with synthetic images
rendered at the same pixel size with the whole fan in the frame (``geometry='camus'``;
CAMUS's brighter display for the CAMUS file, EchoNet's for the other).
"""
import argparse
import os.path as osp
from collections import OrderedDict

import cv2
import numpy as np

from .paths import echodata_root

REGIONS = ('blood', 'myocardium', 'tissue', 'outside')
HIST_BINS = 32
WEDGE_DEG = 20.0


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data-root', default=None,
                        help='EchoNet-layout folder (default: the shared echonet_sample)')
    parser.add_argument('--camus', default=None,
                        help="a CAMUS NIfTI/MHD sequence ('none' to skip)")
    parser.add_argument('--other', default=None,
                        help="another real NIfTI/MHD sequence with its spacing ('none' to skip)")
    parser.add_argument('--max-videos', type=int, default=100, help='real videos used')
    parser.add_argument('--synthetic-videos', type=int, default=24,
                        help='synthetic videos per generator setting')
    parser.add_argument('--seed', type=int, default=0, help='dataset seed of synthetic videos')
    return parser.parse_args(argv)


# --------------------------------------------------------------------------- measurements
def sector_mask(video: np.ndarray, threshold: float = 6.0) -> np.ndarray:
    """The fan of a (N, H, W) video: convex hull of the largest bright component of the
    temporal mean (annotations outside the fan are smaller components)."""
    mean = video.astype(np.float32).mean(0)
    fg = (mean > threshold).astype(np.uint8)
    n, lab, stats, _ = cv2.connectedComponentsWithStats(fg)
    out = np.zeros(fg.shape, np.uint8)
    if n < 2:
        return out.astype(bool)
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    hull = cv2.convexHull(cv2.findNonZero((lab == biggest).astype(np.uint8)))
    cv2.fillConvexPoly(out, hull, 1)
    return out > 0


def _disc(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def region_masks(lv: np.ndarray, sector: np.ndarray) -> 'OrderedDict[str, np.ndarray]':
    """Regions of one frame from its LV cavity mask (apex up) and its sector mask."""
    lv8 = lv.astype(np.uint8)
    rows, cols = np.nonzero(lv)
    pts = np.stack([cols, rows], 1).astype(np.float64)
    centre = pts.mean(0)
    _, vecs = np.linalg.eigh(np.cov((pts - centre).T))
    axis = vecs[:, -1] if vecs[1, -1] >= 0 else -vecs[:, -1]   # apex (top) -> base
    yy, xx = np.mgrid[:lv.shape[0], :lv.shape[1]]
    t = (xx - centre[0]) * axis[0] + (yy - centre[1]) * axis[1]
    base = t[lv].max()
    band = (cv2.dilate(lv8, _disc(6)) > 0) & ~(cv2.dilate(lv8, _disc(1)) > 0)
    return OrderedDict(
        blood=cv2.erode(lv8, _disc(1)) > 0,
        myocardium=band & (t < base - 2) & sector,
        tissue=sector & ~(cv2.dilate(lv8, _disc(9)) > 0),
        outside=~sector)


def central_wedge(sector: np.ndarray, half_deg: float = WEDGE_DEG) -> np.ndarray:
    """Pixels of the sector within ``half_deg`` of the vertical through its top point."""
    rows, cols = np.nonzero(sector)
    if rows.size == 0:
        return sector.copy()
    top = rows.min()
    apex_col = cols[rows == top].mean()
    yy, xx = np.mgrid[:sector.shape[0], :sector.shape[1]]
    ang = np.degrees(np.arctan2(np.abs(xx - apex_col), np.maximum(yy - top, 1e-6)))
    return sector & (ang <= half_deg)


def autocorr_width(image: np.ndarray, mask: np.ndarray, axis: int, max_lag: int = 12,
                   highpass_sigma: float = 3.0) -> float:
    """Lag (pixels) where the normalised autocorrelation of the high-passed image inside
    ``mask`` falls to 0.5 along ``axis`` (0: rows / depth, 1: columns / lateral); linear
    interpolation between lags, NaN when undefined."""
    f = image.astype(np.float32)
    hp = f - cv2.GaussianBlur(f, (0, 0), highpass_sigma)
    prev = 1.0
    for lag in range(1, max_lag + 1):
        if axis == 0:
            a, b, m = hp[:-lag], hp[lag:], mask[:-lag] & mask[lag:]
        else:
            a, b, m = hp[:, :-lag], hp[:, lag:], mask[:, :-lag] & mask[:, lag:]
        if m.sum() < 50:
            return float('nan')
        x = a[m] - a[m].mean()
        y = b[m] - b[m].mean()
        denom = float(np.sqrt((x * x).sum() * (y * y).sum()))
        c = float((x * y).sum()) / denom if denom > 0 else 0.0
        if c < 0.5:
            return lag - 1 + (prev - 0.5) / (prev - c)
        prev = c
    return float('nan')


def wasserstein(a: np.ndarray, b: np.ndarray) -> float:
    """Wasserstein-1 distance of two samples of gray levels 0..255 (area between CDFs);
    NaN when a sample is empty."""
    if np.size(a) == 0 or np.size(b) == 0:
        return float('nan')
    ha = np.bincount(np.asarray(a, np.int64).ravel(), minlength=256)[:256].astype(np.float64)
    hb = np.bincount(np.asarray(b, np.int64).ravel(), minlength=256)[:256].astype(np.float64)
    return float(np.abs(np.cumsum(ha / ha.sum()) - np.cumsum(hb / hb.sum())).sum())


def chi_square(a: np.ndarray, b: np.ndarray, bins: int = HIST_BINS) -> float:
    """Symmetric chi-square distance of two normalised gray-level histograms, in [0, 1];
    NaN when a sample is empty."""
    if np.size(a) == 0 or np.size(b) == 0:
        return float('nan')
    edges = np.linspace(0, 256, bins + 1)
    ha = np.histogram(a, edges)[0].astype(np.float64)
    hb = np.histogram(b, edges)[0].astype(np.float64)
    ha, hb = ha / ha.sum(), hb / hb.sum()
    s = ha + hb
    return float(0.5 * np.sum(np.divide((ha - hb) ** 2, s, out=np.zeros_like(s), where=s > 0)))


def frame_statistics(frames) -> dict:
    """Pooled gray levels per region and mean speckle widths of (image, lv, sector)s."""
    pooled = {r: [] for r in REGIONS}
    widths = {'axial': [], 'lateral': []}
    for image, lv, sector in frames:
        regions = region_masks(lv, sector)
        for name, m in regions.items():
            pooled[name].append(image[m])
        tissue = regions['tissue'] | regions['myocardium']
        wedge = cv2.erode((tissue & central_wedge(sector)).astype(np.uint8), _disc(1)) > 0
        widths['axial'].append(autocorr_width(image, wedge, 0))
        widths['lateral'].append(autocorr_width(image, wedge, 1))
    out = {r: np.concatenate(v) if v else np.zeros(0, np.uint8) for r, v in pooled.items()}
    out['speckle'] = {k: float(np.nanmean(v)) if np.isfinite(v).any() else float('nan')
                      for k, v in widths.items()}
    return out


# --------------------------------------------------------------------------- data
def real_echonet_frames(data_root: str, max_videos: int):
    """(image, lv mask, sector) of the traced ED and ES frames of an EchoNet folder."""
    from echoseg.datasets.echonet import EchoNetDynamicDataset
    from echoseg.datasets.transforms import LoadEchoAnnotations, LoadEchoVideo
    ds = EchoNetDynamicDataset(data_root=data_root, split='all', serialize_data=False)
    frames = []
    for info in ds.data_list[:max_videos]:
        res = LoadEchoAnnotations()(LoadEchoVideo()(dict(info)))
        sector = sector_mask(res['video'])
        for f in (info['ed_frame'], info['es_frame']):
            frames.append((res['video'][f], res['masks'][f] == 1, sector))
    if not frames:
        raise FileNotFoundError(f'{data_root}: no traced video found')
    return frames, ds.data_list[0].get('video_path')


def synthetic_frames(style: str, size, count: int, seed: int):
    """(image, lv mask, sector) of the ED and ES frames of ``count`` synthetic videos."""
    from echoseg.datasets.synthetic import SyntheticEchoGenerator
    gen = SyntheticEchoGenerator(size, style=style)
    frames = []
    for i in range(count):
        out = gen.generate((seed, i))
        sector = sector_mask(out['video'])
        for f in (out['ed_frame'], out['es_frame']):
            frames.append((out['video'][f], out['labels'][f] == 1, sector))
    return frames


def sector_speckle_mm(video: np.ndarray, spacing) -> dict:
    """Whole-sector gray levels and speckle widths in mm of a sequence without labels."""
    sector = sector_mask(video)
    wedge = cv2.erode((central_wedge(sector)).astype(np.uint8), _disc(3)) > 0
    ax = [autocorr_width(f, wedge, 0) * spacing[0] for f in video]
    lat = [autocorr_width(f, wedge, 1) * spacing[1] for f in video]
    return dict(values=video[:, sector].ravel(), axial_mm=float(np.nanmean(ax)),
                lateral_mm=float(np.nanmean(lat)))


def synthetic_like(style: str, shape, spacing, camus_display: bool, count: int = 3):
    """Synthetic frames at a real sequence's size and row spacing, the whole fan in the
    frame (``geometry='camus'``); with ``camus_display=False`` the realistic style keeps
    EchoNet's darker display instead of CAMUS's."""
    from echoseg.datasets.synthetic import SyntheticEchoGenerator, difficulty_knobs
    h, w = shape
    depth = float(spacing[0]) * (h - 3)
    knobs = None
    if style == 'realistic' and not camus_display:
        nominal = difficulty_knobs('medium', style)
        knobs = {k: nominal[k] for k in ('gain_db', 'dynamic_range_db')}
    gen = SyntheticEchoGenerator((h, w), style=style, geometry='camus', knobs=knobs,
                                 depth_range_mm=(depth, depth))
    videos, spacings = [], []
    for i in range(count):
        out = gen.generate_long(i, num_frames=2)
        videos.append(out['video'])
        spacings.append(out['spacing'])
    return videos, np.mean(spacings, axis=0)


# --------------------------------------------------------------------------- report
def compare_regions(real, old, new):
    """Rows (region, statistic, real, old, new) with the distances to the real values."""
    rows = []
    for r in REGIONS:
        a, sides = real[r], (old[r], new[r])
        for stat, fn in (('mean', np.mean), ('std', np.std), ('median', np.median)):
            rows.append((r, stat, *[float(fn(s)) if s.size else float('nan')
                                    for s in (a, *sides)]))
        rows.append((r, 'W1 to real', 0.0, *[wasserstein(s, a) for s in sides]))
        rows.append((r, 'chi2 to real', 0.0, *[chi_square(s, a) for s in sides]))
    for k in ('axial', 'lateral'):
        rows.append(('speckle', f'{k} ACW (px)', real['speckle'][k], old['speckle'][k],
                     new['speckle'][k]))
    return rows


def print_rows(title: str, rows, real_name: str = 'real') -> None:
    print(f'\n{title}')
    print(f"| region | statistic | {real_name} | old (classic) | new (realistic) |")
    print('|---|---|---|---|---|')
    for region, stat, real, old, new in rows:
        real_s = '-' if 'to real' in stat else f'{real:.2f}'
        print(f'| {region} | {stat} | {real_s} | {old:.2f} | {new:.2f} |')


def distance_summary(rows):
    """Mean W1 over the regions and mean |width - real| of the speckle, old vs new."""
    w1 = [(o, n) for reg, stat, _, o, n in rows if stat == 'W1 to real']
    sp = [(abs(o - r), abs(n - r)) for reg, stat, r, o, n in rows if reg == 'speckle']
    return dict(w1_old=float(np.nanmean([o for o, _ in w1])),
                w1_new=float(np.nanmean([n for _, n in w1])),
                speckle_old=float(np.nanmean([o for o, _ in sp])),
                speckle_new=float(np.nanmean([n for _, n in sp])))


def sequence_rows(name: str, path: str, camus_display: bool):
    """Rows comparing one unlabelled real sequence with synthetic ones at its pixel size."""
    from echoseg.io import read_volume
    video, spacing = read_volume(path)
    if spacing is None:
        raise ValueError(f'{path}: no pixel spacing in the header')
    real = sector_speckle_mm(video, spacing)
    sides = []
    for style in ('classic', 'realistic'):
        videos, syn_spacing = synthetic_like(style, video.shape[1:], spacing, camus_display)
        stats = [sector_speckle_mm(v, syn_spacing) for v in videos]
        sides.append(dict(values=np.concatenate([s['values'] for s in stats]),
                          axial_mm=float(np.nanmean([s['axial_mm'] for s in stats])),
                          lateral_mm=float(np.nanmean([s['lateral_mm'] for s in stats]))))
    a = real['values']
    rows = [(f'{name} sector', 'mean', float(a.mean()), *[float(s['values'].mean())
                                                          for s in sides]),
            (f'{name} sector', 'std', float(a.std()), *[float(s['values'].std())
                                                        for s in sides]),
            (f'{name} sector', 'W1 to real', 0.0, *[wasserstein(s['values'], a)
                                                     for s in sides])]
    for k in ('axial_mm', 'lateral_mm'):
        rows.append((f'{name} speckle', k.replace('_mm', ' ACW (mm)'), real[k],
                     *[s[k] for s in sides]))
    return rows, spacing


def optional_sequence(arg, default_rel: str):
    """The path of an optional extra sequence: the argument, or the shared default if it
    exists; None when skipped. A path given explicitly must exist."""
    if arg is not None:
        if arg.lower() == 'none':
            return None
        if not osp.isfile(arg):
            raise FileNotFoundError(f'{arg}: file not found')
        return arg
    path = osp.join(echodata_root(), default_rel)
    return path if osp.isfile(path) else None


def main(argv=None):
    """The command line of ``tools/experiments/fit_synthetic_appearance.py``; returns the
    rows and the distance summary."""
    args = parse_args(argv)
    cv2.setNumThreads(1)
    data_root = args.data_root or osp.join(echodata_root(), 'echonet_sample')
    if not osp.isdir(data_root):
        raise FileNotFoundError(f'EchoNet data root not found: {data_root} (pass --data-root, '
                                'or set ECHOSEG_ECHODATA to the folder holding '
                                'echonet_sample/)')
    real_frames, _ = real_echonet_frames(data_root, args.max_videos)
    size = real_frames[0][0].shape
    real = frame_statistics(real_frames)
    old = frame_statistics(synthetic_frames('classic', size, args.synthetic_videos, args.seed))
    new = frame_statistics(synthetic_frames('realistic', size, args.synthetic_videos,
                                            args.seed))
    rows = compare_regions(real, old, new)
    print_rows(f'EchoNet-layout frames: {data_root} ({len(real_frames)} real ED/ES frames; '
               f'per setting the ED/ES frames of {args.synthetic_videos} synthetic videos; '
               f'{size[0]}x{size[1]})', rows)
    summary = distance_summary(rows)
    print(f"\nmean W1 over regions: old {summary['w1_old']:.1f}, new {summary['w1_new']:.1f} "
          f"gray levels; mean |speckle width - real|: old {summary['speckle_old']:.2f}, new "
          f"{summary['speckle_new']:.2f} px")
    for name, arg, rel in (('CAMUS', args.camus,
                            osp.join('camus_sample', 'patient0500_2CH_half_sequence.nii.gz')),
                           ('other', args.other, osp.join('other_real', 'a4c_sequence.nii.gz'))):
        path = optional_sequence(arg, rel)
        if path is None:
            print(f'\n{name}: skipped (no file)')
            continue
        seq_rows, spacing = sequence_rows(name, path, camus_display=name == 'CAMUS')
        display = 'CAMUS' if name == 'CAMUS' else 'EchoNet'
        print_rows(f'{name}: {path} ({spacing[0]:.3f} x {spacing[1]:.3f} mm pixels; '
                   'synthetic rendered at the same size and row spacing, whole fan, '
                   f'{display} display)', seq_rows)
    return dict(rows=rows, summary=summary)

