"""Time the synthetic echo generator on one CPU core (``tools/benchmarks/benchmark_synthetic.py``).

    python tools/benchmarks/benchmark_synthetic.py                  # 10-frame 128x128 clips
    python tools/benchmarks/benchmark_synthetic.py --frames 32 --size 256 --difficulty hard

Prints the median time to plan, render, and plan + render one clip, and the time per frame.
OpenCV is limited to one thread so the numbers match one data-loader worker.
"""
import argparse
import statistics
import time
from typing import Dict, List


def time_generator(gen, frames: int, clips: int) -> Dict[str, List[float]]:
    """Seconds to plan and to render each of ``clips`` clips of ``frames`` frames (after
    one untimed warm-up clip)."""
    gen.render(gen.plan_long(10 ** 6, frames))           # warm-up
    plan_t, render_t = [], []
    for i in range(clips):
        t0 = time.perf_counter()
        plan = gen.plan_long((1, i), frames)
        t1 = time.perf_counter()
        gen.render(plan)
        t2 = time.perf_counter()
        plan_t.append(t1 - t0)
        render_t.append(t2 - t1)
    return dict(plan=plan_t, render=render_t)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--frames', type=int, default=10, help='frames per clip')
    parser.add_argument('--size', type=int, nargs='+', default=[128],
                        help='image size: H [W]')
    parser.add_argument('--difficulty', default='medium',
                        help="'easy', 'medium', 'hard' or a float in [0, 1]")
    parser.add_argument('--clips', type=int, default=30, help='clips to time')
    parser.add_argument('--threads', type=int, default=1, help='OpenCV threads')
    return parser.parse_args(argv)


def main(argv=None):
    """The command line of ``tools/benchmarks/benchmark_synthetic.py``."""
    import cv2

    from echoseg.datasets.synthetic import SyntheticEchoGenerator
    args = parse_args(argv)
    cv2.setNumThreads(args.threads)
    try:
        difficulty = float(args.difficulty)
    except ValueError:
        difficulty = args.difficulty
    gen = SyntheticEchoGenerator(tuple(args.size) if len(args.size) > 1 else args.size[0],
                                 difficulty=difficulty)
    times = time_generator(gen, args.frames, args.clips)
    plan_t, render_t = times['plan'], times['render']
    plan_ms = 1000 * statistics.median(plan_t)
    render_ms = 1000 * statistics.median(render_t)
    total = [a + b for a, b in zip(plan_t, render_t)]
    print(f'synthetic echo: {args.clips} clips of {args.frames} frames, '
          f'{gen.image_size[0]}x{gen.image_size[1]}, difficulty {gen.difficulty:.2f}, '
          f'{args.threads} OpenCV thread(s)')
    print(f'  plan   {plan_ms:8.2f} ms (median)')
    print(f'  render {render_ms:8.2f} ms (median), {render_ms / args.frames:.2f} ms/frame')
    print(f'  total  {1000 * statistics.median(total):8.2f} ms median, '
          f'{1000 * max(total):.2f} ms max per clip')
    return times
