_base_ = [
    '../_base_/models/fcn_r50.py', '../_base_/datasets/synthetic.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_synthetic.py'
]
