"""MSSNet's DOC: echoseg's ``DOCPseudoLabeler`` against the public ``DOC.py`` (class ``DOC``).

The file's training loop is not public; the check drives both the way the file's methods
fit together: per batch ``labels, loss = DOC(video_ids, preds, features, epoch)`` then
``DOC.update_threshold(epoch)``. Four videos of T = 10 frames, two per batch, five epochs;
the predictions are foreground probabilities of a drifting blob per frame (moving more in
some videos than in others, so the offset check accepts some and rejects others; one video
repeats its stored prediction in epoch 1, where tau = 0, so ``<=`` is exercised), kept at
least 0.01 from 0.5 (echoseg stores maps as uint8, 1/254 steps; the binarisation must not
hinge on that rounding). The features (B*T, 16, 32, 32) are random, at the predictions'
size (the file assumes the two sizes agree).

echoseg: ``DOCPseudoLabeler(embed_dims=None, contrastive='self', threshold_momentum=0,
warmup_epochs=1, zero_threshold_epochs=1, memory_resolution=32, loss_weight=1)`` on the
same clips, every frame unlabelled (the file knows no labels), the predictions given as
one-channel logits.

Outputs compared, one row per batch after the warm-up epoch: ``pseudo_labels`` (the
binarised labels each method supervises with: the file's ``supervised_labels > 0.5``,
echoseg's argmax), ``deviation`` (the batch's mean deviation), ``threshold`` (tau the batch
was decided with), ``accepted`` (videos whose prediction replaced the stored one) and
``contrastive_loss``. No weights: the name map is empty.
"""
import math
from typing import Dict, List

import torch
from torch import Tensor, nn

from .reference_check import ReferenceCase, ReferenceFile, load_reference_module

REFERENCE_FILES = [ReferenceFile('SSS666-klk/MSSNet', 'aa8b95b', 'DOC.py',
                                  'f505955beee3870e6f467ffd6d7254f657bd2bbb')]

VIDEOS, PER_BATCH, FRAMES, SIZE, CHANNELS, EPOCHS = 4, 2, 10, 32, 16, 5


def _predictions(gen: torch.Generator) -> Tensor:
    """(EPOCHS, VIDEOS, FRAMES, SIZE, SIZE) foreground probabilities, |p - 0.5| >= 0.01."""
    yy, xx = torch.meshgrid(torch.arange(SIZE, dtype=torch.float32),
                            torch.arange(SIZE, dtype=torch.float32), indexing='ij')
    centre = torch.rand(VIDEOS, 2, generator=gen) * 8 + 12
    speed = torch.tensor([0.3, 1.0, 2.5, 5.0])[torch.randperm(VIDEOS, generator=gen)]
    out = torch.zeros(EPOCHS, VIDEOS, FRAMES, SIZE, SIZE)
    for e in range(EPOCHS):
        for v in range(VIDEOS):
            shift = torch.randn(2, generator=gen) * speed[v]
            for t in range(FRAMES):
                cy, cx = centre[v] + shift + t * 0.3
                r = 6 + 2 * math.sin(t / 3) + 0.3 * e
                d = ((yy - cy) ** 2 + (xx - cx) ** 2).sqrt()
                out[e, v, t] = torch.sigmoid((r - d) + torch.randn(SIZE, SIZE, generator=gen)
                                             * 0.3)
    out[1, 0] = out[0, 0]  # video 0 repeats its stored prediction in epoch 1 (dev 0 <= 0)
    near = (out - 0.5).abs() < 0.01
    return torch.where(near, 0.5 + 0.01 * torch.sign(out - 0.5 + 1e-9), out)


def _schedule():
    """(epoch, [video indices]) of every batch, in order."""
    return [(e, list(range(b, b + PER_BATCH))) for e in range(EPOCHS)
            for b in range(0, VIDEOS, PER_BATCH)]


def build_case(paths: List[str], seed: int = 0, **_unused) -> ReferenceCase:
    from echoseg.models.pseudo_labelers import DOCPseudoLabeler
    from echoseg.models.utils import ClipContext
    from echoseg.structures import EchoDataSample

    module = load_reference_module(paths[0], needs=())
    gen = torch.Generator().manual_seed(seed)
    preds = _predictions(gen)
    feats = torch.randn(EPOCHS, VIDEOS, FRAMES, CHANNELS, SIZE, SIZE, generator=gen)
    names = [f'video{v}' for v in range(VIDEOS)]

    def collect(rows: List[Dict[str, Tensor]]) -> Dict[str, Tensor]:
        return {k: torch.stack([r[k] for r in rows]) for k in rows[0]}

    def run_theirs(p: Tensor) -> Dict[str, Tensor]:
        doc = module.DOC(temperature=0.07)
        rows = []
        for epoch, vids in _schedule():
            tau = float(doc.global_threshold)
            labels, loss = doc([names[v] for v in vids], p[epoch, vids],
                               feats[epoch, vids].flatten(0, 1), epoch)
            devs = dict(doc.video_deviations)
            doc.update_threshold(epoch)
            if epoch == 0:
                continue
            accepted = sum(devs[names[v]] <= tau for v in vids)
            rows.append(dict(pseudo_labels=(labels > 0.5).float(),
                             deviation=torch.tensor(sum(devs.values()) / len(devs)),
                             threshold=torch.tensor(tau), accepted=torch.tensor(float(accepted)),
                             contrastive_loss=torch.as_tensor(loss, dtype=torch.float32)))
        return collect(rows)

    def run_ours(p: Tensor) -> Dict[str, Tensor]:
        doc = DOCPseudoLabeler(in_channels=CHANNELS, num_classes=2, in_index=-1,
                               embed_dims=None, temperature=0.07, loss_weight=1.0,
                               warmup_epochs=1, zero_threshold_epochs=1,
                               threshold_momentum=0.0, contrastive='self',
                               memory_resolution=SIZE).train()
        rows = []
        for epoch, vids in _schedule():
            doc.epoch = epoch
            samples = [EchoDataSample(metainfo=dict(video_id=names[v],
                                                    frame_indices=list(range(FRAMES))))
                       for v in vids]
            clip = ClipContext(len(vids), FRAMES, torch.zeros(len(vids), FRAMES, dtype=torch.bool),
                               input_shape=(SIZE, SIZE), data_samples=samples)
            prob = p[epoch, vids].flatten(0, 1)[:, None]
            out = doc(torch.log(prob) - torch.log1p(-prob), (feats[epoch, vids].flatten(0, 1), ),
                      clip)
            if epoch == 0:
                continue
            loss = out['losses']
            rows.append(dict(pseudo_labels=out['labels'].reshape(len(vids), FRAMES, SIZE, SIZE)
                             .float(),
                             deviation=loss['doc_deviation'].float(),
                             threshold=loss['doc_threshold'].float(),
                             accepted=loss['doc_accepted'].float(),
                             contrastive_loss=loss['loss_doc'].detach().float()))
        return collect(rows)

    steps = len(_schedule()) - VIDEOS // PER_BATCH
    return ReferenceCase(
        name='MSSNet DOC', theirs=nn.Module(), ours=nn.Module(), rules=[], inputs=preds,
        run_theirs=run_theirs, run_ours=run_ours,
        notes=[f'input: {VIDEOS} videos of {FRAMES} frames, {PER_BATCH} per batch, {EPOCHS} '
               f'epochs ({steps} batches after the warm-up epoch): drifting-blob foreground '
               f'probabilities ({SIZE} x {SIZE}, |p - 0.5| >= 0.01), features (B*T, '
               f'{CHANNELS}, {SIZE}, {SIZE}) random',
               "DOCPseudoLabeler(embed_dims=None, contrastive='self', threshold_momentum=0, "
               'warmup_epochs=1, zero_threshold_epochs=1, memory_resolution=32); the file: '
               'DOC(...) then update_threshold(epoch) after every batch'])
