"""The attention blocks of echoseg.models.layers.attention against attention written out
by hand (float64): projections, per-head softmax, masks, residuals and LayerNorms."""
import math

import pytest
import torch
import torch.nn.functional as F

from echoseg.models.layers.attention import (CrossAttentionLayer, FFNLayer,
                                             SelfAttentionLayer, TransformerBlock,
                                             TwoWayAttentionBlock, expand_attn_mask,
                                             sine_positional_encoding)

B, DIM, HEADS = 2, 8, 2


def _rand(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed),
                       dtype=torch.float64)


def _ready(module, seed=0):
    torch.manual_seed(seed)
    module = module.double().eval()
    with torch.no_grad():      # biases and norms away from their neutral start
        for p in module.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return module


def _mha(attn, q, k, v, blocked=None):
    """nn.MultiheadAttention by hand: (output, head-averaged weights)."""
    if attn._qkv_same_embed_dim:
        wq, wk, wv = attn.in_proj_weight.chunk(3)
    else:
        wq, wk, wv = attn.q_proj_weight, attn.k_proj_weight, attn.v_proj_weight
    bq, bk, bv = attn.in_proj_bias.chunk(3)
    h, d = attn.num_heads, attn.embed_dim // attn.num_heads

    def heads(x, w, b):
        return (x @ w.t() + b).view(x.shape[0], x.shape[1], h, d).transpose(1, 2)
    qh, kh, vh = heads(q, wq, bq), heads(k, wk, bk), heads(v, wv, bv)
    scores = qh @ kh.transpose(-1, -2) / math.sqrt(d)
    if blocked is not None:
        scores = scores.masked_fill(blocked[:, None], float('-inf'))
    weights = scores.softmax(-1)
    out = (weights @ vh).transpose(1, 2).reshape(q.shape[0], q.shape[1], h * d)
    return attn.out_proj(out), weights.mean(1)


def test_expand_attn_mask_releases_fully_blocked_rows_and_repeats_per_head():
    assert expand_attn_mask(None, 4) is None
    mask = torch.tensor([[[1, 0, 1], [1, 1, 1]], [[0, 0, 0], [0, 1, 0]]], dtype=torch.bool)
    out = expand_attn_mask(mask, 3)
    assert out.shape == (6, 2, 3) and out.dtype == torch.bool
    released = mask.clone()
    released[0, 1] = False                     # every key blocked: none is
    for b in range(2):
        for j in range(3):
            assert torch.equal(out[b * 3 + j], released[b])


def test_self_attention_layer():
    layer = _ready(SelfAttentionLayer(DIM, HEADS))
    x, pos = _rand(B, 5, DIM), _rand(B, 5, DIM, seed=1)
    with torch.no_grad():
        attn, _ = _mha(layer.attn, x + pos, x + pos, x)    # positions on q and k only
        expected = layer.norm(x + attn)
        torch.testing.assert_close(layer(x, pos), expected)
        # a padded key is never attended to: its value does not matter
        pad = torch.zeros(B, 5, dtype=torch.bool)
        pad[:, 4] = True
        changed = x.clone()
        changed[:, 4] += 5.0
        a, b = layer(x, pos, key_padding_mask=pad), layer(changed, pos, key_padding_mask=pad)
        torch.testing.assert_close(a[:, :4], b[:, :4])


@pytest.mark.parametrize('pre_norm', [False, True])
def test_cross_attention_layer_with_another_key_width_and_a_mask(pre_norm):
    layer = _ready(CrossAttentionLayer(DIM, HEADS, kdim=6, pre_norm=pre_norm))
    q, q_pos = _rand(B, 3, DIM), _rand(B, 3, DIM, seed=1)
    mem, mem_pos = _rand(B, 4, 6, seed=2), _rand(B, 4, 6, seed=3)
    mask = torch.zeros(B, 3, 4, dtype=torch.bool)
    mask[0, 0, :2] = True                       # two keys blocked
    mask[1, 2] = True                           # every key blocked: released
    with torch.no_grad():
        out, weights = layer(q, mem, q_pos, mem_pos, attn_mask=mask, return_weights=True)
        q_in = layer.norm(q) if pre_norm else q
        m_in = layer.norm_memory(mem) if pre_norm else mem
        attn, want_w = _mha(layer.attn, q_in + q_pos, m_in + mem_pos, m_in,
                            blocked=expand_attn_mask(mask, 1))
        expected = q + attn if pre_norm else layer.norm(q + attn)
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(weights, want_w)
    assert torch.all(weights[0, 0, :2] == 0) and torch.all(weights[1, 2] > 0)
    assert (layer.norm_memory is not None) == pre_norm
    torch.testing.assert_close(layer(q, mem, q_pos, mem_pos, attn_mask=mask), out)


@pytest.mark.parametrize('pre_norm', [False, True])
def test_ffn_layer(pre_norm):
    layer = _ready(FFNLayer(DIM, pre_norm=pre_norm))
    assert layer.mlp[0].out_features == 4 * DIM                 # the default hidden width
    x = _rand(B, 5, DIM)
    lin1, lin2 = layer.mlp[0], layer.mlp[3]
    with torch.no_grad():
        inner = layer.norm(x) if pre_norm else x
        mlp = F.linear(F.gelu(F.linear(inner, lin1.weight, lin1.bias)), lin2.weight, lin2.bias)
        expected = x + mlp if pre_norm else layer.norm(x + mlp)
        torch.testing.assert_close(layer(x), expected)


def test_transformer_block_order_and_optional_parts():
    block = _ready(TransformerBlock(DIM, HEADS, ffn_dim=16))
    x, mem, pos = _rand(B, 5, DIM), _rand(B, 7, DIM, seed=1), _rand(B, 5, DIM, seed=2)
    with torch.no_grad():
        torch.testing.assert_close(block(x, mem, pos),
                                   block.ffn(block.cross_attn(block.self_attn(x, pos), mem,
                                                              pos)))
        # no memory: the cross-attention is skipped
        torch.testing.assert_close(block(x, None, pos), block.ffn(block.self_attn(x, pos)))
    plain = TransformerBlock(DIM, HEADS, with_self_attn=False, with_cross_attn=False)
    assert plain.self_attn is None and plain.cross_attn is None
    assert plain.ffn.mlp[0].out_features == 4 * DIM


def test_two_way_block_updates_tokens_then_the_image():
    block = _ready(TwoWayAttentionBlock(DIM, HEADS))
    tokens, image = _rand(B, 3, DIM), _rand(B, 12, DIM, seed=1)
    t_pos, i_pos = _rand(B, 3, DIM, seed=2), _rand(B, 12, DIM, seed=3)
    with torch.no_grad():
        new_tokens, new_image = block(tokens, image, t_pos, i_pos)
        t = block.token_self_attn(tokens, t_pos)
        t = block.token_ffn(block.token_to_image(t, image, t_pos, i_pos))
        # the image attends to the *updated* tokens
        expected_image = block.image_to_token(image, t, i_pos, t_pos)
    torch.testing.assert_close(new_tokens, t)
    torch.testing.assert_close(new_image, expected_image)
    assert new_tokens.shape == tokens.shape and new_image.shape == image.shape


def test_sine_positional_encoding_formula():
    h, w, dim, temp = 3, 5, 8, 10000.0
    pe = sine_positional_encoding(h, w, dim, temperature=temp, dtype=torch.float64)
    assert pe.shape == (h * w, dim)
    quarter = dim // 4
    for i in range(h):
        for j in range(w):
            row = pe[i * w + j]
            for c in range(quarter):
                freq = temp ** (c / quarter)
                ay = (i + 0.5) / h * 2 * math.pi / freq
                ax = (j + 0.5) / w * 2 * math.pi / freq
                assert row[c].item() == pytest.approx(math.sin(ay))
                assert row[quarter + c].item() == pytest.approx(math.cos(ay))
                assert row[2 * quarter + c].item() == pytest.approx(math.sin(ax))
                assert row[3 * quarter + c].item() == pytest.approx(math.cos(ax))
    with pytest.raises(ValueError, match='divisible by 4'):
        sine_positional_encoding(2, 2, 6)
