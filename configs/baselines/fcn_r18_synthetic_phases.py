# configs/baselines/fcn_r18_synthetic.py trained on three frames of each clip instead of
# two: ED, ES and the frame half-way between them, labelled too (the synthetic truth has a
# mask at every frame, mode='full'). Half of the middle frames are diastolic (ES before ED:
# the LV fills through the open mitral valve, whose leaflets hang into the cavity), a look
# the two-frame config never trains on; measured in docs/evaluation.md ("Where the EF bias
# starts"). Costs 1.5x the frames per step.
_base_ = ['./fcn_r18_synthetic.py']
train_pipeline = [
    dict(type='LoadEchoVideo'),
    dict(type='LoadEchoAnnotations'),
    dict(type='SampleClipFrames', num_frames=3),
    dict(type='ResizeClip', scale={{_base_.image_size}}),
    dict(type='RandomClipFlip', prob=0.5),
    dict(type='RandomClipScale', prob=0.5),
    dict(type='RandomClipRotation', prob=0.5),
    dict(type='RandomTimeGainCompensation', prob=0.5),
    dict(type='RandomDepthFade', prob=0.3),
    dict(type='RandomClipBlur', prob=0.3),
    dict(type='RandomSpeckleNoise', prob=0.3),
    dict(type='RandomClipGamma', prob=0.5),
    dict(type='RandomClipContrast', prob=0.5),
    dict(type='PackEchoInputs'),
]
train_dataloader = dict(dataset=dict(mode='full', pipeline=train_pipeline))
