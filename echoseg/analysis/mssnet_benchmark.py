"""MSSNet's speed figures (docs/methods/mssnet.md; ``tools/benchmarks/benchmark_mssnet.py``):
prints them, asserts nothing.

    # the selective scan: time and peak memory from 1k to 64k tokens (linear growth)
    python tools/benchmarks/benchmark_mssnet.py scan [--lengths 1024 ... 65536] [--threads 1]

    # SSGNeck beside the authors' public SSG module (SSG.py of SSS666-klk/MSSNet, kept
    # OUTSIDE the repository, e.g. /tmp/mss_ref/SSG.py), same input, same threads
    python tools/benchmarks/benchmark_mssnet.py ssg --reference-dir /tmp/mss_ref [--threads 1]

``scan``: for every length L, a batch of one sequence with d_inner = ``--channels`` and
N = ``--state`` (Mamba's defaults for a 32-wide SSG: 64 and 16); the plain-PyTorch parallel
scan (chunks of ``--chunk-size`` tokens, 0: one log-depth scan over the whole sequence)
forward, and forward + backward, median of ``--repeats``; the peak memory is the rise of
the process's resident high-water mark over its resident set before the runs
(:mod:`.memory`), each length in a fresh subprocess (CPU has no allocator statistics).
The naive token-by-token loop is timed up to ``--loop-max`` tokens for comparison.

``ssg``: a 10-frame clip at 256 x 256 (the public module's input: one gray channel),
interleaved runs (``--runs``), median seconds per clip and frames/s:
- guidance on the stride-8 grid: the authors' SAP + TAP attention (their SSG_Encoder with
  its conv stem bypassed, fed the 256-channel 32 x 32 maps of the clip) beside ours
  (SSGNeck, 32 wide like theirs, on the same maps);
- whole models: the authors' SSG (conv encoder, attention, transposed-conv decoder) on the
  clip beside configs/mssnet/camus.py's model (the Mamba network: VSSEncoder + SSG as
  SSG.py + VSSDecoderHead) on it.
The public file imports ``einops`` and ``timm`` for one rearrange and DropPath /
trunc_normal_; when those packages are missing, small stand-ins are put on the path of
the scratch directory (not in this repository).
"""
import argparse
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import time

from .memory import MIB, PeakMemory, fresh_process_env
from .paths import REPO_ROOT as ROOT


def _median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# ------------------------------------------------------------------------------ scan
def _scan_inputs(length, channels, state, grad):
    import torch
    g = torch.Generator().manual_seed(0)
    u = torch.randn(1, channels, length, generator=g)
    delta = torch.randn(1, channels, length, generator=g)
    a = -torch.rand(channels, state, generator=g)
    b = torch.randn(1, state, length, generator=g)
    c = torch.randn(1, state, length, generator=g)
    if grad:
        for t in (u, delta, b, c):
            t.requires_grad_()
    return u, delta, a, b, c


def scan_child(args):
    """One length in this process: time and peak-RSS growth, as JSON on stdout."""
    import torch
    from echoseg.models.layers.selective_scan import selective_scan, selective_scan_reference
    torch.set_num_threads(args.threads)
    length = args.length
    u, delta, a, b, c = _scan_inputs(length, args.channels, args.state, args.mode == 'train')

    def run():
        if args.mode == 'loop':
            with torch.no_grad():
                selective_scan_reference(u, delta, a, b, c, delta_softplus=True)
        elif args.mode == 'forward':
            with torch.no_grad():
                selective_scan(u, delta, a, b, c, delta_softplus=True, backend='torch',
                               chunk_size=args.chunk_size or None)
        else:
            y = selective_scan(u, delta, a, b, c, delta_softplus=True, backend='torch',
                               chunk_size=args.chunk_size or None)
            y.square().mean().backward()

    with PeakMemory('cpu') as memory:
        seconds = _median_time(run, args.repeats)
    print(json.dumps(dict(seconds=seconds, peak_mib=memory.growth / MIB)))


def run_scan(args):
    rows = []
    for length in args.lengths:
        row = dict(length=length)
        modes = ['forward', 'train'] + (['loop'] if length <= args.loop_max else [])
        for mode in modes:
            cmd = [sys.executable, '-m', __name__, 'scan-child', '--length',
                   str(length), '--mode', mode, '--channels', str(args.channels), '--state',
                   str(args.state), '--threads', str(args.threads), '--repeats',
                   str(args.repeats), '--chunk-size', str(args.chunk_size)]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True,
                                 env=fresh_process_env(args.threads))
            row[mode] = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        _print_scan_row(row, rows[0])
    return rows


def _print_scan_row(row, first):
    if row is first:
        print(f'{"tokens":>7} | {"fwd s":>8} {"fwd MiB":>8} | {"fwd+bwd s":>9} '
              f'{"MiB":>8} | {"s/token (fwd+bwd) rel. to 1st":>30} | {"loop fwd s":>10}')
    f, t = row['forward'], row['train']
    rel = (t['seconds'] / row['length']) / (first['train']['seconds'] / first['length'])
    loop = f'{row["loop"]["seconds"]:10.3f}' if 'loop' in row else f'{"-":>10}'
    print(f'{row["length"]:7d} | {f["seconds"]:8.4f} {f["peak_mib"]:8.1f} | '
          f'{t["seconds"]:9.4f} {t["peak_mib"]:8.1f} | {rel:30.2f} | {loop}', flush=True)


# ------------------------------------------------------------------------------ ssg
def _install_stand_ins(directory):
    """einops / timm stand-ins for the public SSG.py, in the scratch directory only."""
    try:
        import einops  # noqa: F401
    except ImportError:
        with open(osp.join(directory, 'einops.py'), 'w') as f:
            f.write('def rearrange(x, pattern):\n'
                    '    assert pattern == "t c h w -> t (h w) c", pattern\n'
                    '    return x.flatten(2).transpose(1, 2)\n')
    try:
        import timm.models.layers  # noqa: F401
    except ImportError:
        pkg = osp.join(directory, 'timm', 'models')
        os.makedirs(pkg, exist_ok=True)
        for init in (osp.join(directory, 'timm', '__init__.py'), osp.join(pkg, '__init__.py')):
            open(init, 'w').close()
        with open(osp.join(pkg, 'layers.py'), 'w') as f:
            f.write('from torch import nn\nfrom torch.nn.init import trunc_normal_  # noqa\n\n'
                    'class DropPath(nn.Identity):\n'
                    '    def __init__(self, p=0.0):\n        super().__init__()\n')


def run_ssg(args):
    import torch
    from torch import nn
    torch.set_num_threads(args.threads)
    ref_dir = osp.abspath(args.reference_dir)
    if osp.commonpath([ref_dir, ROOT]) == ROOT:
        raise SystemExit('keep the authors\' SSG.py outside the repository')
    if not osp.isfile(osp.join(ref_dir, 'SSG.py')):
        raise SystemExit(f'no SSG.py in {ref_dir}: fetch it from SSS666-klk/MSSNet first')
    _install_stand_ins(ref_dir)
    sys.path.insert(0, ref_dir)
    import SSG as public  # noqa: N813 (the authors' module name)

    from mmengine.registry import init_default_scope

    from echoseg.utils.config import load_config
    from echoseg.models.necks.ssg_neck import SSGNeck
    from echoseg.models.utils import ClipContext
    from echoseg.registry import MODELS

    init_default_scope('echoseg')
    t, size = args.frames, args.size
    torch.manual_seed(0)
    clip = torch.randn(t, 1, size, size)
    grid = torch.randn(t, 256, size // 8, size // 8)
    ctx = ClipContext(1, t, torch.zeros(1, t, dtype=torch.bool))

    theirs_full = public.SSG().eval()
    theirs_guidance = public.SSG_Encoder(num_frame=t).eval()
    for name in ('inc', 'down1', 'down2', 'down3'):  # feed the stride-8 maps directly
        setattr(theirs_guidance, name, nn.Identity())
    ours_neck = SSGNeck(256, embed_dims=32).eval()
    cfg = load_config(osp.join(ROOT, 'configs', 'mssnet', 'camus.py'))
    ours_full = MODELS.build(cfg.model).eval()
    # the model's input channels (1 for the Mamba network, 3 for the ResNet-18 variant)
    ours_clip = clip.repeat(1, cfg.model.backbone.get('in_channels', 3), 1, 1)[None]

    cases = {
        'guidance, theirs (SAP + TAP)': lambda: theirs_guidance(grid),
        'guidance, ours (SSGNeck)': lambda: ours_neck(grid, clip=ctx),
        'whole model, theirs (SSG)': lambda: theirs_full(clip),
        'whole model, ours (mssnet/camus.py)': lambda: ours_full._forward(ours_clip),
    }
    params = {
        'guidance, theirs (SAP + TAP)': sum(p.numel() for n, p in
                                            theirs_guidance.named_parameters()),
        'guidance, ours (SSGNeck)': sum(p.numel() for p in ours_neck.parameters()),
        'whole model, theirs (SSG)': sum(p.numel() for p in theirs_full.parameters()),
        'whole model, ours (mssnet/camus.py)': sum(p.numel() for p in ours_full.parameters()),
    }
    times = {k: [] for k in cases}
    with torch.no_grad():
        for fn in cases.values():  # warm-up
            fn()
        for _ in range(args.runs):  # interleaved
            for name, fn in cases.items():
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
    print(f'input: {t} frames at {size} x {size}, CPU, {torch.get_num_threads()} thread(s), '
          f'{args.runs} interleaved runs (median)')
    print(f'{"case":38s} {"s / clip":>9} {"frames/s":>9} {"params (M)":>11}')
    med = {k: statistics.median(v) for k, v in times.items()}
    for name in cases:
        print(f'{name:38s} {med[name]:9.3f} {t / med[name]:9.2f} {params[name] / 1e6:11.3f}')
    for kind in ('guidance', 'whole model'):
        ours = [v for k, v in med.items() if k.startswith(kind) and 'ours' in k][0]
        theirs = [v for k, v in med.items() if k.startswith(kind) and 'theirs' in k][0]
        print(f'{kind}: ours / theirs time = {ours / theirs:.3f} '
              f'(ours {theirs / ours:.2f}x the frames/s)')
    return med


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest='command', required=True)
    scan = sub.add_parser('scan')
    scan.add_argument('--lengths', type=int, nargs='+',
                      default=[1024, 2048, 4096, 8192, 16384, 32768, 65536])
    scan.add_argument('--loop-max', type=int, default=4096)
    child = sub.add_parser('scan-child')
    child.add_argument('--length', type=int, required=True)
    child.add_argument('--mode', choices=('forward', 'train', 'loop'), required=True)
    for p in (scan, child):
        p.add_argument('--channels', type=int, default=64)
        p.add_argument('--state', type=int, default=16)
        p.add_argument('--threads', type=int, default=1)
        p.add_argument('--repeats', type=int, default=3)
        p.add_argument('--chunk-size', type=int, default=1024,
                       help="selective_scan's chunk_size (0: the whole sequence at once)")
    ssg = sub.add_parser('ssg')
    ssg.add_argument('--reference-dir', required=True)
    ssg.add_argument('--frames', type=int, default=10)
    ssg.add_argument('--size', type=int, default=256)
    ssg.add_argument('--runs', type=int, default=5)
    ssg.add_argument('--threads', type=int, default=1)
    return parser.parse_args(argv)


def main(argv=None):
    """The command line of ``tools/benchmarks/benchmark_mssnet.py``."""
    args = parse_args(argv)
    if args.command == 'scan':
        return run_scan(args)
    if args.command == 'scan-child':
        return scan_child(args)
    return run_ssg(args)


if __name__ == '__main__':  # the scan-child processes of run_scan
    main()
