# Per-frame FCN plus plain self-training on the unlabelled frames of each clip: the model's
# own prediction where its confidence is >= 0.9, weight 0.5 (as selftrain_fcn_r18_echonet.py).
# Its clips are 10 frames from ED to ES (8 unlabelled middle frames), batches of 2: the
# base config's 2-frame clips (ED and ES, both labelled) would leave self-training nothing
# to label.
_base_ = ['./fcn_r18_synthetic.py']
model = dict(
    pseudo_labeler=dict(type='SelfTrainingPseudoLabeler'),
    train_cfg=dict(unsup_weight=0.5, unsup_threshold=0.9))
train_pipeline = [dict(s, num_frames=10) if s['type'] == 'SampleClipFrames' else s
                  for s in _base_.train_pipeline]
train_dataloader = dict(batch_size=2, dataset=dict(pipeline=train_pipeline))
