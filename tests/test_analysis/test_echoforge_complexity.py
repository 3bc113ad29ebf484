"""Parameters and multiply-adds of EchoForge's default (configs/echoforge/r50_camus.py, with
its pixel decoder) against the paper's Table 2 (67 M, 125 G at 256 x 256);
docs/methods/echoforge.md, "Parameters and multiply-adds"."""
import os.path as osp

import torch
from mmengine.registry import init_default_scope

from echoseg.analysis import complexity
from echoseg.registry import MODELS
from echoseg.utils.config import load_config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'echoforge', 'r50_camus.py')
FRAMES, SIZE = 10, 256


def test_r50_camus_default_parameters_and_where_its_multiply_adds_go():
    """Parameters within 10 % of the paper's 67 M; the decode head's multiply-adds are the
    pixel decoder's, counted on its own on the encoder's levels of a 10-frame clip, plus
    TSF's (under 2 % of them: TSF attends over 8 x 8 tokens)."""
    cfg = load_config(CONFIG)
    result = complexity.model_complexity(cfg, (SIZE, SIZE), FRAMES)
    assert abs(result['params']['total'] / 67e6 - 1) < 0.10
    init_default_scope('echoseg')
    head = MODELS.build(cfg.model.decode_head).eval()
    levels = [torch.randn(FRAMES, c, SIZE // s, SIZE // s)
              for c, s in zip(cfg.model.decode_head.in_channels, (4, 8, 16, 32))]
    decoder = complexity.count_macs(lambda: head.pixel_decoder(levels))['total']
    head_macs = result['macs_clip']['decode_head']
    assert decoder < head_macs < 1.02 * decoder
    assert result['params']['decode_head'] > sum(
        p.numel() for p in head.pixel_decoder.parameters())
