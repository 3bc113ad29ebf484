"""Speed, memory, parameters and multiply-adds (GMACs) of echoseg models, in one table
(``tools/benchmarks/benchmark.py``).

    python tools/benchmarks/benchmark.py [CONFIG ...] [--device cpu|cuda] [--threads 2]
        [--shape H W] [--frames T] [--warmup 2] [--runs 5] [--no-flops]
        [--json OUT.json] [--markdown OUT.md] [--cfg-options k=v ...]
    python tools/benchmarks/benchmark.py CONFIG --checkpoint CKPT --video-frames 200 2000
        [--video-size 112 112]                       # the whole-video API, end to end

Model mode (default; no CONFIG: every method config of ``configs/`` at its own resolution
``image_size`` and clip length ``num_frames``): per config the parameters, the multiply-adds
(GMACs) of one clip counted as ``tools/analysis/get_flops.py`` counts them
(:mod:`.complexity`), and the time of the model's own ``predict`` on a (1, T, C, H, W) clip
(batch 1; ``--warmup`` untimed calls, then ``--runs`` timed ones, ``torch.cuda.synchronize``
around each on a GPU; median reported), as ms per clip, frames/s (T / clip time) and ms for a single frame
(a T = 1 clip: the latency of one frame when frames are fed as they arrive). Peak memory
of the first call (before warm-up, so that its allocations are seen), with
:mod:`.memory`'s probe: CUDA ``max_memory_allocated`` on a GPU, peak resident-set growth
on the CPU (the process's resident high-water mark during the call, minus the resident
set before it), measured in a fresh interpreter per config (in one process, memory an
earlier config freed is reused and the growth reads 0). Configs whose model, size and clip
length are the same are measured once.

Video mode (``--video-frames``): writes a synthetic 112 x 112 (``--video-size``) AVI of
each length and times ``VideoPredictor(model).predict(path)``: file read frame by frame,
resize, windows, masks, areas, volumes, ED/ES and EF, i.e. the whole-video API; frames/s
is frames / wall time, and peak RSS (and its growth) over the call is reported.

Every run also times a large ``torch.mm`` (2048 x 2048, float32) on the same device and
threads and reports the machine's matrix-multiply rate in multiply-adds (GMAC/s, n^3 per
product); beside frames/s it gives ``fps per 100 GMAC/s`` (frames/s divided by the matmul
rate / 100) and ``util`` (the multiply-add rate the model achieves as a share of the matmul
rate), so that numbers from different machines compare. The load average (``os.getloadavg``) before and after is recorded:
timings on a shared machine are only comparable within one run.

Prints a markdown table and writes JSON (``--json``; ``--markdown`` also writes the table).
"""
import argparse
import glob
import json
import os
import os.path as osp
import platform
import statistics
import sys
import tempfile
import time
from typing import Dict, List, Optional

import numpy as np
import torch

from .memory import MIB, PeakMemory, fresh_process_env, peak_memory
from .paths import REPO_ROOT as ROOT

#: folders of configs/ that hold no method config of their own
NON_METHOD_DIRS = ('_base_', 'mix', 'variants')


# --------------------------------------------------------------------------- machine
def default_configs(root: str = ROOT) -> List[str]:
    """Every method config: the ``.py`` files directly in each folder of ``configs/``."""
    out = []
    for folder in sorted(glob.glob(osp.join(root, 'configs', '*'))):
        if osp.isdir(folder) and osp.basename(folder) not in NON_METHOD_DIRS:
            out.extend(sorted(glob.glob(osp.join(folder, '*.py'))))
    return out


def _sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def matmul_gmacs(device: torch.device, n: int = 2048, repeats: int = 5) -> float:
    """Best GMAC/s of an (n x n) @ (n x n) float32 ``torch.mm`` (n^3 multiply-adds)."""
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    torch.mm(a, b)
    _sync(device)
    best = float('inf')
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        _sync(device)
        best = min(best, time.perf_counter() - start)
    return n ** 3 / best / 1e9


def machine_info(device: torch.device) -> Dict:
    cpu = platform.processor() or ''
    try:
        with open('/proc/cpuinfo') as f:
            cpu = next((line.split(':', 1)[1].strip() for line in f
                        if line.startswith('model name')), cpu)
    except OSError:
        pass
    info = dict(cpu=cpu, cpu_count=os.cpu_count(), torch=torch.__version__,
                threads=torch.get_num_threads(), device=str(device),
                python=platform.python_version())
    if device.type == 'cuda':
        info['gpu'] = torch.cuda.get_device_name(device)
    return info


def load_average() -> Optional[List[float]]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


# --------------------------------------------------------------------------- model mode
def time_calls(fn, device: torch.device, warmup: int, runs: int) -> List[float]:
    """Seconds of ``runs`` calls of ``fn`` after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    _sync(device)
    times = []
    for _ in range(runs):
        _sync(device)
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return times


def memory_in_fresh_process(path: str, shape, frames: int, threads: Optional[int] = None,
                            cfg_options: Optional[Dict] = None) -> Dict[str, float]:
    """:func:`~.memory.peak_memory` of the first ``predict`` of ``path``'s model, in a new
    Python process (``--memory-probe``; :func:`~.memory.fresh_process_env`), so that no
    memory freed by an earlier model is reused."""
    import subprocess
    cmd = [sys.executable, '-m', __name__, path, '--memory-probe', '--shape',
           str(shape[0]), str(shape[1]), '--frames', str(frames)]
    if threads:
        cmd += ['--threads', str(threads)]
    if cfg_options:
        cmd += ['--cfg-options'] + [f'{k}={v}' for k, v in cfg_options.items()]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT,
                          env=fresh_process_env())
    if proc.returncode != 0:
        raise RuntimeError(f'memory probe of {path} failed: {proc.stderr.strip()[-500:]}')
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result['kind'] += ' (fresh process)'
    return result


def random_clip(model, shape, frames: int, device: torch.device) -> torch.Tensor:
    """A (1, T, C, H, W) clip of the model's input channels."""
    channels = int(getattr(model.data_preprocessor, 'in_channels', 3))
    return torch.randn(1, frames, channels, int(shape[0]), int(shape[1]), device=device)


def first_call_memory(model, clip: torch.Tensor, device: torch.device) -> Dict[str, float]:
    """:func:`~.memory.peak_memory` of the model's first ``predict``: what it allocates is its
    working memory (later calls, and the multiply-add count, reuse memory the process holds)."""
    with torch.no_grad():
        return peak_memory(lambda: model.predict(clip), device)


def memory_probe(cfg, shape, frames: int) -> Dict[str, float]:
    """The ``--memory-probe`` mode: build the model, measure its first ``predict``."""
    device = torch.device('cpu')
    model = build_model(cfg, device)
    return first_call_memory(model, random_clip(model, shape, frames, device), device)


def build_model(cfg, device: torch.device, checkpoint: Optional[str] = None):
    from echoseg.apis import init_model
    return init_model(cfg, checkpoint, device=str(device))


def benchmark_model(cfg, shape, frames: int, device: torch.device, warmup: int, runs: int,
                    macs: bool = True, path: Optional[str] = None,
                    cfg_options: Optional[Dict] = None) -> Dict:
    """One config: params, GMACs, predict timing per clip and per frame, peak memory (on
    the CPU in a fresh process when the config's ``path`` is given)."""
    model = build_model(cfg, device)
    h, w = int(shape[0]), int(shape[1])
    row = dict(shape=[h, w], frames=int(frames),
               params=sum(p.numel() for p in model.parameters()))
    train_only = sum(p.numel() for n in ('pseudo_labeler', 'clip_mixer')
                     for p in (getattr(model, n, None) or torch.nn.Module()).parameters())
    row['params_inference'] = row['params'] - train_only
    clip = random_clip(model, (h, w), frames, device)
    single = clip[:, :1].contiguous()
    if device.type == 'cpu' and path is not None:
        memory = memory_in_fresh_process(path, (h, w), frames, torch.get_num_threads(),
                                         cfg_options)
    else:
        memory = first_call_memory(model, clip, device)
    if macs:
        from .complexity import model_complexity
        row['macs_clip'] = model_complexity(cfg, (h, w), frames)['macs_clip']['total']
    with torch.no_grad():
        clip_times = time_calls(lambda: model.predict(clip), device, warmup, runs)
        frame_times = time_calls(lambda: model.predict(single), device, warmup, runs)
    clip_s = statistics.median(clip_times)
    row.update(ms_clip=1e3 * clip_s, ms_clip_min=1e3 * min(clip_times),
               fps=frames / clip_s, ms_frame=1e3 * statistics.median(frame_times),
               memory=memory)
    del model
    return row


# --------------------------------------------------------------------------- video mode
def write_test_video(path: str, num_frames: int, size=(112, 112), fps: float = 50.0) -> str:
    """A moving-disc 'LV' on speckle, beating at 60 bpm, as an MJPG AVI."""
    from echoseg.io import write_video
    h, w = size
    yy, xx = np.mgrid[:h, :w]
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 40, size=(8, h, w), dtype=np.uint8)
    frames = np.empty((num_frames, h, w), np.uint8)
    for i in range(num_frames):
        r = h * (0.22 + 0.06 * np.cos(2 * np.pi * i / fps))
        disc = (yy - h * 0.55) ** 2 + (xx - w / 2) ** 2 <= r * r
        frames[i] = np.where(disc, 20, 150) + noise[i % 8]
    # written in chunks would need a writer object; at 112 x 112 x 2000 this is 25 MB
    return write_video(path, frames, fps=fps)


def benchmark_video(model, path: str, repeats: int = 3) -> Dict:
    """Whole-video API on a file: best of ``repeats`` wall times and peak RSS."""
    from echoseg.apis import VideoPredictor
    from echoseg.io import video_info
    n = video_info(path).num_frames
    predictor = VideoPredictor(model)
    predictor.predict(path)  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = predictor.predict(path)
        times.append(time.perf_counter() - start)
    num_windows = len(result.windows)
    del result  # the memory pass starts without an earlier result held
    with PeakMemory('cpu') as rss:
        predictor.predict(path)
    best, median = min(times), statistics.median(times)
    return dict(num_frames=n, s_best=best, s_median=median, fps_best=n / best,
                fps_median=n / median, peak_rss_mib=rss.peak / MIB,
                rss_growth_mib=rss.growth / MIB, stride=predictor.stride,
                num_windows=num_windows, memory=bool(predictor.uses_memory))


# --------------------------------------------------------------------------- report
def _g(x, digits=1):
    return '' if x is None else f'{x:.{digits}f}'


def model_table(rows: List[Dict], mm: float) -> str:
    head = ('| config | input | params (M) | GMACs / clip | ms / clip | frames/s | '
            'fps per 100 GMAC/s | util % | ms / frame (T=1) | peak mem growth (MiB) |\n'
            '|---|---|---|---|---|---|---|---|---|---|')
    lines = [head]
    for r in rows:
        if 'error' in r:
            lines.append(f"| {r['config']} | | | | | | | | | error: {r['error']} |")
            continue
        macs = r.get('macs_clip')
        util = None if macs is None else 100 * macs / (r['ms_clip'] / 1e3) / 1e9 / mm
        same = f" (= {', '.join(r['same_as'])})" if r.get('same_as') else ''
        lines.append(
            f"| {r['config']}{same} | {r['frames']} x {r['shape'][0]} x {r['shape'][1]} | "
            f"{r['params_inference'] / 1e6:.2f} | {_g(None if macs is None else macs / 1e9)}"
            f" | {r['ms_clip']:.1f} | {r['fps']:.1f} | {100 * r['fps'] / mm:.2f} | "
            f"{_g(util)} | {r['ms_frame']:.1f} | {r['memory']['growth_mib']:.0f} |")
    return '\n'.join(lines)


def video_table(rows: List[Dict], mm: float) -> str:
    lines = ['| config | frames | stride | windows | s (best / median) | frames/s (best / '
             'median) | fps per 100 GMAC/s | peak RSS (MiB) | RSS growth (MiB) |',
             '|---|---|---|---|---|---|---|---|---|']
    for r in rows:
        lines.append(
            f"| {r['config']} | {r['num_frames']} | {r['stride']} | {r['num_windows']} | "
            f"{r['s_best']:.2f} / {r['s_median']:.2f} | {r['fps_best']:.1f} / "
            f"{r['fps_median']:.1f} | {100 * r['fps_median'] / mm:.2f} | "
            f"{r['peak_rss_mib']:.0f} | {r['rss_growth_mib']:.1f} |")
    return '\n'.join(lines)


def parse_args(argv=None):
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('configs', nargs='*', help='configs (default: every method config)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch CPU threads (and OpenCV threads); default: torch\'s')
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'),
                        help='input size (default: each config\'s image_size)')
    parser.add_argument('--frames', type=int, help='clip length (default: each config\'s)')
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--runs', type=int, default=5)
    parser.add_argument('--no-flops', action='store_true',
                        help='skip the multiply-add (GMACs) count')
    parser.add_argument('--checkpoint', help='video mode: weights for the (single) config')
    parser.add_argument('--video-frames', type=int, nargs='+',
                        help='video mode: time the whole-video API on videos this long')
    parser.add_argument('--video-size', type=int, nargs=2, default=(112, 112))
    parser.add_argument('--video-repeats', type=int, default=3)
    parser.add_argument('--json', help='write the results here')
    parser.add_argument('--markdown', help='also write the table here')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--memory-probe', action='store_true', help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> Dict:
    """The command line of ``tools/benchmarks/benchmark.py``; returns what ``--json``
    writes."""
    args = parse_args(argv)
    import cv2
    from echoseg.utils.config import load_config
    if args.threads:
        torch.set_num_threads(args.threads)
        cv2.setNumThreads(args.threads)
    device = torch.device(args.device)
    if args.memory_probe:  # internal: one config's first-call memory, as a JSON line
        result = memory_probe(load_config(args.configs[0], args.cfg_options), args.shape,
                              args.frames)
        print(json.dumps(result))
        return result
    configs = args.configs or default_configs()
    for path in configs:
        if not osp.isfile(path):
            raise SystemExit(f'error: {path}: config file not found')
    out = dict(machine=machine_info(device), load_before=load_average(), rows=[],
               video_rows=[])
    out['matmul_gmacs'] = mm = matmul_gmacs(device)
    print(f"machine: {out['machine']['cpu']}, {out['machine']['cpu_count']} CPUs, torch "
          f"{torch.__version__}, {torch.get_num_threads()} threads, device {device}; "
          f"torch.mm 2048^2: {mm:.1f} GMAC/s; load average {out['load_before']}",
          flush=True)
    if args.video_frames:
        if len(configs) != 1:
            raise SystemExit('error: --video-frames takes exactly one config')
        model = build_model(load_config(configs[0], args.cfg_options), device,
                            args.checkpoint)
        with tempfile.TemporaryDirectory() as tmp:
            for n in args.video_frames:
                path = write_test_video(osp.join(tmp, f'video_{n}.avi'), n,
                                        tuple(args.video_size))
                row = dict(benchmark_video(model, path, args.video_repeats),
                           config=osp.relpath(configs[0], ROOT), load=load_average())
                out['video_rows'].append(row)
                print(f"{n} frames: {row['fps_median']:.1f} frames/s (median), peak RSS "
                      f"{row['peak_rss_mib']:.0f} MiB, load {row['load']}", flush=True)
        table = video_table(out['video_rows'], mm)
    else:
        seen = {}
        for path in configs:
            name = osp.relpath(path, ROOT)
            cfg = load_config(path, args.cfg_options)
            shape = args.shape or list(cfg.get('image_size', (256, 256)))
            frames = args.frames or int(cfg.get('num_frames', 10))
            key = json.dumps([cfg.model.to_dict() if hasattr(cfg.model, 'to_dict')
                              else dict(cfg.model), list(shape), frames], sort_keys=True,
                             default=str)
            if key in seen:
                seen[key].setdefault('same_as', []).append(name)
                continue
            try:
                row = benchmark_model(cfg, shape, frames, device, args.warmup, args.runs,
                                      macs=not args.no_flops, path=path,
                                      cfg_options=args.cfg_options)
            except Exception as exc:  # one broken config must not stop the table
                row = dict(error=f'{type(exc).__name__}: {exc}'.splitlines()[0][:120])
            row.update(config=name, load=load_average())
            seen[key] = row
            out['rows'].append(row)
            if 'error' not in row:
                print(f"{name}: {row['fps']:.1f} frames/s, {row['ms_clip']:.1f} ms / clip, "
                      f"load {row['load']}", flush=True)
            else:
                print(f"{name}: {row['error']}", flush=True)
        table = model_table(out['rows'], mm)
    out['load_after'] = load_average()
    out['table'] = table
    print(table)
    print(f"load average before {out['load_before']}, after {out['load_after']}")
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(out, f, indent=2, default=str)
    if args.markdown:
        with open(args.markdown, 'w') as f:
            f.write(table + '\n')
    return out


if __name__ == '__main__':  # the --memory-probe child of memory_in_fresh_process
    main()
