"""Compare the synthetic generator's look with real echo, region by region
(docs/synthetic_data.md):

    python tools/experiments/fit_synthetic_appearance.py
    python tools/experiments/fit_synthetic_appearance.py --data-root /data/EchoNet-Dynamic \
        --max-videos 50 --synthetic-videos 40

The logic lives in echoseg.analysis.synthetic_appearance.
"""
import sys

from echoseg.analysis.synthetic_appearance import main

if __name__ == '__main__':
    try:
        main()
    except FileNotFoundError as exc:
        print(f'error: {exc}', file=sys.stderr)
        sys.exit(2)
