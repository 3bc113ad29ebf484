# synthetic.py with echoseg's Mamba SSG (SSGNeck: spatial and temporal selective scans with
# the steps propagated from frame to frame, alpha 0.5) at the bottleneck instead of SSG.py's
# SAP / TAP attention; the bottleneck keeps its 256 channels (a residual neck).
_base_ = ['../synthetic.py']
model = dict(
    neck=dict(_delete_=True, type='SSGNeck', in_channels=[32, 64, 128, 256], in_index=-1,
              embed_dims=32, scan_orders=('spatial', 'temporal'), bidirectional=True,
              propagation=0.5, d_state=16, d_conv=4, expand=2),
    decode_head=dict(in_channels=[32, 64, 128, 256]))
