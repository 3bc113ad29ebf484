"""MSSNet's Region-wise Adaptive Cross-mix (RAC), as a clip mixer.

MSSNet (Chen et al., IEEE TMI 2026): RAC "simulates clinically plausible samples via
regional mixing to enrich semantic details". The public RAC.py pastes the predicted LV
region of ED onto ES (the new first frame) and of ES onto ED (the new last frame) and keeps
the labels as they were. Here, in training only, with the label mixed the same way:

region of a source frame
    its LV pixels (class ``lv_class``) from the ground truth when the frame is labelled,
    from the current model's prediction (``predict_fn``, argmax) otherwise; optionally
    dilated by ``dilation`` pixels (so the border comes along).
within a clip (``intra_prob`` per clip)
    frame ED <- ES with ED's region pasted on it; frame ES <- ED with ES's region pasted
    (the public scheme; ED / ES positions from the metainfo, default first and last).
across clips (``inter_prob`` per clip, batches of two clips or more)
    every frame t of clip b gets the region of frame t of the next clip of the batch
    (b + 1 mod B, its un-mixed frames) pasted on it: the partner's LV, moving over time,
    on this clip's background.
label of a mixed frame
    the source's label inside the pasted region, the target's outside. It is a real label
    (``labelled`` stays true, ``gt_masks`` holds it) only when both parts are real (source
    and target frames labelled, so the region came from ground truth too); otherwise the
    frame becomes unlabelled (``gt_masks`` = ignore index). Hidden synthetic masks
    (``extras['oracle_masks']``, logging only) are mixed alike.
metainfo
    mixed clips get new data samples whose metainfo has ``mixed_frames`` (T bools) and
    whose ``gt_masks`` / ``labelled`` are the mixed ones; memory pseudo-labelers (CPR,
    DOC) neither read nor store a mixed frame (``frame_memory.memory_key``).
A clip that is not mixed comes back bit-identical (the same data sample object).

The public file's scheme (``RAC.py``, SSS666-klk/MSSNet@aa8b95b: ``RAC(pred_A, pred_B,
video_seq)`` returns an *enhanced* clip beside the video) is three switches away:

``extra_sample=True``
    every mixed clip is appended to the batch as an extra sample; the original clips pass
    unchanged, so their ED and ES frames stay supervised as they are (default False: the
    mixed clip replaces its original). All frames of an appended clip are marked mixed
    (memory pseudo-labelers skip the copy; its unmixed frames are in the batch anyway).
``region_from='prediction'``
    regions from the model's prediction (foreground probability > 0.5 for a sigmoid head,
    the argmax otherwise) even for labelled frames, as the file cuts along ``pred > 0.5``
    (default ``'label'``: the ground truth where the frame is labelled).
``predict_mode='eval'``
    the segmentor runs ``predict_fn`` with the model in eval mode (running batch-norm
    statistics, no dropout), flags restored afterwards (default ``'train'``).
``label_mode='unchanged'``
    the mixed clip keeps the labels (and labelled flags) of the clip it was made from, as
    ``RAC.py`` changes only the pixels (default ``'mixed'``: the rule above).

With ``intra_prob=1, inter_prob=0`` these give the file's enhanced clip exactly (checked by
``tools/analysis/check_against_reference.py mssnet_rac``).
"""
from typing import Callable, List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from echoseg.registry import MODELS
from echoseg.structures import IGNORE_INDEX
from ..utils import ClipContext
from .base_clip_mixer import BaseClipMixer


@MODELS.register_module()
class RACMixer(BaseClipMixer):
    """Region-wise Adaptive Cross-mix of MSSNet; see the module docstring.

    Args:
        intra_prob: probability that a clip swaps the LV regions of its ED and ES frames.
        inter_prob: probability that a clip receives the next clip's LV regions.
        lv_class: the label of the pasted region.
        dilation: pixels by which the region is dilated.
        extra_sample: append mixed clips to the batch instead of replacing them.
        region_from: ``'label'`` or ``'prediction'`` (see the module docstring).
        predict_mode: ``'train'`` or ``'eval'``: the model's mode for ``predict_fn`` (read
            by ``EchoVideoSegmentor``).
        label_mode: ``'mixed'`` (labels mixed with the pixels) or ``'unchanged'`` (the mixed
            clip keeps its original labels, as ``RAC.py``).
    """

    def __init__(self, intra_prob: float = 1.0, inter_prob: float = 0.5, lv_class: int = 1,
                 dilation: int = 0, extra_sample: bool = False, region_from: str = 'label',
                 predict_mode: str = 'train', label_mode: str = 'mixed', init_cfg=None):
        super().__init__(init_cfg)
        for name, p in (('intra_prob', intra_prob), ('inter_prob', inter_prob)):
            if not 0.0 <= p <= 1.0:
                raise ValueError(f'RACMixer: {name} must be in [0, 1], got {p}')
        if region_from not in ('label', 'prediction'):
            raise ValueError(f"RACMixer: region_from must be 'label' or 'prediction', got "
                             f'{region_from!r}')
        if predict_mode not in ('train', 'eval'):
            raise ValueError(f"RACMixer: predict_mode must be 'train' or 'eval', got "
                             f'{predict_mode!r}')
        if label_mode not in ('mixed', 'unchanged'):
            raise ValueError(f"RACMixer: label_mode must be 'mixed' or 'unchanged', got "
                             f'{label_mode!r}')
        self.label_mode = label_mode
        self.intra_prob = intra_prob
        self.inter_prob = inter_prob
        self.lv_class = lv_class
        self.dilation = dilation
        self.extra_sample = bool(extra_sample)
        self.region_from = region_from
        self.predict_mode = predict_mode

    def _positions(self, clip: ClipContext, b: int) -> Tuple[int, int]:
        t = clip.num_frames
        meta = clip.data_samples[b].metainfo if clip.data_samples else {}
        ed = meta.get('ed_index', 0)
        es = meta.get('es_index', t - 1)
        return int(ed) % t, int(es) % t

    def _region(self, labels: Tensor) -> Tensor:
        region = labels == self.lv_class
        if self.dilation > 0:
            k = 2 * self.dilation + 1
            region = F.max_pool2d(region.float().unsqueeze(1), k, stride=1,
                                  padding=self.dilation)[:, 0] > 0
        return region

    def plan(self, clip: ClipContext) -> Tuple[Tensor, Tensor]:
        """(B,) bools: which clips are mixed within themselves and which across clips."""
        b = clip.batch_size
        intra = torch.rand(b) < self.intra_prob
        inter = torch.rand(b) < self.inter_prob if b > 1 else torch.zeros(b, dtype=torch.bool)
        for i in range(b):  # a clip without distinct ED and ES cannot swap them
            ed, es = self._positions(clip, i)
            intra[i] = bool(intra[i]) and ed != es
        return intra, inter

    @torch.no_grad()
    def forward(self, inputs: Tensor, clip: ClipContext,
                predict_fn: Callable[[Tensor], Tensor]) -> Tuple[Tensor, ClipContext]:
        intra, inter = self.plan(clip)
        return self.mix(inputs, clip, predict_fn, intra, inter)

    @torch.no_grad()
    def mix(self, inputs: Tensor, clip: ClipContext, predict_fn: Callable[[Tensor], Tensor],
            intra: Tensor, inter: Tensor) -> Tuple[Tensor, ClipContext]:
        """Mix the clips chosen by ``intra`` / ``inter`` ((B,) bools)."""
        if not bool(intra.any() or inter.any()):
            return inputs, clip
        bsz, t = clip.batch_size, clip.num_frames
        labelled = clip.labelled
        gt = clip.gt_masks.long()
        # source labels: ground truth where labelled, the model's prediction elsewhere
        sources = [(i, e) for i in range(bsz) if intra[i] for e in self._positions(clip, i)]
        sources += [((i + 1) % bsz, f) for i in range(bsz) if inter[i] for f in range(t)]
        src_labels = gt.clone()
        region_labels = src_labels
        if self.region_from == 'prediction' or any(not bool(labelled[i, f])
                                                   for i, f in sources):
            pred = predict_fn(inputs).argmax(dim=2).to(gt.device)
            src_labels = torch.where(labelled[..., None, None], gt, pred)
            region_labels = pred if self.region_from == 'prediction' else src_labels
        region = self._region(region_labels.flatten(0, 1)).reshape(gt.shape)
        oracle = clip.extras.get('oracle_masks')

        x_new, lab_new = inputs.clone(), labelled.clone()
        y_new = torch.where(labelled[..., None, None], gt, src_labels)  # label of every frame
        o_new = None if oracle is None else oracle.clone()
        mixed = torch.zeros(bsz, t, dtype=torch.bool, device=labelled.device)

        def paste(i, f, src_x, src_y, src_lab, src_o, reg):
            m = reg.unsqueeze(0)  # over channels
            x_new[i, f] = torch.where(m, src_x, x_new[i, f])
            y_new[i, f] = torch.where(reg, src_y, y_new[i, f])
            lab_new[i, f] = bool(lab_new[i, f]) and bool(src_lab)
            if o_new is not None:
                o_new[i, f] = torch.where(reg, src_o, o_new[i, f])
            mixed[i, f] = True

        for i in range(bsz):
            if intra[i]:
                ed, es = self._positions(clip, i)
                for src, tgt in ((ed, es), (es, ed)):
                    # the frame at `src` becomes frame `tgt` with src's region pasted on it
                    x_new[i, src] = inputs[i, tgt]
                    y_new[i, src] = src_labels[i, tgt]
                    lab_new[i, src] = bool(labelled[i, tgt])
                    if o_new is not None:
                        o_new[i, src] = oracle[i, tgt]
                    paste(i, src, inputs[i, src], src_labels[i, src], labelled[i, src],
                          None if oracle is None else oracle[i, src], region[i, src])
        for i in range(bsz):
            if inter[i]:
                q = (i + 1) % bsz
                for f in range(t):
                    if bool(region[q, f].any()):
                        paste(i, f, inputs[q, f], src_labels[q, f], labelled[q, f],
                              None if oracle is None else oracle[q, f], region[q, f])
        if self.label_mode == 'unchanged':  # RAC.py: the clip's labels as they were
            y_new, lab_new = gt.clone(), labelled.clone()
        # truthful labels: only frames whose whole label is ground truth keep one
        y_new = torch.where(lab_new[..., None, None], y_new, torch.full_like(y_new, IGNORE_INDEX))
        changed = mixed.any(dim=1)
        if self.extra_sample:
            return self._append(inputs, clip, changed, mixed, x_new, y_new, lab_new, o_new)
        # clips left alone come back bit-identical
        keep = ~changed.to(inputs.device)
        x_new[keep] = inputs[keep]
        y_new[~changed] = clip.gt_masks[~changed].long()
        lab_new[~changed] = labelled[~changed]
        extras = dict(clip.extras)
        if o_new is not None:
            o_new[~changed] = oracle[~changed]
            extras['oracle_masks'] = o_new
        samples = self._samples(clip, changed, mixed, y_new, lab_new)
        out = ClipContext(batch_size=bsz, num_frames=t, labelled=lab_new, gt_masks=y_new,
                          input_shape=clip.input_shape, data_samples=samples, extras=extras)
        return x_new, out

    def _append(self, inputs: Tensor, clip: ClipContext, changed: Tensor, pasted: Tensor,
                x_new: Tensor, y_new: Tensor, lab_new: Tensor, o_new: Optional[Tensor]
                ) -> Tuple[Tensor, ClipContext]:
        """The batch followed by its mixed clips (``extra_sample``). A copy's metainfo
        names its original (``rac_source``: batch index) and the frames whose pixels
        changed (``rac_pasted``), so a pseudo-labeler can give the unchanged frames the
        original's pseudo-labels."""
        idx = changed.nonzero().flatten().tolist()
        extras = dict(clip.extras)
        if o_new is not None:
            extras['oracle_masks'] = torch.cat([clip.extras['oracle_masks'], o_new[idx]])
        labelled = torch.cat([clip.labelled, lab_new[idx]])
        gt = torch.cat([clip.gt_masks, y_new[idx].to(clip.gt_masks.dtype)])
        samples = clip.data_samples
        if samples:
            every = torch.ones_like(lab_new)
            mixed = self._samples(clip, changed, every, y_new, lab_new)
            for i in idx:
                mixed[i].set_metainfo(dict(rac_source=int(i), rac_pasted=[
                    bool(v) for v in pasted[i].tolist()]))
            samples = list(samples) + [mixed[i] for i in idx]
        out = ClipContext(batch_size=clip.batch_size + len(idx), num_frames=clip.num_frames,
                          labelled=labelled, gt_masks=gt, input_shape=clip.input_shape,
                          data_samples=samples, extras=extras)
        return torch.cat([inputs, x_new[idx].to(inputs.device)]), out

    @staticmethod
    def _samples(clip: ClipContext, changed: Tensor, mixed: Tensor, gt: Tensor,
                 labelled: Tensor) -> Optional[List]:
        if not clip.data_samples:
            return clip.data_samples
        samples = list(clip.data_samples)
        for i in range(clip.batch_size):
            if not bool(changed[i]):
                continue
            s = samples[i].clone()
            s.set_metainfo(dict(mixed_frames=[bool(v) for v in mixed[i].tolist()]))
            if s.gt_masks is not None:
                s.gt_masks = gt[i].to(s.gt_masks.device, s.gt_masks.dtype)
            s.labelled = labelled[i].to(s.labelled.device if s.labelled is not None else 'cpu')
            samples[i] = s
        return samples
