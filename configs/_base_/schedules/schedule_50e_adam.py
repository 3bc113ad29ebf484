# The papers' recipe (EchoForge 4.2): Adam, poly decay from 1e-4 with power 0.9, 50 epochs.
# The decay is written in epochs but steps every iteration (convert_to_iter_based, as
# mmsegmentation's poly recipes): lr_k = eta_min + (lr0 - eta_min) * (1 - k / K)^0.9 after k
# iterations, K = 50 x iterations per epoch - 1 (MMEngine's total_iters = end - begin - 1).
max_epochs = 50
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4))
param_scheduler = [
    dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, end=max_epochs, by_epoch=True,
         convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
