"""The heart of one video: LV pose, size and shape at end-diastole, the other chambers.

Lengths in mm, angles in radians. The LV's width profile is stored as look-up tables of
:data:`~.common.NT` samples from the base (0) to the apex (1), one per side, in units of
the base half-width ``b``; the anatomy of a frame (:mod:`.anatomy`) scales them.
"""
import math
from typing import Dict, Sequence, Tuple

import numpy as np

from .common import NT

# LV pose and shape ranges per style (lengths relative to the depth, angles in degrees);
# the realistic ones cover the ED/ES tracings of EchoNet-Dynamic: the apex 3-30 % of the
# depth from the transducer and up to 35 degrees left of the sector's axis, the long axis
# 41-65 % of the depth, tilted 0-24 degrees towards the lateral side
POSE = dict(
    classic=dict(length=(0.48, 0.58), width=(0.25, 0.32), tilt_deg=(4.0, 14.0),
                 apex_x=(-0.02, 0.04), apex_y=(0.10, 0.15), bullet=(2.0, 2.7),
                 septal=(0.85, 1.0), wall_mm=(7.0, 11.0), rv_width=(0.55, 0.8)),
    realistic=dict(length=(0.45, 0.66), width=(0.22, 0.32), tilt_deg=(-2.0, 24.0),
                   apex_r=(0.03, 0.3), apex_deg=(-35.0, 5.0), bullet=(1.7, 3.0),
                   septal=(0.8, 1.0), wall_mm=(6.5, 11.5), rv_width=(0.55, 1.05)))


def draw_heart(rng: np.random.Generator, depth: float, knobs: Dict[str, float], style: str,
               ef_range: Tuple[float, float], a2c_fraction: float,
               mirror_fraction: float) -> Dict[str, object]:
    """Draw the heart of a video of sector depth ``depth`` mm with the video's ``knobs``."""
    realistic = style == 'realistic'
    pose = POSE[style]
    ef = float(rng.uniform(*ef_range)) / 100.0
    sick = 1.0 - (ef - 0.20) / 0.55       # low EF -> dilated, more spherical
    L_ed = depth * float(rng.uniform(*pose['length']))
    b_ed = L_ed * (float(rng.uniform(*pose['width'])) + 0.07 * float(np.clip(sick, 0, 1)))
    alpha = float(rng.uniform(0.12, 0.22))  # long axis shortens less than the width
    tilt = math.radians(float(rng.uniform(*pose['tilt_deg'])))
    if 'apex_deg' in pose:   # apex position in polar coordinates from the transducer
        r = depth * float(rng.uniform(*pose['apex_r']))
        a = math.radians(float(rng.uniform(*pose['apex_deg'])))
        apex_x, apex_y = r * math.sin(a), r * math.cos(a)
    else:
        apex_x = depth * float(rng.uniform(*pose['apex_x']))
        apex_y = depth * float(rng.uniform(*pose['apex_y']))
    bullet = float(rng.uniform(*pose['bullet']))
    septal = float(rng.uniform(*pose['septal']))
    foreshortened = False
    if realistic and rng.random() < knobs['foreshortening']:
        # the imaging plane misses the true apex: a short, blunt cavity seen deeper
        foreshortened = True
        L_ed *= float(rng.uniform(0.72, 0.88))
        apex_y += depth * float(rng.uniform(0.02, 0.08))
        bullet = float(rng.uniform(2.8, 4.0))
    tab_l, tab_r, disk_integral = _width_tables(rng, bullet, septal, knobs['irregularity'])
    u = np.linspace(0.0, 1.0, NT)
    tab_rv = ((1.0 - u ** 1.6).clip(0.0) ** (1.0 / 1.6)).astype(np.float32)
    wall = float(rng.uniform(*pose['wall_mm'])) * depth / 140.0
    heart = dict(
        ef=ef, L_ed=L_ed, b_ed=b_ed, alpha=alpha, tilt=tilt, apex=(apex_x, apex_y),
        bullet=bullet, septal=septal, tab_l=tab_l, tab_r=tab_r, tab_rv=tab_rv,
        disk_integral=disk_integral, wall=wall, apex_wall=0.8 * wall,
        peri=float(rng.uniform(2.0, 3.5)),
        rv_apex=float(rng.uniform(0.15, 0.3)) * L_ed,
        rv_width=float(rng.uniform(*pose['rv_width'])) * 2.0 * b_ed,
        rv_wall=float(rng.uniform(3.0, 5.0)),
        la_len=float(rng.uniform(0.28, 0.38)) * L_ed,
        la_width=float(rng.uniform(0.75, 0.95)) * b_ed,
        ra_len=float(rng.uniform(0.25, 0.35)) * L_ed,
        ra_width_frac=float(rng.uniform(0.7, 0.9)),
        mitral_gap=float(rng.uniform(2.0, 3.5)),
        tricuspid_gap=float(rng.uniform(0.5, 2.0)),
        ias=float(rng.uniform(3.0, 5.0)),
        atrial_wall=float(rng.uniform(2.0, 3.0)),
        view='A4C', mirrored=False, foreshortened=foreshortened,
    )
    if realistic:
        heart.update(_draw_realistic_heart(rng, depth, a2c_fraction, mirror_fraction))
    return heart


def _width_tables(rng: np.random.Generator, bullet: float, septal: float,
                  irregularity: float) -> Tuple[np.ndarray, np.ndarray, float]:
    """The LV's septal and lateral width profiles (bullet shape with a smooth endocardial
    ripple, one per side, zero at the base) and ``int_0^1 D(u)^2 du`` of their sum ``D``."""
    u = np.linspace(0.0, 1.0, NT)
    ripples = []
    for _ in range(2):
        kk = np.arange(1, 5)
        amp = rng.normal(0.0, 1.0, 4) / kk
        ph = rng.uniform(0.0, 2.0 * np.pi, 4)
        r = (amp[:, None] * np.sin(np.pi * kk[:, None] * u[None] * 1.5 + ph[:, None])).sum(0)
        r -= r[0]
        r /= max(np.abs(r).max(), 1e-6)
        ripples.append(irregularity * r)
    prof = (1.0 - u ** bullet).clip(0.0) ** (1.0 / bullet)
    tab_l = (septal * prof * (1.0 + ripples[0])).astype(np.float32)
    tab_r = ((2.0 - septal) * prof * (1.0 + ripples[1])).astype(np.float32)
    diam = tab_l.astype(np.float64) + tab_r
    disk_integral = float(np.trapezoid(diam ** 2, u) if hasattr(np, 'trapezoid')
                          else np.trapz(diam ** 2, u))
    return tab_l, tab_r, disk_integral


def _draw_realistic_heart(rng: np.random.Generator, depth: float, a2c_fraction: float,
                          mirror_fraction: float) -> Dict[str, object]:
    """View, mirroring, RV shape, papillary muscles and mitral leaflets of a realistic
    heart."""
    mm = depth / 140.0
    n_pap = int(rng.integers(0, 3))
    u = np.linspace(0.0, 1.0, NT)
    rv_round = float(rng.uniform(1.4, 2.8))   # pointed (1.4) to round, dilated (2.8) RV
    return dict(
        tab_rv=((1.0 - u ** rv_round).clip(0.0) ** (1.0 / rv_round)).astype(np.float32),
        view='A2C' if rng.random() < a2c_fraction else 'A4C',
        mirrored=bool(rng.random() < mirror_fraction),
        # papillary muscles: bright masses inside the cavity (traced as cavity)
        papillary=[dict(u=float(rng.uniform(0.3, 0.6)),
                        side=1.0 if rng.random() < 0.8 else -1.0,
                        size=float(rng.uniform(2.5, 5.0)) * mm,
                        elong=float(rng.uniform(1.3, 2.2))) for _ in range(n_pap)],
        # mitral leaflets: septal (anterior) and lateral (posterior), relative to the
        # base width; thin bright lines across the base when closed, into the LV open
        leaflets=dict(septal=float(rng.uniform(0.55, 0.8)),
                      lateral=float(rng.uniform(0.35, 0.55)),
                      thick=float(rng.uniform(1.2, 2.2)) * mm,
                      bow=float(rng.uniform(0.5, 2.5)) * mm),
    )


def fit_heart(heart: Dict[str, object], sector: Dict[str, object],
              spacing: Tuple[float, float], image_size: Sequence[int], depth: float,
              margin: float) -> None:
    """Move the apex deeper and shrink the heart (in place) until the ED LV fits
    (:func:`heart_fits`), 30 tries at most."""
    for attempt in range(30):
        if heart_fits(heart, sector, spacing, image_size, margin):
            break
        if attempt % 2 == 0 and heart['apex'][1] < 0.2 * depth:
            heart['apex'] = (heart['apex'][0], heart['apex'][1] + 0.015 * depth)
            continue
        for k in ('L_ed', 'b_ed', 'wall', 'apex_wall', 'rv_apex', 'rv_width', 'la_len',
                  'la_width', 'ra_len'):
            heart[k] *= 0.94


def heart_fits(heart: Dict[str, object], sector: Dict[str, object],
               spacing: Tuple[float, float], image_size: Sequence[int],
               margin: float) -> bool:
    """Whether the ED LV cavity lies inside the sector and the image, ``margin`` mm from
    their edges (its wall may be clipped by the sector edges near the transducer, the
    cavity may not)."""
    W = image_size[1]
    half = math.radians(sector['half_angle_deg'])
    ct, st = math.cos(heart['tilt']), math.sin(heart['tilt'])
    ok = True
    # the realistic style lets the image sides cut the wall, as in EchoNet-Dynamic
    grows = ((0.0, 0.0),) if 'leaflets' in heart else (
        (0.0, 0.0), (heart['wall'], heart['apex_wall']))
    for grow, apex_grow in grows:
        L, b = heart['L_ed'], heart['b_ed'] + grow
        s = np.linspace(-apex_grow, L, 64)
        u = np.clip((L - s) / (L + apex_grow), 0, 1)
        iu = (u * (NT - 1) + 0.5).astype(int)
        ll = np.concatenate([-b * heart['tab_l'][iu], b * heart['tab_r'][iu]])
        ss = np.concatenate([s, s])
        x = heart['apex'][0] + ss * st + ll * ct
        y = heart['apex'][1] + ss * ct - ll * st
        if heart.get('mirrored'):
            x = -x
        col = sector['apex'][1] + x / spacing[1]
        bottom = (image_size[0] - 2 - sector['apex'][0]) * spacing[0]
        ok &= bool(np.all(np.hypot(x, y) <= sector['radius_mm'] - margin)
                   and np.all(y <= bottom - margin)
                   and np.all(col >= 1 + margin / spacing[1])
                   and np.all(col <= W - 2 - margin / spacing[1]))
        if grow == 0.0:
            edge = half - math.radians(0.5 if 'leaflets' in heart else 1.5)
            ok &= bool(np.all(np.abs(np.arctan2(x, y)) <= edge))
    return ok
