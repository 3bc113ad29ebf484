import pytest
import torch

from echoseg.models.losses.soft_area_loss import SoftAreaLoss
from echoseg.registry import MODELS


def _brute_force(pred, target, class_index=1, exponent=1, ignore_index=255, min_area=1.0,
                 band=None):
    """Frame by frame, pixel by pixel."""
    errs = []
    H, W = pred.shape[2:]
    for n in range(pred.shape[0]):
        lv = [(i, j) for i in range(H) for j in range(W) if int(target[n, i, j]) == class_index]
        soft = ref = 0.0
        seen = False
        for i in range(H):
            for j in range(W):
                t = int(target[n, i, j])
                if t == ignore_index:
                    continue
                seen = True
                if t == class_index:
                    ref += 1.0
                if band is not None and not any(
                        max(abs(i - a), abs(j - b)) <= band for a, b in lv):
                    continue
                if pred.shape[1] == 1:
                    p = 1.0 / (1.0 + float(torch.exp(-pred[n, 0, i, j])))
                else:
                    e = torch.exp(pred[n, :, i, j].double())
                    p = float(e[class_index] / e.sum())
                soft += p
        if seen and ref >= min_area:
            errs.append((abs(soft - ref) / ref) ** exponent)
    return sum(errs) / len(errs)


@pytest.mark.parametrize('channels,exponent,band', [(2, 1, None), (3, 2, 1), (1, 1, 2),
                                                    (2, 1, 0)])
def test_matches_brute_force_and_ignores_pixels(channels, exponent, band):
    torch.manual_seed(channels)
    pred = torch.randn(3, channels, 9, 10)
    target = torch.zeros(3, 9, 10, dtype=torch.long)
    target[:, 3:6, 4:7] = 1
    target[0, 6:, :] = torch.randint(0, max(channels, 2), (3, 10))
    target[0, :2] = 255
    target[1] = 255          # a frame without reference: skipped
    target[2, 0, 0] = 1      # a second LV region in a corner
    loss = MODELS.build(dict(type='SoftAreaLoss', exponent=exponent, loss_weight=2.0,
                             band=band))
    got = float(loss(pred, target))
    assert got == pytest.approx(
        2.0 * _brute_force(pred, target, exponent=exponent, band=band), rel=1e-5)
    # the prediction on ignored pixels does not count
    pred2 = pred.clone()
    pred2[0, :, :2] += 50.0
    assert float(loss(pred2, target)) == pytest.approx(got, rel=1e-6)


def test_zero_when_sizes_agree_and_gradient_fixes_the_size():
    target = torch.zeros(1, 8, 8, dtype=torch.long)
    target[0, 2:6, 2:6] = 1
    exact = torch.where(target == 1, 30.0, -30.0).unsqueeze(1)
    logits = torch.cat([-exact, exact], dim=1)
    assert float(SoftAreaLoss()(logits, target)) < 1e-6
    # too small a prediction: the gradient raises the LV logit everywhere
    small = torch.zeros(1, 2, 8, 8, requires_grad=True)
    with torch.no_grad():
        small[:, 0] = 3.0
    value = SoftAreaLoss()(small, target)
    value.backward()
    assert float(value) > 0.5
    assert bool((small.grad[:, 1] < 0).all())


def test_skips_and_rejects():
    pred = torch.randn(2, 2, 4, 4, requires_grad=True)
    empty = SoftAreaLoss()(pred, torch.full((2, 4, 4), 255))
    assert float(empty) == 0.0
    empty.backward()  # still connected to the graph
    no_lv = SoftAreaLoss(min_area=1)(pred, torch.zeros(2, 4, 4, dtype=torch.long))
    assert float(no_lv) == 0.0
    with pytest.raises(ValueError, match='exponent'):
        SoftAreaLoss(exponent=3)
    with pytest.raises(ValueError, match='class_index'):
        SoftAreaLoss(class_index=2)(torch.randn(1, 1, 4, 4), torch.zeros(1, 4, 4))
    with pytest.raises(ValueError, match='channels'):
        SoftAreaLoss(class_index=5)(pred, torch.zeros(2, 4, 4, dtype=torch.long))
    with pytest.raises(ValueError, match='band'):
        SoftAreaLoss(band=-1)
    assert SoftAreaLoss(loss_name='loss_size').loss_name == 'loss_size'


def test_band_ignores_faint_background_mass():
    """A confident LV with faint probability over a large background: the whole-frame
    soft area is far off, the banded one is right."""
    target = torch.zeros(1, 40, 40, dtype=torch.long)
    target[0, 15:25, 15:25] = 1
    fg = torch.where(target == 1, 8.0, -5.0)       # p(background pixel) ~ 0.0067
    logits = torch.stack([torch.zeros_like(fg), fg], dim=1)
    assert float(SoftAreaLoss(band=None)(logits, target)) > 0.09
    assert float(SoftAreaLoss(band=3)(logits, target)) < 0.02
