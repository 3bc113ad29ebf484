"""What EchoForge's references change (docs/methods/echoforge.md, "Do the references
matter?"; ``tools/analysis/reference_effect.py``):

    python tools/analysis/reference_effect.py CONFIG CHECKPOINT [--data-root DIR]
        [--split test] [--split-mode column|ratio] [--all-videos] [--threads 1] [--json FILE]

A two-pass ``TSFHead`` (``reference_mode`` ``'two_pass'`` or ``'two_pass_gt'``, the same at
inference) decodes every frame of a clip twice: pass 1 with its learned default tokens,
pass 2 with the tokens pooled from the reference frames' pass-1 masks (eqs 3-4). For every
test clip of the config's test dataset the tool runs the model's encoder (and neck) once,
then :meth:`TSFHead.two_pass` exactly as inference does, and reports per clip, at the
head's output resolution: the LV pixels of pass 1 and pass 2, the pixels whose class the
references change, and the mean absolute change of the logits. A reference mechanism that
shapes the masks changes pixels; one that only rescales the logits changes none.
"""
import argparse
import json
from typing import Dict, List, Sequence

import torch
from torch import Tensor

from echoseg.models.utils import ClipContext


def reference_effect(head, inputs: Sequence[Tensor], clip: ClipContext) -> Dict:
    """One clip's head inputs -> pass-1 / pass-2 comparison of a two-pass ``TSFHead``:
    per frame LV pixels of each pass and pixels changed, and the mean |logit change|."""
    if getattr(head, 'reference_mode', None) not in ('two_pass', 'two_pass_gt'):
        raise ValueError('reference_effect needs a TSFHead with reference_mode two_pass or '
                         f"two_pass_gt, got {type(head).__name__} "
                         f"({getattr(head, 'reference_mode', None)!r})")
    with torch.no_grad():
        feats, mask_feats = head.encode(inputs)
        first, second = head.two_pass(feats, clip, mask_feats=mask_feats)
    one, two = (head.memory_masks(p['logits'])[:, 1:].sum(1) > 0.5
                for p in (first, second))   # foreground of the one-hot class masks
    return dict(lv_pass1=[int(x) for x in one.flatten(1).sum(1)],
                lv_pass2=[int(x) for x in two.flatten(1).sum(1)],
                changed=[int(x) for x in (one ^ two).flatten(1).sum(1)],
                logit_change=float((second['logits'] - first['logits']).abs().mean()))


def clip_effects(model, dataset) -> List[Dict]:
    """:func:`reference_effect` of every clip of ``dataset`` (one at a time, eval mode)."""
    from mmengine.dataset import pseudo_collate
    model.eval()
    out = []
    for i in range(len(dataset)):
        batch = pseudo_collate([dataset[i]])
        with torch.no_grad():
            data = model.data_preprocessor(batch, False)
            inputs, samples = data['inputs'], data['data_samples']
            clip = model.make_clip_context(inputs, samples, with_masks=False)
            feats = model.extract_feat(inputs, clip)
        result = reference_effect(model.decode_head, feats, clip)
        meta = samples[0].metainfo if samples else {}
        result['video_id'] = meta.get('video_id', str(i))
        out.append(result)
    return out


def summary(clips: List[Dict]) -> Dict:
    lv = sum(sum(c['lv_pass1']) for c in clips)
    changed = sum(sum(c['changed']) for c in clips)
    return dict(clips=len(clips), lv_pixels=lv, changed=changed,
                changed_share=changed / lv if lv else float('nan'),
                logit_change=sum(c['logit_change'] for c in clips) / max(len(clips), 1))


def markdown(clips: List[Dict]) -> str:
    lines = ['| clip | LV pixels pass 1 (all frames) | pixels the references change | share | '
             'mean \\|logit change\\| |', '|---|---|---|---|---|']
    for name, s in [(c['video_id'], summary([c])) for c in clips] + [('all', summary(clips))]:
        lines.append(f"| {name} | {s['lv_pixels']} | {s['changed']} | "
                     f"{100 * s['changed_share']:.2f} % | {s['logit_change']:.3f} |")
    return '\n'.join(lines)


def main(argv=None) -> Dict:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--data-root', default=None, help="the test dataset's data_root")
    parser.add_argument('--split', default=None, help="the test dataset's split")
    parser.add_argument('--split-mode', default=None, choices=('column', 'ratio'),
                        help="an EchoNet test dataset's split_mode")
    parser.add_argument('--all-videos', action='store_true',
                        help="drop the test dataset's video_ids selection (e.g. a "
                        "cross-validation run's held-out videos): every video of the split")
    parser.add_argument('--threads', type=int, default=0)
    parser.add_argument('--json', default=None)
    args = parser.parse_args(argv)
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from echoseg.registry import DATASETS, MODELS
    from echoseg.utils.checkpoint import load_local_checkpoint
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'echoseg'))
    model = MODELS.build(cfg.model)
    state = load_local_checkpoint(args.checkpoint)
    model.load_state_dict(state.get('state_dict', state), strict=True)
    ds_cfg = cfg.test_dataloader.dataset
    if args.all_videos:
        ds_cfg.pop('video_ids', None)
    for key, value in (('data_root', args.data_root), ('split', args.split),
                       ('split_mode', args.split_mode)):
        if value is not None:
            ds_cfg[key] = value
    clips = clip_effects(model, DATASETS.build(ds_cfg))
    print(markdown(clips))
    result = dict(config=args.config, checkpoint=args.checkpoint, clips=clips,
                  summary=summary(clips))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=1)
    return result


__all__ = ['reference_effect', 'clip_effects', 'summary', 'markdown', 'main']
