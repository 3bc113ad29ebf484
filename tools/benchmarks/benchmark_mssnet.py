"""MSSNet's speed figures (docs/methods/mssnet.md): prints them, asserts nothing.

    python tools/benchmarks/benchmark_mssnet.py scan [--lengths 1024 ... 65536] [--threads 1]
    python tools/benchmarks/benchmark_mssnet.py ssg --reference-dir /tmp/mss_ref [--threads 1]

The logic lives in echoseg.analysis.mssnet_benchmark.
"""
from echoseg.analysis.mssnet_benchmark import main

if __name__ == '__main__':
    main()
