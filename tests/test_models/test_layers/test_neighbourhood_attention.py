"""Blocked neighbourhood attention == a brute-force masked full attention."""
import itertools

import pytest
import torch

from echoseg.models.layers.neighbourhood_attention import (NeighbourhoodAttention3d,
                                                           neighbourhood_attention,
                                                           window_starts)


def _window(i, length, kernel):
    """Positions of i's window along one axis, from the definition (not the module)."""
    k = min(kernel, length)
    start = min(max(i - kernel // 2, 0), length - k)
    return set(range(start, start + k))


def brute_force(q, k, v, kernel, rpb=None):
    """Full (Tq*H*W) x (T*H*W) attention with every key outside a query's window masked."""
    n, heads, tq, h, w, d = q.shape
    t = k.shape[2]
    qpos = list(itertools.product(range(tq), range(h), range(w)))
    kpos = list(itertools.product(range(t), range(h), range(w)))
    mask = torch.zeros(len(qpos), len(kpos), dtype=torch.bool)
    bias = torch.zeros(heads, len(qpos), len(kpos), dtype=q.dtype)
    for a, (qt, qh, qw) in enumerate(qpos):
        wt = set(range(t)) if tq != t else _window(qt, t, kernel[0])
        wh, ww = _window(qh, h, kernel[1]), _window(qw, w, kernel[2])
        for b, (kt, kh, kw) in enumerate(kpos):
            if kt in wt and kh in wh and kw in ww:
                mask[a, b] = True
                if rpb is not None:
                    bias[:, a, b] = rpb[:, kt - qt + kernel[0] - 1, kh - qh + kernel[1] - 1,
                                        kw - qw + kernel[2] - 1]
    scores = q.reshape(n, heads, -1, d) @ k.reshape(n, heads, -1, d).transpose(-1, -2)
    scores = (scores + bias).masked_fill(~mask, float('-inf'))
    out = scores.softmax(-1) @ v.reshape(n, heads, -1, d)
    return out.reshape(n, heads, tq, h, w, d)


def test_window_starts_at_the_borders():
    # 10 frames, window 7: centred inside, shifted inwards at the first/last frames
    assert window_starts(10, 7).tolist() == [0, 0, 0, 0, 1, 2, 3, 3, 3, 3]
    # an axis shorter than its window is covered whole
    assert window_starts(5, 7).tolist() == [0] * 5
    assert window_starts(4, 1).tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize('shape,kernel,block', [
    ((5, 6, 7), (3, 5, 3), (2, 2, 3)),
    ((4, 5, 5), (7, 7, 7), None),        # kernel longer than every axis
    ((3, 4, 9), (3, 3, 3), (1, 1, 1)),   # one query per block: the unfold form
    ((6, 6, 6), (5, 3, 7), (4, 4, 4)),
    ((10, 4, 4), (7, 3, 3), None),       # the authors' 7 frames of a 10-frame clip
])
def test_blocked_attention_equals_brute_force(shape, kernel, block):
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 2, *shape, 4, dtype=torch.float64) for _ in range(3))
    rpb = torch.randn(2, *[2 * x - 1 for x in kernel], dtype=torch.float64)
    for bias in (None, rpb):
        out = neighbourhood_attention(q, k, v, kernel, block, bias)
        torch.testing.assert_close(out, brute_force(q, k, v, kernel, bias))


@pytest.mark.parametrize('checkpoint', [False, True])
def test_gradients_equal_brute_force(checkpoint):
    torch.manual_seed(1)
    shape, kernel = (4, 5, 6), (3, 3, 5)
    tensors = [torch.randn(1, 2, *shape, 3, dtype=torch.float64, requires_grad=True)
               for _ in range(3)]
    rpb = torch.randn(2, 5, 5, 9, dtype=torch.float64, requires_grad=True)
    grads = []
    for fn in (lambda *a: neighbourhood_attention(*a[:3], kernel, (2, 2, 2), a[3], checkpoint),
               lambda *a: brute_force(*a[:3], kernel, a[3])):
        out = fn(*tensors, rpb)
        grads.append(torch.autograd.grad((out * out).sum(), tensors + [rpb]))
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b)


def test_queries_of_one_scale_attend_to_every_scale():
    torch.manual_seed(2)
    q = torch.randn(2, 2, 1, 6, 5, 4, dtype=torch.float64)
    k, v = (torch.randn(2, 2, 3, 6, 5, 4, dtype=torch.float64) for _ in range(2))
    rpb = torch.randn(2, 5, 5, 5, dtype=torch.float64)
    out = neighbourhood_attention(q, k, v, (3, 3, 3), None, rpb)
    torch.testing.assert_close(out, brute_force(q, k, v, (3, 3, 3), rpb))
    with pytest.raises(ValueError, match='kernel covering'):
        neighbourhood_attention(q, k, v, (2, 3, 3))


def test_module_is_multi_head_attention_on_channels_last_maps():
    torch.manual_seed(3)
    attn = NeighbourhoodAttention3d(8, 2, (3, 3, 3)).double()
    x = torch.randn(2, 4, 5, 5, 8, dtype=torch.float64)
    out = attn(x)
    assert out.shape == x.shape
    q = attn.q(x).view(2, 4, 5, 5, 2, 4).permute(0, 4, 1, 2, 3, 5) * attn.scale
    k, v = [p.view(2, 4, 5, 5, 2, 4).permute(0, 4, 1, 2, 3, 5)
            for p in attn.kv(x).chunk(2, dim=-1)]
    ref = brute_force(q, k, v, (3, 3, 3), attn.rpb)
    ref = attn.proj(ref.permute(0, 2, 3, 4, 1, 5).reshape(2, 4, 5, 5, 8))
    torch.testing.assert_close(out, ref)
