"""Speckle: its spread, grain size across and along the beams, and its correlation in
time."""
import cv2
import numpy as np

from echoseg.datasets.synthetic import SyntheticEchoGenerator
from echoseg.datasets.synthetic.physics import EchoImaging, fixed_scatterers
from echoseg.datasets.synthetic.scan_conversion import SectorGrid
from synthetic_checks import corr


def tissue_speckle(out):
    """Frames 0 and 1 high-passed (speckle, not anatomy) and a mask of tissue in both."""
    v, lab = out['video'][:2].astype(np.float32), out['labels']
    m = (v[0] > 0) & (v[1] > 0) & (lab[0] == 0) & (lab[1] == 0)
    m = cv2.erode(m.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    return v, [f - cv2.GaussianBlur(f, (0, 0), 4) for f in v], m


def test_speckle_statistics(medium):
    for out in medium[:2]:
        v, hp, m = tissue_speckle(out)
        assert v[0][m].std() > 15                             # not a flat image
        h1 = m[:, :-1] & m[:, 1:]
        h6 = m[:, :-6] & m[:, 6:]
        v1 = m[:-1] & m[1:]
        lat1 = corr(hp[0][:, :-1][h1], hp[0][:, 1:][h1])
        lat6 = corr(hp[0][:, :-6][h6], hp[0][:, 6:][h6])
        ax1 = corr(hp[0][:-1][v1], hp[0][1:][v1])
        assert lat1 > 0.4 and abs(lat6) < 0.25                # grains a few pixels wide
        assert lat1 > ax1                                     # PSF wider across the beam
        temporal = corr(hp[0][m], hp[1][m])
        assert 0.15 < temporal < 0.9                          # partly correlated in time


def test_speckle_memory_knob():
    def temporal(mem):
        gen = SyntheticEchoGenerator(96, knobs=dict(speckle_memory=mem), jitter=False)
        _, hp, m = tissue_speckle(gen.generate(2, num_frames=24))
        return corr(hp[0][m], hp[1][m])

    assert temporal(1.0) > temporal(0.0) + 0.4


def test_fully_developed_speckle_has_the_rayleigh_spread():
    """Uniform tissue without noise or clutter (and a dynamic range wide enough to clip
    nothing): the intensity of complex Gaussian speckle
    is exponential, so its log has a standard deviation of 10 / ln 10 * pi / sqrt(6) =
    5.57 dB whatever the PSF and the gains."""
    gen = SyntheticEchoGenerator(128, jitter=False, knobs=dict(
        shadow_rate=0.0, noise_db=-150.0, clutter_db=-150.0, dynamic_range_db=120.0))
    plan = gen.plan_long(0, 1)
    grid = SectorGrid(plan.image_size, plan.spacing, plan.sector, fine_beams=plan.realistic)
    rng = np.random.default_rng(0)
    imaging = EchoImaging(plan, grid, fixed_scatterers(rng, grid), rng)
    gray = imaging.frame(np.zeros(plan.image_size, np.float32))
    assert gray.shape == (grid.n_r, grid.n_t)
    # the middle third in depth, the central half of the beams, the smooth depth trend of
    # the gains (a cubic fitted to the mean over the beams) removed
    band = gray[grid.n_r // 3:2 * grid.n_r // 3, grid.n_t // 4:3 * grid.n_t // 4]
    assert 0 < band.min() and band.max() < 255                # nothing clipped
    db = band * (plan.look['knobs']['dynamic_range_db'] / 255.0)
    depth = np.arange(db.shape[0])
    trend = np.polyval(np.polyfit(depth, db.mean(1), 3), depth)
    spread = float((db - trend[:, None]).std())
    assert abs(spread - 10.0 / np.log(10.0) * np.pi / np.sqrt(6.0)) < 0.3
