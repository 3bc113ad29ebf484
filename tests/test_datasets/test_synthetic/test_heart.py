"""The per-video heart: pose and size variation, foreshortening, fitting in the sector."""
import math

import numpy as np

from echoseg.datasets.synthetic import STYLES, SyntheticEchoGenerator
from echoseg.datasets.synthetic.heart import heart_fits


def lv_pose(mask):
    rows, cols = np.nonzero(mask)
    pts = np.stack([cols, rows], 1).astype(float)
    _, vecs = np.linalg.eigh(np.cov((pts - pts.mean(0)).T))
    axis = vecs[:, -1] if vecs[1, -1] > 0 else -vecs[:, -1]
    return pts.mean(0), math.degrees(math.atan2(axis[0], axis[1])), mask.sum()


def test_pose_and_size_vary_more_than_classic():
    spread = {}
    for style in STYLES:
        gen = SyntheticEchoGenerator(96, style=style)
        poses = [lv_pose(gen.generate(s, num_frames=24)['labels'][0] == 1) for s in range(12)]
        spread[style] = (np.std([p[1] for p in poses]), np.std([p[0][0] for p in poses]),
                         np.std([p[0][1] for p in poses]))
    assert spread['realistic'][0] > spread['classic'][0]      # tilt
    assert spread['realistic'][1] > spread['classic'][1]      # horizontal position
    assert spread['realistic'][2] > spread['classic'][2]      # vertical position


def test_foreshortened_views_are_shorter_and_blunter():
    plans = {}
    for value in (0.0, 1.0):
        gen = SyntheticEchoGenerator(96, knobs=dict(foreshortening=value))
        plans[value] = [gen.plan(s) for s in range(10)]
    assert all(p.heart['foreshortened'] for p in plans[1.0])
    assert not any(p.heart['foreshortened'] for p in plans[0.0])

    # the same seed draws the same heart; foreshortening cuts its length, not its width
    def slenderness(p):
        return p.heart['L_ed'] / p.heart['b_ed']

    ratio = [slenderness(p1) / slenderness(p0) for p0, p1 in zip(plans[0.0], plans[1.0])]
    assert np.all((np.array(ratio) > 0.7) & (np.array(ratio) < 0.9))
    assert min(p.heart['bullet'] for p in plans[1.0]) >= 2.8


def test_drawn_hearts_fit_and_a_moved_one_does_not():
    fits = 0
    for style in STYLES:
        gen = SyntheticEchoGenerator(96, style=style)
        for seed in range(6):
            plan = gen.plan_long(seed, 1)
            margin = plan.look['knobs']['motion_mm'] + 3.0
            if not heart_fits(plan.heart, plan.sector, plan.spacing, gen.image_size, margin):
                continue                  # still too large after 30 tries to shrink it
            fits += 1
            moved = dict(plan.heart, apex=(plan.heart['apex'][0] + plan.sector['radius_mm'],
                                           plan.heart['apex'][1]))
            assert not heart_fits(moved, plan.sector, plan.spacing, gen.image_size, margin)
            deeper = dict(plan.heart, apex=(plan.heart['apex'][0],
                                            plan.heart['apex'][1] + plan.sector['radius_mm']))
            assert not heart_fits(deeper, plan.sector, plan.spacing, gen.image_size, margin)
    assert fits >= 10
