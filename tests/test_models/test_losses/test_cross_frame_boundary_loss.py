"""CrossFrameBoundaryLoss: 0 for identical frames and for real ED -> ES motion, growing
with a boundary jump, finite for empty masks, never lowered by extra boundary mass (fixed
denominator), equal to a brute-force reference."""
import pytest
import torch

from echoseg.models.losses import CrossFrameBoundaryLoss
from echoseg.registry import MODELS

N = 48


def _disk(cx, r, cy=24):
    yy, xx = torch.meshgrid(torch.arange(N), torch.arange(N), indexing='ij')
    return (((yy - cy) ** 2 + (xx - cx) ** 2) <= r * r).float()


def _logits(masks, scale=20.0):
    """(T, H, W) masks -> (1, T, 1, H, W) confident logits."""
    return ((masks * 2 - 1) * scale).unsqueeze(1).unsqueeze(0)


def test_registered():
    loss = MODELS.build(dict(type='CrossFrameBoundaryLoss', loss_weight=2.0))
    assert isinstance(loss, CrossFrameBoundaryLoss)
    assert loss.loss_name == 'loss_cross_frame_boundary'


def test_zero_for_identical_consecutive_masks():
    loss = CrossFrameBoundaryLoss()
    base = _disk(24, 10)
    assert loss(_logits(torch.stack([base] * 5))) == 0
    # also for identical blurred (soft) predictions: the own-frame distance removes the
    # width of the boundary band
    soft = _logits(torch.stack([base] * 4), scale=0.3)
    assert loss(soft) == 0
    # and with a fixed tolerance of 0
    assert CrossFrameBoundaryLoss(min_tolerance=0.0, motion_factor=0.0)(
        _logits(torch.stack([base] * 3))) == 0


def test_grows_with_boundary_displacement():
    loss = CrossFrameBoundaryLoss()
    base = _disk(24, 10)
    values = []
    for shift in (2, 4, 6, 8):
        clip = torch.stack([base, base, _disk(24 + shift, 10), base, base])
        values.append(float(loss(_logits(clip))))
    assert values[0] > 0
    assert all(a < b for a, b in zip(values, values[1:])), values
    # a fixed tolerance, two frames
    fixed = CrossFrameBoundaryLoss(min_tolerance=1.0, motion_factor=0.0)
    pair = [float(fixed(_logits(torch.stack([base, _disk(24 + s, 10)])))) for s in (1, 3, 6)]
    assert pair[0] == 0 and 0 < pair[1] < pair[2]


def test_real_motion_is_not_punished_but_jitter_is():
    loss = CrossFrameBoundaryLoss()
    contraction = torch.stack([_disk(24, r) for r in torch.linspace(14, 8, 7)])
    assert loss(_logits(contraction)) == 0       # ED (r 14) -> ES (r 8) in even steps
    jitter = contraction.clone()
    jitter[3] = _disk(24, 14)                     # the middle frame jumps back to ED size
    assert loss(_logits(jitter)) > 0
    # without the motion tolerance, the real contraction would be punished
    assert CrossFrameBoundaryLoss(motion_factor=0.0)(_logits(contraction)) > 0


def test_finite_for_empty_masks_and_gradients_flow():
    loss = CrossFrameBoundaryLoss()
    empty = torch.zeros(3, N, N)
    assert loss(_logits(empty)) == 0
    one_empty = torch.stack([_disk(24, 10), torch.zeros(N, N), _disk(24, 10)])
    logits = _logits(one_empty, scale=2.0).requires_grad_()
    value = loss(logits)
    assert torch.isfinite(value) and value > 0
    value.backward()
    assert torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0
    # a softmax prediction scores class 1
    two = torch.cat([-_logits(one_empty), _logits(one_empty)], dim=2)
    torch.testing.assert_close(loss(two), loss(_logits(one_empty) * 2))


def test_single_frame_clips_cost_nothing():
    assert CrossFrameBoundaryLoss()(_logits(_disk(24, 10)[None])) == 0


def _blob(cy, cx, r=3, p=0.3):
    """A faint disc of probability p (below the 0.5 threshold: the hard masks, and so the
    distance maps, do not change), as a probability map."""
    return _disk(cx, r, cy) * p


def _with_blob(masks, frame, blob):
    probs = masks.clone() * (1 - 2e-9) + 1e-9
    probs[frame] = torch.maximum(probs[frame], blob)
    return (probs / (1 - probs)).log().unsqueeze(1).unsqueeze(0)


def test_extra_boundary_mass_far_from_both_boundaries_does_not_lower_it():
    """Frame 1's disc lies 8 px right of frame 0's; faint blobs (boundary mass, hard masks
    unchanged) far from both boundaries. The fixed denominator never falls; the earlier
    weighted mean fell where the blob sits at e = 0 (left, nearer frame 0's boundary)."""
    clip = torch.stack([_disk(18, 8), _disk(26, 8)])
    fixed, mass = CrossFrameBoundaryLoss(), CrossFrameBoundaryLoss(denominator='boundary_mass')
    base = _with_blob(clip, 1, torch.zeros(N, N))
    left = _with_blob(clip, 1, _blob(24, 3))       # e = relu(D_0 - D_1 - delta) = 0 here
    right = _with_blob(clip, 1, _blob(24, 44))     # e > 0 here
    corner = _with_blob(clip, 0, _blob(44, 44))    # in frame 0, far from both
    assert fixed(base) > 0
    for extra in (left, right, corner):
        assert fixed(extra) >= fixed(base)
    assert fixed(right) > fixed(base)
    assert mass(left) < mass(base)                 # the flaw the fixed denominator removes


def _brute_force(logits, min_tolerance=1.0, motion_factor=2.0, fixed=True):
    """The loss by loops over pixels (module docstring), independent of the vectorised code."""
    import math
    probs = logits[0, :, 0].sigmoid().double().tolist()
    t, h, w = len(probs), len(probs[0]), len(probs[0][0])
    side = max(h, w)

    def window(img, y, x, op):
        return op(img[j][i] for j in range(max(0, y - 1), min(h, y + 2))
                  for i in range(max(0, x - 1), min(w, x + 2)))

    def boundary(img):
        return [[window(img, y, x, max) - window(img, y, x, min) for x in range(w)]
                for y in range(h)]

    def distances(mask):
        pts = {v: [(y, x) for y in range(h) for x in range(w) if mask[y][x] == v]
               for v in (True, False)}
        out = [[0.0] * w for _ in range(h)]
        for y in range(h):
            for x in range(w):
                others = pts[not mask[y][x]]
                out[y][x] = min(math.hypot(y - a, x - b) for a, b in others) if others \
                    else math.hypot(h, w)
        return out

    masks = [[[p > 0.5 for p in row] for row in frame] for frame in probs]
    dist = [distances(m) for m in masks]
    hard = [boundary([[float(v) for v in row] for row in m]) for m in masks]
    soft = [boundary(frame) for frame in probs]

    def pair(wgt, ref, own, delta, norm):
        total = sum(wgt[y][x] * max(0.0, ref[y][x] - own[y][x] - delta)
                    for y in range(h) for x in range(w))
        mass = sum(wgt[y][x] for y in range(h) for x in range(w))
        return total / (norm if norm else max(mass, 1e-6))

    motion = 0.5 * (pair(hard[-1], dist[0], dist[-1], 0.0, None)
                    + pair(hard[0], dist[-1], dist[0], 0.0, None))
    delta = max(min_tolerance, motion_factor * motion / (t - 1))
    norm = side if fixed else None
    terms = [pair(soft[i + 1], dist[i], dist[i + 1], delta, norm)
             + pair(soft[i], dist[i + 1], dist[i], delta, norm) for i in range(t - 1)]
    return 0.5 * sum(terms) / (t - 1) / side


def test_matches_a_brute_force_reference():
    g = torch.Generator().manual_seed(2)
    small = torch.stack([_disk(c, r)[16:32, 14:34] for c, r in ((22, 5), (25, 6), (27, 4))])
    logits = _logits(small, scale=2.0) + 0.5 * torch.randn(1, 3, 1, 16, 20, generator=g)
    for denominator, fixed in (('fixed', True), ('boundary_mass', False)):
        for factor in (2.0, 0.0):
            loss = CrossFrameBoundaryLoss(motion_factor=factor, denominator=denominator)
            expected = _brute_force(logits, motion_factor=factor, fixed=fixed)
            assert expected > 0
            assert float(loss(logits)) == pytest.approx(expected, rel=1e-4), \
                (denominator, factor)
