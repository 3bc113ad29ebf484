"""What EchoForge's references change: pass 1 (default tokens) against pass 2 (tokens pooled
from the reference frames' pass-1 masks) of a two-pass TSFHead, per test clip, in pixels
and in logits (docs/methods/echoforge.md, "Do the references matter?"):

    python tools/analysis/reference_effect.py CONFIG CHECKPOINT [--data-root DIR]
        [--split test] [--split-mode column|ratio] [--all-videos] [--threads 1] [--json FILE]

The logic lives in echoseg.analysis.reference_effect.
"""
from echoseg.analysis.reference_effect import main

if __name__ == '__main__':
    main()
