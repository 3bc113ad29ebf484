# fcn_r18_synthetic_area.py (the soft-area term at the labelled frames: SoftAreaLoss, band
# 8, weight 1) on fcn_r18_synthetic_512.py's 512 training videos: one change against the EF
# bias, measured in docs/evaluation.md ("Where the EF bias starts").
_base_ = ['./fcn_r18_synthetic_area.py']
train_dataloader = dict(dataset=dict(num_videos=512))
