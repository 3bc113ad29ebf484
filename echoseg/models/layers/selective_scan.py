"""The selective scan of Mamba (Gu and Dao, 2023, "Mamba: linear-time sequence modeling
with selective state spaces", Algorithm 2), the core of MSSNet's SSG module.

For a sequence u (B, D, L) with input-dependent step ``delta`` (B, D, L) and input-dependent
projections ``B``, ``C`` (B, N, L), a state matrix A (D, N) and a skip D (D,):

    dA_t = exp(delta_t A)                     (zero-order hold of A)
    dBu_t = delta_t B_t u_t                   (Euler step of B, as Mamba's kernel)
    h_t = dA_t * h_{t-1} + dBu_t              (h: (B, D, N), h_{-1} = 0)
    y_t = <C_t, h_t> + D u_t,   y = y * silu(z) when a gate z is given

The same signature as ``mamba_ssm``'s ``selective_scan_fn`` (B and C also grouped,
(B, G, N, L): channel group g uses B[:, g], C[:, g]). Two paths:

- plain PyTorch (any device): the first-order linear recurrence h_t = a_t h_{t-1} + b_t is
  solved by :func:`linear_recurrence`, a log-depth parallel scan (recursive odd/even
  reduction: pairs are combined with the associative operator
  (a1, b1) o (a2, b2) = (a1 a2, a2 b1 + b2), the half-length problem is solved recursively
  and the even positions are filled in). O(L) work and memory, O(log L) sequential steps of
  whole-tensor operations, no Python loop over tokens; autograd differentiates it. Long
  sequences are scanned in chunks (``chunk_size``, 1024 tokens) whose states are chained,
  so the (L, D, N) tensors are built a cache-sized piece at a time.
- ``mamba_ssm``'s fused CUDA kernel, used when the package imports and the inputs are on a
  GPU (``backend='auto'``); ``backend='torch'`` forces the plain path.

:func:`selective_scan_reference` is the naive token-by-token loop, kept only as the
reference the tests and the benchmark compare against.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

try:  # the fused kernel, optional (GPU only)
    from mamba_ssm.ops.selective_scan_interface import selective_scan_fn as _cuda_scan
except Exception:  # noqa: BLE001 (any import failure means: not available)
    _cuda_scan = None

BACKENDS = ('auto', 'torch', 'cuda')


def cuda_scan_available() -> bool:
    """True when ``mamba_ssm``'s selective-scan kernel imports and a GPU is present."""
    return _cuda_scan is not None and torch.cuda.is_available()


def _parallel_scan(a: Tensor, b: Tensor) -> Tensor:
    """h_t = a_t h_{t-1} + b_t along dim 1 (same shapes), the log-depth odd/even scan."""
    length = b.shape[1]
    if length == 1:
        return b
    if length % 2:  # pad with the identity element (a=1, b=0)
        a = torch.cat([a, a.new_ones(a[:, :1].shape)], dim=1)
        b = torch.cat([b, b.new_zeros(b[:, :1].shape)], dim=1)
    a_even, a_odd = a[:, 0::2], a[:, 1::2]
    b_even, b_odd = b[:, 0::2], b[:, 1::2]
    # each odd position absorbs its even predecessor; solve that half-length problem
    h_odd = _parallel_scan(a_odd * a_even, a_odd * b_even + b_odd)
    # even positions follow from the odd state before them
    h_even = torch.cat([b_even[:, :1], a_even[:, 1:] * h_odd[:, :-1] + b_even[:, 1:]], dim=1)
    return torch.stack([h_even, h_odd], dim=2).flatten(1, 2)[:, :length]


class _LinearRecurrence(torch.autograd.Function):
    """The scan with its analytic backward: for g_t = dL/dh_t + a_{t+1} g_{t+1} (the same
    recurrence run backwards), dL/db_t = g_t and dL/da_t = g_t h_{t-1}. Only a and h are
    kept for the backward pass (autograd through the odd/even scan keeps every level)."""

    @staticmethod
    def forward(ctx, a: Tensor, b: Tensor) -> Tensor:
        h = _parallel_scan(a, b)
        ctx.save_for_backward(a, h)
        return h

    @staticmethod
    def backward(ctx, grad_h: Tensor):
        a, h = ctx.saved_tensors
        a_next = torch.cat([a[:, 1:], a.new_zeros(a[:, :1].shape)], dim=1)
        g = _parallel_scan(a_next.flip(1), grad_h.flip(1)).flip(1)
        h_prev = torch.cat([h.new_zeros(h[:, :1].shape), h[:, :-1]], dim=1)
        return g * h_prev, g


def linear_recurrence(a: Tensor, b: Tensor, dim: int = 1) -> Tensor:
    """h_t = a_t * h_{t-1} + b_t along ``dim`` (h_{-1} = 0), as a log-depth parallel scan
    (differentiable, with the analytic backward of :class:`_LinearRecurrence`).

    ``a`` and ``b`` have the same shape (``a`` may broadcast to ``b``).
    """
    a = a.expand_as(b)
    if dim != 1:
        return linear_recurrence(a.movedim(dim, 1), b.movedim(dim, 1)).movedim(1, dim)
    if b.shape[1] == 1:
        return b
    if torch.is_grad_enabled() and (a.requires_grad or b.requires_grad):
        return _LinearRecurrence.apply(a.contiguous(), b.contiguous())
    return _parallel_scan(a, b)


def _dtype(u: Tensor) -> torch.dtype:
    """float32 at least (half inputs are scanned in float32, as the CUDA kernel does)."""
    return torch.promote_types(u.dtype, torch.float32)


def _grouped(x: Tensor, channels: int) -> Tensor:
    """B or C, (B, N, L) or grouped (B, G, N, L), as (B, L, G, 1, N); G must divide the
    channels (mamba_ssm's grouped layout: group g holds channels g*D/G .. (g+1)*D/G - 1)."""
    if x.dim() == 3:
        x = x.unsqueeze(1)
    if channels % x.shape[1]:
        raise ValueError(f'selective_scan: {channels} channels are not divisible into '
                         f'{x.shape[1]} groups of B / C')
    return x.permute(0, 3, 1, 2).unsqueeze(3)


def _discretise(u, delta, A, B, C, delta_bias, delta_softplus):
    """(B, D, L) inputs -> dA, dBu (B, L, D, N), C (B, L, G, 1, N), delta (B, L, D)."""
    dt = _dtype(u)
    delta = delta.to(dt)
    if delta_bias is not None:
        delta = delta + delta_bias.to(dt)[None, :, None]
    if delta_softplus:
        delta = F.softplus(delta)
    delta = delta.transpose(1, 2)  # (B, L, D)
    bsz, length, channels = delta.shape
    dA = torch.exp(delta.unsqueeze(-1) * A.to(dt))  # (B, L, D, N)
    bg = _grouped(B.to(dt), channels)  # (B, L, G, 1, N)
    du = (delta * u.to(dt).transpose(1, 2)).reshape(bsz, length, bg.shape[2], -1, 1)
    dBu = (du * bg).reshape(bsz, length, channels, -1)
    return dA, dBu, _grouped(C.to(dt), channels), delta


def _readout(h: Tensor, c: Tensor) -> Tensor:
    """<C, h> over the state: h (..., D, N), c (..., G, 1, N) -> (..., D)."""
    if c.shape[-3] == 1:
        return torch.einsum('...dn,...n->...d', h, c[..., 0, 0, :])
    *lead, d, n = h.shape
    grouped = h.reshape(*lead, c.shape[-3], d // c.shape[-3], n)
    return (grouped * c).sum(-1).reshape(*lead, d)


def _finish(y, u, D, z):
    """(B, L, D) scan output -> (B, D, L) with the skip and the gate."""
    y = y.transpose(1, 2)
    if D is not None:
        y = y + u.to(y.dtype) * D.to(y.dtype)[None, :, None]
    if z is not None:
        y = y * F.silu(z.to(y.dtype))
    return y


def selective_scan(u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor,
                   D: Optional[Tensor] = None, z: Optional[Tensor] = None,
                   delta_bias: Optional[Tensor] = None, delta_softplus: bool = False,
                   backend: str = 'auto', chunk_size: Optional[int] = 1024) -> Tensor:
    """Mamba's selective scan (see the module docstring); returns y (B, D, L).

    Args:
        u, delta, z: (B, D, L); A: (D, N); B, C: (B, N, L), or grouped (B, G, N, L) (the
            channels in G consecutive groups of D / G, each with its own B and C, as
            ``mamba_ssm``'s kernel takes them; VMamba's four scan directions); D,
            delta_bias: (D,).
        backend: ``'auto'`` (the CUDA kernel when available and the inputs are on a GPU,
            else plain PyTorch), ``'torch'`` or ``'cuda'``.
        chunk_size: plain path: the sequence is scanned in chunks of this many tokens,
            each with the log-depth scan, the state carried from one chunk to the next
            (folded into the chunk's first input); the (L, D, N) states are then built a
            chunk at a time, which keeps the working set small (L / chunk_size loop
            steps, never one per token). None: the whole sequence at once.
    """
    if backend not in BACKENDS:
        raise ValueError(f'selective_scan: backend must be one of {BACKENDS}, got {backend!r}')
    use_cuda = backend == 'cuda' or (backend == 'auto' and u.is_cuda and _cuda_scan is not None)
    if use_cuda:
        if _cuda_scan is None:
            raise RuntimeError('selective_scan: backend="cuda" needs the mamba_ssm package')
        return _cuda_scan(u, delta, A, B, C, D, z, delta_bias, delta_softplus)
    length = u.shape[-1]
    step = length if not chunk_size else int(chunk_size)
    ys, state = [], None
    for start in range(0, length, step):
        part = slice(start, start + step)
        dA, dBu, Ct, _ = _discretise(u[..., part], delta[..., part], A, B[..., part],
                                     C[..., part], delta_bias, delta_softplus)
        if state is not None:  # h_start = dA_start h_prev + dBu_start
            dBu = torch.cat([dA[:, :1] * state.unsqueeze(1) + dBu[:, :1], dBu[:, 1:]], dim=1)
        h = linear_recurrence(dA, dBu, dim=1)  # (B, l, D, N)
        state = h[:, -1]
        ys.append(_readout(h, Ct))
    y = torch.cat(ys, dim=1) if len(ys) > 1 else ys[0]
    return _finish(y, u, D, z).to(u.dtype)


def selective_scan_reference(u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor,
                             D: Optional[Tensor] = None, z: Optional[Tensor] = None,
                             delta_bias: Optional[Tensor] = None,
                             delta_softplus: bool = False) -> Tensor:
    """The naive sequential recurrence, one token at a time (tests and benchmarks only)."""
    dA, dBu, Ct, _ = _discretise(u, delta, A, B, C, delta_bias, delta_softplus)
    h = dBu.new_zeros(dBu[:, 0].shape)
    ys = []
    for t in range(dBu.shape[1]):
        h = dA[:, t] * h + dBu[:, t]
        ys.append(_readout(h, Ct[:, t]))
    return _finish(torch.stack(ys, dim=1), u, D, z).to(u.dtype)
