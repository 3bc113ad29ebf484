"""EchoForge's Continuous Pseudo-label Reforging (CPR) (paper sec. 3.3, eqs 5-6).

For a target frame u with features F^U and a labelled frame r of the same clip with
features F^L (both the neck output ``features[in_index]``, (C, h, w)):

    Q = flatten(F^L) W_q,  K = flatten(F^U) W_k,  V = flatten(F^U) W_v   (hw x D each,
                                                                          1x1 convs)
    A = softmax(IN(Q^T K))        (eq. 5; D x D channel attention, rows sum to 1; IN is an
                                   instance norm over the D x D map with a learnable
                                   scale and shift, i.e. a learned softmax temperature)
    F^U_hat = A V^T               (eq. 6; D x hw, back to (D, h, w))
    y^U_hat = semantic_alignment(F^U_hat)   (3x3 ConvModule + 1x1 conv to K classes)

A frame with several labelled references (an unlabelled frame sees ED and ES) uses the mean
of their attention maps, ``A = mean_r A_r`` (F_hat is linear in A, so this equals averaging
the reforged features). A labelled frame references only the *other* labelled frames.

Training signal of CPR's own parameters (``loss_cpr``): each labelled frame is reforged
from the other labelled frame(s) of its clip (ED from ES, ES from ED) and supervised with
its ground-truth mask by cross-entropy. By default the features are detached
(``detach_features=True``): CPR's loss, which can be fitted on two frames, then trains only
CPR and does not pull the shared backbone/neck; the segmentation losses shape those.

Pseudo-labels of a frame combine, as an average of class probabilities over the sources
available at each pixel (weights ``model_weight``, ``cpr_weight``, ``prev_weight``):
the model's own prediction (detached), CPR's reforged prediction (frames with a labelled
reference), and the previous prediction of the same source frame from the memory
(where it exists). ``labels = argmax``, ``confidence = max probability``.

The memory holds, per (``video_id``, source frame index), the last *combined* probability
map of every unlabelled frame, written every training iteration (so when a video comes
back, normally one epoch later, its previous reforged labels are averaged in: each epoch's
estimate enters the next with weight 1/3 by default, so old errors fade geometrically). It
is kept on the CPU as uint8 (K - 1 channels, background = 1 - sum of the others; 255 marks
pixels outside the field of view) at ``memory_resolution`` squared, in the *canonical*
(un-augmented) frame: predictions are warped back with the clip's geometric augmentation
before they are stored and warped forward when read. The warp is read from the metainfo:
``warp_matrix`` (2x3 or 3x3, canonical pixel -> augmented pixel, the cv2.warpAffine
convention) when present, otherwise built from ``flip`` (horizontal), ``aug_scale`` and
``aug_angle`` (cv2.getRotationMatrix2D about the centre) assuming the flip was applied
first. The memory is not checkpointed (after a resume it refills within one epoch) and in
distributed training each process keeps its own.
"""
import math
from typing import Dict, Hashable, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from torch import Tensor, nn

from echoseg.registry import MODELS
from echoseg.structures import IGNORE_INDEX
from ..utils import ClipContext
from .base_pseudo_labeler import BasePseudoLabeler

_INVALID = 255  # uint8 memory value of pixels outside the stored field of view


def clip_affine(meta: dict, height: int, width: int) -> Optional[np.ndarray]:
    """3x3 canonical -> augmented pixel transform of a clip, or None for the identity."""
    if meta.get('warp_matrix') is not None:
        m = np.asarray(meta['warp_matrix'], dtype=np.float64)
        if m.shape == (2, 3):
            m = np.vstack([m, [0.0, 0.0, 1.0]])
        return None if np.allclose(m, np.eye(3)) else m
    m = np.eye(3)
    if meta.get('flip'):
        m = np.array([[-1.0, 0.0, width - 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]) @ m
    angle = float(meta.get('aug_angle', 0.0) or 0.0)
    scale = float(meta.get('aug_scale', 1.0) or 1.0)
    if angle != 0.0 or scale != 1.0:
        cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
        a = scale * math.cos(math.radians(angle))
        b = scale * math.sin(math.radians(angle))
        rot = np.array([[a, b, (1 - a) * cx - b * cy], [-b, a, b * cx + (1 - a) * cy],
                        [0.0, 0.0, 1.0]])
        m = rot @ m
    return None if np.allclose(m, np.eye(3)) else m


def warp_maps(maps: Tensor, matrix: np.ndarray) -> Tuple[Tensor, Tensor]:
    """Resample (C, H, W) maps so that out(x) = maps(matrix @ x) in pixel coordinates.

    Returns the warped maps and a (H, W) bool map of the pixels that fell inside.
    """
    _, h, w = maps.shape
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32),
                            torch.arange(w, dtype=torch.float32), indexing='ij')
    m = torch.as_tensor(matrix, dtype=torch.float32)
    sx = m[0, 0] * xs + m[0, 1] * ys + m[0, 2]
    sy = m[1, 0] * xs + m[1, 1] * ys + m[1, 2]
    grid = torch.stack([2 * sx / max(w - 1, 1) - 1, 2 * sy / max(h - 1, 1) - 1], dim=-1)
    grid = grid.to(maps.device, maps.dtype).unsqueeze(0)
    out = F.grid_sample(maps.unsqueeze(0), grid, mode='bilinear', padding_mode='zeros',
                        align_corners=True)[0]
    inside = (sx >= -1e-3) & (sx <= w - 1 + 1e-3) & (sy >= -1e-3) & (sy <= h - 1 + 1e-3)
    return out, inside.to(maps.device)


@MODELS.register_module()
class CPRPseudoLabeler(BasePseudoLabeler):
    """Continuous Pseudo-label Reforging of EchoForge (eqs 5-6); see the module docstring.

    Args:
        in_channels: channels of ``features[in_index]``.
        num_classes: K, as the decode head's ``num_classes``.
        in_index: which neck output to use (default the last).
        channels: D, the width of W_q, W_k, W_v.
        detach_features: train CPR only from its own loss (see above).
        loss_weight: weight of ``loss_cpr``.
        model_weight, cpr_weight, prev_weight: weights of the three probability sources.
        memory_resolution: side of the stored maps; None or 0 disables the memory.
        norm_cfg: of the semantic-alignment ConvModule.
    """

    def __init__(self, in_channels: int, num_classes: int = 2, in_index: int = -1,
                 channels: int = 64, detach_features: bool = True, loss_weight: float = 1.0,
                 model_weight: float = 1.0, cpr_weight: float = 1.0, prev_weight: float = 1.0,
                 memory_resolution: Optional[int] = 64, norm_cfg: dict = dict(type='BN'),
                 align_corners: bool = False, init_cfg=None):
        super().__init__(init_cfg)
        self.in_index = in_index
        self.num_classes = num_classes
        self.channels = channels
        self.detach_features = detach_features
        self.loss_weight = loss_weight
        self.model_weight = model_weight
        self.cpr_weight = cpr_weight
        self.prev_weight = prev_weight
        self.memory_resolution = memory_resolution or 0
        self.align_corners = align_corners
        self.q_proj = nn.Conv2d(in_channels, channels, 1)
        self.k_proj = nn.Conv2d(in_channels, channels, 1)
        self.v_proj = nn.Conv2d(in_channels, channels, 1)
        self.attn_norm = nn.InstanceNorm2d(1, affine=True)
        self.semantic_align = nn.Sequential(
            ConvModule(channels, channels, 3, padding=1, norm_cfg=norm_cfg,
                       act_cfg=dict(type='ReLU')),
            nn.Conv2d(channels, num_classes, 1))
        for conv in (self.q_proj, self.k_proj, self.v_proj, self.semantic_align[1]):
            nn.init.kaiming_normal_(conv.weight, mode='fan_out', nonlinearity='relu')
            nn.init.zeros_(conv.bias)
        self.memory: Dict[Hashable, Tensor] = {}

    # ------------------------------------------------------------------ eqs 5-6
    def channel_attention(self, feats: Tensor, clip: ClipContext
                          ) -> Tuple[Tensor, Tensor, Tensor]:
        """A per frame (n, D, D) averaged over its labelled references, V (n, D, h, w),
        and has_ref (n,) bool (frames with at least one labelled reference)."""
        n, _, h, w = feats.shape
        b, t = clip.batch_size, clip.num_frames
        q = self.q_proj(feats).flatten(2)  # (n, D, hw), i.e. Q^T
        k = self.k_proj(feats).flatten(2)
        v = self.v_proj(feats)
        d = q.shape[1]
        # logits[b, u, r] = Q_r^T K_u for every target u and reference r of a clip
        logits = torch.einsum('brip,bujp->burij', q.reshape(b, t, d, -1),
                              k.reshape(b, t, d, -1))
        logits = self.attn_norm(logits.reshape(-1, 1, d, d)).reshape(b, t, t, d, d)
        attn = logits.softmax(dim=-1)
        eye = torch.eye(t, dtype=torch.bool, device=feats.device)
        refs = (clip.labelled.unsqueeze(1).expand(-1, t, -1) & ~eye).to(attn.dtype)
        count = refs.sum(dim=-1)  # (b, t)
        attn = torch.einsum('bur,burij->buij', refs, attn) \
            / count.clamp_min(1).reshape(b, t, 1, 1)
        return attn.reshape(n, d, d), v, (count > 0).reshape(n)

    def reforge(self, feats: Tensor, clip: ClipContext) -> Tuple[Tensor, Tensor, Tensor]:
        """-> (K-class logits (n, K, h, w), has_ref (n,), attention (n, D, D))."""
        attn, v, has_ref = self.channel_attention(feats, clip)
        n, d, h, w = v.shape
        reforged = torch.bmm(attn, v.flatten(2)).reshape(n, d, h, w)
        return self.semantic_align(reforged), has_ref, attn

    # ------------------------------------------------------------------ memory
    def _key(self, clip: ClipContext, b: int, t: int) -> Optional[Hashable]:
        if not clip.data_samples:
            return None
        meta = clip.data_samples[b].metainfo
        vid, idx = meta.get('video_id'), meta.get('frame_indices')
        if vid is None or idx is None:
            return None
        return (vid, int(idx[t]))

    def _affine(self, clip: ClipContext, b: int, size: Tuple[int, int]):
        if not clip.data_samples:
            return None
        return clip_affine(clip.data_samples[b].metainfo, *size)

    @torch.no_grad()
    def read_memory(self, clip: ClipContext, size: Tuple[int, int], dtype: torch.dtype
                    ) -> Tuple[Tensor, Tensor]:
        """Previous probabilities (n, K, H, W) in the current frame and validity (n, H, W)."""
        h, w = size
        n = clip.batch_size * clip.num_frames
        probs = torch.zeros(n, self.num_classes, h, w, device=clip.device, dtype=dtype)
        valid = torch.zeros(n, h, w, dtype=torch.bool, device=clip.device)
        if not self.memory_resolution:
            return probs, valid
        for b in range(clip.batch_size):
            matrix = None
            for t in range(clip.num_frames):
                key = self._key(clip, b, t)
                stored = self.memory.get(key) if key is not None else None
                if stored is None:
                    continue
                i = b * clip.num_frames + t
                q = stored.to(clip.device)
                ok = (q[0] != _INVALID).to(dtype)[None, None]
                fg = torch.where(q == _INVALID, torch.zeros_like(q), q).to(dtype) / 254.0
                fg = F.interpolate(fg[None], size=size, mode='bilinear', align_corners=False)[0]
                ok = F.interpolate(ok, size=size, mode='nearest')[0]
                p = torch.cat([(1 - fg.sum(0, keepdim=True)).clamp_min(0), fg], dim=0)
                p = p / p.sum(0, keepdim=True).clamp_min(1e-6)
                if matrix is None:
                    matrix = self._affine(clip, b, size)
                    matrix = False if matrix is None else np.linalg.inv(matrix)
                if matrix is not False:
                    # out(x_current) = stored(M^-1 x_current)
                    maps, inside = warp_maps(torch.cat([p, ok], 0), matrix)
                    p, ok = maps[:-1], maps[-1:] * inside
                probs[i] = p
                valid[i] = ok[0] > 0.99
        return probs, valid

    @torch.no_grad()
    def write_memory(self, clip: ClipContext, probs: Tensor) -> None:
        """Store (n, K, H, W) probabilities of the unlabelled frames, in canonical frames."""
        if not self.memory_resolution:
            return
        size = tuple(probs.shape[-2:])
        r = self.memory_resolution
        labelled = clip.labelled.cpu()
        for b in range(clip.batch_size):
            matrix = self._affine(clip, b, size)
            for t in range(clip.num_frames):
                key = self._key(clip, b, t)
                if key is None or bool(labelled[b, t]):
                    continue
                p = probs[b * clip.num_frames + t].float()
                ok = torch.ones(1, *size, device=p.device)
                if matrix is not None:
                    # canonical(x) = current(M x)
                    maps, inside = warp_maps(torch.cat([p, ok], 0), matrix)
                    p, ok = maps[:-1], maps[-1:] * inside
                p = F.interpolate(p[None], size=(r, r), mode='area')[0]
                ok = F.interpolate(ok[None], size=(r, r), mode='area')[0] > 0.99
                q = (p[1:] * 254).round().clamp(0, 254).to(torch.uint8)
                q[:, ~ok[0]] = _INVALID
                self.memory[key] = q.cpu()

    # ------------------------------------------------------------------ slot interface
    @staticmethod
    def _probabilities(logits: Tensor) -> Tensor:
        if logits.shape[1] == 1:
            p = logits.sigmoid()
            return torch.cat([1 - p, p], dim=1)
        return logits.softmax(dim=1)

    def _zero_loss(self) -> Tensor:
        return sum(p.sum() for p in self.parameters()) * 0.0

    def forward(self, seg_logits: Tensor, features: Sequence[Tensor],
                clip: ClipContext) -> Dict:
        feats = features[self.in_index]
        if self.detach_features:
            feats = feats.detach()
        size = tuple(seg_logits.shape[-2:])
        cpr_logits, has_ref, _ = self.reforge(feats, clip)
        cpr_full = F.interpolate(cpr_logits, size=size, mode='bilinear',
                                 align_corners=self.align_corners)

        losses = {}
        train_frames = has_ref & clip.labelled_flat
        if clip.gt_masks is not None and bool(train_frames.any()):
            gt = clip.fold(clip.gt_masks)[train_frames].long()
            loss = F.cross_entropy(cpr_full[train_frames], gt, ignore_index=IGNORE_INDEX)
            losses['loss_cpr'] = loss * self.loss_weight
        else:
            losses['loss_cpr'] = self._zero_loss()

        with torch.no_grad():
            p_model = self._probabilities(seg_logits.detach().float())
            p_cpr = cpr_full.detach().float().softmax(dim=1)
            p_prev, valid_prev = self.read_memory(clip, size, p_model.dtype)
            w_cpr = (self.cpr_weight * has_ref.float()).view(-1, 1, 1, 1)
            w_prev = self.prev_weight * valid_prev.float().unsqueeze(1)
            num = self.model_weight * p_model + w_cpr * p_cpr + w_prev * p_prev
            probs = num / (self.model_weight + w_cpr + w_prev).clamp_min(1e-6)
            confidence, labels = probs.max(dim=1)
            if self.training:
                self.write_memory(clip, probs)
        return dict(labels=labels, confidence=confidence, losses=losses)
