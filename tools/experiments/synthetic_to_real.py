"""Train on synthetic echo only, test on real labelled EchoNet-Dynamic frames
(docs/synthetic_data.md):

    python tools/experiments/synthetic_to_real.py                   # train, then evaluate
    python tools/experiments/synthetic_to_real.py --checkpoint work_dirs/x/epoch_6.pth
    python tools/experiments/synthetic_to_real.py --data-root /data/EchoNet-Dynamic \
        --config configs/baselines/fcn_r18_synthetic.py --work-dir work_dirs/syn2real

The logic lives in echoseg.analysis.synthetic_to_real.
"""
import sys

from echoseg.analysis.synthetic_to_real import main
from echoseg.datasets.errors import EchoDataError
from echoseg.utils.checkpoint import CheckpointError

if __name__ == '__main__':
    try:
        main()
    except (FileNotFoundError, EchoDataError, CheckpointError) as exc:
        sys.exit(f'error: {exc}')
