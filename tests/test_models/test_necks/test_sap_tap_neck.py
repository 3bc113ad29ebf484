"""SAPTAPNeck (MSSNet's public SAP + TAP) against a direct, loop-based computation."""
import pytest
import torch
from mmengine.registry import init_default_scope

from echoseg.models.necks.sap_tap_neck import NeighbourGateBlock, PropagatedAttentionBlock
from echoseg.models.utils import ClipContext
from echoseg.registry import MODELS


@pytest.fixture(autouse=True)
def scope():
    init_default_scope('echoseg')


def _randomise(module, seed=0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.3 + (1.0 if p.dim() == 1 else 0))
    return module


def sap_direct(block, x, frames, alpha):
    """The full attention map, each frame's query rows += alpha * the previous frame's
    (already updated) rows, softmax, values, residual; then the MLP."""
    n, length, c = x.shape
    heads = block.num_heads
    qkv = block.qkv(block.norm1(x)).reshape(n, length, 3, heads, c // heads)
    q, k, v = qkv.permute(2, 0, 3, 1, 4)
    logits = q @ k.transpose(-2, -1) * (c // heads) ** -0.5
    per = length // frames
    rows = [logits[:, :, f * per:(f + 1) * per] for f in range(frames)]
    for f in range(1, frames):
        rows[f] = rows[f] + alpha * rows[f - 1]
    attn = torch.cat(rows, 2).softmax(-1)
    x = x + (attn @ v).transpose(1, 2).reshape(n, length, c)
    return x + block.mlp(block.norm2(x))


def tap_direct(block, tokens):
    prev, mid, nxt = tokens[:, 0], tokens[:, 1], tokens[:, 2]
    q = block.q(mid)
    kv = [block.kv(t).chunk(2, -1) for t in (prev, nxt)]
    scores = torch.stack([(q * k).sum(-1) for k, _ in kv], -1) / tokens.shape[-1] ** 0.5
    w = scores.softmax(-1)
    x = mid + w[:, :1] * kv[0][1] + w[:, 1:] * kv[1][1]
    return x + block.mlp(block.norm(x))


def neck_direct(neck, x, t):
    """Per clip, window by window, with explicit counts (the public procedure, any T >= 3)."""
    n, _, h, w = x.shape
    out = []
    for clip in x.view(n // t, t, -1, h, w):
        tok = neck.embed(clip.flatten(2).transpose(1, 2)) + neck._pos(h, w)   # (t, hw, e)
        e = tok.shape[-1]
        acc, cnt = torch.zeros_like(tok), torch.zeros(t)
        for j in range(t - 2):
            win = neck.norm(sap_direct(neck.sap, tok[j:j + 3].reshape(1, -1, e), 3,
                                       neck.sap.alpha)).view(3, h * w, e)
            acc[j:j + 3] += win
            cnt[j:j + 3] += 1
        spatial = acc / cnt.view(t, 1, 1)
        pooled = spatial.mean(1)
        gates = [tap_direct(neck.tap, pooled[j:j + 3].unsqueeze(0))[0] for j in range(t - 2)]
        gate = torch.stack([gates[0]] + gates + [gates[-1]])
        out.append((spatial * gate[:, None]).view(t, h, w, e).permute(0, 3, 1, 2))
    return torch.cat(out)


def test_sap_propagation_as_a_query_recurrence_equals_the_logit_propagation():
    torch.manual_seed(0)
    block = _randomise(PropagatedAttentionBlock(16, num_heads=4, alpha=0.5))
    x = torch.randn(3, 3 * 6, 16)
    with torch.no_grad():
        torch.testing.assert_close(block(x, 3), sap_direct(block, x, 3, 0.5),
                                   rtol=1e-5, atol=1e-5)
        block.alpha = 0.0  # no propagation: plain attention, and the result changes
        plain = block(x, 3)
        assert (plain - sap_direct(block, x, 3, 0.5)).abs().max() > 1e-3


def test_tap_against_its_formula():
    block = _randomise(NeighbourGateBlock(8))
    tokens = torch.randn(5, 3, 8)
    with torch.no_grad():
        torch.testing.assert_close(block(tokens), tap_direct(block, tokens))


def _neck(**kw):
    cfg = dict(type='SAPTAPNeck', in_channels=12, embed_dims=8, grid_size=(4, 4),
               num_heads=2)
    cfg.update(kw)
    torch.manual_seed(0)
    return _randomise(MODELS.build(cfg)).eval()


@pytest.mark.parametrize('t', [3, 5, 10])
def test_neck_equals_the_window_by_window_computation(t):
    neck = _neck()
    x = torch.randn(2 * t, 12, 4, 4)
    clip = ClipContext(batch_size=2, num_frames=t, labelled=torch.zeros(2, t))
    with torch.no_grad():
        (out, ) = neck([x], clip=clip)
        torch.testing.assert_close(out, neck_direct(neck, x, t), rtol=1e-4, atol=1e-5)
    assert out.shape == (2 * t, 8, 4, 4)


def test_short_clips_are_padded_with_their_last_frame():
    neck = _neck()
    x = torch.randn(2, 12, 4, 4)
    padded = torch.cat([x, x[-1:]])
    with torch.no_grad():
        (out, ) = neck([x], clip=ClipContext(batch_size=1, num_frames=2,
                                             labelled=torch.zeros(1, 2)))
        torch.testing.assert_close(out, neck_direct(neck, padded, 3)[:2], rtol=1e-4,
                                   atol=1e-5)
        (single, ) = neck([x[:1]])  # no clip: single frames
    assert single.shape == (1, 8, 4, 4)


def test_other_grids_resize_the_position_embedding_and_levels_pass_through():
    neck = _neck(in_channels=[3, 12])
    assert neck._pos(4, 4) is neck.pos_embed
    x = torch.randn(4, 12, 6, 5)
    other = torch.randn(4, 3, 12, 10)
    with torch.no_grad():
        first, out = neck([other, x], clip=ClipContext(batch_size=1, num_frames=4,
                                                       labelled=torch.zeros(1, 4)))
    assert first is other and out.shape == (4, 8, 6, 5)
    assert neck._pos(6, 5).shape == (1, 30, 8)


def test_a_frame_changes_only_the_frames_that_share_a_window_or_its_gate():
    neck = _neck()
    t = 8
    x = torch.randn(t, 12, 4, 4)
    changed = x.clone()
    changed[7] += 2.0
    clip = ClipContext(batch_size=1, num_frames=t, labelled=torch.zeros(1, t))
    with torch.no_grad():
        (a, ), (b, ) = neck([x], clip=clip), neck([changed], clip=clip)
    moved = (a - b).flatten(1).abs().max(1).values > 1e-6
    # frame 7 is in the last window (5, 6, 7) only, which changes frames 5-7; frame 4's
    # gate is the window (3, 4, 5), which pools frame 5; frames 0-3 see neither
    assert moved.tolist() == [False] * 4 + [True] * 4
