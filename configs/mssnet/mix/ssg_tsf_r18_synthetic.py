# Mixing: MSSNet's SSG neck before EchoForge's TSF head (with CPR and FlameRise):
# configs/echoforge/r18_synthetic.py with ARC replaced by SSG on the encoder output
# (512 channels at output stride 16, 8 x 8 tokens per frame), which TSF reads.
_base_ = ['../../echoforge/r18_synthetic.py']
model = dict(
    neck=dict(_delete_=True, type='SSGNeck', in_channels=[64, 128, 256, 512], in_index=-1,
              embed_dims=32, scan_orders=('spatial', 'temporal'), bidirectional=True,
              propagation=0.5))
