# EchoForge-ND (docs/methods/echoforge.md, "Variant EchoForge-ND"): the faithful model of
# configs/echoforge/r50_camus.py without the pixel decoder, as echoseg first built it. TSF
# reads ARC's output (level 3, stride 32) alone through a 1x1 projection to D = 512 and
# makes its masks on F_t' itself (E = Linear(F_t')): 8 x 8 logits at 256 x 256, upsampled
# bilinearly to the input. CPR reforges TSF's fused features F_t'. Same data, schedule,
# ImageNet weights and FlameRise as r50_camus.py.
_base_ = ['../r50_camus.py']
model = dict(
    decode_head=dict(in_channels=2048, in_index=3, input_transform=None, channels=512,
                     pixel_decoder=None, cpr_features='fused'),
    pseudo_labeler=dict(decoder_channels=512))
