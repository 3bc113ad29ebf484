# NCM-Net on CAMUS-Semi with the authors' settings (their mmseg fork, branch stecho:
# configs ncm/test/stechonet_r50_ncm_stechoheadv3_20k_camus.py): ResNet-50 + NCM + UMA,
# 256 x 256, clips of 10 frames ED -> ES (only ED and ES labelled), batch 2 clips,
# photometric distortion + horizontal flip, SGD (lr 0.01, momentum 0.9, weight decay
# 5e-4), linear warm-up over 2000 iterations from 0.001 x lr, then cosine annealing to
# 20k iterations. echoseg trains by epochs: 57 epochs of the 350 iterations of the
# 700-clip training split (batch 2) = 19,950 iterations, the schedulers count iterations.
#
#   python tools/train.py configs/ncmnet/r50_camus.py
# Data layout: docs/datasets.md (data/camus by default).
_base_ = ['../_base_/recipes/ncmnet_r50_authors.py', '../_base_/datasets/camus.py']

# photometric distortion of a gray clip: gamma (brightness) and contrast (ours: echoseg's
# clip transforms stand for mmseg's PhotoMetricDistortion), and the horizontal flip: the
# dataset config's augmentations without its scaling and rotation
train_pipeline = [t for t in _base_.train_pipeline
                  if t['type'] not in ('RandomClipScale', 'RandomClipRotation')]
train_dataloader = dict(batch_size=2, dataset=dict(pipeline=train_pipeline))
