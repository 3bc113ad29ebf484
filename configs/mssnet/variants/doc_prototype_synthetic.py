# synthetic.py with DOC's contrastive term in echoseg's prototype form (the positive of a
# pixel is its class prototype in the clip's other frames, through a 64-wide projection)
# instead of DOC.py's self-positive (a constant: docs/methods/mssnet.md, "DOC").
_base_ = ['../synthetic.py']
model = dict(pseudo_labeler=dict(contrastive='prototype', embed_dims=64))
