"""MSSNet's RAC: echoseg's ``RACMixer`` (the file's scheme) against the public ``RAC.py``.

``RAC(pred_A, pred_B, video_seq)`` of SSS666-klk/MSSNet@aa8b95b returns the enhanced clip:
frame 0 is the last frame with the first frame's predicted foreground (> 0.5) pasted on
it, the last frame is the first with the last frame's foreground pasted; the frames
between are the video's. echoseg: ``RACMixer(intra_prob=1, inter_prob=0,
extra_sample=True, region_from='prediction')`` on the same clip (ED first, ES last), the
predictions given through ``predict_fn`` as (1 - p, p).

Outputs compared: ``enhanced_clip`` (the appended clip against the file's result) and
``original_clip`` (the batch's own clip, unchanged, against the input). No weights: the
name map is empty. The file imports ``cv2`` and ``numpy`` (echoseg's dependencies).
"""
from typing import Dict, List

import torch
from torch import Tensor, nn

from .reference_check import ReferenceCase, ReferenceFile, load_reference_module

REFERENCE_FILES = [ReferenceFile('SSS666-klk/MSSNet', 'aa8b95b', 'RAC.py',
                                 'a1082d6cabfc187bef97956655048f0b005ccc72')]


def _blobs(gen: torch.Generator, t: int, size: int) -> Tensor:
    """(t, size, size) smooth foreground probabilities with some exact 0.5 ties."""
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing='ij')
    out = []
    for _ in range(t):
        cy, cx = (torch.rand(2, generator=gen) * 0.4 + 0.3) * size
        r = (torch.rand(1, generator=gen) * 0.15 + 0.15) * size
        d = ((yy - cy) ** 2 + (xx - cx) ** 2).sqrt()
        p = torch.sigmoid((r - d) / 3 + torch.randn(size, size, generator=gen) * 0.5)
        p[torch.rand(size, size, generator=gen) < 0.02] = 0.5
        out.append(p)
    return torch.stack(out)


def build_case(paths: List[str], seed: int = 0, frames: int = 10, size: int = 256,
               **_unused) -> ReferenceCase:
    """One clip (frames, 1, size, size), predictions for its first and last frame."""
    from echoseg.models.clip_mixers import RACMixer
    from echoseg.models.utils import ClipContext
    from echoseg.structures import EchoDataSample

    module = load_reference_module(paths[0], needs=('cv2', ))
    gen = torch.Generator().manual_seed(seed)
    video = torch.rand(frames, 1, size, size, generator=gen)
    probs = _blobs(gen, frames, size)
    truth = (_blobs(gen, frames, size) > 0.5).long()
    mixer = RACMixer(intra_prob=1.0, inter_prob=0.0, extra_sample=True,
                     region_from='prediction', predict_mode='eval')

    def run_theirs(x: Tensor) -> Dict[str, Tensor]:
        enhanced = module.RAC(probs[:1], probs[-1:], x)
        return dict(enhanced_clip=enhanced, original_clip=x)

    def run_ours(x: Tensor) -> Dict[str, Tensor]:
        labelled = torch.zeros(1, frames, dtype=torch.bool)
        labelled[0, [0, -1]] = True
        gt = torch.where(labelled[0, :, None, None], truth, torch.full_like(truth, 255))
        sample = EchoDataSample(metainfo=dict(video_id='v', ed_index=0,
                                              es_index=frames - 1))
        sample.gt_masks, sample.labelled = gt.clone(), labelled[0].clone()
        clip = ClipContext(1, frames, labelled, gt_masks=gt[None], input_shape=(size, size),
                           data_samples=[sample])

        def predict(inputs: Tensor) -> Tensor:
            p = probs.expand(inputs.shape[0], -1, -1, -1)
            return torch.stack([1 - p, p], dim=2)

        out, out_clip = mixer.mix(x[None], clip, predict, torch.tensor([True]),
                                  torch.tensor([False]))
        assert out_clip.batch_size == 2
        return dict(enhanced_clip=out[1], original_clip=out[0])

    return ReferenceCase(
        name='MSSNet RAC', theirs=nn.Module(), ours=mixer, rules=[], inputs=video,
        run_theirs=run_theirs, run_ours=run_ours,
        notes=[f'input: one clip {tuple(video.shape)} in [0, 1), predicted foreground '
               'probabilities of its first and last frame (2 % exact 0.5 ties)',
               'RACMixer(intra_prob=1, inter_prob=0, extra_sample=True, '
               "region_from='prediction')"])
