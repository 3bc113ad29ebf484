# Per-frame ResNet-18 + FCN on EchoNet-Dynamic plus plain self-training on the unlabelled
# frames of each ED -> ES clip (the 8 middle frames of a 10-frame clip): the model's own
# prediction, kept where its confidence is >= 0.9, weighted 0.5 (as the synthetic
# selftrain_fcn_r18_synthetic.py). The semi-supervised arm of the per-frame baseline in the
# learning curve of docs/real_data.md; initialise from synthetic pretraining with
# --cfg-options load_from=work_dirs/fcn_r18_synthetic/epoch_6.pth (or cross_validate.py's
# --load-from).
_base_ = ['./fcn_r18_echonet.py']
model = dict(
    pseudo_labeler=dict(type='SelfTrainingPseudoLabeler'),
    train_cfg=dict(unsup_weight=0.5, unsup_threshold=0.9))
