"""Time the synthetic echo generator on one CPU core (docs/synthetic_data.md):

    python tools/benchmarks/benchmark_synthetic.py                  # 10-frame 128x128 clips
    python tools/benchmarks/benchmark_synthetic.py --frames 32 --size 256 --difficulty hard

The logic lives in echoseg.analysis.synthetic_benchmark.
"""
from echoseg.analysis.synthetic_benchmark import main

if __name__ == '__main__':
    main()
