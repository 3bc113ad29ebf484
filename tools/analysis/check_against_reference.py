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
both forward passes (interleaved, median) and prints ours / theirs.
"""
import argparse
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)


def parse_args(argv=None):
    from echoseg.analysis.reference_check import DEFAULT_TOL, METHODS
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('method', choices=sorted(METHODS))
    parser.add_argument('ref_dir', help="folder with the authors' file(s), outside the repo")
    parser.add_argument('--config', help="echoseg's model config (default: the method's)")
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--tol', type=float, default=DEFAULT_TOL)
    parser.add_argument('--threads', type=int, default=None, help='torch threads')
    parser.add_argument('--time', type=int, default=0, metavar='RUNS',
                        help='also time both forward passes, RUNS interleaved runs')
    parser.add_argument('--print-map', action='store_true', help='print the name map')
    parser.add_argument('--batch', type=int, default=2, help='pkechonet: clips')
    parser.add_argument('--frames', type=int, default=10, help='pkechonet: frames per clip')
    parser.add_argument('--size', type=int, default=320, help='pkechonet: input size')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    import torch

    from echoseg.analysis.reference_check import (ReferenceCheckError, build_case,
                                                  format_report, run_check, time_pair)
    if args.threads:
        torch.set_num_threads(args.threads)
    ref_dir = osp.abspath(args.ref_dir)
    if osp.commonpath([ref_dir, ROOT]) == ROOT:
        print(f'error: {ref_dir} is inside the repository; keep the authors\' files in a '
              'scratch folder outside it', file=sys.stderr)
        return 2
    options = dict(seed=args.seed)
    if args.config:
        options['config'] = args.config
    if args.method == 'pkechonet':
        options.update(batch=args.batch, frames=args.frames, size=args.size)
    try:
        case, identity = build_case(args.method, ref_dir, **options)
        if args.print_map:
            for rule in case.rules:
                print(f'{rule.pattern:<55} -> {rule.target or "(left out)"}'
                      f'{" [" + rule.op + "]" if rule.op != "copy" else ""}'
                      f'{"  # " + rule.note if rule.note else ""}')
        result = run_check(case, tol=args.tol, seed=args.seed)
    except ReferenceCheckError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    params = {k: sum(p.numel() for p in m.parameters())
              for k, m in (('theirs', case.theirs), ('ours', case.ours))}
    print('\n'.join(identity + case.notes))
    print(f'parameters: theirs {params["theirs"]:,}, ours {params["ours"]:,}; '
          f'torch {torch.__version__}, {torch.get_num_threads()} threads')
    print(format_report(result, f'{case.name}: seed {args.seed}'))
    if args.time:
        t = time_pair(case, runs=args.time)
        print(f'time per forward pass (median of {t["runs"]} interleaved runs, '
              f'{t["threads"]} threads): theirs {t["theirs"]:.3f} s, ours {t["ours"]:.3f} s, '
              f'ours / theirs {t["ratio"]:.3f} (median of per-run ratios '
              f'{t["ratio_median_of_runs"]:.3f})')
    return 0 if result.ok else 1


if __name__ == '__main__':
    sys.exit(main())
