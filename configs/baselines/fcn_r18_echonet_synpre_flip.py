# The few-video recipe as it was until it dropped the flip (fcn_r18_echonet_synpre_no_area.py
# is this config without RandomClipFlip; the recipe, fcn_r18_echonet_synpre.py, also adds a
# soft-area term): the self-trained per-frame baseline
# (selftrain_fcn_r18_echonet.py: the unlabelled middle frames of every ED -> ES clip are
# labelled by the model's own confident predictions) initialised from the synthetic
# pretraining of fcn_r18_synthetic_512.py, fine-tuned with AdamW at 3e-4, batches of 2
# clips, 50 epochs, its clips mirrored half of the time. On the 7 shared EchoNet videos
# it reads the ED/ES-mask EF 11 points low (docs/evaluation.md, "The recipe's EF on real
# videos, one change at a time"); use it for data with mirrored views (LV on the left),
# which the no-flip recipe has never seen. Every figure of docs/real_data.md measured
# before commit 0339c97 under the name of the recipe is of this config.
_base_ = ['./selftrain_fcn_r18_echonet.py']
load_from = 'work_dirs/fcn_r18_synthetic_512/epoch_6.pth'
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=3e-4))
train_dataloader = dict(batch_size=2)
