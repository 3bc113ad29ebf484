# What semi-supervision adds on real echo (docs/real_data.md, "What semi-supervision
# adds"): each method with its semi-supervised part on (the method table's row, same stage
# hashes) and off (its fine-tuning config without that part: only the labelled ED and ES
# frames carry a loss), same pretraining, recipe, folds, seeds and post-processing as
# real_protocol.py (inherited):
#
#   python tools/analysis/method_table.py configs/method_table/semi_supervision.py \
#       --work-root /path/to/runs --threads 1 [--rows NAME ...]
#
# The semi-supervised parts: FCN-R18's self-training (confident own predictions on the
# unlabelled clip frames), EchoForge's CPR with FlameRise. Rows fixed before they ran.
_base_ = ['./real_protocol.py']

rows = [r for r in _base_.rows if r['name'] == 'FCN-R18'] + [
    dict(name='FCN-R18 without self-training', encoder='ResNet-18',
         finetune='configs/baselines/fcn_r18_echonet_synpre_supervised.py',
         pretrain='configs/baselines/fcn_r18_synthetic_512.py',
         note='the recipe with the labelled ED and ES frames only'),
] + [r for r in _base_.rows if r['name'] == 'EchoForge, paper-faithful'] + [
    dict(name='EchoForge without CPR', encoder='ResNet-18; paper ResNet-50',
         finetune='configs/echoforge/r18_echonet_supervised.py',
         pretrain='configs/echoforge/r18_synthetic.py',
         note='ARC + TSF on the labelled ED and ES frames only (no CPR, no FlameRise)'),
]
