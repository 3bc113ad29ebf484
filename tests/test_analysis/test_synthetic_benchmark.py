"""echoseg.analysis.synthetic_benchmark (tools/benchmarks/benchmark_synthetic.py): what is
timed, per clip, after an untimed warm-up."""
from echoseg.analysis import synthetic_benchmark as tool


class CountingGenerator:
    """Plans and renders nothing, but records the calls."""

    def __init__(self):
        self.planned, self.rendered = [], 0

    def plan_long(self, seed, frames):
        self.planned.append((seed, frames))
        return seed

    def render(self, plan):
        self.rendered += 1


def test_each_clip_is_planned_and_rendered_once_after_a_warm_up():
    gen = CountingGenerator()
    times = tool.time_generator(gen, frames=7, clips=5)
    assert len(times['plan']) == len(times['render']) == 5
    assert all(t >= 0 for t in times['plan'] + times['render'])
    assert gen.rendered == 6 and gen.planned[0] == (10 ** 6, 7)
    assert gen.planned[1:] == [((1, i), 7) for i in range(5)]
