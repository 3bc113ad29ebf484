# Does more synthetic pretraining still help on real echo? (docs/real_data.md, "The
# pretraining-size curve"): FCN-R18, the few-video recipe, pretrained on 128, 512 (the
# method table's row, same stage hashes) and 2048 synthetic videos (the same 6 epochs of
# configs/baselines/fcn_r18_synthetic.py: the step count grows with the videos), then
# fine-tuned and cross-validated exactly as real_protocol.py (inherited: folds, seeds,
# post-processing, whole-video EF):
#
#   python tools/analysis/method_table.py configs/method_table/pretraining_size.py \
#       --work-root /path/to/runs --threads 1 [--rows NAME ...]
#
# The 128 and 2048 rows pretrain fcn_r18_synthetic.py (the 512 row's fcn_r18_synthetic_512.py
# less its count) with the row's count. Rows fixed before any of the 128 / 2048 rows ran.
_base_ = ['./real_protocol.py']

rows = [
    dict(r, name='FCN-R18, 128 synthetic videos', synthetic_videos=128,
         pretrain='configs/baselines/fcn_r18_synthetic.py',
         note="the recipe, pretrained on a quarter of the table's synthetic videos")
    for r in _base_.rows if r['name'] == 'FCN-R18'
] + [r for r in _base_.rows if r['name'] == 'FCN-R18'] + [
    dict(r, name='FCN-R18, 2048 synthetic videos', synthetic_videos=2048,
         pretrain='configs/baselines/fcn_r18_synthetic.py',
         note="the recipe, pretrained on four times the table's synthetic videos")
    for r in _base_.rows if r['name'] == 'FCN-R18'
]
