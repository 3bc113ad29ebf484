"""A Mamba block (Gu and Dao, 2023, Fig. 3 / sec. 3.4): the selective state-space layer of
MSSNet's SSG module, on token tensors laid out ``(batch, length, channels)``.

    x, z = in_proj(tokens)                         (d_model -> 2 x d_inner)
    x = silu(causal depthwise conv1d(x))           (kernel d_conv)
    delta_raw, B, C = split(x_proj(x))             (input-dependent selection, S6)
    delta_raw = dt_proj(delta_raw)                 (rank dt_rank -> d_inner, bias apart)
    delta_raw = guidance(delta_raw)                (optional hook: MSSNet's weight
                                                    propagation across frames, SSGNeck)
    y = selective_scan(x, delta_raw, A = -exp(A_log), B, C, D, z,
                       delta_bias = dt_proj.bias, softplus)
    out = out_proj(y)                              (d_inner -> d_model)

Initialisation as Mamba's reference: A_log = log(1..N) per channel (S4D-real), D = 1,
dt_proj's bias the inverse softplus of steps drawn log-uniformly in [dt_min, dt_max].

For images (MSSNet's Mamba network, ``VSSEncoder`` / ``VSSDecoderHead``): :class:`SS2D`,
VMamba's 2-D selective scan (four scan routes over the grid, one grouped scan), and
:class:`VSSBlock`, the visual state-space block (pre-norm SS2D, optional MLP).
"""
import math
from typing import Callable, Optional, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .selective_scan import selective_scan


class MambaLayer(nn.Module):
    """One Mamba (S6) block; see the module docstring.

    Args:
        d_model: token channels in and out.
        d_state: N, the state size per channel.
        d_conv: kernel of the causal depthwise convolution.
        expand: d_inner = expand x d_model.
        dt_rank: rank of the step projection; ``'auto'`` = ceil(d_model / 16).
        dt_min, dt_max, dt_init_floor: range of the initial steps.
        backend: of :func:`selective_scan` (``'auto'`` uses the CUDA kernel when present).
    """

    def __init__(self, d_model: int, d_state: int = 16, d_conv: int = 4, expand: float = 2,
                 dt_rank: Union[int, str] = 'auto', dt_min: float = 0.001,
                 dt_max: float = 0.1, dt_init_floor: float = 1e-4, backend: str = 'auto'):
        super().__init__()
        self.d_model = d_model
        self.d_state = d_state
        self.d_inner = int(expand * d_model)
        self.dt_rank = math.ceil(d_model / 16) if dt_rank == 'auto' else int(dt_rank)
        self.backend = backend
        self.in_proj = nn.Linear(d_model, 2 * self.d_inner, bias=False)
        self.conv1d = nn.Conv1d(self.d_inner, self.d_inner, d_conv, groups=self.d_inner,
                                padding=d_conv - 1)
        self.x_proj = nn.Linear(self.d_inner, self.dt_rank + 2 * d_state, bias=False)
        self.dt_proj = nn.Linear(self.dt_rank, self.d_inner, bias=True)
        std = self.dt_rank ** -0.5
        nn.init.uniform_(self.dt_proj.weight, -std, std)
        with torch.no_grad():
            self.dt_proj.bias.copy_(_mamba_steps(self.d_inner, dt_min, dt_max, dt_init_floor))
        a = torch.arange(1, d_state + 1, dtype=torch.float32).repeat(self.d_inner, 1)
        self.A_log = nn.Parameter(torch.log(a))
        self.D = nn.Parameter(torch.ones(self.d_inner))
        self.out_proj = nn.Linear(self.d_inner, d_model, bias=False)

    def selection(self, x: Tensor):
        """(n, d_inner, L) conv output -> raw steps (n, d_inner, L), B and C (n, N, L)."""
        x_dbl = self.x_proj(x.transpose(1, 2))  # (n, L, r + 2N)
        dt, b, c = x_dbl.split([self.dt_rank, self.d_state, self.d_state], dim=-1)
        dt = (dt @ self.dt_proj.weight.t()).transpose(1, 2)
        return dt, b.transpose(1, 2).contiguous(), c.transpose(1, 2).contiguous()

    def forward(self, tokens: Tensor,
                guidance: Optional[Callable[[Tensor], Tensor]] = None) -> Tensor:
        """(n, L, d_model) -> (n, L, d_model). ``guidance`` maps the raw steps
        (n, d_inner, L) to new ones (before the bias and the softplus)."""
        length = tokens.shape[1]
        x, z = self.in_proj(tokens).transpose(1, 2).chunk(2, dim=1)  # (n, d_inner, L) each
        x = F.silu(self.conv1d(x)[..., :length])
        dt, b, c = self.selection(x)
        if guidance is not None:
            dt = guidance(dt)
        y = selective_scan(x, dt, -torch.exp(self.A_log.float()), b, c, self.D.float(),
                           z=z, delta_bias=self.dt_proj.bias.float(), delta_softplus=True,
                           backend=self.backend)
        return self.out_proj(y.transpose(1, 2))


def _mamba_steps(d_inner: int, dt_min: float, dt_max: float, floor: float) -> Tensor:
    """Mamba's initial step bias: softplus^-1 of steps log-uniform in [dt_min, dt_max]."""
    dt = torch.exp(torch.rand(d_inner) * (math.log(dt_max) - math.log(dt_min))
                   + math.log(dt_min)).clamp(min=floor)
    return dt + torch.log(-torch.expm1(-dt))


#: SS2D's scan routes over an (h, w) grid: (transposed, reversed)
ROUTES = {1: ((False, False), ), 2: ((False, False), (False, True)),
          4: ((False, False), (True, False), (False, True), (True, True))}


class SS2D(nn.Module):
    """VMamba's 2-D selective scan (Liu et al. 2024, "VMamba: visual state space model").

    On (n, h, w, C) tokens::

        x (, z) = in_proj(tokens)                     (C -> d_inner = ssm_ratio x C; z
                                                       only with ``gate``)
        x = silu(depthwise conv2d(x))                 (kernel d_conv)
        per route k (``directions``: row-major, column-major, and both reversed):
            x_k = x read along route k                (L = h*w)
            delta_k, B_k, C_k = x_proj_k(x_k); delta_k = dt_proj_k(delta_k)
            y_k = selective scan of x_k (own A_k, D_k, step bias)
        y = sum over k of y_k put back on the grid    (cross-merge)
        y = LN(y) (* silu(z)); out = out_proj(y)

    The routes run as one selective scan over K*d_inner channels with grouped B and C
    (as VMamba calls ``mamba_ssm``'s kernel). Initialisation as Mamba's (A = -(1..N),
    D = 1, log-uniform steps).

    Args:
        d_model: C. d_state: N (VMamba v2: 1). ssm_ratio: d_inner / C (VMamba-T v2: 1).
        d_conv: depthwise kernel (3; 0 or 1: none). conv_bias: of that conv (False).
        gate: multiply by silu(z) (VMamba v1 / VM-UNet: True; v2 'noz': False).
        directions: 4 (VMamba's cross-scan), 2 (row-major both ways) or 1.
        dt_rank: ``'auto'`` = ceil(C / 16).
        backend: of :func:`selective_scan`.
    """

    def __init__(self, d_model: int, d_state: int = 1, ssm_ratio: float = 1.0,
                 d_conv: int = 3, conv_bias: bool = False, gate: bool = False,
                 directions: int = 4, dt_rank: Union[int, str] = 'auto',
                 dt_min: float = 0.001, dt_max: float = 0.1, dt_init_floor: float = 1e-4,
                 backend: str = 'auto'):
        super().__init__()
        if directions not in ROUTES:
            raise ValueError(f'SS2D: directions must be one of {sorted(ROUTES)}, got '
                             f'{directions}')
        self.d_state, self.gate, self.backend = d_state, bool(gate), backend
        self.routes = ROUTES[directions]
        k = len(self.routes)
        d_inner = self.d_inner = int(ssm_ratio * d_model)
        self.dt_rank = math.ceil(d_model / 16) if dt_rank == 'auto' else int(dt_rank)
        self.in_proj = nn.Linear(d_model, d_inner * (2 if gate else 1), bias=False)
        self.conv2d = (nn.Conv2d(d_inner, d_inner, d_conv, padding=(d_conv - 1) // 2,
                                 groups=d_inner, bias=conv_bias)
                       if d_conv > 1 else nn.Identity())
        bound = d_inner ** -0.5  # nn.Linear's default range, per route
        self.x_proj_weight = nn.Parameter(
            torch.empty(k, self.dt_rank + 2 * d_state, d_inner).uniform_(-bound, bound))
        std = self.dt_rank ** -0.5
        self.dt_projs_weight = nn.Parameter(
            torch.empty(k, d_inner, self.dt_rank).uniform_(-std, std))
        self.dt_projs_bias = nn.Parameter(torch.stack(
            [_mamba_steps(d_inner, dt_min, dt_max, dt_init_floor) for _ in range(k)]))
        a = torch.arange(1, d_state + 1, dtype=torch.float32).repeat(k * d_inner, 1)
        self.A_logs = nn.Parameter(torch.log(a))
        self.Ds = nn.Parameter(torch.ones(k * d_inner))
        self.out_norm = nn.LayerNorm(d_inner)
        self.out_proj = nn.Linear(d_inner, d_model, bias=False)

    def cross_scan(self, x: Tensor) -> Tensor:
        """(n, d, h, w) -> (n, K, d, h*w): the grid read along every route."""
        seqs = []
        for transposed, reversed_ in self.routes:
            s = (x.transpose(2, 3) if transposed else x).flatten(2)
            seqs.append(s.flip(-1) if reversed_ else s)
        return torch.stack(seqs, dim=1)

    def cross_merge(self, y: Tensor, h: int, w: int) -> Tensor:
        """(n, K, d, h*w) -> (n, d, h, w): every route's output back on the grid, summed."""
        out = 0
        for k, (transposed, reversed_) in enumerate(self.routes):
            s = y[:, k].flip(-1) if reversed_ else y[:, k]
            if transposed:
                s = s.reshape(*s.shape[:2], w, h).transpose(2, 3)
            out = out + s.reshape(*s.shape[:2], h, w)
        return out

    def forward(self, tokens: Tensor) -> Tensor:
        """(n, h, w, C) -> (n, h, w, C)."""
        n, h, w, _ = tokens.shape
        x = self.in_proj(tokens)
        z = None
        if self.gate:
            x, z = x.chunk(2, dim=-1)
        x = F.silu(self.conv2d(x.permute(0, 3, 1, 2).contiguous()))
        xs = self.cross_scan(x)  # (n, K, d, L)
        k, length = xs.shape[1], xs.shape[-1]
        x_dbl = torch.einsum('nkdl,kcd->nkcl', xs, self.x_proj_weight)
        dts, bs, cs = x_dbl.split([self.dt_rank, self.d_state, self.d_state], dim=2)
        dts = torch.einsum('nkrl,kdr->nkdl', dts, self.dt_projs_weight)
        y = selective_scan(xs.reshape(n, k * self.d_inner, length),
                           dts.reshape(n, k * self.d_inner, length),
                           -torch.exp(self.A_logs.float()), bs.contiguous(), cs.contiguous(),
                           self.Ds.float(), delta_bias=self.dt_projs_bias.reshape(-1).float(),
                           delta_softplus=True, backend=self.backend)
        y = self.cross_merge(y.reshape(n, k, self.d_inner, length), h, w)
        y = self.out_norm(y.permute(0, 2, 3, 1))
        if z is not None:
            y = y * F.silu(z)
        return self.out_proj(y)


class VSSBlock(nn.Module):
    """A visual state-space block on (n, h, w, C) tokens: ``x + SS2D(LN(x))``, then
    ``x + MLP(LN(x))`` when ``mlp_ratio`` > 0 (VMamba v2; VM-UNet's v1 blocks have no
    MLP), each branch with stochastic depth ``drop_path``. ``ss2d`` kwargs go to
    :class:`SS2D`."""

    def __init__(self, dim: int, mlp_ratio: float = 4.0, drop_path: float = 0.0, **ss2d):
        super().__init__()
        from mmcv.cnn.bricks import DropPath
        self.norm1 = nn.LayerNorm(dim)
        self.ss2d = SS2D(dim, **ss2d)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.mlp = None
        if mlp_ratio > 0:
            hidden = int(dim * mlp_ratio)
            self.norm2 = nn.LayerNorm(dim)
            self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.drop_path(self.ss2d(self.norm1(x)))
        if self.mlp is not None:
            x = x + self.drop_path(self.mlp(self.norm2(x)))
        return x


def init_vss_weights(module: nn.Module) -> None:
    """VMamba's initialisation of the plain layers: Linear weights truncated normal
    (std 0.02), biases 0; LayerNorm 1 and 0 (SS2D's own parameters are left as built)."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
