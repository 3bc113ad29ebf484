# The few-video recipe (docs/synthetic_data.md, "Synthetic pretraining and fine-tuning"):
# configs/baselines/fcn_r18_echonet.py initialised from the synthetic pretraining of
# configs/baselines/fcn_r18_synthetic.py. First pretrain (no real data, CPU minutes):
#
#   python tools/train.py configs/baselines/fcn_r18_synthetic.py
#
# which writes work_dirs/fcn_r18_synthetic/epoch_6.pth, then fine-tune on an EchoNet-layout
# folder (every weight is loaded through the weights_only=True loader):
#
#   python tools/train.py configs/baselines/fcn_r18_echonet_synpre.py \
#       --cfg-options train_dataloader.dataset.data_root=/path/to/echonet \
#       val_dataloader.dataset.data_root=/path/to/echonet \
#       test_dataloader.dataset.data_root=/path/to/echonet
_base_ = ['./fcn_r18_echonet.py']
load_from = 'work_dirs/fcn_r18_synthetic/epoch_6.pth'
