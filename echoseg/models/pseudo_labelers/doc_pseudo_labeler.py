"""MSSNet's Dynamic Offset Correction (DOC) pseudo-labeler, as the public ``DOC.py``.

MSSNet (Chen et al., IEEE TMI 2026): DOC "continuously integrates features from
high-quality pseudo-labels during training". ``DOC.py`` (SSS666-klk/MSSNet@aa8b95b) keeps a
per-video memory of predictions; here, for every training clip:

memory (per video, in the canonical frame)
    the class probabilities of every unlabelled frame, keyed (``video_id``, source frame
    index), stored as CPR's memory is (``frame_memory``: uint8, warped back through the
    clip's geometric augmentation; frames a clip mixer changed are skipped).
offset check (after ``warmup_epochs``)
    the deviation of the current prediction from the stored one,
    ``dev = 1 - (Dice + IoU) / 2`` of their binarised foregrounds (over the pixels valid in
    both; ``eps`` 1e-8 as the file), averaged over the clip's stored frames (the file: over
    the video's frames); a clip with nothing stored has deviation 0 (the file compares a
    new video with itself). The new prediction replaces the stored one when
    ``dev <= tau`` and is the pseudo-label; otherwise the stored one stays and supervises
    the clip (its history). In the warm-up epochs every prediction is stored and no
    pseudo-label is given (confidence 0, as the file returns none in epoch 0).
threshold tau (``DOC.update_threshold``)
    0 in the first ``zero_threshold_epochs`` epochs after the warm-up (the file's epoch 1),
    then the mean deviation of the clips of the last training batch (the file's mean over
    ``video_deviations``, called after every batch). ``threshold_momentum`` > 0 makes it
    a bias-corrected running mean instead (echoseg's former rule, a named option).
contrastive loss (``loss_doc``, ``contrastive``)
    ``'self'`` (the file's ``compute_contrastive_loss``): features of the neck level
    ``in_index``, L2-normalised per pixel (through a projection 1x1, ReLU, 1x1 only when
    ``embed_dims`` is set; the file has none), targets (ground truth of labelled frames,
    DOC's pseudo-labels of the others after warm-up) at feature resolution. Per frame with
    foreground and background pixels: for each foreground pixel a, ``pos = exp(z_a.z_a/T)``
    (the file's ``pos_sim.diag()``: the pixel with itself, exp(1/T) for unit features),
    ``neg = sum over background b of exp(z_a.z_b/T)``, loss ``-log pos / (pos + neg +
    eps)``; mean over the frame's foreground pixels, then over the frames. Its positive is
    a constant: the term only pushes foreground away from background.
    ``'prototype'`` (echoseg's former form, a named option): the positive of a pixel of
    class c is the class-c prototype of the clip's *other* frames, the negatives every
    other class's prototype of every frame (an InfoNCE that also pulls a class together).
RAC's extra clips (``rac_source`` in the metainfo, ``RACMixer(extra_sample=True)``)
    their frames are not compared or stored; an unlabelled frame whose pixels RAC left as
    they were takes the pseudo-label DOC gave the same frame of the original clip.

Labels and confidence returned: argmax and max of the pseudo-label probabilities (the
stored map after the check where it is valid, the model's own prediction elsewhere).

The memory (``memory.*``) and ``tau``'s running sums (buffers) are plain tensors in the
state dict, so checkpoints carry them and ``--resume`` restores them.
"""
import math
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
                     eps: float = 1e-8) -> Tensor:
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
        embed_dims: width of a contrastive projection; None: the features themselves
            (``DOC.py``).
        temperature: of the contrastive loss (0.07, the file's).
        loss_weight: weight of ``loss_doc`` (not in the file).
        warmup_epochs: epochs in which every prediction is stored and no pseudo-label given.
        zero_threshold_epochs: epochs after the warm-up with tau = 0.
        threshold_momentum: 0: tau is the last batch's mean deviation (``DOC.py``); m > 0:
            a bias-corrected running mean with momentum m.
        contrastive: ``'self'`` (``DOC.py``) or ``'prototype'`` (module docstring).
        memory_resolution: side of the stored maps.
    """

    def __init__(self, in_channels: int, num_classes: int = 2, in_index: int = -1,
                 embed_dims: Optional[int] = None, temperature: float = 0.07,
                 loss_weight: float = 0.1, warmup_epochs: int = 1,
                 zero_threshold_epochs: int = 1, threshold_momentum: float = 0.0,
                 contrastive: str = 'self', memory_resolution: int = 64, init_cfg=None):
        super().__init__(init_cfg)
        if not 0.0 <= threshold_momentum < 1.0:
            raise ValueError('DOCPseudoLabeler: threshold_momentum must be in [0, 1)')
        if memory_resolution < 1:
            raise ValueError('DOCPseudoLabeler: memory_resolution must be >= 1')
        if contrastive not in ('self', 'prototype'):
            raise ValueError(f"DOCPseudoLabeler: contrastive must be 'self' or 'prototype', "
                             f'got {contrastive!r}')
        if warmup_epochs < 0 or zero_threshold_epochs < 0:
            raise ValueError('DOCPseudoLabeler: warmup_epochs and zero_threshold_epochs must '
                             'be >= 0')
        self.num_classes = num_classes
        self.in_index = in_index
        self.temperature = temperature
        self.loss_weight = loss_weight
        self.warmup_epochs = warmup_epochs
        self.zero_threshold_epochs = zero_threshold_epochs
        self.threshold_momentum = threshold_momentum
        self.contrastive = contrastive
        self.memory_resolution = memory_resolution
        self.eps = 1e-8  # DOC.py's
        self.projection = nn.Identity() if embed_dims is None else nn.Sequential(
            nn.Conv2d(in_channels, embed_dims, 1), nn.ReLU(inplace=True),
            nn.Conv2d(embed_dims, embed_dims, 1))
        self.register_buffer('threshold_sum', torch.zeros((), dtype=torch.float64))
        self.register_buffer('threshold_steps', torch.zeros((), dtype=torch.long))
        self.memory: Dict[Hashable, Tensor] = {}
        #: the 0-based training epoch; None: read MessageHub's 'epoch' (the Runner's)
        self.epoch: Optional[int] = None

    # ------------------------------------------------------------------ state
    @property
    def threshold(self) -> float:
        """tau after the zero-threshold epochs: the last batch's mean deviation (momentum 0)
        or the bias-corrected running mean; 0 before any measurement."""
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
        epoch = self.current_epoch()
        warm = epoch < self.warmup_epochs
        zero = epoch < self.warmup_epochs + self.zero_threshold_epochs
        tau = 0.0 if zero else self.threshold
        deviations: List[float] = []  # every clip's (tau's batch mean, as DOC.py)
        measured: List[float] = []  # of the clips with a stored map (logged)
        accepted = rejected = 0
        copies = []
        for b in range(clip.batch_size):
            if self._rac_source(clip, b) is not None:
                copies.append(b)
                continue
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
            if not frames:
                continue
            old = [(i, prev) for i, _, prev in frames if prev is not None]
            dev = 0.0  # nothing stored: compared with itself, as DOC.py
            if old:
                dev = float(torch.stack([offset_deviation(
                    self._foreground(probs[i]), self._foreground(p), ok, self.eps)
                    for i, (p, ok) in old]).mean())
                measured.append(dev)
            deviations.append(dev)
            replace = warm or not old or dev <= tau
            if old and not warm:
                accepted, rejected = accepted + int(replace), rejected + int(not replace)
            for i, key, prev in frames:
                if not replace and prev is not None:
                    p, ok = prev
                    out[i] = torch.where(ok.unsqueeze(0), p, probs[i])
                elif self.training:
                    self.memory[key] = encode_probs(probs[i], matrix, self.memory_resolution)
        for b in copies:  # RAC's extra clips: the original's label where the frame is its
            src, pasted = self._rac_source(clip, b)
            for t in range(clip.num_frames):
                if not pasted[t]:
                    out[b * clip.num_frames + t] = out[src * clip.num_frames + t]
        if self.training and not zero:
            self.update_threshold(deviations)
        stats = dict(threshold=tau, accepted=accepted, rejected=rejected,
                     deviation=float(np.mean(measured)) if measured else float('nan'))
        return out, valid, stats

    @staticmethod
    def _rac_source(clip: ClipContext, b: int) -> Optional[Tuple[int, List[bool]]]:
        """(original batch index, pasted frames) of a clip RAC appended, else None."""
        if not clip.data_samples:
            return None
        meta = clip.data_samples[b].metainfo
        src = meta.get('rac_source')
        if src is None or not 0 <= int(src) < clip.batch_size or int(src) == b:
            return None
        pasted = list(meta.get('rac_pasted', [True] * clip.num_frames))
        return int(src), [bool(v) for v in pasted]

    # ------------------------------------------------------------------ contrastive loss
    def contrastive_loss(self, feats: Tensor, targets: Tensor, clip: ClipContext) -> Tensor:
        """The contrastive term (``self.contrastive``) of features (B*T, C, h, w) against
        targets (B*T, H, W) long with the ignore index."""
        z = F.normalize(self.projection(feats), dim=1)
        h, w = z.shape[-2:]
        labels = F.interpolate(targets[:, None].float(), size=(h, w), mode='nearest')[:, 0]
        labels = labels.long()
        if self.contrastive == 'self':
            return self._self_contrast(z, labels)
        return self._prototype_contrast(z, labels, clip)

    def _zero(self, z: Tensor) -> Tensor:
        """A zero loss that keeps the graph (nothing to contrast)."""
        return sum(p.sum() for p in self.projection.parameters()) * 0.0 + z.sum() * 0.0

    def _self_contrast(self, z: Tensor, labels: Tensor) -> Tensor:
        """``DOC.compute_contrastive_loss``: per frame, each foreground pixel against itself
        (positive) and every background pixel of the frame (negatives)."""
        zf = z.flatten(2)  # (n, E, hw)
        lab = labels.flatten(1)  # (n, hw)
        fg = (lab > 0) & (lab != IGNORE_INDEX)
        bg = lab == 0
        frames = fg.any(1) & bg.any(1)  # the file skips frames without both
        if not bool(frames.any()):
            return self._zero(z)
        zf, fg, bg = zf[frames], fg[frames], bg[frames]
        sim = torch.einsum('nea,neb->nab', zf, zf) / self.temperature  # (n, hw, hw)
        pos = sim.diagonal(dim1=1, dim2=2)  # z_a . z_a / T
        neg = sim.masked_fill(~bg[:, None, :], float('-inf'))
        # log(pos + neg + eps) with pos, neg as exponentials (eps 1e-8 as the file)
        denom = torch.logsumexp(torch.cat([pos.unsqueeze(-1), neg], dim=-1), dim=-1)
        denom = torch.logaddexp(denom, denom.new_tensor(math.log(self.eps)))
        per_pixel = (denom - pos) * fg
        return (per_pixel.sum(1) / fg.sum(1)).mean()

    def _prototype_contrast(self, z: Tensor, labels: Tensor, clip: ClipContext) -> Tensor:
        """InfoNCE of pixels against the clip's class prototypes (the named option)."""
        labels = clip.unfold(labels)  # (B, T, h, w)
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
            return self._zero(z)
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
        # contrastive targets: ground truth on labelled frames, pseudo-labels elsewhere;
        # none in the warm-up epochs (DOC.py's loss is 0 in its epoch 0)
        targets = torch.full_like(labels, IGNORE_INDEX)
        if not warm:
            targets = labels.clone()
        if clip.gt_masks is not None and not warm:
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
