# synthetic.py with RAC's inter-clip mix (not in RAC.py; a named option of RACMixer): as
# well as its ED <-> ES swap, every clip receives, with probability 0.5, the next clip's
# LV region frame by frame (appended as an extra sample like the swap).
_base_ = ['../synthetic.py']
model = dict(clip_mixer=dict(inter_prob=0.5))
