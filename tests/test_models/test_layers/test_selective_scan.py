"""The parallel selective scan equals the naive sequential recurrence (values and
gradients); the fused CUDA kernel, where present, equals both."""
import pytest
import torch

from echoseg.models.layers.selective_scan import (cuda_scan_available, linear_recurrence,
                                                  selective_scan, selective_scan_reference)


def _inputs(batch=2, d=5, n=3, length=37, dtype=torch.float64, seed=0, device='cpu'):
    g = torch.Generator().manual_seed(seed)

    def r(*shape):
        return torch.randn(*shape, generator=g, dtype=dtype).to(device).requires_grad_()

    u, delta, z = r(batch, d, length), r(batch, d, length), r(batch, d, length)
    a = (-torch.rand(d, n, generator=g, dtype=dtype) * 2).to(device).requires_grad_()
    b, c = r(batch, n, length), r(batch, n, length)
    skip, bias = r(d), r(d)
    return (u, delta, a, b, c, skip, z, bias)


@pytest.mark.parametrize('length', [1, 2, 7, 37, 64])
def test_linear_recurrence_equals_the_loop(length):
    g = torch.Generator().manual_seed(length)
    a = torch.rand(3, length, 4, generator=g, dtype=torch.float64)
    b = torch.randn(3, length, 4, generator=g, dtype=torch.float64)
    h, ref = linear_recurrence(a, b), torch.zeros_like(b)
    state = torch.zeros(3, 4, dtype=torch.float64)
    for t in range(length):
        state = a[:, t] * state + b[:, t]
        ref[:, t] = state
    torch.testing.assert_close(h, ref, rtol=1e-12, atol=1e-12)
    # along another dimension
    torch.testing.assert_close(linear_recurrence(a.transpose(1, 2), b.transpose(1, 2), dim=2),
                               ref.transpose(1, 2), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize('length', [1, 5, 37, 128])
@pytest.mark.parametrize('with_extras', [True, False])
def test_parallel_scan_equals_sequential_forward_and_gradients(length, with_extras):
    args = _inputs(length=length, seed=length)
    u, delta, a, b, c, skip, z, bias = args
    extra = dict(D=skip, z=z, delta_bias=bias, delta_softplus=True) if with_extras else {}
    y = selective_scan(u, delta, a, b, c, backend='torch', chunk_size=None, **extra)
    ref = selective_scan_reference(u, delta, a, b, c, **extra)
    assert y.shape == u.shape and y.dtype == torch.float64
    torch.testing.assert_close(y, ref, rtol=1e-10, atol=1e-10)
    grad_out = torch.randn_like(y)
    leaves = [u, delta, a, b, c] + ([skip, z, bias] if with_extras else [])
    # (with one token A is not used: h_0 = B_0 u_0 delta_0; None stands for zeros)
    g1 = torch.autograd.grad((y * grad_out).sum(), leaves, allow_unused=True)
    g2 = torch.autograd.grad((ref * grad_out).sum(), leaves, allow_unused=True)
    for name, x1, x2, leaf in zip('u delta A B C D z bias'.split(), g1, g2, leaves):
        x1 = torch.zeros_like(leaf) if x1 is None else x1
        x2 = torch.zeros_like(leaf) if x2 is None else x2
        torch.testing.assert_close(x1, x2, rtol=1e-9, atol=1e-9, msg=name)


@pytest.mark.parametrize('chunk', [1, 4, 16, None])
def test_chunked_scan_equals_sequential_forward_and_gradients(chunk):
    """States carried across chunks (of 1 token, 4 with a ragged last chunk, ...)."""
    args = _inputs(length=37, seed=chunk or 0)
    y = selective_scan(*args[:5], D=args[5], z=args[6], delta_bias=args[7],
                       delta_softplus=True, backend='torch', chunk_size=chunk)
    ref = selective_scan_reference(*args[:5], D=args[5], z=args[6], delta_bias=args[7],
                                   delta_softplus=True)
    torch.testing.assert_close(y, ref, rtol=1e-10, atol=1e-10)
    g1 = torch.autograd.grad(y.square().sum(), args)
    g2 = torch.autograd.grad(ref.square().sum(), args)
    for x1, x2 in zip(g1, g2):
        torch.testing.assert_close(x1, x2, rtol=1e-9, atol=1e-9)


def test_a_wrong_recurrence_is_caught():
    """The comparison is sharp: dropping the decay of one step changes the output."""
    u, delta, a, b, c, *_ = _inputs(length=9)
    y = selective_scan(u, delta, a, b, c, backend='torch')
    ref = selective_scan_reference(u, delta, a * 1.01, b, c)
    assert (y - ref).abs().max() > 1e-6


@pytest.mark.skipif(not cuda_scan_available(),
                    reason='needs a GPU and the mamba_ssm package (its selective-scan '
                           'kernel); this machine has neither')
@pytest.mark.parametrize('groups', [0, 4], ids=['ungrouped', 'grouped'])
def test_cuda_kernel_equals_the_plain_scan(groups):
    """Ungrouped B, C as MambaLayer calls the kernel; grouped (batch, 4, N, L) as SS2D does
    (VMamba's four routes, 4 x 4 channels)."""
    inputs = _inputs(d=16, length=300)
    if groups:
        g = torch.Generator().manual_seed(9)
        inputs = list(inputs)
        inputs[3] = torch.randn(2, groups, 3, 300, generator=g, dtype=torch.float64)
        inputs[4] = torch.randn(2, groups, 3, 300, generator=g, dtype=torch.float64)
    args = [t.detach().float().cuda().requires_grad_() for t in inputs]
    u, delta, a, b, c, skip, z, bias = args
    kw = dict(D=skip, z=z, delta_bias=bias, delta_softplus=True)
    y_cuda = selective_scan(u, delta, a, b, c, backend='cuda', **kw)
    y_torch = selective_scan(u, delta, a, b, c, backend='torch', **kw)
    torch.testing.assert_close(y_cuda, y_torch, rtol=1e-3, atol=1e-3)
    g = torch.randn_like(y_cuda)
    g1 = torch.autograd.grad((y_cuda * g).sum(), args)
    g2 = torch.autograd.grad((y_torch * g).sum(), args)
    for x1, x2 in zip(g1, g2):
        torch.testing.assert_close(x1, x2, rtol=1e-2, atol=1e-2)


def test_unknown_backend_is_refused():
    u, delta, a, b, c, *_ = _inputs(length=3)
    with pytest.raises(ValueError, match='backend'):
        selective_scan(u, delta, a, b, c, backend='triton')


def test_grouped_b_and_c_equal_one_scan_per_group():
    """B, C (batch, G, N, L): channel group g scans with B[:, g], C[:, g] (mamba_ssm's
    layout, VMamba's routes), the same as G separate ungrouped scans."""
    g = torch.Generator().manual_seed(5)
    bsz, groups, per, n, length = 2, 3, 4, 2, 9
    d = groups * per

    def r(*shape):
        return torch.randn(*shape, generator=g, dtype=torch.float64)

    u, delta, z = r(bsz, d, length), r(bsz, d, length), r(bsz, d, length)
    a = -torch.rand(d, n, generator=g, dtype=torch.float64)
    b, c, skip, bias = r(bsz, groups, n, length), r(bsz, groups, n, length), r(d), r(d)
    y = selective_scan(u, delta, a, b, c, skip, z, bias, True, backend='torch', chunk_size=4)
    for k in range(groups):
        ch = slice(k * per, (k + 1) * per)
        ref = selective_scan_reference(u[:, ch], delta[:, ch], a[ch], b[:, k], c[:, k],
                                       skip[ch], z[:, ch], bias[ch], True)
        torch.testing.assert_close(y[:, ch], ref, rtol=1e-10, atol=1e-10)
    five = r(bsz, 5, n, length)  # 12 channels do not split into 5 groups
    with pytest.raises(ValueError, match='groups'):
        selective_scan(u, delta, a, five, five, backend='torch')


def test_linear_recurrence_gradients_equal_the_loops():
    """The analytic backward of the scan against autograd through the token loop."""
    g = torch.Generator().manual_seed(7)
    a = torch.rand(2, 13, 3, generator=g, dtype=torch.float64).requires_grad_()
    b = torch.randn(2, 13, 3, generator=g, dtype=torch.float64).requires_grad_()
    w = torch.randn(2, 13, 3, generator=g, dtype=torch.float64)
    ga, gb = torch.autograd.grad((linear_recurrence(a, b) * w).sum(), (a, b))
    state, hs = torch.zeros(2, 3, dtype=torch.float64), []
    for t in range(13):
        state = a[:, t] * state + b[:, t]
        hs.append(state)
    ra, rb = torch.autograd.grad((torch.stack(hs, 1) * w).sum(), (a, b))
    torch.testing.assert_close(ga, ra, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(gb, rb, rtol=1e-12, atol=1e-12)
    # a broadcast decay (one value for every channel) gets the summed gradient
    a1 = torch.full((1, 1, 1), 0.7, dtype=torch.float64, requires_grad=True)
    (ga1, ) = torch.autograd.grad((linear_recurrence(a1, b) * w).sum(), (a1, ))
    (ra1, ) = torch.autograd.grad((linear_recurrence(a1.expand_as(b).clone(), b) * w).sum(),
                                  (a1, ))
    torch.testing.assert_close(ga1, ra1)
