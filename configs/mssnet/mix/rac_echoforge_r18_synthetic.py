# Mixing: MSSNet's RAC clip mixer added to EchoForge (configs/echoforge/r18_synthetic.py:
# ARC + TSF + CPR with FlameRise). TSF's references are the clip's first and last frames
# (ED and ES), which RAC mixes; CPR runs without a memory (fusion='cpr'), so nothing is
# stored under a mixed frame's key.
_base_ = ['../../echoforge/r18_synthetic.py']
model = dict(
    clip_mixer=dict(type='RACMixer', intra_prob=1.0, inter_prob=0.5, lv_class=1, dilation=0))
