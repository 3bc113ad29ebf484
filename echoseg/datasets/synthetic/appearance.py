"""What the tissues look like: per-video appearance events and gains, and the
echogenicity (backscattered power, dB vs the myocardium) of every pixel of a frame.

The ``'classic'`` style maps each region to one level (uniformly bright tissue around dark
chambers); the ``'realistic'`` style adds patchy surrounding tissue, lungs, chest-wall
layers, a pericardium bright behind the base and along the lateral wall, walls dim on their
endocardial side, trabeculae and haze in the blood, papillary muscles and mitral leaflets.
"""
import math
from typing import Dict, Optional

import cv2
import numpy as np

from .anatomy import (R_ATRIA, R_LV, R_MYO, R_PERI, R_RV, R_TISSUE, R_WALL, frame_shape)
from .common import NT, smooth01


def draw_look(rng: np.random.Generator, knobs: Dict[str, float], depth: float, half: float,
              realistic: bool) -> Dict[str, object]:
    """Per-video appearance: the video's ``knobs``, dropped wall segments, acoustic shadows
    (within the sector's half-angle ``half``, radians), gains and motion."""
    n_drop = int(rng.poisson(knobs['dropout_rate']))
    # realistic: the lateral wall, parallel to the beams, drops out more often
    p_lateral = 0.7 if realistic else 0.5
    dropouts = [dict(u=float(rng.uniform(0.1, 0.85)),
                     side=(float(rng.random() < p_lateral) * 2.0 - 1.0 if realistic
                           else float(rng.choice([-1.0, 1.0]))),
                     size=float(rng.uniform(4.0, 9.0)) * depth / 140.0,
                     strength=float(np.clip(knobs['dropout_strength']
                                            * rng.uniform(0.8, 1.1), 0, 1)))
                for _ in range(n_drop)]
    n_shadow = int(rng.poisson(knobs['shadow_rate']))
    shadows = [dict(theta=float(rng.uniform(-0.85, 0.85)) * half,
                    width=math.radians(float(rng.uniform(2.5, 7.0))),
                    start=float(rng.uniform(0.03, 0.5)) * depth,
                    db=knobs['shadow_db'] * float(rng.uniform(0.7, 1.2)))
               for _ in range(n_shadow)]
    look = dict(
        knobs=knobs, dropouts=dropouts, shadows=shadows,
        attenuation_db=float(rng.uniform(30.0, 45.0)),
        tgc_ripple=[float(v) for v in rng.uniform(-1.5, 1.5, 3)],
        headroom_db=float(rng.uniform(10.0, 16.0)),
        clutter_depth=float(rng.uniform(12.0, 28.0)),
        texture_db=float(rng.uniform(3.0, 5.0)),
        valve_db=float(rng.uniform(0.0, 4.0)),
        peri_db=float(rng.uniform(3.0, 7.0)),
        wall_db=float(rng.uniform(-3.0, 0.0)),
        motion_period=float(rng.uniform(2.5, 5.0)),
        motion_phase=[float(v) for v in rng.uniform(0, 2 * np.pi, 2)],
    )
    if realistic:
        look.update(_draw_realistic_look(rng))
    return look


def _draw_realistic_look(rng: np.random.Generator) -> Dict[str, object]:
    """Per-video gains of the realistic style's regions (dB vs the myocardium)."""
    n_bands = int(rng.integers(1, 4))
    return dict(
        clutter_depth=float(rng.uniform(12.0, 40.0)),
        septal_db=float(rng.uniform(-2.0, 5.0)),
        lateral_db=float(rng.uniform(-12.0, -2.0)),
        pap_db=float(rng.uniform(-9.0, -2.0)),
        inner_db=float(rng.uniform(-18.0, -2.0)),
        halo_mm=float(rng.uniform(2.0, 8.0)),
        halo_db=float(rng.uniform(3.0, 14.0)),
        # lung attenuation (dB) and where it starts (in LV half-widths from the long
        # axis), septal then lateral side; absent in about a third of the videos
        lung_db=[float(rng.uniform(0.0, 22.0)) * float(rng.random() < 0.65)
                 for _ in range(2)],
        lung_side=[float(rng.uniform(2.5, 4.0)), float(rng.uniform(1.4, 2.4))],
        trabecula_db=float(rng.uniform(2.0, 12.0)),
        trabecula_mm=float(rng.uniform(1.0, 3.0)),
        blood_haze_db=float(rng.uniform(1.0, 6.0)),
        blood_haze_mm=float(rng.uniform(2.0, 6.0)),
        leaflet_db=float(rng.uniform(0.0, 8.0)),
        valve_db=float(rng.uniform(2.0, 8.0)),
        peri_db=float(rng.uniform(7.0, 16.0)),
        wall_db=float(rng.uniform(-12.0, -3.0)),
        tgc_ripple=[float(v) for v in rng.uniform(-2.5, 2.5, 3)],
        tissue_patch_db=float(rng.uniform(3.0, 8.0)),
        tissue_patch_mm=float(rng.uniform(4.0, 10.0)),
        # chest-wall layers: bright arcs at a few mm from the transducer
        near_bands=[dict(depth=float(rng.uniform(1.5, 14.0)),
                         width=float(rng.uniform(0.8, 2.5)),
                         db=float(rng.uniform(3.0, 12.0))) for _ in range(n_bands)],
    )


def tissue_texture(plan, rng: np.random.Generator) -> np.ndarray:
    """Fixed per-video (H, W) texture (dB) of a few mm, of std ``look['texture_db']``."""
    tex = cv2.GaussianBlur(rng.standard_normal(plan.image_size, dtype=np.float32), (0, 0),
                           4.0 / plan.spacing[0])
    tex *= plan.look['texture_db'] / max(float(tex.std()), 1e-6)
    return tex


def realistic_fields(plan, rng: np.random.Generator, rho: np.ndarray) -> Dict[str, object]:
    """Fixed per-video fields (dB) of the realistic style: the surrounding tissue
    (patchy fat / lung / muscle, chest-wall layers near the transducer at pixel depths
    ``rho`` mm), the brightness of the pericardium along the heart, the haze in the blood,
    and ``clutter_lateral``: the near-field haze's gain across the beams (a function of
    the beam angle)."""
    H, W = plan.image_size
    look, knobs = plan.look, plan.look['knobs']
    row_mm = plan.spacing[0]

    def smooth_noise(sigma_mm):
        f = cv2.GaussianBlur(rng.standard_normal((H, W), dtype=np.float32), (0, 0),
                             max(sigma_mm / row_mm, 0.5))
        return f / max(float(f.std()), 1e-6)

    tissue = knobs['tissue_db'] + look['tissue_patch_db'] * smooth_noise(
        look['tissue_patch_mm'])
    for band in look['near_bands']:
        tissue += band['db'] * np.exp(-0.5 * ((rho - band['depth']) / band['width']) ** 2)
    peri = look['peri_db'] + np.clip(4.0 * smooth_noise(12.0), -10.0, 3.0)
    blood = look['blood_haze_db'] * smooth_noise(look['blood_haze_mm'])
    # haze across the beams: +-5 dB over about a tenth of the sector
    knots = rng.standard_normal(12)
    half = math.radians(plan.sector['half_angle_deg']) * 1.1

    def clutter_lateral(theta):
        z = np.interp(theta, np.linspace(-half, half, knots.size), knots)
        return (10.0 ** (0.5 * z)).astype(np.float32)

    return dict(tissue=tissue.astype(np.float32), peri=peri.astype(np.float32),
                blood=blood.astype(np.float32), clutter_lateral=clutter_lateral)


def echogenicity(plan, k: int, region: np.ndarray, extra: Dict[str, object],
                 X: np.ndarray, Y: np.ndarray, tex: np.ndarray,
                 fields: Optional[Dict[str, object]] = None) -> np.ndarray:
    """Echogenicity (H, W) (dB vs the myocardium) of frame ``k`` from its anatomy
    (:func:`.anatomy.frame_anatomy`), with the wall dropouts; ``fields``: the realistic
    style's :func:`realistic_fields`, None for the classic style."""
    if fields is not None:
        e_db = _realistic_echogenicity(plan, region, extra, tex, fields)
    else:
        knobs, look = plan.look['knobs'], plan.look
        lut = np.array([knobs['tissue_db'], knobs['blood_db'], 0.0, knobs['blood_db'],
                        knobs['blood_db'], look['wall_db'], look['peri_db'],
                        _valve_db(plan, k)], np.float32)
        tex_gain = np.array([1.0, 0.0, 0.5, 0.0, 0.0, 0.6, 0.4, 0.0], np.float32)
        e_db = lut[region] + tex_gain[region] * tex
    return _apply_dropout(plan, k, X, Y, e_db, region)


def _realistic_echogenicity(plan, region, extra, tex, fields) -> np.ndarray:
    """Backscatter (dB vs the myocardium) of one frame in the realistic style."""
    look, knobs = plan.look, plan.look['knobs']
    blood = knobs['blood_db']
    lut = np.array([0.0, blood, 0.0, blood, blood, look['wall_db'], 0.0, blood,
                    look['pap_db'], look['leaflet_db']], np.float32)
    e_db = lut[region]
    # blood: low-level haze, and trabeculae that blur the walls' inner edge (traced
    # as cavity, so the visible dark core is smaller than the label)
    # in systole the trabeculae are pressed into the thickened wall: a thinner haze
    c = extra['contraction']
    pool = (region == R_LV) | (region == R_RV) | (region == R_ATRIA)
    e_db[pool] += fields['blood'][pool] + look['trabecula_db'] * np.exp(
        -extra['blood_depth_mm'][pool] / (look['trabecula_mm'] * (1.0 - 0.6 * c)))
    # the pericardium and the fat around it are bright behind the base and along the
    # lateral wall (beams cross them), faint around the apex and the right heart
    tissue, peri = region == R_TISSUE, region == R_PERI
    along = extra['along']
    weight = smooth01((along - 0.2) / 0.8) * (1.0 - 0.7 * smooth01((along - 1.2) / 0.4)) \
        * (0.4 + 0.6 * smooth01(extra['side'] + 1.5))
    e_db[peri] = fields['tissue'][peri] + weight[peri] * (
        fields['peri'][peri] - fields['tissue'][peri])
    near = np.exp(-extra['heart_dist_mm'][tissue] / look['halo_mm'])
    e_db[tissue] = fields['tissue'][tissue] + look['halo_db'] * weight[tissue] * near
    # lungs: large dark areas beside the heart (lateral to the LV, beyond the RV)
    side, level = extra['side'][tissue], along[tissue]
    height = smooth01((level + 0.1) / 0.3) * (1.0 - smooth01((level - 0.9) / 0.3))
    e_db[tissue] -= height * (
        look['lung_db'][1] * smooth01((side - look['lung_side'][1]) / 0.5)
        + look['lung_db'][0] * smooth01((-side - look['lung_side'][0]) / 0.5))
    # the septum is brighter than the lateral wall, which runs along the beams
    myo = region == R_MYO
    w = smooth01((extra['side'][myo] + 0.3) / 0.6)
    # across the wall: dim on the endocardial side, brightest at the epicardium, more
    # so in the thick systolic wall (EchoNet's ES frames rise over ~7 pixels)
    inner = look['inner_db'] * (1.0 + 0.6 * c) * (1.0 - smooth01(extra['wall_depth'][myo]))
    e_db[myo] = (look['septal_db'] + (look['lateral_db'] - look['septal_db']) * w
                 + inner + tex[myo])
    walls = region == R_WALL
    e_db[walls] += tex[walls]
    return e_db


def _valve_db(plan, k: int) -> float:
    """The mitral gap is a bright closed valve in systole, blood when open."""
    frac = plan.phases[k] % 1.0
    closed = frac < plan.systole_fraction + 0.05 or frac > 0.97
    return plan.look['valve_db'] if closed else plan.look['knobs']['blood_db']


def _apply_dropout(plan, k, X, Y, e_db, region) -> np.ndarray:
    """Pull wall segments towards the blood level (echo dropout), moving with the wall."""
    drops = plan.look['dropouts']
    if not drops:
        return e_db
    heart = plan.heart
    L, b, wall, _, _ = frame_shape(plan, k)
    ax = heart['apex'][0] + plan.shift_mm[k, 0]
    ay = heart['apex'][1] + plan.shift_mm[k, 1]
    ct, st = math.cos(heart['tilt']), math.sin(heart['tilt'])
    floor = plan.look['knobs']['blood_db'] + 3.0
    loss = np.zeros_like(e_db)
    for dp in drops:
        iu = int(round(dp['u'] * (NT - 1)))
        tab = heart['tab_r'] if dp['side'] > 0 else heart['tab_l']
        s_c = L * (1.0 - dp['u'])
        l_c = dp['side'] * (b * float(tab[iu]) + 0.5 * wall)
        xc, yc = ax + s_c * st + l_c * ct, ay + s_c * ct - l_c * st
        d2 = (X - np.float32(xc)) ** 2 + (Y - np.float32(yc)) ** 2
        loss = np.maximum(loss, dp['strength'] * np.exp(d2 * np.float32(
            -0.5 / dp['size'] ** 2)))
    blood = (region == R_LV) | (region == R_RV) | (region == R_ATRIA)
    return np.where(blood, e_db, e_db - loss * np.maximum(e_db - floor, 0.0))
