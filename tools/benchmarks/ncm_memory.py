"""Peak memory of NCM-Net's neighbourhood attention and NCM neck beside the full
attention matrix they never form (docs/methods/ncmnet.md):

    python tools/benchmarks/ncm_memory.py [--config configs/ncmnet/r50_camus.py]
                                          [--frames 10] [--sizes 16 32] [--threads 1]

The logic lives in echoseg.analysis.ncm_memory.
"""
from echoseg.analysis.ncm_memory import main

if __name__ == '__main__':
    main()
