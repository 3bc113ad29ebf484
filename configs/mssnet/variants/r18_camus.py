# The former MSSNet model (a named variant; the MSSNet configs use the Mamba network):
# MSSNet on CAMUS-Semi: ResNet-18 + SSG + FCNHead with RAC and DOC (configs/_base_/models/
# mssnet_r18.py), clips of 10 frames ED -> ES (only ED and ES labelled) at 256 x 256.
# The abstract gives no schedule: the recipe of the other CAMUS configs (ours): 50 epochs,
# Adam, poly lr 1e-4 (power 0.9), batch 4, gamma / scale / rotation / contrast
# augmentation each with p = 0.5 (the dataset config).
#
#   python tools/train.py configs/mssnet/variants/r18_camus.py
# Data layout: docs/datasets.md (data/camus by default).
_base_ = [
    '../../_base_/models/mssnet_r18.py', '../../_base_/datasets/camus.py',
    '../../_base_/default_runtime.py', '../../_base_/schedules/schedule_50e_adam.py'
]
train_dataloader = dict(batch_size=4)
custom_hooks = [dict(type='PlainCheckpointHook')]
