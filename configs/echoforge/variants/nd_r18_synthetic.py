# EchoForge-ND (docs/methods/echoforge.md, "Variant EchoForge-ND") at the CPU size of
# configs/echoforge/r18_synthetic.py: no pixel decoder, TSF (D = 64) on ARC's output alone
# (level 3, output stride 16 here) with its masks made on F_t' (8 x 8 logits at 128 x 128,
# upsampled bilinearly), CPR on F_t'. Same data, schedule, encoder and FlameRise.
_base_ = ['../r18_synthetic.py']
model = dict(
    decode_head=dict(in_channels=512, in_index=3, input_transform=None, pixel_decoder=None,
                     cpr_features='fused'))
