"""upsample_logits: a neck's upsampler from the clip's extras, or the logits unchanged."""
import torch

from echoseg.models.utils import LOGIT_UPSAMPLER_KEY, ClipContext, upsample_logits


def _clip(**extras):
    return ClipContext(batch_size=1, num_frames=2, labelled=torch.ones(1, 2), extras=extras)


def test_without_an_upsampler_the_logits_come_back_unchanged():
    logits = torch.randn(2, 3, 4, 5)
    assert upsample_logits(None, logits) is logits
    assert upsample_logits(_clip(), logits) is logits


def test_the_upsampler_a_neck_left_gets_the_logits_and_the_frames():
    calls = []

    def double_size(x, frames=None):
        calls.append(frames)
        return x.repeat_interleave(2, -1).repeat_interleave(2, -2)

    clip = _clip(**{LOGIT_UPSAMPLER_KEY: double_size})
    logits = torch.arange(8.).view(2, 1, 2, 2)
    out = upsample_logits(clip, logits)
    assert out.shape == (2, 1, 4, 4)
    assert torch.equal(out[1, 0, 2:, :2], torch.full((2, 2), logits[1, 0, 1, 0].item()))
    frames = torch.tensor([1])
    upsample_logits(clip, logits[1:], frames)
    assert calls[0] is None and calls[1] is frames
