"""The cardiac cycle: contraction curve, valve timing, volumes and ED/ES frames of beats."""
import numpy as np
import pytest

from echoseg.datasets.synthetic import SyntheticEchoGenerator, cardiac_contraction
from echoseg.datasets.synthetic.cycle import (draw_beats, ed_es_frames, lv_volumes,
                                              mitral_opening, single_beat_pair)


def test_cardiac_cycle_shape():
    phase = np.linspace(0, 1, 1001)[:-1]
    c = cardiac_contraction(phase, systole_fraction=0.35)
    assert c[0] == 0.0 and abs(c[350] - 1.0) < 1e-9          # ED at 0, ES at 0.35
    assert np.all(np.diff(c[:351]) >= 0)                      # systole: monotone ejection
    assert np.all(np.diff(c[350:]) <= 1e-12)                  # diastole: monotone filling
    assert c[350 + int(0.45 * 650)] < 0.35                    # early filling done by mid-diastole


def test_mitral_valve_timing():
    assert SyntheticEchoGenerator.mitral_opening is mitral_opening
    assert mitral_opening(0.0, 0.35) == 0.0 and mitral_opening(0.2, 0.35) == 0.0  # systole
    assert mitral_opening(0.99, 0.35) == 0.0                                # closed at ED
    assert mitral_opening(0.45, 0.35) > 0.9                                 # early filling
    assert mitral_opening(0.65, 0.35) < mitral_opening(0.45, 0.35)          # diastasis
    assert mitral_opening(0.88, 0.35) > mitral_opening(0.65, 0.35)          # atrial kick


def test_volumes_of_a_half_ellipse():
    """A half-ellipse LV (width profile 2 * sqrt(1 - u^2), so int D^2 = 8/3) has the
    volume 2/3 * pi * L * b^2 at ED, and EDV * (1 - EF) at ES whatever the shortening."""
    L, b, ef = 80.0, 22.0, 0.55
    for alpha in (0.12, 0.22):
        heart = dict(L_ed=L, b_ed=b, alpha=alpha, disk_integral=8.0 / 3.0)
        edv, esv = lv_volumes(heart, [0.0, 1.0], [ef, ef])
        assert edv == pytest.approx(2.0 / 3.0 * np.pi * L * b * b / 1000.0, rel=1e-12)
        assert esv == pytest.approx(edv * (1.0 - ef), rel=1e-12)


def test_beats_and_their_ed_es_frames():
    period, systole, phase0 = 25.0, 0.35, 0.3
    beats = draw_beats(np.random.default_rng(0), 80, period, systole, phase0, ef=0.5,
                       rr_jitter=0.0, ef_jitter=0.0)
    assert beats.lengths == [period] * len(beats.lengths)
    assert np.allclose(np.diff(beats.phases), 1.0 / period)   # one beat every `period`
    assert beats.phases[0] == pytest.approx(phase0)
    assert np.all(beats.beat_ef == 0.5)
    heart = dict(L_ed=80.0, b_ed=22.0, alpha=0.17, disk_integral=2.5)
    vol = lv_volumes(heart, beats.contraction, beats.beat_ef)
    ed, es, pairs = ed_es_frames(beats, vol, systole)
    # ED at the beat starts, ES a systole later, to the nearest frame
    ed_t = -phase0 * period + period * np.arange(5)
    ed_t = ed_t[(ed_t >= -0.5) & (ed_t <= 79.5)]
    assert len(ed) == len(ed_t) and np.all(np.abs(np.array(ed) - ed_t) <= 1)
    es_t = -phase0 * period + systole * period + period * np.arange(5)
    es_t = es_t[(es_t >= -0.5) & (es_t <= 79.5)]
    assert len(es) == len(es_t) and np.all(np.abs(np.array(es) - es_t) <= 1)
    assert all(0 < s - e < period for e, s in pairs)
    # a jittered rhythm: beats of different lengths and EFs
    jittered = draw_beats(np.random.default_rng(1), 200, period, systole, 0.0, ef=0.5,
                          rr_jitter=0.1, ef_jitter=5.0)
    assert np.std(jittered.lengths) > 0.5 and np.ptp(jittered.beat_ef) > 0.02


def test_single_beat_pair():
    vol = np.array([5.0, 6.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0, 0.5, 1.0])
    assert single_beat_pair(vol, min_gap=7) == (2, 9)
    assert single_beat_pair(vol, min_gap=8) is None         # too close
    bumpy = vol.copy()
    bumpy[5] = 6.5                                           # volume rises inside systole
    assert single_beat_pair(bumpy, min_gap=7) is None
    assert single_beat_pair(vol[::-1], min_gap=7) == (8, 1)  # ED after ES
