# synthetic.py with RAC's labels mixed with the pixels (echoseg's rule: the source's label
# inside the pasted region, the target's outside) instead of RAC.py's unchanged labels.
_base_ = ['../synthetic.py']
model = dict(clip_mixer=dict(label_mode='mixed'))
