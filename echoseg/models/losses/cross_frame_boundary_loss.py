"""NCM-Net's cross-frame boundary constraint (Deng & Wu, IEEE TMI 2025: "we use cross-frame
boundary constraints on the final predictions to optimize their temporal consistency").

The released code has no such loss; this one is designed from the abstract (ours, a named
variant: configs/ncmnet/variants/, docs/methods/ncmnet.md). For the predicted foreground
probabilities p_t (H, W) of the T frames of a clip:

- soft boundary map ``b_t = maxpool3x3(p_t) - minpool3x3(p_t)`` (a morphological gradient
  in [0, 1], differentiable, non-zero only where the prediction changes within one pixel);
- ``D_t``: the distance (in units of max(H, W)) of every pixel to the predicted boundary of
  frame t (the hard mask ``p_t > 0.5``; a mask with no boundary gives the image diagonal),
  computed without gradient;
- pair term, symmetric: how much farther frame t+1's boundary lies from frame t's
  boundary than from its own (the own distance removes the width of a soft boundary band,
  so two identical predictions cost exactly 0, however blurred), beyond a tolerance delta,

      e_{t|t+1}(x) = relu(D_t(x) - D_{t+1}(x) - delta)
      d(t -> t+1) = sum_x b_{t+1}(x) e_{t|t+1}(x) / max(H, W)
      L = mean over clips and t of (d(t -> t+1) + d(t+1 -> t)) / 2

- **a fixed denominator** (``denominator='fixed'``, the default): boundary mass is only
  ever added to the numerator, so no boundary mass lowers the loss. The earlier weighted
  mean ``sum b e / sum b`` (``denominator='boundary_mass'``) fell when boundary probability
  was added where e = 0, which on unlabelled frames (the loss is their only direct
  supervision) rewarded spreading boundary mass; kept to reproduce earlier runs.

- **real motion is not punished**: the LV contracts from ED (frame 0) to ES (frame T-1),
  so consecutive boundaries *should* differ. The tolerance per clip is

      delta = max(min_tolerance, motion_factor * M / (T - 1))

  with M the mean distance between the clip's first and last predicted boundaries (ED
  and ES; symmetric, delta = 0, the hard boundaries as weights and their sum as the
  denominator, so M is a distance; no gradient): a boundary moving at up to ``motion_factor`` (2)
  times the clip's average ED -> ES speed costs nothing; what is penalised is a jump
  (flicker, a collapsing or exploding mask) beyond that. ``min_tolerance`` (1 px) lets
  one-pixel jitter pass.

Gradients flow through the soft boundary maps (the weights), moving boundary mass of a
frame towards its neighbours' boundaries; distances and tolerance are constants.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from echoseg.registry import MODELS
from .boundary_loss import signed_distance_maps


def soft_boundary(probs: Tensor) -> Tensor:
    """(N, H, W) probabilities -> (N, H, W) soft boundary map in [0, 1]."""
    p = probs.unsqueeze(1)
    dilated = F.max_pool2d(p, 3, stride=1, padding=1)
    eroded = -F.max_pool2d(-p, 3, stride=1, padding=1)
    return (dilated - eroded).squeeze(1)


def boundary_distance_maps(masks: Tensor) -> Tensor:
    """(N, H, W) bool masks -> (N, H, W) distance to the mask's boundary, in pixels (1 on
    the pixels either side of it; the image diagonal everywhere for an empty or full mask).
    """
    return signed_distance_maps(masks, normalize=False).abs()


@MODELS.register_module()
class CrossFrameBoundaryLoss(nn.Module):
    """Boundary consistency of consecutive frames with a motion tolerance (module docstring).

    ``forward(seg_logits)``: (B, T, K, H, W) logits of every frame of B clips (K = 1:
    sigmoid; K > 1: softmax, class ``fg_class``).

    Args:
        min_tolerance: delta's floor, in pixels (1).
        motion_factor: delta = motion_factor x the clip's mean ED -> ES boundary motion per
            step; 0 gives a fixed tolerance ``min_tolerance``.
        denominator: ``'fixed'`` (max(H, W)) or ``'boundary_mass'`` (sum of the soft
            boundary: the earlier weighted mean).
        threshold: foreground probability of the hard masks the distances come from.
        fg_class: the scored class of a softmax prediction.
        loss_weight: overall weight.
        loss_name: the logged name.
    """

    def __init__(self, min_tolerance: float = 1.0, motion_factor: float = 2.0,
                 threshold: float = 0.5, fg_class: int = 1, loss_weight: float = 1.0,
                 loss_name: str = 'loss_cross_frame_boundary', denominator: str = 'fixed'):
        super().__init__()
        if denominator not in ('fixed', 'boundary_mass'):
            raise ValueError("CrossFrameBoundaryLoss: denominator must be 'fixed' or "
                             f"'boundary_mass', got {denominator!r}")
        self.denominator = denominator
        self.min_tolerance = min_tolerance
        self.motion_factor = motion_factor
        self.threshold = threshold
        self.fg_class = fg_class
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def probabilities(self, seg_logits: Tensor) -> Tensor:
        """(B, T, K, H, W) logits -> (B, T, H, W) foreground probabilities."""
        if seg_logits.shape[2] == 1:
            return seg_logits[:, :, 0].sigmoid()
        return seg_logits.softmax(dim=2)[:, :, self.fg_class]

    @staticmethod
    def _directed(weights: Tensor, dist: Tensor, norm: Optional[float] = None) -> Tensor:
        """sum b D over the last two axes, divided by ``norm`` (None: by sum b)."""
        total = (weights * dist).flatten(-2).sum(-1)
        if norm is not None:
            return total / norm
        return total / weights.flatten(-2).sum(-1).clamp_min(1e-6)

    def _pair(self, weights: Tensor, ref: Tensor, own: Tensor, delta,
              norm: Optional[float] = None) -> Tensor:
        """d(ref -> own frame): weights (..., H, W) soft boundary of the own frame."""
        return self._directed(weights, (ref - own - delta).clamp_min(0), norm)

    def tolerance(self, dist: Tensor, boundary: Tensor) -> Tensor:
        """(B,) tolerance in pixels from the clip's first/last frame (module docstring)."""
        b, t = boundary.shape[:2]
        floor = torch.full((b, ), float(self.min_tolerance), device=dist.device)
        if self.motion_factor <= 0 or t < 2:
            return floor
        first, last = boundary[:, 0], boundary[:, -1]
        motion = 0.5 * (self._pair(last, dist[:, 0], dist[:, -1], 0.0)
                        + self._pair(first, dist[:, -1], dist[:, 0], 0.0))
        return torch.maximum(floor, self.motion_factor * motion / (t - 1))

    def forward(self, seg_logits: Tensor, **kwargs) -> Tensor:
        b, t, _, h, w = seg_logits.shape
        if t < 2:
            return seg_logits.sum() * 0.0
        probs = self.probabilities(seg_logits)
        with torch.no_grad():
            masks = probs.detach() > self.threshold
            dist = boundary_distance_maps(masks.reshape(b * t, h, w)).view(b, t, h, w)
            hard_boundary = soft_boundary(masks.float().view(b * t, h, w)).view(b, t, h, w)
            delta = self.tolerance(dist, hard_boundary).view(b, 1, 1, 1)
            dist = dist / max(h, w)
            delta = delta / max(h, w)
        bnd = soft_boundary(probs.reshape(b * t, h, w)).view(b, t, h, w)
        norm = None if self.denominator == 'boundary_mass' else float(max(h, w))
        forward_term = self._pair(bnd[:, 1:], dist[:, :-1], dist[:, 1:], delta, norm)  # t+1|t
        backward_term = self._pair(bnd[:, :-1], dist[:, 1:], dist[:, :-1], delta, norm)  # t|t+1
        loss = 0.5 * (forward_term + backward_term).mean()
        return self.loss_weight * loss
