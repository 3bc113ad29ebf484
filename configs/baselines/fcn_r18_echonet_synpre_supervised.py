# The few-video recipe (fcn_r18_echonet_synpre.py) without its semi-supervised part: no
# self-training, so only the labelled ED and ES frames of each clip carry a loss; the same
# pretraining, optimiser, schedule, clips and augmentation. What self-training adds on real
# echo is the difference between the two (configs/method_table/semi_supervision.py):
#
#   python tools/analysis/method_table.py configs/method_table/semi_supervision.py \
#       --work-root /path/to/runs --threads 1
_base_ = ['./fcn_r18_echonet_synpre.py']
model = dict(pseudo_labeler=None, train_cfg=dict(_delete_=True))
