# The former model (variants/r18_synthetic.py) with RAC as the public RAC.py does it
# (SSS666-klk/MSSNet@aa8b95b; docs/methods/mssnet.md, "RAC"): every clip's mixed copy
# (ES with ED's predicted LV pasted as the first frame, ED with ES's as the last) is
# appended to the batch as an extra sample, the original clips stay as they are (their
# ED and ES supervised), the regions come from the model's eval-mode prediction (> 0.5),
# no cross-clip mixing; the copy's labels mixed with its pixels (echoseg's rule). The
# enhanced clip is checked equal to the file's RAC function by
#
#   python tools/analysis/check_against_reference.py mssnet_rac /tmp/ref/mssnet
#
#   python tools/train.py configs/mssnet/variants/public_rac_synthetic.py
_base_ = ['./r18_synthetic.py']
model = dict(clip_mixer=dict(type='RACMixer', intra_prob=1.0, inter_prob=0.0, lv_class=1,
                             dilation=0, extra_sample=True, region_from='prediction',
                             predict_mode='eval'))
