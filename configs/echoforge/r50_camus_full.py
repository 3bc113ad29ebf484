# EchoForge on CAMUS, trained as r50_camus.py (ED and ES labelled, clips of 10 frames) and
# evaluated on CAMUS-Full: every frame of each validation / test half sequence carries its
# mask (half_sequence_gt) and is evaluated. The whole half sequence, ED to ES, is one clip
# (full_test_pipeline of the dataset config; T differs per sequence, hence batch_size=1);
# EF still comes from the clip's first (ED) and last (ES) frames. See docs/evaluation.md.
_base_ = ['./r50_camus.py']

val_dataloader = dict(
    batch_size=1, dataset=dict(mode='full', pipeline={{_base_.full_test_pipeline}}))
test_dataloader = dict(
    batch_size=1, dataset=dict(mode='full', pipeline={{_base_.full_test_pipeline}}))
