# Per-frame FCN plus plain self-training on the unlabelled frames of each clip.
_base_ = ['./fcn_r18_synthetic.py']
model = dict(
    pseudo_labeler=dict(type='SelfTrainingPseudoLabeler'),
    train_cfg=dict(unsup_weight=0.5, unsup_threshold=0.9))
