# PKEcho-Net on EchoNet-Dynamic with phase-shifted training clips (docs/real_data.md, "The
# PKEcho-Net row"; not the paper's): half of the training clips are the paper's ED -> ES
# clip, half that clip's 10-frame grid moved by 1-5 of its own steps, so they run past ES
# into early diastole or start before ED (SampleClipFrames(shift_prob=0.5)); ED or ES is
# supervised where it lands, the other frames are unlabelled. Whole-video inference runs
# the temporal model on windows at every phase of the cycle; the paper's clips show it
# systole only. Everything else is r50_echonet.py's.
_base_ = ['../r50_echonet.py']

train_pipeline = [dict(t, shift_prob=0.5) if t['type'] == 'SampleClipFrames' else t
                  for t in _base_.train_pipeline]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
