import pytest
import torch
import torch.nn.functional as F

from echoseg.models.losses.bce_dice_loss import BCEDiceLoss
from echoseg.registry import MODELS


def _target():
    t = torch.zeros(2, 8, 8, dtype=torch.long)
    t[:, :4] = 1
    return t


def test_one_channel_scores_the_foreground():
    loss = MODELS.build(dict(type='BCEDiceLoss'))
    t = _target()
    good = torch.where(t == 1, 10.0, -10.0).unsqueeze(1)
    assert loss(good, t) < 1e-3
    assert loss(-good, t) > 1.9


def test_matches_hand_computation_and_ignores_pixels():
    torch.manual_seed(0)
    pred = torch.randn(2, 1, 8, 8)
    t = _target()
    t[0, 0, :] = 255
    valid = t != 255
    p = pred[:, 0].sigmoid()
    g = torch.where(valid, t, 0).float()
    bce = F.binary_cross_entropy_with_logits(pred[:, 0][valid], g[valid])
    m = valid.float()
    dice = 1 - (2 * (p * g * m).sum((1, 2)) + 1) / ((p * m).sum((1, 2)) + (g * m).sum((1, 2)) + 1)
    expected = bce + dice.mean()
    assert torch.allclose(BCEDiceLoss()(pred, t, ignore_index=255), expected, atol=1e-6)
    # changing the prediction on ignored pixels changes nothing
    pred2 = pred.clone()
    pred2[0, 0, 0, :] += 100
    assert torch.allclose(BCEDiceLoss()(pred2, t), BCEDiceLoss()(pred, t))


def test_multiclass_and_all_ignored():
    torch.manual_seed(1)
    pred = torch.randn(2, 3, 8, 8, requires_grad=True)
    t = torch.randint(0, 3, (2, 8, 8))
    loss = BCEDiceLoss(loss_name='loss_eq9')
    assert loss.loss_name == 'loss_eq9'
    value = loss(pred, t)
    value.backward()
    assert torch.isfinite(value) and pred.grad.abs().sum() > 0
    empty = loss(pred, torch.full_like(t, 255))
    assert empty.item() == 0.0
    with pytest.raises(ValueError):
        loss(torch.randn(1, 1, 4, 4), torch.full((1, 4, 4), 2))
