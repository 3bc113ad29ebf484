# Mixing: MSSNet's DOC pseudo-labeler in place of EchoForge's CPR
# (configs/echoforge/r18_synthetic.py: ARC + TSF, FlameRise). DOC's contrastive loss
# trains ARC's output (the encoder level TSF reads); FlameRise still sets the weight and
# the confidence threshold of the unsupervised loss on DOC's pseudo-labels.
_base_ = ['../../echoforge/r18_synthetic.py']
model = dict(
    pseudo_labeler=dict(_delete_=True, type='DOCPseudoLabeler', in_channels=512,
                        num_classes=2, in_index=-1, embed_dims=64, temperature=0.07,
                        loss_weight=0.1, warmup_epochs=1, memory_resolution=64))
