# Mixing: MSSNet's SSG neck before mmseg's stock FCNHead, supervised only. The per-frame
# baseline configs/baselines/fcn_r18_synthetic.py (ResNet-18 V1c, output stride 8,
# FCNHead on the last level) with the last level guided by SSG; the channels are
# unchanged, so the head config stays as it is. (The baseline trains on (ED, ES) clips of
# two frames: SSG's temporal scan and weight propagation then run over those two.)
_base_ = ['../../baselines/fcn_r18_synthetic.py']
model = dict(
    neck=dict(type='SSGNeck', in_channels=[64, 128, 256, 512], in_index=-1, embed_dims=32,
              scan_orders=('spatial', 'temporal'), bidirectional=True, propagation=0.5))
