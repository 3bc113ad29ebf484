# NCM-Net on EchoNet-Dynamic with the authors' settings (their EchoNet configs:
# 128 x 128, batch 8 clips, the CAMUS recipe otherwise): ResNet-50 + NCM + UMA, clips of
# 10 frames ED -> ES, only ED and ES traced. The 20k iterations of the authors' schedule
# are 22 epochs of the ~933 iterations of the 7,465-video training split (batch 8).
# At 128 x 128 the stride-16 level NCM works on is 8 x 8 (a 7 x 7 window covers most of
# it) and the stride-32 level is 4 x 4.
_base_ = ['../_base_/recipes/ncmnet_r50_authors.py', '../_base_/datasets/echonet_128.py']

# the augmentations of r50_camus.py (the dataset config's without scaling and rotation)
train_pipeline = [t for t in _base_.train_pipeline
                  if t['type'] not in ('RandomClipScale', 'RandomClipRotation')]
train_dataloader = dict(batch_size=8, dataset=dict(pipeline=train_pipeline))

# the authors' schedule (r50_camus.py), 22 epochs
max_epochs = 22
train_cfg = dict(max_epochs=max_epochs)
