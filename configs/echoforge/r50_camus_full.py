# EchoForge on CAMUS, trained as r50_camus.py (ED and ES labelled) and evaluated on
# CAMUS-Full: every frame of the validation / test half sequences carries its mask and is
# evaluated.
_base_ = ['./r50_camus.py']

val_dataloader = dict(dataset=dict(mode='full'))
test_dataloader = dict(dataset=dict(mode='full'))
