"""ClipContext: the (B*T, ...) <-> (B, T, ...) convention, clip-major, and its checks."""
import pytest
import torch

from echoseg.models.utils import ClipContext, is_temporal


def _clip(b=2, t=3, **kwargs):
    labelled = torch.zeros(b, t, dtype=torch.uint8)
    labelled[0, 0] = labelled[b - 1, t - 1] = 1
    return ClipContext(batch_size=b, num_frames=t, labelled=labelled, **kwargs)


def test_unfold_and_fold_are_clip_major():
    clip = _clip(b=2, t=3)
    x = torch.randn(6, 4, 5, 7)
    u = clip.unfold(x)
    assert u.shape == (2, 3, 4, 5, 7)
    for b in range(2):
        for t in range(3):
            assert torch.equal(u[b, t], x[b * 3 + t])    # frame t of clip b
    assert torch.equal(clip.fold(u), x)
    assert clip.unfold(torch.arange(6)).tolist() == [[0, 1, 2], [3, 4, 5]]


def test_labelled_is_bool_and_flat_follows_the_fold():
    clip = _clip(b=2, t=3)
    assert clip.labelled.dtype == torch.bool
    assert clip.labelled_flat.tolist() == [True, False, False, False, False, True]
    flat = torch.arange(6)
    assert flat[clip.labelled_flat].tolist() == [0, 5]
    assert clip.device == torch.device('cpu')
    assert _clip().extras == {} and _clip().extras is not _clip().extras  # one dict each


def test_shapes_are_checked():
    with pytest.raises(ValueError, match=r'labelled must be \(B, T\)=\(2, 4\), got \(2, 3\)'):
        ClipContext(batch_size=2, num_frames=4, labelled=torch.ones(2, 3))
    with pytest.raises(ValueError, match='first dimension of B\\*T=6, got 5'):
        _clip(b=2, t=3).unfold(torch.zeros(5, 1))


def test_is_temporal_reads_the_class_attribute():
    class Plain(torch.nn.Module):
        pass

    class Temporal(torch.nn.Module):
        temporal = True

    assert not is_temporal(Plain()) and is_temporal(Temporal()) and not is_temporal(None)
