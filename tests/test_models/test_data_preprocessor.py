import pytest
import torch

from echoseg.models import EchoDataPreprocessor


def test_stack_normalise_repeat():
    pre = EchoDataPreprocessor(mean=100.0, std=50.0, in_channels=3)
    clips = [torch.full((4, 1, 6, 6), 200.0), torch.full((4, 1, 6, 6), 0.0)]
    out = pre(dict(inputs=clips, data_samples=None))
    x = out['inputs']
    assert x.shape == (2, 4, 3, 6, 6)
    assert torch.allclose(x[0], torch.full_like(x[0], 2.0))   # (200 - 100) / 50
    assert torch.allclose(x[1], torch.full_like(x[1], -2.0))


def test_per_channel_statistics_after_repeat():
    pre = EchoDataPreprocessor(mean=[10.0, 20.0, 30.0], std=[1.0, 2.0, 3.0])
    out = pre(dict(inputs=[torch.full((2, 1, 3, 3), 40.0)], data_samples=None))['inputs']
    assert out[0, 0, :, 0, 0].tolist() == [30.0, 10.0, pytest.approx(10 / 3)]


def test_mismatched_clips_and_bad_stats():
    pre = EchoDataPreprocessor()
    with pytest.raises(ValueError, match='share one'):
        pre(dict(inputs=[torch.zeros(4, 1, 6, 6), torch.zeros(3, 1, 6, 6)], data_samples=None))
    with pytest.raises(ValueError, match='mean'):
        EchoDataPreprocessor(mean=[1.0, 2.0], in_channels=3)
