"""Check echoseg's modules against the authors' released files (exit 0 only when equal).

    python tools/analysis/check_against_reference.py METHOD REF_DIR [--config CFG]
        [--seed 0] [--tol 1e-4] [--threads N] [--time RUNS] [--print-map]
        [--batch 2 --frames 10 --size 320]      # pkechonet only

METHOD: ``pkechonet`` (REF_DIR/models/PKEchoNet.py of JingyinLin/PKEcho-Net@441f257,
against configs/pkechonet/authors_r50_camus.py) or ``mssnet`` (REF_DIR/SSG.py of
SSS666-klk/MSSNet@aa8b95b, class SSG, against configs/_base_/models/mssnet_ssg_public.py)
or ``mssnet_rac`` (REF_DIR/RAC.py of the same commit, the function RAC, against RACMixer
with the file's switches).
REF_DIR is a scratch folder outside the repository (the files are never vendored):

    git -C <clone> show 441f257:models/PKEchoNet.py > /tmp/ref/pkechonet/models/PKEchoNet.py
    git -C <clone> show aa8b95b:SSG.py > /tmp/ref/mssnet/SSG.py
    git -C <clone> show aa8b95b:RAC.py > /tmp/ref/mssnet/RAC.py

The authors' ``torchvision`` / ``timm`` imports get stand-ins (echoseg.analysis.
reference_stubs); ``einops`` must be installed (an optional package of tools/setup_env.sh).
Both models get the same random weights (the reference's, copied through the method's name
map, after non-trivial batch-norm statistics), run in eval mode on the same input; the
tool prints, per output, max |ours - theirs| / max |theirs|. ``--time RUNS`` also times
both forward passes (interleaved, median) and prints ours / theirs. The logic lives in
echoseg.analysis.reference_check (docs/methods/pkechonet.md, docs/methods/mssnet.md).
"""
import sys

from echoseg.analysis.reference_check import main

if __name__ == '__main__':
    sys.exit(main())
