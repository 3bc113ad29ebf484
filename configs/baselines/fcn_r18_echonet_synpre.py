# The few-video recipe (docs/synthetic_data.md, "Synthetic pretraining and fine-tuning";
# measured in docs/real_data.md, "Result: the few-video recipe"): the self-trained
# per-frame baseline (selftrain_fcn_r18_echonet.py: the unlabelled middle frames of every
# ED -> ES clip are labelled by the model's own confident predictions) initialised from the
# synthetic pretraining of fcn_r18_synthetic_512.py, fine-tuned with AdamW at 3e-4 (1e-3
# first undoes much of the pretraining), batches of 2 clips, 50 epochs. First pretrain
# (no real data, CPU minutes):
#
#   python tools/train.py configs/baselines/fcn_r18_synthetic_512.py
#
# which writes work_dirs/fcn_r18_synthetic_512/epoch_6.pth, then fine-tune on an
# EchoNet-layout folder (every weight is loaded through the weights_only=True loader):
#
#   python tools/train.py configs/baselines/fcn_r18_echonet_synpre.py \
#       --cfg-options train_dataloader.dataset.data_root=/path/to/echonet \
#       val_dataloader.dataset.data_root=/path/to/echonet \
#       test_dataloader.dataset.data_root=/path/to/echonet
_base_ = ['./selftrain_fcn_r18_echonet.py']
load_from = 'work_dirs/fcn_r18_synthetic_512/epoch_6.pth'
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=3e-4))
train_dataloader = dict(batch_size=2)
