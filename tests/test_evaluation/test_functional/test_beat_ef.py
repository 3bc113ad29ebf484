"""Per-beat EF from the time-smoothed volume curve (echoseg.evaluation.functional.beat_ef)."""
import numpy as np
import pytest

from echoseg.evaluation.functional.beat_ef import smoothed_beats, smoothing_window
from echoseg.evaluation.functional.cardiac_cycle import detect_cardiac_cycle


def _beats(volumes, period):
    cycle = detect_cardiac_cycle(volumes, period=period)
    return cycle.beats


def test_frame_noise_biases_frame_ef_up_and_smoothing_removes_most_of_it():
    period, n = 32, 200
    t = np.arange(n)
    clean = 80 + 30 * np.cos(2 * np.pi * t / period)   # EDV 110, ESV 50: EF 54.5 %
    true_ef = (110 - 50) / 110 * 100
    rng = np.random.default_rng(0)
    frame_errors, smooth_errors = [], []
    for _ in range(20):
        noisy = clean + rng.normal(0, 4, n)
        beats = _beats(noisy, period)
        assert len(beats) >= 5
        frame_ef = np.mean([b['ef'] for b in beats])
        _, smooth_ef = smoothed_beats(noisy, beats, period)
        frame_errors.append(frame_ef - true_ef)
        smooth_errors.append(smooth_ef - true_ef)
    assert np.mean(frame_errors) > 2.0          # the extremes of noise: biased upward
    assert abs(np.mean(smooth_errors)) < 0.25 * np.mean(frame_errors)


def test_smoothed_beats_on_a_clean_curve_and_edge_cases():
    v = np.array([10.0, 10, 10, 4, 4, 4, 10, 10])
    beats = [dict(ed_frame=1, es_frame=4, partial=False)]
    out, mean = smoothed_beats(v, beats, window=1)  # no smoothing: the plain frame EF
    assert out[0]['ef'] == pytest.approx(60.0) and mean == pytest.approx(60.0)
    assert out[0]['partial'] is False
    v_nan = v.copy()
    v_nan[2] = np.nan  # filled from its neighbours, no NaN EF
    assert np.isfinite(smoothed_beats(v_nan, beats, period=16)[1])
    assert np.isnan(smoothed_beats(np.full(5, np.nan), beats[:0])[1])
    assert smoothing_window(None) == 5 and smoothing_window(48) == 13
    assert smoothing_window(10) == 5


def test_smoothed_mean_uses_the_trusted_beats_only():
    t = np.arange(64)
    v = 100 + 30 * np.cos(2 * np.pi * t / 16)
    beats = [dict(ed_frame=16, es_frame=24, used=True, flags=[]),
             dict(ed_frame=32, es_frame=40, used=False, flags=['touches_border']),
             dict(ed_frame=40, es_frame=48, used=True, flags=[])]  # ES before ED: EF < 0
    out, mean = smoothed_beats(v, beats, window=1)
    assert out[2]['ef'] < 0 and out[2]['flags'] == ['ef_out_of_range']
    assert out[1]['flags'] == ['touches_border']
    assert mean == pytest.approx(out[0]['ef']) == pytest.approx(60 / 130 * 100)
