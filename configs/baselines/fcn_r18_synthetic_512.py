# The few-video recipe's pretraining (docs/synthetic_data.md, "Synthetic pretraining and
# fine-tuning"): fcn_r18_synthetic.py on 512 synthetic videos instead of 128 (four times
# the steps, same 6 epochs; about 16 minutes on one CPU thread). Measured on the 7 shared
# real EchoNet videos it gives a better start for fine-tuning than the demo's 128-video
# run (docs/real_data.md, "Result: the few-video recipe").
_base_ = ['./fcn_r18_synthetic.py']
train_dataloader = dict(dataset=dict(num_videos=512))
