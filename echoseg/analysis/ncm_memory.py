"""Peak memory of NCM-Net's neighbourhood attention and NCM neck beside the full
attention matrix they never form (``tools/benchmarks/ncm_memory.py``).

    python tools/benchmarks/ncm_memory.py [--config configs/ncmnet/r50_camus.py]
                                          [--frames 10] [--sizes 16 32] [--threads 1]

Each case runs in a fresh subprocess on one clip of ``--frames`` frames whose working map is
S x S, in inference (no gradient) and as a training step (forward + backward):

- ``attention``: the attention alone on given q, k, v (the config's heads, window and
  head width): ``blocked`` (echoseg's ``neighbourhood_attention``) and ``full`` (a dense
  softmax(q k^T) v over all T*H*W positions, the matrix the blocked form avoids);
- ``neck``: the config's NCM neck (5 layers in inference, 1 layer in training), whose
  linear layers at the config's width (1024 channels for ResNet-50) also count.

Reported: the rise of the process's peak resident memory (:mod:`.memory`: Linux VmHWM,
reset before the call) over its resident memory before it (inputs already allocated;
large allocations returned to the system at once, ``MALLOC_MMAP_THRESHOLD_``), and the
float32 size of one layer's (THW x THW) attention matrix over all heads. Not a timed benchmark.
"""
import argparse
import json
import os.path as osp
import subprocess
import sys
from typing import Dict

from .memory import MIB, PeakMemory, fresh_process_env
from .paths import CONFIG_ROOT, REPO_ROOT

DEFAULT_CONFIG = osp.join(CONFIG_ROOT, 'ncmnet', 'r50_camus.py')


def _full_attention(q, k, v):
    n, heads, t, h, w, d = q.shape
    scores = q.reshape(n, heads, -1, d) @ k.reshape(n, heads, -1, d).transpose(-1, -2)
    return scores.softmax(-1) @ v.reshape(n, heads, -1, d)


def measure(config: str, frames: int, size: int, part: str, mode: str) -> dict:
    """Run one case in this process; returns the peak rise in bytes."""
    import torch
    from mmengine.registry import init_default_scope

    from echoseg.utils.config import load_config
    from echoseg.models.layers.neighbourhood_attention import neighbourhood_attention
    from echoseg.models.utils import ClipContext
    from echoseg.registry import MODELS
    init_default_scope('echoseg')
    cfg = load_config(config).model.neck
    if mode == 'train':
        cfg['num_layers'] = 1
    torch.manual_seed(0)
    neck = MODELS.build(cfg)
    neck.train(mode == 'train')
    attn = neck.layers[0].attn
    heads, level = attn.num_heads, neck.in_index
    positions = frames * size * size
    grad = mode == 'train'
    if part == 'neck':
        sizes = [max(1, round(size * 2.0 ** (level - i))) for i in range(len(neck.in_channels))]
        feats = [torch.randn(frames, c, s, s) for c, s in zip(neck.in_channels, sizes)]
        clip = ClipContext(batch_size=1, num_frames=frames, labelled=torch.zeros(1, frames))

        def run():
            return neck(feats, clip=clip)[level]
        layers = len(neck.layers)
    else:
        q, k, v = (torch.randn(1, heads, frames, size, size, attn.head_dims,
                               requires_grad=grad) for _ in range(3))
        rpb = attn.rpb.detach().clone().requires_grad_(grad)

        def run():
            if part == 'full':
                return _full_attention(q, k, v)
            return neighbourhood_attention(q, k, v, attn.kernel_size, attn.block_size, rpb,
                                           checkpoint=attn.checkpoint)
        layers = 1
    with PeakMemory('cpu') as memory:
        if grad:
            run().square().mean().backward()
        else:
            with torch.no_grad():
                run()
    return dict(part=part, mode=mode, frames=frames, size=size,
                channels=neck.in_channels[level], head_dims=attn.head_dims, layers=layers,
                heads=heads, peak_bytes=memory.growth,
                full_matrix_bytes=4 * heads * positions ** 2)


def measure_in_subprocess(config: str, frames: int, size: int, part: str, mode: str,
                          threads: int = 1) -> Dict:
    """:func:`measure` in a fresh Python process (:func:`~.memory.fresh_process_env`:
    nothing freed earlier is reused, large blocks go back to the system at once)."""
    res = subprocess.run([sys.executable, '-m', __name__, '--config', config,
                          '--frames', str(frames), '--threads', str(threads),
                          '--case', str(size), part, mode],
                         env=fresh_process_env(threads), capture_output=True, text=True)
    if res.returncode:
        raise RuntimeError(f'{part} {mode} at {size}: the measuring process failed:\n'
                           f'{res.stderr[-2000:]}')
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv=None):
    """The command line of ``tools/benchmarks/ncm_memory.py`` (``--case``: one case in this
    process, as JSON: the child of :func:`measure_in_subprocess`)."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--config', default=DEFAULT_CONFIG)
    parser.add_argument('--frames', type=int, default=10)
    parser.add_argument('--sizes', type=int, nargs='+', default=[16, 32])
    parser.add_argument('--parts', nargs='+', default=['blocked', 'full', 'neck'],
                        choices=['blocked', 'full', 'neck'])
    parser.add_argument('--modes', nargs='+', default=['infer', 'train'],
                        choices=['infer', 'train'])
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--case', nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.case:
        import torch
        torch.set_num_threads(args.threads)
        size, part, mode = args.case
        print(json.dumps(measure(args.config, args.frames, int(size), part, mode)))
        return
    print(f'NCM of {osp.relpath(args.config, REPO_ROOT)}, one clip of {args.frames} frames')
    print(f'{"part":8} {"mode":6} {"map (T x H x W)":16} {"layers":>6} {"peak rise":>10} '
          f'{"full attention matrix (one layer)":>34}')
    for size in args.sizes:
        for part in args.parts:
            for mode in args.modes:
                try:
                    r = measure_in_subprocess(args.config, args.frames, size, part, mode,
                                              args.threads)
                except RuntimeError as exc:
                    raise SystemExit(str(exc))
                shape = f'{r["frames"]} x {size} x {size}'
                print(f'{part:8} {mode:6} {shape:16} {r["layers"]:>6} '
                      f'{r["peak_bytes"] / MIB:>6.0f} MiB '
                      f'{r["full_matrix_bytes"] / MIB:>30.0f} MiB', flush=True)
    print(f'(neck: {r["channels"]} channels, {r["heads"]} heads of {r["head_dims"]}; attention '
          'parts: q, k, v of that head width given)')


if __name__ == '__main__':  # the child of measure_in_subprocess
    main()
