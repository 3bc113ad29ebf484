# EchoForge-ND (docs/methods/echoforge.md, "Variant EchoForge-ND") at the CPU size of
# configs/echoforge/r18_echonet.py: no pixel decoder, TSF (D = 64) on ARC's output alone
# (level 3, output stride 8 here: 14 x 14 at 112 x 112) with its masks made on F_t', CPR
# on F_t'. Same data, schedule, encoder and FlameRise.
_base_ = ['../r18_echonet.py']
model = dict(
    decode_head=dict(in_channels=512, in_index=3, input_transform=None, pixel_decoder=None,
                     cpr_features='fused'))
