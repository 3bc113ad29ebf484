"""MambaLayer against the Mamba block written out token by token (float64), its
initialisation, causality, gradients and the guidance hook."""
import copy
import math

import pytest
import torch
import torch.nn.functional as F

from echoseg.models.layers.mamba import MambaLayer


def _block_by_hand(layer, tokens, guidance=None):
    """in_proj -> causal depthwise conv -> SiLU -> selection -> recurrence -> gate ->
    out_proj, one token at a time."""
    n, length, _ = tokens.shape
    di, ns, r = layer.d_inner, layer.d_state, layer.dt_rank
    xz = tokens @ layer.in_proj.weight.t()
    x, z = xz[..., :di], xz[..., di:]                          # (n, L, di)
    k = layer.conv1d.kernel_size[0]
    w = layer.conv1d.weight[:, 0]                              # (di, k)
    conv = layer.conv1d.bias.expand(n, length, di).clone()
    for t in range(length):
        for j in range(k):
            s = t - (k - 1) + j                                # only this and earlier
            if s >= 0:
                conv[:, t] += w[:, j] * x[:, s]
    u = F.silu(conv)
    sel = u @ layer.x_proj.weight.t()
    dt_in, b, c = sel[..., :r], sel[..., r:r + ns], sel[..., r + ns:]
    raw = dt_in @ layer.dt_proj.weight.t()                     # (n, L, di)
    if guidance is not None:
        raw = guidance(raw.transpose(1, 2)).transpose(1, 2)
    delta = F.softplus(raw + layer.dt_proj.bias)
    a = -torch.exp(layer.A_log)                                # (di, N)
    h = tokens.new_zeros(n, di, ns)
    ys = []
    for t in range(length):
        h = torch.exp(delta[:, t, :, None] * a) * h \
            + delta[:, t, :, None] * b[:, t, None, :] * u[:, t, :, None]
        y = (h * c[:, t, None, :]).sum(-1) + layer.D * u[:, t]
        ys.append(y * F.silu(z[:, t]))
    return torch.stack(ys, 1) @ layer.out_proj.weight.t()


def _layer(**kwargs):
    torch.manual_seed(0)
    layer = MambaLayer(8, d_state=4, expand=2, d_conv=3, backend='torch', **kwargs).double()
    with torch.no_grad():   # move A and D off their initial values
        layer.A_log.add_(0.2 * torch.randn_like(layer.A_log))
        layer.D.copy_(0.1 * torch.randn_like(layer.D))   # a small skip: the scan dominates
        layer.conv1d.bias.add_(0.1 * torch.randn_like(layer.conv1d.bias))
        layer.dt_proj.bias.add_(2.0)    # steps of order 0.1-1: every state term matters
    return layer.float().double()    # (float32-exact values, as the scan reads them)


def test_the_block_equals_its_token_by_token_definition():
    layer = _layer()
    tokens = torch.randn(2, 11, 8, generator=torch.Generator().manual_seed(1),
                         dtype=torch.float64)
    with torch.no_grad():
        out = layer(tokens)
        torch.testing.assert_close(out, _block_by_hand(layer, tokens), rtol=1e-9, atol=1e-10)
        # the comparison is sharp: A off by 1 % is far outside the tolerance
        wrong = copy.deepcopy(layer)
        wrong.A_log.mul_(1.01)
        assert (_block_by_hand(wrong, tokens) - out).abs().max() > 1e-7

        def guidance(steps):        # (n, d_inner, L) raw steps
            return 2.0 * steps + 1.0
        guided = layer(tokens, guidance)
        torch.testing.assert_close(guided, _block_by_hand(layer, tokens, guidance),
                                   rtol=1e-9, atol=1e-9)
    assert (guided - out).abs().max() > 0.02 * out.abs().max()


def test_initialisation_as_the_reference_mamba():
    torch.manual_seed(0)
    layer = MambaLayer(40, d_state=6, expand=1.5, dt_min=0.002, dt_max=0.05)
    assert (layer.d_inner, layer.dt_rank) == (60, math.ceil(40 / 16))
    assert MambaLayer(8, dt_rank=5).dt_rank == 5
    torch.testing.assert_close(layer.A_log, torch.log(torch.arange(1.0, 7.0)).repeat(60, 1))
    assert torch.equal(layer.D, torch.ones(60))
    steps = F.softplus(layer.dt_proj.bias.detach().double())
    assert steps.min() >= 0.002 * (1 - 1e-5) and steps.max() <= 0.05 * (1 + 1e-5)
    assert layer.in_proj.bias is None and layer.out_proj.bias is None
    bound = layer.dt_rank ** -0.5
    assert layer.dt_proj.weight.abs().max() <= bound


def test_float32_shapes_gradients_and_causality():
    torch.manual_seed(0)
    layer = MambaLayer(8, d_state=4, expand=2)
    x = torch.randn(3, 20, 8, requires_grad=True)
    out = layer(x)
    assert out.shape == x.shape and out.dtype == torch.float32
    out.sum().backward()
    assert x.grad.abs().sum() > 0
    for name, p in layer.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    # causal: a change at token 10 leaves tokens 0-9 unchanged
    x2 = x.detach().clone()
    x2[:, 10] += 1.0
    with torch.no_grad():
        a, b = layer(x.detach()), layer(x2)
    assert torch.equal(a[:, :10], b[:, :10]) and (a[:, 10:] - b[:, 10:]).abs().max() > 0
    seen = []

    def guidance(steps):
        seen.append(steps.shape)
        return steps
    with torch.no_grad():
        torch.testing.assert_close(layer(x.detach(), guidance), a)
    assert seen == [(3, 16, 20)]


@pytest.mark.parametrize('bad', ['fast', ''])
def test_an_unknown_backend_is_refused(bad):
    layer = MambaLayer(8, d_state=2, backend=bad)
    with pytest.raises(ValueError, match='backend must be one of'):
        layer(torch.zeros(1, 3, 8))


# ---------------------------------------------------------------------------- SS2D
def _ss2d_by_hand(m, tokens):
    """SS2D written out: every route as its own token-by-token scan, outputs summed back on
    the grid (route k: row-major, column-major, both reversed)."""
    from echoseg.models.layers.mamba import SS2D
    assert isinstance(m, SS2D)
    n, h, w, _ = tokens.shape
    d, ns, r = m.d_inner, m.d_state, m.dt_rank
    xz = tokens @ m.in_proj.weight.t()
    x, z = (xz[..., :d], xz[..., d:]) if m.gate else (xz, None)
    x = F.silu(m.conv2d(x.permute(0, 3, 1, 2)))                 # (n, d, h, w)
    out = torch.zeros(n, d, h, w, dtype=tokens.dtype)
    for k, (transposed, reversed_) in enumerate(m.routes):
        # the positions (row, col) in the order route k visits them
        order = [(i, j) for j in range(w) for i in range(h)] if transposed else \
            [(i, j) for i in range(h) for j in range(w)]
        if reversed_:
            order = order[::-1]
        a = -torch.exp(m.A_logs[k * d:(k + 1) * d])               # (d, N)
        state = torch.zeros(n, d, ns, dtype=tokens.dtype)
        for i, j in order:
            u = x[:, :, i, j]                                        # (n, d)
            sel = u @ m.x_proj_weight[k].t()
            dt_in, b, c = sel[:, :r], sel[:, r:r + ns], sel[:, r + ns:]
            delta = F.softplus(dt_in @ m.dt_projs_weight[k].t() + m.dt_projs_bias[k])
            state = torch.exp(delta[..., None] * a) * state + delta[..., None] * b[:, None] \
                * u[..., None]
            out[:, :, i, j] += (state * c[:, None]).sum(-1) + m.Ds[k * d:(k + 1) * d] * u
    y = F.layer_norm(out.permute(0, 2, 3, 1), (d, ), m.out_norm.weight, m.out_norm.bias,
                     m.out_norm.eps)
    if z is not None:
        y = y * F.silu(z)
    return y @ m.out_proj.weight.t()


@pytest.mark.parametrize('directions,gate,d_state', [(4, False, 1), (4, True, 3), (2, False, 2),
                                                     (1, False, 1)])
def test_ss2d_equals_its_route_by_route_definition(directions, gate, d_state):
    from echoseg.models.layers.mamba import SS2D
    torch.manual_seed(0)
    m = SS2D(6, d_state=d_state, ssm_ratio=1.5, gate=gate, directions=directions,
             backend='torch').double()
    with torch.no_grad():  # every route's parameters different and away from their init
        m.A_logs.add_(0.3 * torch.randn_like(m.A_logs))
        m.Ds.copy_(0.1 * torch.randn_like(m.Ds))
        m.dt_projs_bias.add_(2.0 + torch.randn_like(m.dt_projs_bias))
    m = m.float().double()  # float32-exact values, as the scan reads A, D and the bias
    tokens = torch.randn(2, 3, 5, 6, dtype=torch.float64)  # a non-square grid
    # (the output LayerNorm magnifies rounding where a token's channels nearly agree)
    torch.testing.assert_close(m(tokens), _ss2d_by_hand(m, tokens), rtol=1e-6, atol=1e-7)
    # each route counts: zeroing one route's skip and input projection changes the output
    if directions > 1:
        cut = copy.deepcopy(m)
        with torch.no_grad():
            cut.x_proj_weight[-1].zero_()
            cut.Ds[-m.d_inner:].zero_()
        assert not torch.allclose(cut(tokens), m(tokens))


def test_cross_scan_and_merge_are_transposes():
    """cross_merge(y) = sum_k route_k^-1(y_k): with y_k = route_k(x), it gives K x."""
    from echoseg.models.layers.mamba import SS2D
    m = SS2D(4, directions=4)
    x = torch.randn(2, 4, 3, 5)
    seqs = m.cross_scan(x)
    assert seqs.shape == (2, 4, 4, 15)
    assert torch.equal(seqs[:, 0], x.flatten(2)) and torch.equal(seqs[:, 2], x.flatten(2).flip(-1))
    assert torch.equal(seqs[:, 1], x.transpose(2, 3).flatten(2))
    torch.testing.assert_close(m.cross_merge(seqs, 3, 5), 4 * x)


def test_vss_block_shapes_gradients_and_bad_directions():
    from echoseg.models.layers.mamba import SS2D, VSSBlock
    block = VSSBlock(8, mlp_ratio=2.0, drop_path=0.1, backend='torch')
    x = torch.randn(2, 4, 6, 8, requires_grad=True)
    y = block(x)
    assert y.shape == x.shape
    y.square().sum().backward()
    assert all(p.grad is not None for p in block.parameters())
    assert VSSBlock(8, mlp_ratio=0.0).mlp is None  # VM-UNet's blocks: no MLP
    with pytest.raises(ValueError, match='directions'):
        SS2D(8, directions=3)
