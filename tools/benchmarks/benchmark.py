"""Speed, memory, parameters and multiply-adds (GMACs) of echoseg models, in one table:

    python tools/benchmarks/benchmark.py [CONFIG ...] [--device cpu|cuda] [--threads 2]
        [--shape H W] [--frames T] [--warmup 2] [--runs 5] [--no-flops]
        [--json OUT.json] [--markdown OUT.md] [--cfg-options k=v ...]
    python tools/benchmarks/benchmark.py CONFIG --checkpoint CKPT --video-frames 200 2000
        [--video-size 112 112]                       # the whole-video API, end to end

See docs/benchmarks.md; the logic lives in echoseg.analysis.benchmark.
"""
from echoseg.analysis.benchmark import main

if __name__ == '__main__':
    main()
