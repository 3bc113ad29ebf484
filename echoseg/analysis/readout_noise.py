"""How frame-to-frame segmentation noise moves the whole-video read-out, on curves whose
truth is known (docs/inference.md, "EF robust to noise"; ``tools/analysis/readout_noise.py``).

    python tools/analysis/readout_noise.py [--videos 80] [--noise 0 0.015 0.025 0.04]
        [--frames 200] [--seed 0] [--json OUT]

Each video is a planned synthetic multi-beat heart (``SyntheticEchoGenerator.plan_long``:
beat-to-beat EF and cycle-length jitter, 35-60 frames per beat as EchoNet's 50 fps
videos at 50-85 bpm), of which only the true LV volume curve is used (nothing is
rendered, no model runs): the area curve is ``V^(2/3)``, multiplied frame by frame by
``1 + noise * N(0, 1)``, and the volume curve is that area to the power 1.5 (a
segmentation that is a little too large in one frame is so in both). The read-out of
docs/inference.md places ED and ES on the noisy area curve (rule 5b); for each
``ef_readout`` the beats' EF is compared with the generator's EF of the beat, and the
detected ED / ES frames with the true ones (frames at least 3 from either end).
"""
import argparse
import json
from typing import Dict, List, Sequence

import numpy as np

EF_READOUTS = ('frames', 'smoothed')


def planned_curves(num_videos: int, num_frames: int, seed: int = 0) -> List[Dict]:
    """True volume curves, ED / ES frames and per-frame beat EF of planned videos."""
    from echoseg.datasets.synthetic.generator import SyntheticEchoGenerator
    gen = SyntheticEchoGenerator(64, difficulty='easy')
    out = []
    for k in range(num_videos):
        rng = np.random.default_rng([seed, k])
        plan = gen.plan_long(seed * 100003 + k, num_frames=num_frames,
                             frames_per_cycle=float(rng.uniform(35, 60)))
        info = plan.info()
        out.append(dict(volumes=np.asarray(plan.lv_volumes, float),
                        beat_ef=np.asarray(plan.beat_ef, float) * 100.0,
                        ed_frames=list(info['ed_frames']), es_frames=list(info['es_frames'])))
    return out


def measure(curves: Sequence[Dict], noise: float, seed: int = 0, fps: float = 50.0) -> Dict:
    """EF bias / MAE per read-out and ED / ES frame errors at one noise level."""
    from echoseg.evaluation.functional.cardiac_cycle import (beats_from_curves,
                                                             event_frame_errors)
    rng = np.random.default_rng(seed)
    errors = {r: [] for r in EF_READOUTS}
    frame_errors = dict(ed=[], es=[], ed_missed=0, es_missed=0)
    for c in curves:
        factor = 1.0 + noise * rng.standard_normal(c['volumes'].size)
        areas = c['volumes'] ** (2.0 / 3.0) * factor
        volumes = areas ** 1.5
        for readout in EF_READOUTS:
            cycle, beats, _, _ = beats_from_curves(areas, volumes, fps=fps,
                                                   ef_readout=readout)
            errors[readout] += [b['ef'] - c['beat_ef'][b['es_frame']] for b in beats
                                if not b['partial'] and np.isfinite(b['ef'])]
        n = areas.size
        for event in ('ed', 'es'):
            truth = [f for f in c[f'{event}_frames'] if 3 <= f < n - 3]
            found = cycle.ed_frames if event == 'ed' else cycle.es_frames
            for err in event_frame_errors(found, truth):
                if err is None:
                    frame_errors[f'{event}_missed'] += 1
                else:
                    frame_errors[event].append(err)
    out = dict(noise=float(noise))
    for readout, errs in errors.items():
        e = np.asarray(errs, float)
        out[readout] = dict(beats=int(e.size), bias=float(e.mean()),
                            mae=float(np.abs(e).mean()))
    for event in ('ed', 'es'):
        e = np.asarray(frame_errors[event], float)
        out[f'{event}_frames'] = dict(n=int(e.size), median=float(np.median(e)),
                                      mean=float(e.mean()),
                                      missed=frame_errors[f'{event}_missed'])
    return out


def markdown(rows: List[Dict]) -> str:
    lines = ['| area noise (sd) | beats | EF bias / MAE, frames | EF bias / MAE, smoothed | '
             'ED error median / mean (frames) | ES error median / mean (frames) |',
             '|---|---|---|---|---|---|']
    for r in rows:
        lines.append(
            f"| {100 * r['noise']:.1f} % | {r['frames']['beats']} | "
            f"{r['frames']['bias']:+.2f} / {r['frames']['mae']:.2f} | "
            f"{r['smoothed']['bias']:+.2f} / {r['smoothed']['mae']:.2f} | "
            f"{r['ed_frames']['median']:.0f} / {r['ed_frames']['mean']:.2f} | "
            f"{r['es_frames']['median']:.0f} / {r['es_frames']['mean']:.2f} |")
    return '\n'.join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--videos', type=int, default=80)
    parser.add_argument('--frames', type=int, default=200)
    parser.add_argument('--noise', type=float, nargs='+', default=[0.0, 0.015, 0.025, 0.04],
                        help='sd of the multiplicative per-frame area noise')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--json', default=None)
    args = parser.parse_args(argv)
    if args.videos < 1 or args.frames < 60 or any(n < 0 for n in args.noise):
        parser.error('--videos >= 1, --frames >= 60 and --noise >= 0 are needed')
    return args


def main(argv=None) -> List[Dict]:
    args = parse_args(argv)
    curves = planned_curves(args.videos, args.frames, args.seed)
    rows = [measure(curves, noise, seed=args.seed) for noise in args.noise]
    print(markdown(rows))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(settings=vars(args), rows=rows), f, indent=1)
    return rows
