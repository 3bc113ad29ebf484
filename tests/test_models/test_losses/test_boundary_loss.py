"""BoundaryLoss (Kervadec et al.; PKEcho-Net eq. 6): distance maps and defined values."""
import numpy as np
import pytest
import torch

from echoseg.models.losses import BoundaryLoss
from echoseg.models.losses.boundary_loss import signed_distance_maps

BIG = 60.0  # logit magnitude at which sigmoid is 0 or 1 in float32


def _disc(size, radius, centre=None):
    yy, xx = np.mgrid[:size, :size]
    cy, cx = centre or (size / 2, size / 2)
    return torch.from_numpy(((yy - cy) ** 2 + (xx - cx) ** 2 <= radius ** 2).astype(np.int64))


def _logits(mask):
    return (mask.float() * 2 - 1).mul(BIG)[:, None]


def test_signed_distances_match_brute_force():
    g = torch.Generator().manual_seed(0)
    masks = torch.rand(3, 6, 7, generator=g) > 0.6
    masks[2] = False  # an empty mask
    phi = signed_distance_maps(masks, normalize=False)
    for n in range(3):
        pts = {True: [], False: []}
        for y in range(6):
            for x in range(7):
                pts[bool(masks[n, y, x])].append((y, x))
        for y in range(6):
            for x in range(7):
                inside = bool(masks[n, y, x])
                others = pts[not inside]
                if others:
                    d = min(np.hypot(y - oy, x - ox) for oy, ox in others)
                else:  # no pixel of the other class: the image diagonal
                    d = np.hypot(6, 7)
                assert float(phi[n, y, x]) == pytest.approx(-d if inside else d, abs=1e-5)


def test_zero_for_a_perfect_prediction():
    gt = torch.stack([_disc(32, 8), _disc(32, 5, (10, 20))])
    loss = BoundaryLoss()(_logits(gt), gt)
    assert abs(float(loss)) < 1e-6


def test_grows_as_the_predicted_boundary_moves_away():
    gt = _disc(40, 10)[None]
    loss = BoundaryLoss(normalize=False)
    grown = [float(loss(_logits(_disc(40, 10 + k)[None]), gt)) for k in range(0, 6)]
    shrunk = [float(loss(_logits(_disc(40, 10 - k)[None]), gt)) for k in range(0, 6)]
    assert all(b > a for a, b in zip(grown, grown[1:])), grown
    assert all(b > a for a, b in zip(shrunk, shrunk[1:])), shrunk


def test_analytic_value_of_one_extra_column():
    # G: columns 0-2 of a 4 x 8 image; the prediction also covers column 3, whose pixels
    # are 1 pixel from G: loss = 4 pixels * 1 / 32 pixels (distances in pixels)
    gt = torch.zeros(1, 4, 8, dtype=torch.long)
    gt[:, :, :3] = 1
    pred = gt.clone()
    pred[:, :, 3] = 1
    loss = BoundaryLoss(normalize=False)(_logits(pred), gt)
    assert float(loss) == pytest.approx(4 / 32, abs=1e-6)
    # normalised: distances in units of max(H, W) = 8
    loss = BoundaryLoss()(_logits(pred), gt)
    assert float(loss) == pytest.approx(4 / 32 / 8, abs=1e-6)


def test_two_softmax_channels_equal_one_sigmoid_channel():
    g = torch.Generator().manual_seed(1)
    z = torch.randn(2, 1, 16, 16, generator=g) * 3
    gt = torch.stack([_disc(16, 5), _disc(16, 3)])
    one = BoundaryLoss()(z, gt)
    two = BoundaryLoss()(torch.cat([torch.zeros_like(z), z], dim=1), gt)
    torch.testing.assert_close(one, two)


def test_ignored_pixels_do_not_count_and_precomputed_maps_agree():
    g = torch.Generator().manual_seed(2)
    gt = _disc(16, 5)[None].clone()
    z = torch.randn(1, 1, 16, 16, generator=g)
    loss = BoundaryLoss()
    gt_ign = gt.clone()
    gt_ign[:, :4] = 255
    a = loss(z, gt_ign)
    z2 = z.clone()
    z2[:, :, :4] = 100.0  # anything on ignored pixels
    torch.testing.assert_close(a, loss(z2, gt_ign))
    dist = loss.distance_maps(gt_ign, 1)
    torch.testing.assert_close(a, loss(z, gt_ign, dist=dist))
    everything_ignored = torch.full_like(gt, 255)
    assert float(loss(z, everything_ignored)) == 0.0


def test_gradient_pushes_wrong_pixels_back():
    gt = _disc(24, 6)[None]
    z = torch.zeros(1, 1, 24, 24, requires_grad=True)
    BoundaryLoss()(z, gt).backward()
    inside, outside = gt[0].bool(), ~gt[0].bool()
    # d loss / d z = phi * s (1 - s): negative inside (raise the logit), positive outside
    assert bool((z.grad[0, 0][inside] < 0).all())
    assert bool((z.grad[0, 0][outside] > 0).all())


def _kervadec_maps_brute_force(mask):
    """Kervadec's reference maps by hand: outside the distance to the nearest foreground
    pixel, inside -(distance to the nearest background pixel - 1), all 0 without foreground."""
    h, w = mask.shape
    fg = [(y, x) for y in range(h) for x in range(w) if mask[y, x]]
    bg = [(y, x) for y in range(h) for x in range(w) if not mask[y, x]]
    out = np.zeros((h, w))
    if not fg:
        return out
    for y in range(h):
        for x in range(w):
            if mask[y, x]:
                out[y, x] = -(min(np.hypot(y - a, x - b) for a, b in bg) - 1)
            else:
                out[y, x] = min(np.hypot(y - a, x - b) for a, b in fg)
    return out


def test_forks_boundary_loss_v2_option_matches_a_brute_force_reference():
    """The NCM-Net fork's BoundaryLossV2: mean over pixels of sigmoid(logit) x Kervadec's map,
    in pixels, no offset (negative inside G)."""
    g = torch.Generator().manual_seed(5)
    gt = (torch.rand(3, 6, 7, generator=g) > 0.5).long()
    gt[2] = 0                                   # an image without foreground: map all 0
    logits = torch.randn(3, 1, 6, 7, generator=g)
    loss = BoundaryLoss(maps='kervadec', offset=False, normalize=False, loss_weight=0.01)
    maps = np.stack([_kervadec_maps_brute_force(m.numpy().astype(bool)) for m in gt])
    expected = 0.01 * float((logits[:, 0].sigmoid().double().numpy() * maps).mean())
    assert float(loss(logits, gt)) == pytest.approx(expected, rel=1e-5)
    # its maps are 0 on G's inner boundary, so a perfect prediction costs mean(phi g) <= 0
    disc = _disc(20, 6)[None]
    assert float(loss(_logits(disc), disc)) < 0
    with pytest.raises(ValueError, match='maps'):
        BoundaryLoss(maps='euclid')
