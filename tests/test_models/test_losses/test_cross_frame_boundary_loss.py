"""CrossFrameBoundaryLoss: 0 for identical frames and for real ED -> ES motion, growing
with a boundary jump, finite for empty masks."""
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
