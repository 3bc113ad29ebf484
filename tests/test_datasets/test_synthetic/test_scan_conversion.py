"""The sector: layouts of the EchoNet and CAMUS geometries, pixel spacing, and the remaps
between beams and pixels, checked on geometry rebuilt here from the reported sector."""
import numpy as np
import pytest

from echoseg.datasets.synthetic import SyntheticEchoGenerator
from echoseg.datasets.synthetic.scan_conversion import SectorGrid
from synthetic_checks import inside_sector


def test_sector_and_spacing(medium):
    for out in medium:
        row_mm, col_mm = out['spacing']
        assert 100 / 128 <= row_mm <= 160 / 120 and 0.9 * row_mm <= col_mm <= 1.2 * row_mm
        assert 100 <= out['sector']['radius_mm'] <= 160
        inside = inside_sector(out, (128, 128))
        video = out['video']
        assert np.all(video[:, ~inside] == 0)
        assert (video[:, inside] > 0).mean() > 0.9
        assert np.all(out['labels'][:, ~inside] == 0)
        # fan shape: narrow at the top, wide further down
        assert inside[5].sum() < inside[60].sum() / 3


def test_echonet_fan_is_cut_by_the_frame_camus_fan_is_whole():
    gen = SyntheticEchoGenerator(112)
    for seed in range(3):
        out = gen.generate_long(seed, num_frames=1)
        inside = inside_sector(out, (112, 112))
        # as EchoNet's fans: the sides cut by the frame from about 60 % of the height,
        # the arc cutting the bottom corners, the apex near the top
        assert inside[90].all() and not inside[-1].all() and inside[-1].sum() > 40
        assert inside[2].sum() < 10
        assert np.all(out['video'][0][~inside] == 0)
        assert out['sector']['apex'][1] > 55.5                # a little right of the centre
    h, w = 210, 256
    camus = SyntheticEchoGenerator((h, w), geometry='camus', depth_range_mm=(130, 130))
    out = camus.generate_long(1, num_frames=1)
    row_mm, col_mm = out['spacing']
    assert row_mm == pytest.approx(130 / (h - 2 - out['sector']['apex'][0]))
    assert col_mm >= row_mm
    inside = inside_sector(out, (h, w))
    assert not inside[:, 0].any() and not inside[:, -1].any()   # the whole fan in the frame
    assert inside[-5, w // 2] and not inside[-1, 5]


def test_camus_pixel_size_at_camus_image_size():
    gen = SyntheticEchoGenerator((430, 512), geometry='camus', depth_range_mm=(120, 150))
    sizes = [gen.plan_long(s, 1).spacing for s in range(4)]
    assert all(0.15 <= r <= 0.36 and 0.15 <= c <= 0.36 for r, c in sizes)


@pytest.mark.parametrize('fine_beams', [False, True])
def test_beams_and_pixels_round_trip(fine_beams):
    """A linear image f = a x + b y (mm) is sampled exactly by bilinear remaps (up to
    OpenCV's 1/32-pixel weights: 0.1 here): on the beams at x = r sin(theta),
    y = r cos(theta), and back on the pixels of the sector."""
    sector = dict(apex=(5.3, 61.0), radius_mm=140.0, half_angle_deg=43.0)
    spacing = (140.0 / 109.0, 1.3)
    grid = SectorGrid((112, 112), spacing, sector, fine_beams=fine_beams)
    assert grid.sub == (2 if fine_beams else 1)          # 1.3 mm rows: twice finer beams
    rows, cols = np.mgrid[:112, :112]
    x, y = (cols - 61.0) * spacing[1], (rows - 5.3) * spacing[0]
    image = (0.3 * x + 0.7 * y).astype(np.float32)
    assert np.allclose(grid.X, x) and np.allclose(grid.Y, y)
    rho, deg = np.hypot(x, y), np.degrees(np.abs(np.arctan2(x, y)))
    assert grid.inside[(rho < 140.0 - 1e-3) & (deg < 43.0 - 1e-4)].all()
    assert not grid.inside[(rho > 140.0 + 1e-3) | (deg > 43.0 + 1e-4)].any()
    beams = grid.to_beams(image)
    assert beams.shape == (grid.n_r, grid.n_t) == (112 * grid.sub, 112)
    bx, by = grid.pr * np.sin(grid.pt), grid.pr * np.cos(grid.pt)
    bcol, brow = 61.0 + bx / spacing[1], 5.3 + by / spacing[0]
    within = (bcol >= 0) & (bcol <= 111) & (brow >= 0) & (brow <= 111)
    assert within.mean() > 0.5
    assert np.allclose(beams[within], (0.3 * bx + 0.7 * by)[within], atol=0.1)
    back = grid.to_pixels(beams)
    assert back.shape == (112, 112)
    # away from the frame's and the fan's edges (where beams hold replicated pixels)
    core = grid.inside & (rho < 130.0) & (np.abs(x) < 45.0) & (deg < 40.0)
    assert core.sum() > 2000
    assert np.allclose(back[core], image[core], atol=0.1)
    assert np.all(back[rho > 140.0 * 1.05] == 0)          # nothing beyond the beams
