# MSSNet on CAMUS-Semi: the Mamba network (VSSEncoder -> SSG as SSG.py at the bottleneck ->
# VSSDecoderHead) with RAC and DOC as RAC.py / DOC.py (configs/_base_/models/mssnet_mamba.py),
# clips of 10 frames ED -> ES (only ED and ES labelled) at 256 x 256 (SSG sees 8 x 8 tokens
# per frame). The abstract gives no schedule: the recipe of the other CAMUS configs (ours):
# 50 epochs, Adam, poly lr 1e-4 (power 0.9), batch 4, gamma / scale / rotation / contrast
# augmentation each with p = 0.5 (the dataset config).
#
#   python tools/train.py configs/mssnet/camus.py
# Data layout: docs/datasets.md (data/camus by default). The former ResNet-18 model:
# configs/mssnet/variants/r18_camus.py.
_base_ = [
    '../_base_/models/mssnet_mamba.py', '../_base_/datasets/camus.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_50e_adam.py'
]
train_dataloader = dict(batch_size=4)
custom_hooks = [dict(type='PlainCheckpointHook')]
