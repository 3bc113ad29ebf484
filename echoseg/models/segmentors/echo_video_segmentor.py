"""``EchoVideoSegmentor``: any mmseg backbone / neck / head on echocardiography clips."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.models.segmentors.base import BaseSegmentor
from mmseg.models.utils import resize
from mmseg.structures import SegDataSample
from mmseg.utils import add_prefix
from torch import Tensor, nn

from echoseg.registry import MODELS
from echoseg.structures import IGNORE_INDEX, EchoDataSample
from ..utils.upsample import upsample_logits
from ..utils import ClipContext, VideoMemory, is_temporal

TRAIN_CFG_KEYS = {'unsup_weight', 'unsup_threshold', 'log_pseudo_quality'}
TEST_CFG_KEYS = {'mode', 'save_probs'}


def _check_keys(cfg: Optional[dict], allowed: set, name: str) -> dict:
    cfg = dict(cfg or {})
    unknown = sorted(set(cfg) - allowed)
    if unknown:
        raise KeyError(f'EchoVideoSegmentor: unknown {name} key(s) {unknown}; '
                       f'allowed: {sorted(allowed)}')
    return cfg


@MODELS.register_module()
class EchoVideoSegmentor(BaseSegmentor):
    """Semi-supervised video segmentor over clips (B, T, C, H, W).

    The backbone runs on frames folded into the batch (B*T). Necks and heads follow the
    temporal convention of ``echoseg.models.utils.clip_context``: stock mmseg modules run
    per frame, unchanged; modules with ``temporal = True`` get a ``ClipContext``.

    A neck may leave a logit upsampler in ``clip.extras['logit_upsampler']`` (``MRPNeck``:
    decoder-free upsampling through learned affinities); the logits of stock per-frame
    heads go through it, in training and inference, before any resize. Temporal heads call
    it themselves (``echoseg.models.utils.upsample.upsample_logits``).

    Training loss = supervised loss of the decode (and auxiliary) head on labelled frames
    + ``unsup_weight`` x the head's own loss against pseudo-labels on the pixels of
    unlabelled frames whose confidence is >= ``unsup_threshold`` (when a ``pseudo_labeler``
    is set) + the pseudo-labeler's own losses. A ``clip_mixer`` may rebuild the training
    clips first. ``unsup_weight`` and ``unsup_threshold`` are attributes a schedule hook
    (e.g. ``FlameRiseHook``) sets; ``train_cfg`` gives their starting values.

    Args:
        backbone, decode_head, neck, auxiliary_head: mmseg-style module configs.
        pseudo_labeler: a ``BasePseudoLabeler`` config or None.
        clip_mixer: a ``BaseClipMixer`` config or None.
        train_cfg: ``unsup_weight`` (default 1 with a pseudo-labeler), ``unsup_threshold``
            (0.9), ``log_pseudo_quality`` (log Dice of pseudo-labels against hidden
            synthetic masks when the data carry them; True).
        test_cfg: ``mode='whole'``, ``save_probs`` (store class probabilities; True).
    """

    def __init__(self, backbone: dict, decode_head: dict, neck: Optional[dict] = None,
                 auxiliary_head=None, pseudo_labeler: Optional[dict] = None,
                 clip_mixer: Optional[dict] = None, train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None, data_preprocessor: Optional[dict] = None,
                 pretrained: Optional[str] = None, init_cfg=None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if pretrained is not None:
            backbone = dict(backbone, init_cfg=dict(type='Pretrained', checkpoint=pretrained))
        self.backbone = MODELS.build(backbone)
        if neck is not None:
            self.neck = MODELS.build(neck)
        self.decode_head = MODELS.build(decode_head)
        self.align_corners = self.decode_head.align_corners
        self.num_classes = self.decode_head.num_classes
        self.out_channels = self.decode_head.out_channels
        if auxiliary_head is not None:
            if isinstance(auxiliary_head, (list, tuple)):
                self.auxiliary_head = nn.ModuleList(MODELS.build(c) for c in auxiliary_head)
            else:
                self.auxiliary_head = MODELS.build(auxiliary_head)
        self.pseudo_labeler = MODELS.build(pseudo_labeler) if pseudo_labeler else None
        self.clip_mixer = MODELS.build(clip_mixer) if clip_mixer else None
        self.train_cfg = _check_keys(train_cfg, TRAIN_CFG_KEYS, 'train_cfg')
        self.test_cfg = _check_keys(test_cfg, TEST_CFG_KEYS, 'test_cfg')
        if self.test_cfg.get('mode', 'whole') != 'whole':
            raise ValueError("EchoVideoSegmentor: only test_cfg.mode='whole' is supported")
        self.unsup_weight = float(self.train_cfg.get('unsup_weight',
                                                     1.0 if self.pseudo_labeler else 0.0))
        self.unsup_threshold = float(self.train_cfg.get('unsup_threshold', 0.9))
        self.log_pseudo_quality = bool(self.train_cfg.get('log_pseudo_quality', True))

    # ------------------------------------------------------------------ building blocks
    def make_clip_context(self, inputs: Tensor, data_samples: Optional[Sequence],
                          with_masks: bool) -> ClipContext:
        """The ``ClipContext`` of a batch; gt masks only when ``with_masks``."""
        b, t = inputs.shape[:2]
        h, w = inputs.shape[-2:]
        device = inputs.device
        if data_samples:
            labelled = torch.stack([s.labelled.to(device) if s.labelled is not None
                                    else torch.zeros(t, dtype=torch.bool, device=device)
                                    for s in data_samples])
        else:
            labelled = torch.zeros(b, t, dtype=torch.bool, device=device)
        clip = ClipContext(batch_size=b, num_frames=t, labelled=labelled, input_shape=(h, w),
                           data_samples=list(data_samples) if data_samples else None)
        if with_masks and data_samples:
            gt = torch.stack([s.gt_masks.to(device) for s in data_samples]).long()
            if tuple(gt.shape[-2:]) != (h, w):
                ids = [s.metainfo.get('video_id') for s in data_samples]
                raise ValueError(f'gt_masks of {ids} are {tuple(gt.shape[-2:])}, inputs are '
                                 f'{(h, w)}: masks must be resized with their frames')
            clip.gt_masks = gt
            oracle = [s.get('oracle_masks') for s in data_samples]
            if all(o is not None for o in oracle):
                clip.extras['oracle_masks'] = torch.stack([o.to(device) for o in oracle])
        return clip

    def extract_feat(self, inputs: Tensor, clip: Optional[ClipContext] = None
                     ) -> Tuple[Tensor, ...]:
        """(B, T, C, H, W) -> backbone (and neck) features of the B*T frames."""
        if clip is None:
            clip = self.make_clip_context(inputs, None, with_masks=False)
        feats = self.backbone(inputs.flatten(0, 1))
        if self.with_neck:
            feats = self.neck(feats, clip=clip) if is_temporal(self.neck) else self.neck(feats)
        return tuple(feats) if isinstance(feats, (list, tuple)) else (feats, )

    def decode(self, feats: Tuple[Tensor, ...], clip: ClipContext) -> Tensor:
        """Decode-head logits of every frame, (B*T, K, h, w)."""
        if is_temporal(self.decode_head):
            return self.decode_head.predict_clip(feats, clip)
        return upsample_logits(clip, self.decode_head(feats))

    def encode_decode(self, inputs: Tensor, batch_data_samples=None) -> Tensor:
        """Logits of every frame at the input resolution, (B*T, K, H, W)."""
        clip = self.make_clip_context(inputs, batch_data_samples, with_masks=False)
        return self._encode_decode(inputs, clip)

    def _encode_decode(self, inputs: Tensor, clip: ClipContext) -> Tensor:
        logits = self.decode(self.extract_feat(inputs, clip), clip)
        return resize(logits, size=inputs.shape[-2:], mode='bilinear',
                      align_corners=self.align_corners)

    def probabilities(self, logits: Tensor) -> Tensor:
        """Softmax over classes, or (1 - p, p) for a one-channel sigmoid head."""
        if logits.shape[1] == 1:
            p = logits.sigmoid()
            return torch.cat([1 - p, p], dim=1)
        return logits.softmax(dim=1)

    # ------------------------------------------------------------------ training
    @staticmethod
    def _frame_samples(masks: Tensor) -> List[SegDataSample]:
        """(N, H, W) masks -> mmseg per-frame samples, so stock heads' losses apply."""
        samples = []
        for m in masks:
            s = SegDataSample()
            s.gt_sem_seg = PixelData(data=m.unsqueeze(0))
            samples.append(s)
        return samples

    def _head_losses(self, head, feats, clip: ClipContext, masks: Tensor,
                     labelled: Tensor) -> Tuple[Dict[str, Tensor], Tensor]:
        samples = self._frame_samples(masks[labelled])
        if is_temporal(head):
            return head.loss_clip(feats, clip, samples)
        # a neck may offer decoder-free upsampling (MRPNeck); stock heads go through it
        logits = upsample_logits(clip, head(feats))
        if not bool(labelled.any()):
            return {'loss_sup_none': logits.sum() * 0.0}, logits
        return head.loss_by_feat(logits[labelled], samples), logits

    def loss(self, inputs: Tensor, data_samples: Sequence[EchoDataSample]) -> Dict[str, Tensor]:
        clip = self.make_clip_context(inputs, data_samples, with_masks=True)
        if self.clip_mixer is not None:
            inputs, clip = self.clip_mixer(inputs, clip, self.predict_probabilities)
        feats = self.extract_feat(inputs, clip)
        masks = clip.fold(clip.gt_masks)
        labelled = clip.labelled_flat
        losses = {}
        dec_losses, seg_logits = self._head_losses(self.decode_head, feats, clip, masks,
                                                   labelled)
        losses.update(add_prefix(dec_losses, 'decode'))
        if self.with_auxiliary_head:
            heads = self.auxiliary_head if isinstance(self.auxiliary_head, nn.ModuleList) \
                else [self.auxiliary_head]
            for i, head in enumerate(heads):
                aux_losses, _ = self._head_losses(head, feats, clip, masks, labelled)
                prefix = 'aux' if len(heads) == 1 else f'aux_{i}'
                losses.update(add_prefix(aux_losses, prefix))
        if self.pseudo_labeler is not None:
            losses.update(self._unsup_losses(seg_logits, feats, clip))
        return losses

    def _unsup_losses(self, seg_logits: Tensor, feats, clip: ClipContext) -> Dict[str, Tensor]:
        h, w = clip.input_shape
        full = resize(seg_logits, size=(h, w), mode='bilinear',
                      align_corners=self.align_corners)
        out = self.pseudo_labeler(full, feats, clip)
        labels, conf = out['labels'].detach(), out['confidence'].detach()
        losses = add_prefix(dict(out.get('losses', {})), 'pseudo')
        unlabelled = ~clip.labelled_flat
        if not bool(unlabelled.any()):
            return losses
        keep = (conf >= self.unsup_threshold) & unlabelled.view(-1, 1, 1)
        target = torch.where(keep, labels, torch.full_like(labels, IGNORE_INDEX))
        losses['unsup.keep_ratio'] = keep[unlabelled].float().mean()
        if self.unsup_weight > 0 and bool(keep.any()):
            unsup = self.decode_head.loss_by_feat(seg_logits[unlabelled],
                                                  self._frame_samples(target[unlabelled]))
            for key, value in unsup.items():
                losses[f'unsup.{key}'] = value * self.unsup_weight if 'loss' in key else value
        elif self.unsup_weight > 0:
            # nothing confident: no unsupervised term (some mmseg losses fail on an
            # all-ignored target), but keep the graph connected for DDP
            losses['unsup.loss_none'] = seg_logits.sum() * 0.0
        oracle = clip.extras.get('oracle_masks')
        if self.log_pseudo_quality and oracle is not None:
            truth = clip.fold(oracle)[unlabelled]
            pred = labels[unlabelled]
            valid = truth != IGNORE_INDEX
            inter = ((pred == 1) & (truth == 1) & valid).sum().float()
            denom = (((pred == 1) & valid).sum() + ((truth == 1) & valid).sum()).float()
            losses['pseudo_dice'] = (2 * inter / denom.clamp(min=1)).detach()
        return losses

    # ------------------------------------------------------------------ inference
    @property
    def is_per_frame(self) -> bool:
        """True when no module looks across frames (each frame's output is its own)."""
        return not any(is_temporal(getattr(self, name, None))
                       for name in ('neck', 'decode_head'))

    def init_video_memory(self) -> Optional[VideoMemory]:
        """A fresh per-video memory when a module carries one across inference windows
        (``uses_video_memory``), else None (docs/inference.md, "Per-video memory")."""
        modules = [getattr(self, name, None) for name in ('neck', 'decode_head')]
        if any(getattr(m, 'uses_video_memory', False) for m in modules):
            return VideoMemory()
        return None

    @torch.no_grad()
    def predict_probabilities(self, inputs: Tensor,
                              memory: Optional[VideoMemory] = None) -> Tensor:
        """(B, T, C, H, W) -> (B, T, K, H, W) class probabilities, without gradient.

        ``memory``: the per-video memory of :meth:`init_video_memory` when the clip is a
        window of a longer video fed in order (B must be 1).
        """
        clip = self.make_clip_context(inputs, None, with_masks=False)
        if memory is not None:
            clip.extras['video_memory'] = memory
        probs = self.probabilities(self._encode_decode(inputs, clip))
        return clip.unfold(probs)

    def predict(self, inputs: Tensor,
                data_samples: Optional[Sequence[EchoDataSample]] = None) -> List[EchoDataSample]:
        clip = self.make_clip_context(inputs, data_samples, with_masks=False)
        logits = self._encode_decode(inputs, clip)
        return self.postprocess_result(logits, data_samples, clip)

    def postprocess_result(self, seg_logits: Tensor, data_samples=None,
                           clip: Optional[ClipContext] = None) -> List[EchoDataSample]:
        """Per-clip masks and probabilities at each clip's original resolution."""
        b, t = clip.batch_size, clip.num_frames
        if data_samples is None:
            data_samples = [EchoDataSample() for _ in range(b)]
        per_clip = seg_logits.reshape(b, t, *seg_logits.shape[1:])
        for sample, logits in zip(data_samples, per_clip):
            meta = sample.metainfo
            if meta.get('flip'):
                logits = logits.flip(dims=(3, ))
            ori_shape = tuple(meta.get('ori_shape', logits.shape[-2:]))
            if tuple(logits.shape[-2:]) != ori_shape:
                logits = F.interpolate(logits, size=ori_shape, mode='bilinear',
                                       align_corners=self.align_corners)
            if logits.shape[1] == 1:
                prob = logits.sigmoid()
                pred = (prob[:, 0] > self.decode_head.threshold).long()
                probs = torch.cat([1 - prob, prob], dim=1)
            else:
                probs = logits.softmax(dim=1)
                pred = probs.argmax(dim=1)
            sample.pred_masks = pred
            if self.test_cfg.get('save_probs', True):
                sample.seg_logits = probs
        return list(data_samples)

    def _forward(self, inputs: Tensor, data_samples=None) -> Tensor:
        """Raw logits of every frame at the input size, (B*T, K, H, W)."""
        return self.encode_decode(inputs, data_samples)
