"""Boundary loss of Kervadec et al. (2021), the L_b of PKEcho-Net's eq. 6.

``L_b = mean_x phi_G(x) * (s(x) - g(x))`` over non-ignored pixels, with ``s`` the predicted
probability of a class, ``g`` its indicator in the ground truth G and ``phi_G`` the signed
distance map of G: outside G the distance to the nearest pixel of G, inside G minus the
distance to the nearest pixel outside G (both >= 1 pixel). Kervadec's loss is
``mean phi_G s``; subtracting the constant ``mean phi_G g`` (no gradient) makes the loss 0
for a perfect prediction and positive for any other: phi (s - g) >= 0 at every pixel, and
it grows with the distance of a wrong pixel from the boundary.

**The NCM-Net fork's ``BoundaryLossV2``** (weight 0.01 in its ``stecho/loss`` configs) is
Kervadec's reference code as written: ``mean phi_G s`` with Kervadec's maps (outside the
distance to G, inside minus (the distance to the outside - 1), so 0 on G's inner boundary
pixels; a mask with no foreground all 0), in pixels, without the offset:
``BoundaryLoss(maps='kervadec', offset=False, normalize=False, loss_weight=0.01)``. (The
fork also counts pixels labelled 255 as foreground and in the mean; here they are ignored.)

Distance maps are computed once per mask and class, in one vectorised call for the whole
batch (``scipy.ndimage.distance_transform_edt`` on the (N, H, W) stack with a huge spacing
along N, so no distance crosses masks), never per pixel in Python; a head that applies the
loss to several predictions of the same masks (deep supervision) computes them once with
:meth:`BoundaryLoss.distance_maps` and passes ``dist=``.
"""
from typing import Optional

import numpy as np
import torch
from scipy import ndimage
from torch import Tensor, nn

from echoseg.registry import MODELS

_FAR = 1e6  # spacing between masks of the stack; any distance >= this crossed masks


def signed_distance_maps(masks: Tensor, normalize: bool = True,
                         kervadec: bool = False) -> Tensor:
    """(N, H, W) bool masks -> (N, H, W) float signed distances (outside +, inside -).

    A mask without foreground gets + the image diagonal everywhere, a full mask - the
    diagonal (no pixel of the other class in the image). ``normalize`` divides by
    max(H, W). ``kervadec``: Kervadec's reference maps instead (inside -(d - 1), an empty
    mask all 0; the module docstring).
    """
    m = masks.detach().cpu().numpy().astype(bool)
    n, h, w = m.shape
    diag = float(np.hypot(h, w))
    sampling = (_FAR, 1.0, 1.0)
    # distance_transform_edt measures the distance to the nearest zero
    outside = ndimage.distance_transform_edt(~m, sampling=sampling)   # to nearest fg
    inside = ndimage.distance_transform_edt(m, sampling=sampling)     # to nearest bg
    outside[outside >= _FAR / 2] = diag
    inside[inside >= _FAR / 2] = diag
    if kervadec:
        phi = np.where(m, 1.0 - inside, outside).astype(np.float32)
        phi[~m.any(axis=(1, 2))] = 0.0
    else:
        phi = np.where(m, -inside, outside).astype(np.float32)
    if normalize:
        phi /= max(h, w)
    return torch.from_numpy(phi).to(masks.device)


@MODELS.register_module()
class BoundaryLoss(nn.Module):
    """``loss_weight * mean phi_G (s - g)`` (Kervadec's boundary loss, offset to 0).

    One-channel logits (N, 1, H, W): ``s = sigmoid``, the class is label 1. K channels:
    ``s = softmax``, averaged over classes 1..K-1 (``include_background=False``) or all.
    Pixels equal to ``ignore_index`` count neither in the distance maps (treated as not
    in G) nor in the mean.

    Args:
        normalize: distances in units of max(H, W) (ours; the term stays of the order of
            the Dice loss at every input size). False: pixels, as Kervadec.
        maps: ``'signed'`` (the maps above) or ``'kervadec'`` (Kervadec's reference maps,
            as the NCM-Net fork's ``BoundaryLossV2``).
        offset: subtract ``mean phi_G g`` (0 for a perfect prediction); False: Kervadec's
            ``mean phi_G s`` as written (negative inside G).
        include_background: also score the background class (K channels).
        loss_weight: overall weight.
        loss_name: the logged name.
    """

    def __init__(self, normalize: bool = True, include_background: bool = False,
                 loss_weight: float = 1.0, loss_name: str = 'loss_boundary',
                 maps: str = 'signed', offset: bool = True):
        super().__init__()
        if maps not in ('signed', 'kervadec'):
            raise ValueError(f"BoundaryLoss: maps must be 'signed' or 'kervadec', got {maps!r}")
        self.normalize = normalize
        self.maps = maps
        self.offset = offset
        self.include_background = include_background
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def _classes(self, num_channels: int):
        if num_channels == 1:
            return [1]
        return list(range(0 if self.include_background else 1, num_channels))

    def distance_maps(self, target: Tensor, num_channels: int,
                      ignore_index: int = 255) -> Tensor:
        """(N, H, W) labels -> (N, C', H, W) signed distance maps of the scored classes."""
        valid = target != ignore_index
        stack = torch.stack([(target == c) & valid for c in self._classes(num_channels)], 1)
        n, c, h, w = stack.shape
        return signed_distance_maps(stack.view(n * c, h, w), self.normalize,
                                    kervadec=self.maps == 'kervadec').view(n, c, h, w)

    def forward(self, pred: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                ignore_index: int = 255, dist: Optional[Tensor] = None, **kwargs) -> Tensor:
        if target.dim() == pred.dim():
            target = target.squeeze(1)
        valid = target != ignore_index
        if not bool(valid.any()):
            return pred.sum() * 0.0
        classes = self._classes(pred.shape[1])
        if pred.shape[1] == 1:
            probs = pred.sigmoid()
        else:
            probs = pred.softmax(dim=1)[:, classes]
        onehot = torch.stack([(target == c) & valid for c in classes], 1).float()
        if dist is None:
            dist = self.distance_maps(target, pred.shape[1], ignore_index)
        w = valid.unsqueeze(1).float()
        if weight is not None:
            w = w * weight.unsqueeze(1)
        per_pixel = dist * ((probs - onehot) if self.offset else probs) * w
        loss = per_pixel.sum() / (w.sum() * len(classes)).clamp_min(1e-6)
        return self.loss_weight * loss
