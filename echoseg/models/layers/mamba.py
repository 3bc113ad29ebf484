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
        dt = torch.exp(torch.rand(self.d_inner) * (math.log(dt_max) - math.log(dt_min))
                       + math.log(dt_min)).clamp(min=dt_init_floor)
        with torch.no_grad():
            self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))  # softplus^-1(dt)
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
