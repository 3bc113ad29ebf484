"""EchoForge's module ablation (paper Table 3) on synthetic clips, in one command
(docs/methods/echoforge.md):

    python tools/experiments/echoforge_ablation.py [--config FAITHFUL [VARIANT ...]]
        [--seeds 0 1 2] [--epochs 6] [--num-videos 32] [--rows I II III IV]
        [--reference-modes two_pass causal ...]
        [--extra-configs configs/pkechonet/r18_synthetic.py]
        [--work-dir work_dirs/echoforge_ablation] [...]

The logic lives in echoseg.analysis.ablation.
"""
from echoseg.analysis.ablation import main

if __name__ == '__main__':
    main()
