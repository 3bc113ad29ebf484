# PKEcho-Net on CAMUS-Semi (paper "Implementation Details"): ResNet-50 + MRP + KSS,
# 320 x 320, clips of 10 frames ED -> ES (only ED and ES labelled), 50 epochs, Adam,
# lr 1e-3 with poly decay (power 0.9) every iteration, batch 8 clips; augmentation:
# horizontal flip, brightness / contrast within +-15 % and rotation within +-20 degrees.
#
#   python tools/train.py configs/pkechonet/r50_camus.py
# Data layout: docs/datasets.md (data/camus by default).
_base_ = ['../_base_/recipes/pkechonet_r50_paper.py', '../_base_/datasets/camus.py']

image_size = (320, 320)
# the paper's augmentations, in its order, after the dataset config's loading, sampling and
# resizing (to this size). Brightness +-15 %: echoseg has no brightness transform; a gamma
# in [0.85, 1.15] stands for it (ours)
train_pipeline = [dict(t, scale=image_size) if t['type'] == 'ResizeClip' else t
                  for t in _base_.train_pipeline[:4]] + [
    dict(type='RandomClipFlip', prob=0.5),
    dict(type='RandomClipGamma', prob=0.5, gamma_range=(0.85, 1.15)),
    dict(type='RandomClipContrast', prob=0.5, contrast_range=(0.85, 1.15)),
    dict(type='RandomClipRotation', prob=0.5, angle_range=(-20.0, 20.0)),
    dict(type='PackEchoInputs'),
]
test_pipeline = [dict(t, scale=image_size) if t['type'] == 'ResizeClip' else t
                 for t in _base_.test_pipeline]
train_dataloader = dict(batch_size=8, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
