"""MSSNet's Dynamic Offset Correction (DOC) pseudo-labeler.

MSSNet (Chen et al., IEEE TMI 2026): DOC "continuously integrates features from
high-quality pseudo-labels during training". As the public DOC.py, for every training clip:

memory (per video, in the canonical frame)
    the class probabilities of every unlabelled frame, keyed (``video_id``, source frame
    index), stored as CPR's memory is (``frame_memory``: uint8, warped back through the
    clip's geometric augmentation; frames a clip mixer changed are skipped).
offset check (after ``warmup_epochs``)
    the deviation of the current prediction from the stored one,
    ``dev = 1 - (Dice + IoU) / 2`` of their binarised foregrounds (over the pixels valid in
    both), averaged over the clip's stored frames. The clip's new prediction replaces the
    stored one only when ``dev < tau``; otherwise the stored one stays and is the pseudo-
    label. In the warm-up epochs every prediction is stored and no pseudo-label is given
    (confidence 0, as the public code returns none in epoch 0).
adaptive threshold
    ``tau`` is the running (bias-corrected exponential, ``threshold_momentum``) mean of the
    clip deviations measured so far; 0 before the first measurement (the public code's
    threshold in its second epoch: nothing is replaced until a deviation has been seen).
    Each batch is decided with the threshold before its own deviations are added.
contrastive loss (``loss_doc``, InfoNCE)
    features of the neck level ``in_index``, projected (1x1 conv, ReLU, 1x1 conv to
    ``embed_dims``) and L2-normalised per pixel; the targets are the ground truth of the
    labelled frames and DOC's pseudo-labels of the others (after warm-up), at feature
    resolution. For a pixel of frame i with class c the positive is the class-c prototype
    (mean normalised feature) of the clip's *other* frames (the matching region across
    time), the negatives the prototypes of every other class in every frame of the clip:
    ``-log exp(z.p+/T) / (exp(z.p+/T) + sum exp(z.p-/T))``, T = ``temperature`` (0.07, the
    public value).

Labels and confidence returned: argmax and max of the pseudo-label probabilities (the
stored map after the check where it is valid, the model's own prediction elsewhere).

The memory (``memory.*``) and ``tau``'s running sums (buffers) are plain tensors in the
state dict, so checkpoints carry them and ``--resume`` restores them.
"""
from typing import Dict, Hashable, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub
from torch import Tensor, nn

from echoseg.registry import MODELS
from echoseg.structures import IGNORE_INDEX
from ..utils import ClipContext
from .base_pseudo_labeler import BasePseudoLabeler
from .frame_memory import (MemoryCheckpointMixin, clip_matrix, decode_probs, encode_probs,
                           memory_key)


def offset_deviation(current: Tensor, stored: Tensor, valid: Optional[Tensor] = None,
                     eps: float = 1e-6) -> Tensor:
    """1 - (Dice + IoU) / 2 of two binary maps (..., H, W) over ``valid`` pixels; 0 when
    both are empty."""
    cur, ref = current.bool(), stored.bool()
    if valid is not None:
        cur, ref = cur & valid, ref & valid
    inter = (cur & ref).flatten(-2).sum(-1).double()
    total = cur.flatten(-2).sum(-1).double() + ref.flatten(-2).sum(-1).double()
    dice = (2 * inter + eps) / (total + eps)
    iou = (inter + eps) / (total - inter + eps)
    return (1 - (dice + iou) / 2).float()


@MODELS.register_module()
class DOCPseudoLabeler(MemoryCheckpointMixin, BasePseudoLabeler):
    """Dynamic Offset Correction of MSSNet; see the module docstring.

    Args:
        in_channels: channels of the neck output ``features[in_index]``.
        num_classes: K, as the decode head's ``num_classes``.
        in_index: the neck output whose features the contrastive loss trains.
        embed_dims: width of the contrastive projection.
        temperature: of the InfoNCE loss.
        loss_weight: weight of ``loss_doc``.
        warmup_epochs: epochs in which every prediction is stored and no pseudo-label given.
        threshold_momentum: momentum of the running mean deviation tau.
        memory_resolution: side of the stored maps.
    """

    def __init__(self, in_channels: int, num_classes: int = 2, in_index: int = -1,
                 embed_dims: int = 64, temperature: float = 0.07, loss_weight: float = 0.1,
                 warmup_epochs: int = 1, threshold_momentum: float = 0.9,
                 memory_resolution: int = 64, init_cfg=None):
        super().__init__(init_cfg)
        if not 0.0 <= threshold_momentum < 1.0:
            raise ValueError('DOCPseudoLabeler: threshold_momentum must be in [0, 1)')
        if memory_resolution < 1:
            raise ValueError('DOCPseudoLabeler: memory_resolution must be >= 1')
        self.num_classes = num_classes
        self.in_index = in_index
        self.temperature = temperature
        self.loss_weight = loss_weight
        self.warmup_epochs = warmup_epochs
        self.threshold_momentum = threshold_momentum
        self.memory_resolution = memory_resolution
        self.projection = nn.Sequential(nn.Conv2d(in_channels, embed_dims, 1),
                                        nn.ReLU(inplace=True),
                                        nn.Conv2d(embed_dims, embed_dims, 1))
        self.register_buffer('threshold_sum', torch.zeros((), dtype=torch.float64))
        self.register_buffer('threshold_steps', torch.zeros((), dtype=torch.long))
        self.memory: Dict[Hashable, Tensor] = {}
        #: the 0-based training epoch; None: read MessageHub's 'epoch' (the Runner's)
        self.epoch: Optional[int] = None

    # ------------------------------------------------------------------ state
    @property
    def threshold(self) -> float:
        """tau: the bias-corrected running mean deviation; 0 before any measurement."""
        steps = int(self.threshold_steps)
        if steps == 0:
            return 0.0
        return float(self.threshold_sum) / (1 - self.threshold_momentum ** steps)

    @torch.no_grad()
    def update_threshold(self, deviations: Sequence[float]) -> None:
        if not deviations:
            return
        m = self.threshold_momentum
        self.threshold_sum.mul_(m).add_((1 - m) * float(np.mean(deviations)))
        self.threshold_steps.add_(1)

    def current_epoch(self) -> int:
        if self.epoch is not None:
            return int(self.epoch)
        return int(MessageHub.get_current_instance().get_info('epoch', 0) or 0)

    # ------------------------------------------------------------------ offset check
    @staticmethod
    def _foreground(probs: Tensor) -> Tensor:
        """Binary foreground (any class but background) of (..., K, H, W) probabilities."""
        return probs.argmax(dim=-3) > 0

    @torch.no_grad()
    def correct(self, probs: Tensor, clip: ClipContext) -> Tuple[Tensor, Tensor, Dict]:
        """The offset check of every clip: pseudo-label probabilities (n, K, H, W), where
        they are valid (n, H, W) and statistics; updates the memory and tau in training."""
        size = tuple(probs.shape[-2:])
        out, valid = probs.clone(), torch.ones(probs.shape[0], *size, dtype=torch.bool,
                                               device=probs.device)
        warm = self.current_epoch() < self.warmup_epochs
        tau = self.threshold
        deviations: List[float] = []
        accepted = rejected = 0
        for b in range(clip.batch_size):
            matrix = clip_matrix(clip, b, size)
            inverse = None if matrix is None else np.linalg.inv(matrix)
            frames = []  # (index, key, stored probabilities, valid) of unlabelled frames
            for t in range(clip.num_frames):
                key = memory_key(clip, b, t)
                if key is None or bool(clip.labelled[b, t]):
                    continue
                i = b * clip.num_frames + t
                stored = self.memory.get(key)
                prev = None if stored is None else decode_probs(stored, size, inverse,
                                                                probs.dtype, probs.device)
                frames.append((i, key, prev))
            old = [(i, prev) for i, _, prev in frames if prev is not None]
            if old:
                devs = torch.stack([offset_deviation(self._foreground(probs[i]),
                                                     self._foreground(p), ok)
                                    for i, (p, ok) in old])
                dev = float(devs.mean())
                deviations.append(dev)
            replace = warm or not old or dev < tau
            if old and not warm:
                accepted, rejected = accepted + int(replace), rejected + int(not replace)
            for i, key, prev in frames:
                if not replace and prev is not None:
                    p, ok = prev
                    out[i] = torch.where(ok.unsqueeze(0), p, probs[i])
                elif self.training:
                    self.memory[key] = encode_probs(probs[i], matrix, self.memory_resolution)
        if self.training and not warm:
            self.update_threshold(deviations)
        stats = dict(threshold=tau, accepted=accepted, rejected=rejected,
                     deviation=float(np.mean(deviations)) if deviations else float('nan'))
        return out, valid, stats

    # ------------------------------------------------------------------ contrastive loss
    def contrastive_loss(self, feats: Tensor, targets: Tensor, clip: ClipContext) -> Tensor:
        """InfoNCE of projected pixel features against the clip's class prototypes.

        ``feats`` (B*T, C, h, w); ``targets`` (B*T, H, W) long with the ignore index.
        """
        z = F.normalize(self.projection(feats), dim=1)
        h, w = z.shape[-2:]
        labels = F.interpolate(targets[:, None].float(), size=(h, w), mode='nearest')[:, 0]
        labels = clip.unfold(labels.long())  # (B, T, h, w)
        z = clip.unfold(z)  # (B, T, E, h, w)
        k = self.num_classes
        onehot = F.one_hot(labels.clamp(0, k - 1), k).permute(0, 1, 4, 2, 3).to(z.dtype)
        onehot = onehot * (labels != IGNORE_INDEX).unsqueeze(2).to(z.dtype)  # (B, T, K, h, w)
        sums = torch.einsum('btehw,btkhw->btke', z, onehot)
        counts = onehot.sum(dim=(-1, -2))  # (B, T, K)
        # positive: the class prototype of the clip's other frames
        pos_count = counts.sum(1, keepdim=True) - counts
        pos = F.normalize(sums.sum(1, keepdim=True) - sums, dim=-1)
        neg = F.normalize(sums, dim=-1)  # (B, T, K, E) per-frame prototypes
        sim_pos = torch.einsum('btehw,btke->bthwk', z, pos) / self.temperature
        sim_neg = torch.einsum('btehw,bjke->bthwjk', z, neg) / self.temperature
        cls = labels.clamp(0, k - 1)
        logit_pos = sim_pos.gather(-1, cls.unsqueeze(-1))[..., 0]  # (B, T, h, w)
        has_pos = pos_count.gather(-1, cls.flatten(2)).reshape(cls.shape) > 0
        other = cls[..., None, None] != torch.arange(k, device=z.device)  # (B,T,h,w,1,K)
        present = (counts > 0)[:, None, None, None]  # (B, 1, 1, 1, T, K)
        neg_mask = other & present
        sim_neg = sim_neg.masked_fill(~neg_mask, float('-inf')).flatten(-2)
        denom = torch.logsumexp(torch.cat([logit_pos.unsqueeze(-1), sim_neg], dim=-1), dim=-1)
        keep = (labels != IGNORE_INDEX) & has_pos & neg_mask.flatten(-2).any(-1)
        if not bool(keep.any()):
            return sum(p.sum() for p in self.projection.parameters()) * 0.0 + z.sum() * 0.0
        return (denom - logit_pos)[keep].mean()

    # ------------------------------------------------------------------ slot interface
    def forward(self, seg_logits: Tensor, features: Sequence[Tensor],
                clip: ClipContext) -> Dict:
        probs = self.probabilities(seg_logits.detach().float())
        pseudo, _, stats = self.correct(probs, clip)
        confidence, labels = pseudo.max(dim=1)
        warm = self.current_epoch() < self.warmup_epochs
        if warm:  # no pseudo-label in the warm-up epochs
            confidence = torch.zeros_like(confidence)
        # contrastive targets: ground truth on labelled frames, pseudo-labels elsewhere
        targets = torch.full_like(labels, IGNORE_INDEX)
        if not warm:
            targets = labels.clone()
        if clip.gt_masks is not None:
            lab = clip.labelled_flat
            targets[lab] = clip.fold(clip.gt_masks)[lab].long().to(targets.device)
        loss = self.contrastive_loss(features[self.in_index], targets, clip)
        compared = stats['accepted'] + stats['rejected']
        losses = dict(loss_doc=loss * self.loss_weight,
                      doc_threshold=torch.tensor(stats['threshold']),
                      # 0 when no clip of the batch had a stored map to compare with
                      doc_deviation=torch.tensor(stats['deviation'] if compared else 0.0),
                      doc_compared=torch.tensor(float(compared)),
                      doc_accepted=torch.tensor(float(stats['accepted'])))
        return dict(labels=labels, confidence=confidence, losses=losses)
