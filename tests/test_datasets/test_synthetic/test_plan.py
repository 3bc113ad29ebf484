"""Plans: settings checked, determinism from the seed, the ED/ES pair of dataset videos."""
import json

import numpy as np
import pytest

from echoseg.datasets.synthetic import SyntheticEchoGenerator


def test_choices_are_validated():
    with pytest.raises(ValueError, match='style'):
        SyntheticEchoGenerator(64, style='photoreal')
    with pytest.raises(ValueError, match='geometry'):
        SyntheticEchoGenerator(64, geometry='philips')
    with pytest.raises(ValueError, match='a2c_fraction'):
        SyntheticEchoGenerator(64, a2c_fraction=1.5)
    with pytest.raises(ValueError, match='image_size'):
        SyntheticEchoGenerator(16)
    with pytest.raises(ValueError, match='num_frames_range'):
        SyntheticEchoGenerator(64, num_frames_range=(10, 20))
    with pytest.raises(ValueError, match='seeds must be non-negative'):
        SyntheticEchoGenerator(64).plan((1, -2))


def test_determinism_and_seeds():
    gen = SyntheticEchoGenerator(64, difficulty='medium')
    a = gen.generate((3, 1))
    np.random.seed(123)                                       # global state must not matter
    b = SyntheticEchoGenerator(64, difficulty='medium').generate((3, 1))
    assert np.array_equal(a['video'], b['video']) and np.array_equal(a['labels'], b['labels'])
    assert a['ef'] == b['ef'] and a['ed_frame'] == b['ed_frame']
    c = gen.generate((3, 2))
    d = gen.generate((4, 1))
    for other in (c, d):
        n = min(len(other['video']), len(a['video']))
        assert not np.array_equal(a['video'][:n], other['video'][:n])
    # the heart does not depend on the number of frames asked for
    p1, p2 = gen.plan((3, 1), 30), gen.plan((3, 1), 36)
    assert p1.heart['L_ed'] == p2.heart['L_ed'] and p1.spacing == p2.spacing
    assert gen.plan_long((3, 1), 10).heart['L_ed'] == p1.heart['L_ed']
    assert p1.seed == (3, 1) and gen.plan(7).seed == (7,)


def test_dataset_plans_hold_one_beat_from_ed_to_es():
    gen = SyntheticEchoGenerator(32)
    orders = set()
    for i in range(30):
        plan = gen.plan((5, i))
        vol = plan.lv_volumes
        ed, es = plan.ed_frame, plan.es_frame
        assert 24 <= plan.num_frames <= 40 and plan.frames_per_cycle <= plan.num_frames
        assert ed == int(np.argmax(vol)) and es == int(np.argmin(vol))
        assert abs(ed - es) >= 7                              # >= 8 frames ED..ES
        lo, hi = min(ed, es), max(ed, es)
        falling = vol[lo:hi + 1] if ed < es else vol[lo:hi + 1][::-1]
        assert np.all(np.diff(falling) <= 1e-9)              # one systole in between
        assert plan.ef == pytest.approx((vol[ed] - vol[es]) / vol[ed] * 100)
        orders.add(ed > es)
        json.dumps(plan.info())                               # plain python
    assert orders == {True, False}                            # ED may come after ES


def test_short_long_plan_has_no_pair():
    # ES comes a third of a 30-frame beat after ED: never both in 3 frames
    plan = SyntheticEchoGenerator(64).plan_long(4, 3, frames_per_cycle=30)
    assert plan.num_frames == 3 and len(plan.lv_volumes) == 3
    info = plan.info()
    assert plan.ed_frame is None and plan.es_frame is None
    assert info['ef'] is None and info['edv'] is None and info['esv'] is None
    with pytest.raises(ValueError):
        SyntheticEchoGenerator(64).plan_long(4, 0)
