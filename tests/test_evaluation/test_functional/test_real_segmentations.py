"""Dice and HD95 on the real LV/myocardium masks of ``other_real`` (reference vs two
candidates), checked against independent computations: Dice by set counting of pixel
coordinates, HD95 by k-d tree distances between boundary pixels found by neighbour
comparison (no distance transform, no erosion)."""
import os.path as osp

import numpy as np
import pytest
from scipy.spatial import cKDTree

from echoseg.evaluation.functional import dice_score, hd95

sitk = pytest.importorskip('SimpleITK')


def read(folder, name):
    image = sitk.ReadImage(osp.join(folder, f'segmentation_{name}.nii.gz'))
    spacing = image.GetSpacing()  # (x, y, z): columns, rows, frames
    return sitk.GetArrayFromImage(image), (spacing[1], spacing[0])


def dice_by_sets(a, b):
    sa, sb = set(map(tuple, np.argwhere(a))), set(map(tuple, np.argwhere(b)))
    if not sa and not sb:
        return 1.0
    return 2 * len(sa & sb) / (len(sa) + len(sb))


def boundary_points(m, spacing):
    h, w = m.shape
    pts = []
    for r, c in np.argwhere(m):
        if (r == 0 or c == 0 or r == h - 1 or c == w - 1 or not m[r - 1, c]
                or not m[r + 1, c] or not m[r, c - 1] or not m[r, c + 1]):
            pts.append((r * spacing[0], c * spacing[1]))
    return np.asarray(pts)


def hd95_by_kdtree(a, b, spacing):
    pa, pb = boundary_points(a, spacing), boundary_points(b, spacing)
    dab, dba = cKDTree(pb).query(pa)[0], cKDTree(pa).query(pb)[0]
    return max(np.percentile(dab, 95), np.percentile(dba, 95))


@pytest.mark.parametrize('candidate', ['candidate1', 'candidate2'])
def test_real_masks_dice_hd95(echodata, candidate):
    folder = osp.join(echodata, 'other_real')
    if not osp.isfile(osp.join(folder, 'segmentation_reference.nii.gz')):
        pytest.skip(f'no reference segmentation in {folder}')
    ref, spacing = read(folder, 'reference')
    cand, cand_spacing = read(folder, candidate)
    assert ref.shape == cand.shape and np.allclose(spacing, cand_spacing)
    frames = range(0, ref.shape[0], 6)  # a few frames keep the brute force quick
    for label, name in ((1, 'LV'), (2, 'myocardium')):
        dices, hds = [], []
        for t in frames:
            a, b = cand[t] == label, ref[t] == label
            dice = dice_score(cand[t], ref[t], label)
            assert dice == pytest.approx(dice_by_sets(a, b), abs=1e-12)
            hd = hd95(a, b, spacing)
            assert hd == pytest.approx(hd95_by_kdtree(a, b, spacing), rel=1e-9)
            dices.append(dice)
            hds.append(hd)
        # whole sequence as one 3-D label volume (the z spacing is irrelevant to Dice)
        pooled = dice_score(cand, ref, label)
        assert pooled == pytest.approx(dice_by_sets(cand == label, ref == label), abs=1e-12)
        assert 0.5 < np.mean(dices) < 1.0
        print(f'{candidate} {name}: frames {list(frames)} mean Dice {np.mean(dices):.4f} '
              f'mean HD95 {np.mean(hds):.2f} mm (spacing {spacing[0]:.4f} mm); '
              f'all-frame Dice {pooled:.4f}')
