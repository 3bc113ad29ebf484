# PKEcho-Net, the `authors` preset: the network of the public model file
# (models/PKEchoNet.py, JingyinLin/PKEcho-Net@441f257) instead of the paper's text, on the
# CAMUS-Semi recipe of r50_camus.py. Checked equal to the file (eval mode, every stage's
# upsampled mask, relative difference <= 1e-4):
#
#   python tools/analysis/check_against_reference.py pkechonet /tmp/ref24/pkechonet
#
# What differs from r50_camus.py (docs/methods/pkechonet.md, "The authors preset"):
# - one input channel (the file's default in_channels=1): the 7x7 stem is a new conv
#   (r50_camus.py's ImageNet weights load into every other layer; the stem's are skipped
#   with a shape-mismatch warning, as the file builds a new stem), inputs scaled to
#   [0, 1] (ours: the file has no data code; its demo feeds torch.rand);
# - KSS: eq. 1 as a plain sum, the file's hybrid attention (Linear + LN + ReLU after the
#   two branches), FFN 4d with ReLU, dropout 0.1, the temporal position embedding added
#   once to the kernels, cross-video attention across the batch also in eval mode, the
#   file's initialisation; MRP: the file's initialisation.
_base_ = ['./r50_camus.py']

data_preprocessor = dict(type='EchoDataPreprocessor', mean=0.0, std=255.0, in_channels=1)
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(in_channels=1),
    neck=dict(init_mode='public'),
    decode_head=dict(
        num_heads=1,              # d / 32
        ffn_ratio=4.0,
        ffn_act='relu',
        attn_dropout=0.1,
        grouping='sum',
        hybrid='public',
        temporal_pos='once',
        cross_video='batch',
        init_mode='public'))
