"""The anatomy of a frame: views (four- and two-chamber, mirrored), labels and regions."""
import cv2
import numpy as np

from echoseg.datasets.synthetic import SyntheticEchoGenerator
from echoseg.datasets.synthetic.anatomy import R_LV, R_MYO, R_PAP, frame_anatomy
from echoseg.datasets.synthetic.scan_conversion import SectorGrid


def test_two_chamber_and_mirrored_views():
    a2c = SyntheticEchoGenerator(96, a2c_fraction=1.0).generate(3)
    assert a2c['view'] == 'A2C'
    other = (a2c['labels'][a2c['ed_frame']] == 3).astype(np.uint8)
    n, _ = cv2.connectedComponents(other)
    assert n == 2                                              # the left atrium only
    a4c = SyntheticEchoGenerator(96).generate(3)
    assert a4c['view'] == 'A4C'
    assert cv2.connectedComponents((a4c['labels'][0] == 3).astype(np.uint8))[0] >= 3
    for mirrored in (False, True):
        gen = SyntheticEchoGenerator(96, mirror_fraction=float(mirrored))
        for seed in range(3):
            out = gen.generate(seed)
            lab = out['labels'][out['ed_frame']]
            lv_x = np.nonzero(lab == 1)[1].mean()
            rv_x = np.nonzero(lab == 3)[1].mean()
            assert out['mirrored'] is mirrored
            assert (lv_x < rv_x) == mirrored                   # the LV left when mirrored


def test_papillary_muscles_are_traced_as_cavity():
    gen = SyntheticEchoGenerator(128)
    seen = 0
    for seed in range(8):
        plan = gen.plan_long(seed, 3)
        if not plan.heart['papillary']:
            continue
        grid = SectorGrid(plan.image_size, plan.spacing, plan.sector, fine_beams=True)
        for k in range(plan.num_frames):
            region, lab, _ = frame_anatomy(plan, k, grid.X, grid.Y)
            pap = region == R_PAP
            seen += int(pap.sum())
            assert np.all(lab[pap] == 1)
            assert np.all(lab[region == R_LV] == 1) and np.all(lab[region == R_MYO] == 2)
    assert seen > 0
