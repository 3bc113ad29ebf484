"""How frame-to-frame segmentation noise moves the whole-video EF (frame vs smoothed
read-out) and the ED / ES frames, on planned synthetic curves of known truth
(docs/inference.md, "EF robust to noise"):

    python tools/analysis/readout_noise.py [--videos 80] [--noise 0 0.015 0.025 0.04]

The logic lives in echoseg.analysis.readout_noise.
"""
from echoseg.analysis.readout_noise import main

if __name__ == '__main__':
    main()
