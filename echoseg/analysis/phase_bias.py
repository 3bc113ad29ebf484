"""Where the EF bias starts: LV size by cardiac phase (``tools/analysis/phase_bias.py``).

    python tools/analysis/phase_bias.py model CONFIG CHECKPOINT [--num-videos 64]
        [--real-data DIR | --real-data none] [--out phase_bias.json]
    python tools/analysis/phase_bias.py cv CV_WORK_DIR [--out ...]
    python tools/analysis/phase_bias.py generator [--num-videos 16] [--seed 2000]
        [--image-size 112] [--difficulty medium] [--generator-cfg k=v ...] [--out ...]

Three reports, each a table by phase: ``ED``, ``ES`` and ``middle`` (the frames between
them, in either order: the ED -> ES clips of the test pipeline), split into ``systole``
(ED before ES in time: the LV empties, the mitral valve is shut) and ``diastole`` (ES
before ED: the LV fills through the open valve), and for the generator ``other`` (the
rest of the cycle):

- ``model``: a trained model on the config's synthetic test clips (every frame has a
  true mask) and, when real EchoNet data is at hand, on its traced ED/ES frames: the
  ratios predicted / reference of the LV area and of the Simpson volume (single plane,
  20 disks), per frame, and the EF from the predicted against the reference ED/ES masks;
- ``cv``: the same ratios for the held-out ED/ES masks of a cross-validation work dir
  (``predictions.npz`` of every run, ``tools/analysis/cross_validate.py``);
- ``generator``: whether the synthetic labels and the cavity the generator renders agree:
  the ratio label area / rendered blood-pool area per frame, and how much further the
  label reaches than the rendered pool towards the apex and towards the base (mm, along
  the LV's long axis). The rendered pool is :func:`rendered_cavity`: the dark region of
  the speckle-free image, at half the way from the blood's gray level to the wall's.

Ratios are summarised per phase as mean, sd and median of the per-frame ratios.
"""
import argparse
import json
import math
import os
import os.path as osp
from collections import defaultdict
from typing import Dict, Iterable, List, Optional, Sequence

import numpy as np

from .paths import default_data_root, shown_path

#: the phases of the summaries; ``middle`` gathers ``systole`` and ``diastole``
PHASES = ('ED', 'ES', 'middle', 'systole', 'diastole', 'other')
LV = 1  # the LV label of the models and of the synthetic raw labels


# ---------------------------------------------------------------------------- phases
def frame_phase(index: int, ed: Optional[int], es: Optional[int],
                ed_first: Optional[bool] = None) -> str:
    """``'ED'``, ``'ES'``, a frame strictly between them (either order): ``'systole'``
    when ED comes first in time (``ed_first``), ``'diastole'`` when ES does, ``'middle'``
    when unknown; else ``'other'``."""
    if ed is not None and index == ed:
        return 'ED'
    if es is not None and index == es:
        return 'ES'
    if ed is not None and es is not None and min(ed, es) < index < max(ed, es):
        return 'middle' if ed_first is None else ('systole' if ed_first else 'diastole')
    return 'other'


def mask_size(mask: np.ndarray, spacing: Optional[Sequence[float]] = None) -> Dict:
    """LV ``area`` (mm^2 with a spacing, else px) and single-plane Simpson ``volume`` (ml
    with a spacing, else px^3) of a binary mask."""
    from echoseg.evaluation.functional import simpson_volume
    mask = np.asarray(mask).astype(bool)
    unit = 1.0 if spacing is None else float(spacing[0]) * float(spacing[1])
    return dict(area=float(mask.sum()) * unit,
                volume=float(simpson_volume(mask, spacing)) if mask.any() else 0.0)


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 and math.isfinite(a) and math.isfinite(b) else float('nan')


def frame_row(video_id: str, frame: int, phase: str, pred: np.ndarray, ref: np.ndarray,
              spacing=None) -> Dict:
    """One frame's predicted and reference sizes and their ratios."""
    p, r = mask_size(pred, spacing), mask_size(ref, spacing)
    return dict(video_id=video_id, frame=int(frame), phase=phase,
                pred_area=p['area'], ref_area=r['area'], pred_volume=p['volume'],
                ref_volume=r['volume'], area_ratio=_ratio(p['area'], r['area']),
                volume_ratio=_ratio(p['volume'], r['volume']))


# ---------------------------------------------------------------------------- summaries
def _stats(values: Iterable[float]) -> Dict:
    arr = np.asarray([v for v in values if v is not None and math.isfinite(v)], float)
    if not arr.size:
        return dict(n=0, mean=float('nan'), sd=float('nan'), median=float('nan'))
    return dict(n=int(arr.size), mean=float(arr.mean()),
                sd=float(arr.std(ddof=1)) if arr.size > 1 else 0.0,
                median=float(np.median(arr)))


def clip_efs(rows: Sequence[Dict]) -> List[Dict]:
    """Per clip with an ED and an ES row: EF of the predicted and of the reference masks."""
    from echoseg.evaluation.functional import ejection_fraction
    by_clip = defaultdict(dict)
    for r in rows:
        if r['phase'] in ('ED', 'ES'):
            by_clip[r['video_id']][r['phase']] = r
    out = []
    for vid, ph in by_clip.items():
        if 'ED' in ph and 'ES' in ph:
            out.append(dict(
                video_id=vid,
                ef_pred=ejection_fraction(ph['ED']['pred_volume'], ph['ES']['pred_volume']),
                ef_ref=ejection_fraction(ph['ED']['ref_volume'], ph['ES']['ref_volume'])))
    return out


def summarise_rows(rows: Sequence[Dict], keys=('area_ratio', 'volume_ratio')) -> Dict:
    """``{phase: {key: stats}}`` over the rows of each phase present, plus ``EF`` (MAE and
    bias of the EF of the predicted against the reference ED/ES masks) when the rows hold
    ED/ES pairs of predictions."""
    out = {}
    for phase in PHASES:
        group = ('middle', 'systole', 'diastole') if phase == 'middle' else (phase,)
        sel = [r for r in rows if r['phase'] in group]
        if sel:
            out[phase] = {k: _stats(r[k] for r in sel) for k in keys}
    if 'volume_ratio' in keys:
        efs = [e for e in clip_efs(rows)
               if math.isfinite(e['ef_pred']) and math.isfinite(e['ef_ref'])]
        err = np.asarray([e['ef_pred'] - e['ef_ref'] for e in efs], float)
        out['EF'] = dict(n=int(err.size),
                         mae=float(np.abs(err).mean()) if err.size else float('nan'),
                         bias=float(err.mean()) if err.size else float('nan'))
    return out


def format_summary(title: str, summary: Dict, keys=('area_ratio', 'volume_ratio'),
                   names=('area pred/ref', 'volume pred/ref')) -> str:
    """A plain-text table: one row per phase, mean +- sd (median) of each ratio."""
    lines = [title, f"{'phase':8s} {'frames':>6s}  " + '  '.join(f'{n:>26s}' for n in names)]
    for phase in PHASES:
        if phase not in summary:
            continue
        cells = []
        for k in keys:
            s = summary[phase][k]
            cells.append(f"{s['mean']:7.3f} +- {s['sd']:5.3f} ({s['median']:6.3f})")
        n = summary[phase][keys[0]]['n']
        lines.append(f'{phase:8s} {n:6d}  ' + '  '.join(f'{c:>26s}' for c in cells))
    if 'EF' in summary and summary['EF']['n']:
        ef = summary['EF']
        lines.append(f"EF of the predicted vs the reference ED/ES masks: MAE {ef['mae']:.1f}, "
                     f"bias {ef['bias']:+.1f} points over {ef['n']} clips")
    return '\n'.join(lines)


#: what an EF MAE and bias mean, and what is clinically usable (printed by tools/demo.py)
EF_MEANING = ('(EF: % of the end-diastolic volume ejected; MAE: mean |predicted - reference|, '
              'bias: mean predicted - reference, < 0 = read low; two experts reading the '
              'same echo differ by about 5-7 EF points, so an MAE of about 5 or less is '
              'clinically usable)')


def ef_line(mae: float, bias: float, num: int, where: str) -> str:
    """The demo's EF line and, under it, its one-line meaning (:data:`EF_MEANING`)."""
    return (f'EF on {where}: MAE {mae:.1f} points, bias {bias:+.1f} points over {int(num)} '
            f'clips\n  {EF_MEANING}')


# ---------------------------------------------------------------------------- models
def sample_masks(sample) -> Dict:
    """Predicted and reference LV masks (T, H, W) of a test sample at the evaluation
    resolution (the reference's), the labelled frames, ED/ES indices and spacing."""
    import cv2
    pred = sample.pred_masks.cpu().numpy()
    gt = sample.get('ori_gt_masks')
    spacing = sample.metainfo.get('ori_spacing') if gt is not None else None
    if gt is None:
        gt, spacing = sample.gt_masks, sample.metainfo.get('spacing')
    gt = gt.cpu().numpy()
    if pred.shape[-2:] != gt.shape[-2:]:
        pred = np.stack([cv2.resize(p.astype(np.uint8), gt.shape[:0:-1],
                                    interpolation=cv2.INTER_NEAREST) for p in pred])
    meta = sample.metainfo
    labelled = (gt != 255).reshape(gt.shape[0], -1).any(axis=1)
    ed, es = meta.get('ed_index'), meta.get('es_index')
    times = meta.get('frame_indices')
    ed_first = (None if ed is None or es is None or times is None
                else int(times[ed]) < int(times[es]))
    return dict(video_id=str(meta.get('video_id')), pred=pred == LV, ref=gt == LV,
                labelled=labelled, ed=ed, es=es, ed_first=ed_first,
                spacing=None if spacing is None else tuple(float(s) for s in spacing))


def model_rows(model, dataset) -> List[Dict]:
    """One :func:`frame_row` per labelled frame of every clip of ``dataset`` predicted by
    ``model`` (its ``test_step``)."""
    import torch
    from mmengine.dataset import pseudo_collate
    model.eval()
    rows = []
    for idx in range(len(dataset)):
        with torch.no_grad():
            sample = model.test_step(pseudo_collate([dataset[idx]]))[0]
        m = sample_masks(sample)
        for i in np.flatnonzero(m['labelled']):
            phase = frame_phase(int(i), m['ed'], m['es'], m['ed_first'])
            rows.append(frame_row(m['video_id'], int(i), phase, m['pred'][i], m['ref'][i],
                                  m['spacing']))
    return rows


def cv_rows(work_dir: str) -> List[Dict]:
    """ED/ES rows of every run of a cross-validation work dir (``<run>/predictions.npz``
    holding ``<video>__pred`` and ``<video>__gt``, ED then ES); the video id is prefixed
    with the run's name (a video is held out once per seed)."""
    rows = []
    runs = sorted(d for d in os.listdir(work_dir)
                  if osp.isfile(osp.join(work_dir, d, 'predictions.npz')))
    if not runs:
        raise FileNotFoundError(f'{work_dir}: no <run>/predictions.npz (is it a work dir of '
                                'tools/analysis/cross_validate.py?)')
    for run in runs:
        with np.load(osp.join(work_dir, run, 'predictions.npz')) as npz:
            vids = sorted({k.rsplit('__', 1)[0] for k in npz.files})
            for vid in vids:
                pred, gt = npz[f'{vid}__pred'], npz[f'{vid}__gt']
                for i, phase in enumerate(('ED', 'ES')):
                    rows.append(frame_row(f'{run}/{vid}', i, phase, pred[i] == LV,
                                          gt[i] == LV))
    return rows


# ---------------------------------------------------------------------------- generator
class NoiseFreeRenderer:
    """The speckle-free image of a synthetic video's frames: the mean displayed gray level
    (log of the mean echo power minus the 2.5 dB log-mean offset of developed speckle),
    with the generator's echogenicity, PSF, gains, haze and noise floor, and the frame's
    anatomy (regions, labels, LV coordinates).

    It sets a video up as :meth:`SyntheticEchoGenerator.render` does (same seeds, same
    fields) but draws no speckle."""

    def __init__(self, generator, plan):
        from echoseg.datasets.synthetic.appearance import realistic_fields, tissue_texture
        from echoseg.datasets.synthetic.common import seed_children
        from echoseg.datasets.synthetic.physics import EchoImaging, fixed_scatterers
        from echoseg.datasets.synthetic.scan_conversion import SectorGrid
        import cv2
        self.plan = plan
        self.grid = grid = SectorGrid(plan.image_size, plan.spacing, plan.sector,
                                      fine_beams=plan.realistic)
        rng = np.random.default_rng(seed_children(plan.seed)['speckle'])
        self.tex = tissue_texture(plan, rng)
        fixed_scatterers(rng, grid)  # keeps the draws of the fields below as render's
        self.fields = realistic_fields(plan, rng, grid.rho) if plan.realistic else None
        self.imaging = EchoImaging(plan, grid, np.zeros((1, 1, 2), np.float32),
                                   np.random.default_rng(0),
                                   self.fields['clutter_lateral'] if self.fields else None)
        im = self.imaging
        delta = np.zeros((41, 41), np.float32)
        delta[20, 20] = 1.0
        kern = cv2.GaussianBlur(delta, (0, 0), sigmaX=im.sig_lat, sigmaY=im.sig_ax)
        # echo power gain: the imaging gain without its PSF normalisation, squared
        self.power_gain = (im.gain[..., 0] ** 2) * float((kern ** 2).sum())
        self.X = -grid.X if plan.heart.get('mirrored') else grid.X

    def frame(self, k: int) -> Dict:
        """``gray`` (H, W) float, ``region``, ``labels`` and ``extra`` of
        :func:`~echoseg.datasets.synthetic.anatomy.frame_anatomy`, ``L`` and ``b``."""
        import cv2

        from echoseg.datasets.synthetic.anatomy import frame_anatomy, frame_shape
        from echoseg.datasets.synthetic.appearance import echogenicity
        plan, grid, im = self.plan, self.grid, self.imaging
        region, lab, extra = frame_anatomy(plan, k, self.X, grid.Y)
        lab[~grid.inside] = 0
        e_db = echogenicity(plan, k, region, extra, self.X, grid.Y, self.tex, self.fields)
        power = grid.to_beams(np.exp(e_db * np.float32(math.log(10.0) / 10.0))) + im.clutter
        # E|blur(scat * sqrt(P))|^2 = 2 (K^2 * P): a Gaussian of sigma / sqrt(2)
        power = cv2.GaussianBlur(power.astype(np.float32), (0, 0),
                                 sigmaX=im.sig_lat / math.sqrt(2.0),
                                 sigmaY=im.sig_ax / math.sqrt(2.0))
        mean_power = 2.0 * power * self.power_gain + 2.0 * im.noise_amp[..., 0] ** 2
        db = 10.0 * np.log10(mean_power + 1e-12) - 2.507
        gray = np.clip((db - (im.top_db - im.dyn)) * (255.0 / im.dyn), 0.0, 255.0)
        gray = grid.to_pixels(gray)
        if plan.realistic:
            np.maximum(gray, 1.0, out=gray)
        gray[~grid.inside] = 0.0
        L, b, _, _, _ = frame_shape(plan, k)
        return dict(gray=gray, region=region, labels=lab, extra=extra, L=float(L),
                    b=float(b))


def rendered_cavity(gray: np.ndarray, labels: np.ndarray, territory: np.ndarray,
                    px_mm: float = 1.0, core_mm: float = 3.0) -> Dict:
    """The LV blood pool as rendered: pixels of ``territory`` darker than half-way from
    the blood's gray level to the wall's, connected (4-neighbours) to the deepest dark
    point of the LV label.

    Blood level: median gray of the LV label eroded by ``core_mm`` (at most half its
    depth); wall level: median gray of the myocardium label (2). Returns ``mask``,
    ``threshold``, ``blood`` and ``wall``.
    """
    import cv2
    lv = labels == LV
    dist = cv2.distanceTransform(lv.astype(np.uint8), cv2.DIST_L2, 3) * np.float32(px_mm)
    if not lv.any():
        return dict(mask=np.zeros_like(lv), threshold=float('nan'), blood=float('nan'),
                    wall=float('nan'))
    core = dist >= min(core_mm, 0.5 * float(dist.max()))
    blood = float(np.median(gray[core]))
    myo = labels == 2
    wall = float(np.median(gray[myo])) if myo.any() else float(gray.max())
    thr = 0.5 * (blood + wall)
    dark = (gray < thr) & territory
    _, comp = cv2.connectedComponents(dark.astype(np.uint8), connectivity=4)
    inside = dark & lv
    if not inside.any():
        return dict(mask=np.zeros_like(lv), threshold=thr, blood=blood, wall=wall)
    seed = np.unravel_index(int(np.argmax(np.where(inside, dist, -1.0))), dist.shape)
    mask = comp == comp[seed]
    return dict(mask=mask, threshold=thr, blood=blood, wall=wall)


def _axial_extent(mask: np.ndarray, s: np.ndarray, l: np.ndarray, half_band: float):
    """(min s, max s) of the mask's pixels within ``|l| <= half_band`` of the long axis
    line through the base's centre."""
    sel = mask & (np.abs(l) <= half_band)
    if not sel.any():
        return float('nan'), float('nan')
    return float(s[sel].min()), float(s[sel].max())


def generator_rows(generator, seeds: Sequence, frames: str = 'all') -> List[Dict]:
    """Per frame of each seed's video: label and rendered areas (mm^2), their ratio, and
    ``apex_mm`` / ``base_mm``: how much further the label reaches than the rendered pool
    towards the apex / the base along the long axis (positive: the label is longer)."""
    rows = []
    for seed in seeds:
        plan = generator.plan(seed)
        render = NoiseFreeRenderer(generator, plan)
        px_mm = float(np.sqrt(plan.spacing[0] * plan.spacing[1]))
        unit = float(plan.spacing[0] * plan.spacing[1])
        heart = plan.heart
        ks = range(plan.num_frames) if frames == 'all' else sorted(
            {plan.ed_frame, plan.es_frame})
        for k in ks:
            f = render.frame(k)
            L, b, extra = f['L'], f['b'], f['extra']
            s = extra['along'] * np.float32(L)
            l = extra['side'] * np.float32(b)
            # the long axis through the middle of the base
            base_l, base_r = b * float(heart['tab_l'][0]), b * float(heart['tab_r'][0])
            l_mid = l - np.float32(0.5 * (base_r - base_l))
            # the LV's territory: its label, its wall, the mitral gap up to the atrium
            gap = ((s > L) & (s <= L + heart['mitral_gap']) & (l >= -base_l)
                   & (l <= base_r))
            territory = (f['labels'] == LV) | (f['labels'] == 2) | gap
            cav = rendered_cavity(f['gray'], f['labels'], territory, px_mm=px_mm)
            lab = f['labels'] == LV
            band = 0.25 * (base_l + base_r)
            la0, la1 = _axial_extent(lab, s, l_mid, band)
            ra0, ra1 = _axial_extent(cav['mask'], s, l_mid, band)
            rows.append(dict(
                video_id=f'seed{tuple(plan.seed)}', frame=int(k),
                phase=frame_phase(k, plan.ed_frame, plan.es_frame,
                                  plan.ed_frame < plan.es_frame),
                contraction=float(plan.contraction[k]),
                label_area=float(lab.sum()) * unit,
                rendered_area=float(cav['mask'].sum()) * unit,
                area_ratio=_ratio(float(lab.sum()), float(cav['mask'].sum())),
                apex_mm=ra0 - la0, base_mm=la1 - ra1))
    return rows


# ---------------------------------------------------------------------------- CLI
def parse_args(argv=None) -> argparse.Namespace:
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest='mode', required=True)
    m = sub.add_parser('model', help='a trained model on synthetic test clips (and real '
                       'ED/ES frames)')
    m.add_argument('config')
    m.add_argument('checkpoint')
    m.add_argument('--num-videos', type=int, default=64,
                   help='synthetic test clips (the config test set, this many videos)')
    m.add_argument('--real-data', default=None, help="EchoNet-layout folder ('none': "
                   'skip; default: the shared sample when present)')
    m.add_argument('--cfg-options', nargs='+', action=DictAction)
    c = sub.add_parser('cv', help='held-out ED/ES masks of a cross-validation work dir')
    c.add_argument('work_dir')
    g = sub.add_parser('generator', help='synthetic labels against the rendered pool')
    g.add_argument('--num-videos', type=int, default=16)
    g.add_argument('--seed', type=int, default=2000, help='dataset seed (2000: the '
                   "synthetic configs' test set)")
    g.add_argument('--image-size', type=int, default=112)
    g.add_argument('--difficulty', default='medium')
    g.add_argument('--frames', choices=('all', 'ed_es'), default='all')
    g.add_argument('--generator-cfg', nargs='+', action=DictAction, default={},
                   help='more SyntheticEchoGenerator arguments, key=value')
    for p in (m, c, g):
        p.add_argument('--out', default=None, help='JSON of the rows and summaries')
    return parser.parse_args(argv)


def _real_root(arg: Optional[str]) -> Optional[str]:
    from .synthetic_to_real import check_data_root
    if arg is not None and arg.lower() == 'none':
        return None
    if arg is None:
        return default_data_root() if osp.isdir(default_data_root()) else None
    return check_data_root(arg)


def run_model(args) -> Dict:
    """Rows and summaries of a checkpoint on synthetic test clips and real ED/ES frames."""
    import torch
    from mmengine.registry import init_default_scope

    from echoseg.apis import init_model
    from echoseg.registry import DATASETS
    from echoseg.utils.config import load_config

    from .synthetic_to_real import real_dataset
    torch.set_num_threads(1)
    real_root = _real_root(args.real_data)
    cfg = load_config(args.config, args.cfg_options)
    init_default_scope('echoseg')
    model = init_model(cfg, args.checkpoint)
    ds_cfg = dict(cfg.test_dataloader.dataset, num_videos=args.num_videos)
    out = dict(config=shown_path(args.config), checkpoint=shown_path(args.checkpoint))
    rows = model_rows(model, DATASETS.build(ds_cfg))
    out['synthetic'] = dict(rows=rows, summary=summarise_rows(rows))
    print(format_summary(f'synthetic test clips ({args.num_videos}, every frame labelled)',
                         out['synthetic']['summary']))
    if real_root is not None:
        rows = model_rows(model, real_dataset(cfg, real_root))
        out['real'] = dict(data_root=real_root, rows=rows, summary=summarise_rows(rows))
        print(format_summary(f'\nreal traced ED/ES frames ({real_root})',
                             out['real']['summary']))
    return out


def main(argv=None) -> Dict:
    """The command line of ``tools/analysis/phase_bias.py``; returns what it writes."""
    args = parse_args(argv)
    if args.mode == 'model':
        out = run_model(args)
    elif args.mode == 'cv':
        try:
            rows = cv_rows(args.work_dir)
        except FileNotFoundError as exc:
            raise SystemExit(f'error: {exc}')
        out = dict(work_dir=shown_path(args.work_dir), rows=rows,
                   summary=summarise_rows(rows))
        print(format_summary(f'held-out ED/ES masks of {args.work_dir}', out['summary']))
    else:
        from echoseg.datasets.synthetic import SyntheticEchoGenerator
        gen = SyntheticEchoGenerator(args.image_size, difficulty=args.difficulty,
                                     **dict(args.generator_cfg))
        rows = generator_rows(gen, [(args.seed, i) for i in range(args.num_videos)],
                              args.frames)
        keys = ('area_ratio', 'apex_mm', 'base_mm')
        out = dict(settings=dict(vars(args)), rows=rows,
                   summary=summarise_rows(rows, keys))
        print(format_summary(
            f'synthetic labels vs the rendered blood pool ({args.num_videos} videos, seed '
            f'{args.seed})', out['summary'], keys,
            ('label/rendered area', 'label longer at apex (mm)', 'label longer at base (mm)')))
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(out, f, indent=1, default=float)
        print(f'wrote {args.out}')
    return out

