# NCM-Net's training with the authors' settings (their mmseg fork, branch stecho: configs
# ncm/test/stechonet_r50_ncm_stechoheadv3_20k_camus.py), without the data: ResNet-50 + NCM
# + UMA from ImageNet weights, SGD (lr 0.01, momentum 0.9, weight decay 5e-4), linear
# warm-up over 2000 iterations from 0.001 x lr, then cosine annealing to 20k iterations.
# The schedulers count iterations; echoseg trains by epochs: the 57 epochs here are 20k
# iterations on CAMUS (configs/ncmnet/r50_camus.py); a config on other data sets its own.
_base_ = ['../models/ncmnet_r50.py', '../default_runtime.py']

# ImageNet initialisation as the authors' code: torchvision's ResNet-50 weights, downloaded
# once into ~/.cache/torch/hub/checkpoints (docs/getting_started.md "ImageNet weights";
# offline: --cfg-options model.backbone.init_cfg.checkpoint=/path/to/resnet50-0676ba61.pth)
model = dict(
    backbone=dict(init_cfg=dict(
        type='Pretrained',
        checkpoint='https://download.pytorch.org/models/resnet50-0676ba61.pth')))

max_epochs = 57
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=2000),
    dict(type='CosineAnnealingLR', T_max=18000, by_epoch=False, begin=2000, end=20000),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
