"""PKEcho-Net's Multi-scale Region Proxy (MRP) as a temporal-aware neck (paper sec.
"Multi-scale Region Proxy", Fig. 3, eq. 5).

For every pair of consecutive resolutions (backbone level i and the finer level i - 1, and
level 0 and the input) an *affinity estimator* reads the coarser level f_i and predicts,
for each of its pixels and each of the s x s finer pixels it covers (s = the stride ratio),
a convex weighting of its M x M coarse neighbourhood:

    a = softmax_j(conv3x3(ReLU(BN(dwconv3x3(f_i)))))      j over the M*M neighbours

with out-of-image neighbours masked (weight exactly 0). A coarse map P (any channels: mask
logits, probabilities, features) is upsampled *without a decoder* as the convex
combination of its unfolded neighbourhood (eq. 5):

    P'(s y + a, s x + b) = sum_j a_j(a, b, y, x) * P(y + dy_j, x + dx_j)

chained from the coarsest level to the input resolution. The features pass through the
neck unchanged; the neck leaves a :class:`RegionProxyUpsampler` in
``clip.extras['logit_upsampler']`` (``LOGIT_UPSAMPLER_KEY``), which any head can call on its
coarse output, ``upsampler(logits)``, at any level's resolution (the chain starts at the
coarsest level of that size). ``EchoVideoSegmentor`` applies it to stock per-frame heads;
temporal heads (``KSSHead``) call it themselves, so every supervised stage goes through it.
"""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from torch import Tensor, nn

from echoseg.registry import MODELS
from ..utils.upsample import LOGIT_UPSAMPLER_KEY


def neighbour_validity(h: int, w: int, m: int, device=None) -> Tensor:
    """(m*m, h, w) bool: True where the neighbour (dy, dx) of pixel (y, x) is in the image.

    Neighbours are ordered row-major over the m x m window, as ``F.unfold`` orders them.
    """
    ones = torch.ones(1, 1, h, w, device=device)
    return F.unfold(ones, m, padding=m // 2).view(m * m, h, w) > 0


def convex_upsample(x: Tensor, affinity: Tensor) -> Tensor:
    """Eq. 5: (N, K, h, w) map, (N, m*m, s, s, h, w) affinities -> (N, K, s*h, s*w).

    Each output pixel is a convex combination of the m x m neighbourhood (zero padded;
    padded neighbours carry zero weight) of the coarse pixel it lies in.
    """
    n, k, h, w = x.shape
    mm, s = affinity.shape[1], affinity.shape[2]
    m = int(round(mm ** 0.5))
    cols = F.unfold(x, m, padding=m // 2).view(n, k, mm, h, w)
    out = torch.einsum('njabyx,nkjyx->nkyaxb', affinity, cols)
    return out.reshape(n, k, h * s, w * s)


class AffinityEstimator(nn.Module):
    """Depthwise 3x3 conv, norm, ReLU, 3x3 conv to M*M*s*s logits; softmax over the M*M.

    Initialisation (ours, after the paper's "Kaiming"): Kaiming normal (fan_in, ReLU gain)
    for the depthwise conv; for the logit conv Kaiming normal with the linear gain
    (std = 1/sqrt(fan_in)), so the logits start at the scale of the normalised features
    and the softmax starts unsaturated (close to uniform, never one-hot).
    """

    def __init__(self, channels: int, scale: int, neighbourhood: int = 3,
                 norm_cfg: Optional[dict] = None):
        super().__init__()
        if neighbourhood < 1 or neighbourhood % 2 == 0:
            raise ValueError(f'MRP: neighbourhood must be odd and >= 1, got {neighbourhood}')
        if scale < 1:
            raise ValueError(f'MRP: every scale must be an integer >= 1, got {scale}')
        self.scale = int(scale)
        self.m = int(neighbourhood)
        self.depthwise = nn.Conv2d(channels, channels, 3, padding=1, groups=channels,
                                   bias=False)
        self.norm = build_norm_layer(norm_cfg or dict(type='BN'), channels)[1]
        self.logits = nn.Conv2d(channels, self.m * self.m * self.scale ** 2, 3, padding=1)
        nn.init.kaiming_normal_(self.depthwise.weight, mode='fan_in', nonlinearity='relu')
        nn.init.kaiming_normal_(self.logits.weight, mode='fan_in', nonlinearity='linear')
        nn.init.zeros_(self.logits.bias)

    def forward(self, feat: Tensor) -> Tensor:
        """(N, C, h, w) -> (N, M*M, s, s, h, w) affinities summing to 1 over dim 1."""
        n, _, h, w = feat.shape
        s, mm = self.scale, self.m * self.m
        logits = self.logits(F.relu(self.norm(self.depthwise(feat))))
        logits = logits.view(n, mm, s, s, h, w)
        valid = neighbour_validity(h, w, self.m, feat.device).view(1, mm, 1, 1, h, w)
        logits = logits.masked_fill(~valid, float('-inf'))
        return logits.softmax(dim=1)


class RegionProxyUpsampler:
    """The chained convex upsampling of one batch of frames (eq. 5).

    ``affinities[i]`` upsamples level i's resolution to level i-1's (level 0: to the input).
    ``upsampler(x)`` takes (N, K, h, w) at the resolution of any level (the chain starts at
    the coarsest level of that size) and returns (N, K, H, W); ``frames`` (a bool mask or
    index over the N frames) selects the frames ``x`` holds, for heads that upsample a
    subset (e.g. the labelled frames).
    """

    def __init__(self, affinities: Sequence[Tensor], sizes: Sequence[Tuple[int, int]],
                 input_shape: Tuple[int, int]):
        self.affinities = list(affinities)
        self.sizes = [tuple(s) for s in sizes]
        self.input_shape = tuple(input_shape)

    def start_level(self, size: Tuple[int, int]) -> int:
        size = tuple(size)
        matches = [i for i, s in enumerate(self.sizes) if s == size]
        if not matches:
            raise ValueError(f'MRP: a map of size {size} matches no level '
                             f'(levels: {self.sizes}, input {self.input_shape})')
        return max(matches)

    def __call__(self, x: Tensor, frames: Optional[Tensor] = None) -> Tensor:
        if tuple(x.shape[-2:]) == self.input_shape:
            return x
        for i in range(self.start_level(x.shape[-2:]), -1, -1):
            a = self.affinities[i]
            x = convex_upsample(x, a if frames is None else a[frames])
        return x


@MODELS.register_module()
class MRPNeck(BaseModule):
    """Multi-scale Region Proxy: one affinity estimator per pair of consecutive levels.

    Args:
        in_channels: channels of the backbone levels, finest first.
        scales: stride ratio of each level to the next finer resolution, finest first:
            ``scales[0]`` level 0 -> input, ``scales[i]`` level i -> level i-1. ResNet
            (strides 4, 8, 16, 32): ``(4, 2, 2, 2)``; a dilated last stage: ratio 1 (the
            estimator then smooths at the same resolution).
        neighbourhood: M, the M x M coarse neighbourhood (the paper: 3).
        norm_cfg: the estimators' norm layer.

    Called as a temporal neck (``neck(feats, clip=clip)``) it puts a
    :class:`RegionProxyUpsampler` in ``clip.extras[LOGIT_UPSAMPLER_KEY]``; ``upsampler(feats,
    input_shape)`` builds one directly. The features are returned unchanged.
    """

    temporal = True

    def __init__(self, in_channels: Sequence[int], scales: Sequence[int] = (4, 2, 2, 2),
                 neighbourhood: int = 3, norm_cfg: Optional[dict] = None, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if len(in_channels) != len(scales):
            raise ValueError(f'MRPNeck: in_channels ({list(in_channels)}) and scales '
                             f'({list(scales)}) must have one entry per level')
        if any(int(s) != s for s in scales):
            raise ValueError(f'MRPNeck: scales must be integers, got {list(scales)}')
        self.in_channels = list(in_channels)
        self.scales = [int(s) for s in scales]
        self.estimators = nn.ModuleList(
            AffinityEstimator(c, s, neighbourhood, norm_cfg)
            for c, s in zip(self.in_channels, self.scales))

    def upsampler(self, feats: Sequence[Tensor], input_shape: Tuple[int, int]
                  ) -> RegionProxyUpsampler:
        if len(feats) != len(self.estimators):
            raise ValueError(f'MRPNeck: got {len(feats)} levels, built for '
                             f'{len(self.estimators)}')
        sizes = [tuple(f.shape[-2:]) for f in feats]
        finer = [tuple(input_shape)] + sizes[:-1]
        for i, (size, fine, s) in enumerate(zip(sizes, finer, self.scales)):
            if (size[0] * s, size[1] * s) != fine:
                raise ValueError(
                    f'MRPNeck: level {i} is {size}, x{s} gives {(size[0] * s, size[1] * s)}'
                    f', but the next finer resolution is {fine}: the input size must be a '
                    f'multiple of the total stride and scales must match the backbone')
        affinities = [est(f) for est, f in zip(self.estimators, feats)]
        return RegionProxyUpsampler(affinities, sizes, input_shape)

    def forward(self, feats: Sequence[Tensor], clip=None) -> Tuple[Tensor, ...]:
        feats = tuple(feats)
        if clip is not None:
            shape = clip.input_shape
            if shape is None:
                raise ValueError('MRPNeck: the ClipContext carries no input_shape')
            clip.extras[LOGIT_UPSAMPLER_KEY] = self.upsampler(feats, shape)
        return feats

