"""The anatomy of one frame: label map and echogenicity regions drawn in mm.

The LV is a bullet from the apex to the mitral base in its own frame (``s`` from the apex
along the long axis, ``l`` across it, positive towards the lateral wall), with the
myocardium around it, the RV beside the septum (none in two-chamber views), the atria below
the base, the pericardium, and in the realistic style papillary muscles and mitral leaflets.
"""
import math
from typing import Dict, Tuple

import cv2
import numpy as np

from .common import NT
from .cycle import lv_axes, mitral_opening

# echogenicity regions: indices into the per-frame dB look-up tables of .physics
(R_TISSUE, R_LV, R_MYO, R_RV, R_ATRIA, R_WALL, R_PERI, R_VALVE, R_PAP,
 R_LEAF) = range(10)


def frame_shape(plan, k: int) -> Tuple[float, float, float, float, float]:
    """``(L, b, wall, apex_wall, c)`` of frame ``k``: LV long axis and base half-width,
    wall thickness beside and beyond the apex (mm) and contraction."""
    heart = plan.heart
    c, ef = float(plan.contraction[k]), float(plan.beat_ef[k])
    L, b = lv_axes(heart, c, ef)
    thick = 1.0 + 0.9 * ef * c        # systolic wall thickening
    return (float(L), float(b), heart['wall'] * thick, heart['apex_wall'] * thick, c)


def lv_frame(plan, k: int, X: np.ndarray, Y: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Pixels' ``(s, l)`` in the LV frame of frame ``k`` (rigid motion included):
    ``s`` from the apex towards the base, ``l`` towards the lateral wall."""
    heart = plan.heart
    ax = heart['apex'][0] + plan.shift_mm[k, 0]
    ay = heart['apex'][1] + plan.shift_mm[k, 1]
    ct, st = np.float32(math.cos(heart['tilt'])), np.float32(math.sin(heart['tilt']))
    dx, dy = X - np.float32(ax), Y - np.float32(ay)
    return dx * st + dy * ct, dx * ct - dy * st


def frame_anatomy(plan, k: int, X: np.ndarray, Y: np.ndarray
                  ) -> Tuple[np.ndarray, np.ndarray, Dict[str, object]]:
    """Echogenicity regions, label map and a dict of extras of frame ``k``.

    Extras: ``side``, the normalised lateral coordinate ``l / b`` (negative on the septal
    side), ``along`` (``s / L``: 0 at the apex, 1 at the base), ``contraction`` (0 at ED,
    1 at ES), and for the realistic style ``heart_dist_mm`` (distance to the heart),
    ``blood_depth_mm`` (distance inside the blood pools to their edge) and ``wall_depth``
    (distance from the ventricular cavities in wall thicknesses).
    """
    heart = plan.heart
    realistic = 'leaflets' in heart
    four_chamber = heart.get('view', 'A4C') == 'A4C'
    L, b, wall, apex_wall, c = frame_shape(plan, k)
    s, l = lv_frame(plan, k, X, Y)
    tab_l, tab_r = heart['tab_l'], heart['tab_r']
    m = np.float32(NT - 1)

    def lookup(u, tab):
        return tab[np.clip(u * m + 0.5, 0.0, m).astype(np.intp)]

    # LV cavity
    lv = (s >= 0) & (s <= L)
    u = (L - s) / np.float32(L)
    lv &= (l >= -b * lookup(u, tab_l)) & (l <= b * lookup(u, tab_r))
    # outer myocardial border: the same shape grown by the wall thickness
    Lo, bo = L + apex_wall, b + wall
    uo = (L - s) / np.float32(Lo)
    wol, wor = bo * lookup(uo, tab_l), bo * lookup(uo, tab_r)
    in_len = (s >= -apex_wall) & (s <= L)
    outer = in_len & (l >= -wol) & (l <= wor)
    myo = outer & ~lv
    # pericardium: a bright band around the apex and the lateral wall
    peri_t = heart['peri']
    up = (L - s) / np.float32(Lo + peri_t)
    peri = ((s >= -apex_wall - peri_t) & (s <= L) & (l >= -(bo + peri_t) * lookup(up, tab_l))
            & (l <= (bo + peri_t) * lookup(up, tab_r)) & ~outer & (l > -0.3 * b))
    # RV beside the septum, narrowing to its own apex
    s0 = heart['rv_apex']
    w_rv = heart['rv_width'] * (1.0 - 0.35 * c)
    urv = (L - s) / np.float32(max(L - s0, 1.0))
    rv_edge = -wol - w_rv * lookup(urv, heart['tab_rv'])
    rv_band = (s >= s0) & (s <= L) & (l < -wol)
    rv = rv_band & (l >= rv_edge)
    rv_wall = ((s >= s0 - heart['rv_wall']) & (s <= L) & (l < rv_edge)
               & (l >= rv_edge - heart['rv_wall']) & (l < -wol))
    # atria below the base, filling while the ventricles empty
    base_l, base_r = b * float(tab_l[0]), b * float(tab_r[0])
    lc = 0.5 * (base_r - base_l)
    a_la = heart['la_len'] * (1.0 + 0.2 * c)
    b_la = heart['la_width'] * (1.0 + 0.1 * c)
    g = heart['mitral_gap']
    q_la = ((s - (L + g + a_la)) / a_la) ** 2 + ((l - lc) / b_la) ** 2
    la = q_la <= 1.0
    b_ra = 0.5 * heart['ra_width_frac'] * heart['rv_width'] * (1.0 + 0.1 * c)
    a_ra = heart['ra_len'] * (1.0 + 0.2 * c)
    lc_ra = lc - b_la - heart['ias'] - b_ra
    q_ra = ((s - (L + heart['tricuspid_gap'] + a_ra)) / a_ra) ** 2 + ((l - lc_ra) / b_ra) ** 2
    ra = (q_ra <= 1.0) & ~la
    aw = heart['atrial_wall']
    atrial_wall = ((q_la <= (1.0 + aw / b_la) ** 2) | (q_ra <= (1.0 + aw / b_ra) ** 2))
    gap = (s > L) & (s < L + g) & (l >= -base_l) & (l <= base_r)
    if not four_chamber:
        # two-chamber view: no right heart, only the left atrium and its wall
        rv = rv_wall = ra = np.zeros_like(lv)
        atrial_wall = q_la <= (1.0 + aw / b_la) ** 2
    extra = dict(side=l / np.float32(b), along=s / np.float32(L), contraction=c)
    if realistic:
        # the pericardium wraps the whole heart: a shell of the heart's outline, and
        # the distance to the heart (mm) for the bright fat that fades away from it
        heart_all = outer | rv | rv_wall | la | ra | atrial_wall | gap
        px = float(np.sqrt(plan.spacing[0] * plan.spacing[1]))
        dist = cv2.distanceTransform((~heart_all).view(np.uint8), cv2.DIST_L2, 3)
        extra['heart_dist_mm'] = dist * np.float32(px)
        peri = (extra['heart_dist_mm'] <= peri_t) & ~heart_all
        # depth into the ventricular walls and into the blood pools (mm): the walls'
        # brightness profile, and the trabeculae that blur their inner edge
        extra['wall_depth'] = cv2.distanceTransform(
            (~(lv | rv)).view(np.uint8), cv2.DIST_L2, 3) * np.float32(px / wall)
        extra['blood_depth_mm'] = cv2.distanceTransform(
            (lv | rv | la | ra).view(np.uint8), cv2.DIST_L2, 3) * np.float32(px)

    region = np.zeros(s.shape, np.uint8)
    region[atrial_wall | rv_wall] = R_WALL
    region[peri] = R_PERI
    region[la | ra] = R_ATRIA
    region[rv] = R_RV
    region[gap] = R_VALVE
    region[myo] = R_MYO
    region[lv] = R_LV
    if realistic:
        _draw_papillary(heart, L, b, s, l, lv, region, lookup)
        region[_leaflets(plan, k, L, b, g, s, l)] = R_LEAF
    lab = np.zeros(s.shape, np.uint8)
    lab[la | ra | rv] = 3
    lab[myo] = 2
    lab[lv] = 1
    return region, lab, extra


def _draw_papillary(heart, L, b, s, l, lv, region, lookup) -> None:
    """Papillary muscles: ellipses inside the cavity against the wall (cavity label)."""
    for pm in heart['papillary']:
        tab = heart['tab_r'] if pm['side'] > 0 else heart['tab_l']
        s_c = L * (1.0 - pm['u'])
        edge = b * float(lookup(np.float32(pm['u']), tab))
        l_c = pm['side'] * max(edge - 0.6 * pm['size'], 0.0)
        q = ((s - s_c) / (pm['size'] * pm['elong'])) ** 2 + ((l - l_c) / pm['size']) ** 2
        region[(q <= 1.0) & lv] = R_PAP


def _leaflets(plan, k, L, b, g, s, l) -> np.ndarray:
    """Pixels of the two mitral leaflets: thick segments hinged at the annulus."""
    lf = plan.heart['leaflets']
    tab_l, tab_r = plan.heart['tab_l'], plan.heart['tab_r']
    base_l, base_r = b * float(tab_l[0]), b * float(tab_r[0])
    width = base_l + base_r
    s_a = L + 0.5 * g
    o = mitral_opening(plan.phases[k], plan.systole_fraction)
    coapt = np.array([s_a + lf['bow'], -base_l + 0.55 * width])
    out = np.zeros(s.shape, bool)
    for hinge_l, length, inward in ((-base_l, lf['septal'], 1.0),
                                    (base_r, lf['lateral'], -1.0)):
        p = np.array([s_a, hinge_l])
        phi = math.radians(15.0)
        open_end = p + length * width * np.array([-math.cos(phi), inward * math.sin(phi)])
        e = (1.0 - o) * coapt + o * open_end
        d = e - p
        t = np.clip(((s - p[0]) * d[0] + (l - p[1]) * d[1]) / max(float(d @ d), 1e-6),
                    0.0, 1.0)
        dist2 = (s - p[0] - t * d[0]) ** 2 + (l - p[1] - t * d[1]) ** 2
        # thicker at the hinge (the annulus)
        out |= dist2 <= (0.5 * lf['thick'] * (1.0 + 0.8 * (1.0 - t))) ** 2
    return out
