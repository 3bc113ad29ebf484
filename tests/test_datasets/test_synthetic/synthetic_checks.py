"""Measurements the synthetic-generator tests share, computed here, not by the generator."""
import numpy as np


def corr(a, b):
    """Pearson correlation of two arrays."""
    a = a - a.mean()
    b = b - b.mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))


def inside_sector(out, shape):
    """The sector's pixels rebuilt from the reported apex, radius, opening and spacing."""
    row_mm, col_mm = out['spacing']
    sec = out['sector']
    rr, cc = np.mgrid[:shape[0], :shape[1]]
    y, x = (rr - sec['apex'][0]) * row_mm, (cc - sec['apex'][1]) * col_mm
    return (np.hypot(x, y) <= sec['radius_mm']) & (
        np.degrees(np.abs(np.arctan2(x, y))) <= sec['half_angle_deg'])
