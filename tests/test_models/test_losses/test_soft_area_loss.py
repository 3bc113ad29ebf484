import pytest
import torch

from echoseg.models.losses.soft_area_loss import SoftAreaLoss
from echoseg.registry import MODELS


def _brute_force(pred, target, class_index=1, exponent=1, ignore_index=255, min_area=1.0):
    """Frame by frame, pixel by pixel."""
    errs = []
    for n in range(pred.shape[0]):
        soft = ref = 0.0
        seen = False
        for i in range(pred.shape[2]):
            for j in range(pred.shape[3]):
                t = int(target[n, i, j])
                if t == ignore_index:
                    continue
                seen = True
                if pred.shape[1] == 1:
                    p = 1.0 / (1.0 + float(torch.exp(-pred[n, 0, i, j])))
                else:
                    e = torch.exp(pred[n, :, i, j].double())
                    p = float(e[class_index] / e.sum())
                soft += p
                ref += float(t == class_index)
        if seen and ref >= min_area:
            errs.append((abs(soft - ref) / ref) ** exponent)
    return sum(errs) / len(errs)


@pytest.mark.parametrize('channels,exponent', [(2, 1), (3, 2), (1, 1)])
def test_matches_brute_force_and_ignores_pixels(channels, exponent):
    torch.manual_seed(channels)
    pred = torch.randn(3, channels, 6, 7)
    target = torch.randint(0, max(channels, 2), (3, 6, 7))
    target[0, :2] = 255
    target[1] = 255          # a frame without reference: skipped
    target[2, 0, 0] = 1      # at least one LV pixel
    loss = MODELS.build(dict(type='SoftAreaLoss', exponent=exponent, loss_weight=2.0))
    got = float(loss(pred, target))
    assert got == pytest.approx(2.0 * _brute_force(pred, target, exponent=exponent),
                                rel=1e-5)
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
    assert SoftAreaLoss(loss_name='loss_size').loss_name == 'loss_size'
