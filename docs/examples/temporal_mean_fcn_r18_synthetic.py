# The extending.md example: a neck from the user's own package, used by config alone.
_base_ = ['../../configs/baselines/fcn_r18_synthetic.py']
custom_imports = dict(imports=['my_echo_ext.temporal_mean_neck'], allow_failed_imports=False)
model = dict(neck=dict(type='TemporalMeanNeck', alpha=0.5))
