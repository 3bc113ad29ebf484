"""ED/ES detection, beats and EF of analytic curves
(echoseg.evaluation.functional.cardiac_cycle)."""
import numpy as np
import pytest

from echoseg.evaluation.functional.cardiac_cycle import (beats_from_curves,
                                                         detect_cardiac_cycle,
                                                         estimate_period)


def _analytic(t, period):
    return 100 + 30 * np.cos(2 * np.pi * t / period) + 6 * np.cos(4 * np.pi * t / period + 0.4)


def _local_extrema(v):
    """Interior strict local maxima and minima of a sampled curve."""
    k = np.arange(1, len(v) - 1)
    maxima = k[(v[k] > v[k - 1]) & (v[k] > v[k + 1])]
    minima = k[(v[k] < v[k - 1]) & (v[k] < v[k + 1])]
    return maxima.tolist(), minima.tolist()


@pytest.mark.parametrize('fps', [None, 50.0])
def test_analytic_curve_extremes_and_ef(fps):
    period, n = 23.7, 150
    t = np.arange(n, dtype=np.float64)
    clean = _analytic(t, period)
    noisy = clean + np.random.default_rng(0).normal(0, 0.5, n)
    want_ed, want_es = _local_extrema(clean)
    assert len(want_ed) == 6 and len(want_es) == 6     # one max and one min per cycle

    exact = detect_cardiac_cycle(clean, fps=fps)
    assert exact.ed_frames == want_ed and exact.es_frames == want_es
    cycle = detect_cardiac_cycle(noisy, fps=fps)
    assert cycle.period == pytest.approx(period, abs=0.5)
    # with noise a near-tie between two frames (a true extreme half-way between them)
    # may go either way: one frame of tolerance
    for found, want in ((cycle.ed_frames, want_ed), (cycle.es_frames, want_es)):
        assert len(found) == len(want)
        assert np.max(np.abs(np.subtract(found, want))) <= 1
    fine = _analytic(np.linspace(0, 5 * period, 20001), period)
    ef_true = (fine.max() - fine.min()) / fine.max() * 100
    assert len(cycle.beats) >= 5
    for beat in cycle.beats:
        assert beat['ed_frame'] < beat['es_frame'] and not beat['partial']
        assert beat['ef'] == pytest.approx(ef_true, abs=1.5)
        assert beat['ef'] == pytest.approx((beat['edv'] - beat['esv']) / beat['edv'] * 100)
    assert cycle.ef_mean == pytest.approx(ef_true, abs=1.0)


def test_period_by_autocorrelation_and_heart_rate_bounds():
    t = np.arange(200, dtype=np.float64)
    assert estimate_period(_analytic(t, 31.0)) == pytest.approx(31.0, abs=0.5)
    # at 25 fps a 31-frame period is 48 bpm: inside 30-200 bpm, found
    assert estimate_period(_analytic(t, 31.0), fps=25.0) == pytest.approx(31.0, abs=0.5)
    # at 10 fps it would be 19 bpm: outside the plausible range, refused
    assert estimate_period(_analytic(t, 31.0), fps=10.0) is None
    assert estimate_period(np.linspace(10, 5, 15)) is None   # half a cycle


def test_half_cycle_and_flat_curves():
    half = 40 - 15 * (1 - np.cos(np.linspace(0, np.pi, 15))) / 2   # ED at 0, ES at 14
    cycle = detect_cardiac_cycle(half)
    assert cycle.ed_frames == [0] and cycle.es_frames == [14]
    assert len(cycle.beats) == 1 and cycle.beats[0]['partial']
    assert cycle.beats[0]['ef'] == pytest.approx(15 / 40 * 100)
    flat = 50 + np.random.default_rng(1).normal(0, 0.2, 80)
    cycle = detect_cardiac_cycle(flat)
    assert cycle.beats == [] and np.isnan(cycle.ef_mean)


def _beat_curves():
    """Area 1000 + 300 cos(2 pi t / 30) over 120 frames (ED at 30, 60, 90; ES at 45, 75,
    105) and a volume that grows with the area (V = A^1.5 / 10)."""
    t = np.arange(120)
    areas = 1000 + 300 * np.cos(2 * np.pi * t / 30)
    return areas, areas ** 1.5 / 10


def test_impossible_beat_is_flagged_and_left_out_of_the_mean():
    areas, volumes = _beat_curves()
    volumes[75] = volumes[60] * 1.2   # the second beat's ES volume above its ED volume
    cycle, beats, ef_mean, note = beats_from_curves(areas, volumes)
    assert [(b['ed_frame'], b['es_frame']) for b in beats] == [(30, 45), (60, 75), (90, 105)]
    bad = beats[1]
    assert bad['ef'] == pytest.approx(-20.0)
    assert bad['flags'] == ['ef_out_of_range', 'area_volume_disagree'] and not bad['used']
    assert all(b['flags'] == [] and b['used'] for b in (beats[0], beats[2]))
    v_ed, v_es = 1300 ** 1.5 / 10, 700 ** 1.5 / 10     # the two good beats, by hand
    assert ef_mean == pytest.approx((v_ed - v_es) / v_ed * 100) and note is None
    # the unguarded mean over all beats would have been far lower
    assert np.mean([b['ef'] for b in beats]) < ef_mean - 20


def test_video_with_only_impossible_beats_has_no_ef():
    areas, volumes = _beat_curves()
    volumes = volumes.max() * 1.5 - volumes        # volume falls when the area rises
    _, beats, ef_mean, note = beats_from_curves(areas, volumes)
    assert len(beats) == 3 and not any(b['used'] for b in beats)
    assert all(b['ef'] < 0 and 'ef_out_of_range' in b['flags'] for b in beats)
    assert np.isnan(ef_mean) and note.startswith('no trustworthy beat')
    # found on the volume curve instead, the same video is consistent and has an EF
    _, beats, ef_mean, note = beats_from_curves(areas, volumes, curve='volume')
    assert all('ef_out_of_range' not in b['flags'] for b in beats)
    with pytest.raises(ValueError, match='one value per frame'):
        beats_from_curves(areas, volumes[:-1])


def _two_humped(period, n, hump=100.0, dip=78.0, ed=95.0, es=50.0):
    """Beats of an LV curve with an early-filling hump higher than the end-diastolic peak:
    ES at 0, hump at 0.25 P, diastasis dip at 0.45 P, ED at 0.65 P, ES again at P."""
    keys = np.array([0.0, 0.25, 0.45, 0.65, 1.0]) * period
    vals = np.array([es, hump, dip, ed, es])
    t = np.arange(n, dtype=np.float64)
    return np.interp(t % period, keys, vals)


@pytest.mark.parametrize('period', [30.0, 40.0, 52.0])
def test_ed_is_the_top_of_the_systolic_fall_not_the_early_filling_hump(period):
    n = int(5 * period)
    curve = _two_humped(period, n)
    cycle = detect_cardiac_cycle(curve, period=period)
    starts = np.arange(0, n, period)
    want_ed = [int(round(s + 0.65 * period)) for s in starts if 0 < s + 0.65 * period < n - 1]
    want_es = [int(round(s)) for s in starts if 0 < s < n - 1]
    assert cycle.beats
    for beat in cycle.beats:   # each beat: the ED peak (95), never the hump (100)
        assert min(abs(beat['ed_frame'] - g) for g in want_ed) <= 1, cycle.beats
        assert min(abs(beat['es_frame'] - g) for g in want_es) <= 1, cycle.beats
        assert beat['edv'] == pytest.approx(95.0, abs=1.5)
    # the same curve with a shallow dip (less than 20 % of the stroke) is one diastolic
    # plateau: ED is its highest point, as before
    flat = _two_humped(period, n, dip=95.0)
    for beat in detect_cardiac_cycle(flat, period=period).beats:
        assert beat['edv'] == pytest.approx(100.0, abs=1.0)


def test_end_diastole_before_against_a_brute_force_reading():
    from echoseg.evaluation.functional.cardiac_cycle import end_diastole_before
    rng = np.random.default_rng(1)
    for _ in range(200):
        x = rng.uniform(0, 100, 25)
        es = int(rng.integers(5, 25))
        lo = int(rng.integers(0, es))
        dip = 0.2 * (x[lo:es].max() - x[es])
        # brute force: the longest stretch [s, es] in which no frame lies more than `dip`
        # below the maximum of the frames after it; ED is that stretch's argmax (the
        # latest of equal values)
        s = es
        while s > lo and x[s:es + 1].max() - x[s - 1] <= dip:
            s -= 1
        seg = x[s:es + 1]
        want = s + int(np.flatnonzero(seg == seg.max())[-1])
        assert end_diastole_before(x, es, lo) == want


def test_smoothed_readout_removes_the_outward_bias_of_noisy_extremes():
    """Frame-to-frame noise read at a curve's maximum and minimum pushes EDV up and ESV
    down: the frame read-out's EF is biased upward; read from the smoothed curve it is not
    (docs/inference.md, "EF robust to noise"). Known truth: a cosine beat of EF 54.5 %."""
    from scipy.signal import savgol_filter
    t = np.arange(240)
    volumes = 110.0 + 30.0 * np.cos(2 * np.pi * t / 40.0)
    areas = volumes ** (2.0 / 3.0)
    true_ef = (140.0 - 80.0) / 140.0 * 100.0
    rng = np.random.default_rng(0)
    bias = {'frames': [], 'smoothed': []}
    for _ in range(20):
        noise = 1.0 + 0.03 * rng.standard_normal(t.size)
        a, v = areas * noise, volumes * noise ** 1.5
        for readout in bias:
            cycle, beats, ef_mean, _ = beats_from_curves(a, v, fps=50.0, ef_readout=readout)
            bias[readout].append(ef_mean - true_ef)
        # the smoothed read-out's EDV / ESV are the quadratic fit at the same frames
        window = int(round(cycle.period / 4.0)) // 2 * 2 + 1
        sm = savgol_filter(v, window, 2, mode='interp')
        assert [b['edv'] for b in beats] == pytest.approx([sm[b['ed_frame']] for b in beats])
        assert [b['esv'] for b in beats] == pytest.approx([sm[b['es_frame']] for b in beats])
    assert np.mean(bias['frames']) > 1.5           # read high
    assert abs(np.mean(bias['smoothed'])) < 0.5 * np.mean(bias['frames'])
    with pytest.raises(ValueError, match="ef_readout must be one of"):
        beats_from_curves(areas, volumes, ef_readout='mean')
