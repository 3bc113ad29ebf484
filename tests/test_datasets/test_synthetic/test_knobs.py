"""Difficulty levels, the knobs they set, CAMUS's display and the per-video jitter."""
import numpy as np
import pytest

from echoseg.datasets.synthetic import (DIFFICULTY_LEVELS, STYLES, SyntheticEchoGenerator,
                                        difficulty_knobs, resolve_difficulty)
from echoseg.datasets.synthetic.knobs import (KNOB_JITTER, KNOB_JITTER_REALISTIC,
                                              generator_knobs, video_knobs)


def test_difficulty_levels():
    assert resolve_difficulty('easy') == 0.0 and resolve_difficulty('hard') == 1.0
    assert resolve_difficulty(0.3) == 0.3
    with pytest.raises(ValueError):
        resolve_difficulty('extreme')
    with pytest.raises(ValueError):
        resolve_difficulty(1.5)
    easy, hard = difficulty_knobs('easy'), difficulty_knobs('hard')
    assert hard['blood_db'] > easy['blood_db']            # less blood/tissue contrast
    assert hard['dropout_rate'] > easy['dropout_rate']
    assert hard['shadow_rate'] > easy['shadow_rate']
    assert hard['noise_db'] > easy['noise_db']
    assert set(DIFFICULTY_LEVELS) == {'easy', 'medium', 'hard'}
    assert 'gain_db' in difficulty_knobs('medium') and set(STYLES) == {'realistic', 'classic'}
    assert 'gain_db' not in difficulty_knobs('medium', 'classic')


def test_unknown_knobs_are_refused():
    with pytest.raises(KeyError):
        SyntheticEchoGenerator(64, knobs=dict(not_a_knob=1))
    with pytest.raises(KeyError, match="style 'classic'"):
        SyntheticEchoGenerator(64, style='classic', knobs=dict(gain_db=-20))


def test_camus_display_and_overrides():
    echonet = generator_knobs(0.5, 'realistic', 'echonet')
    camus = generator_knobs(0.5, 'realistic', 'camus', dict(shadow_rate=0))
    # the documented CAMUS display: gain +6 dB, dynamic range +24 dB
    assert camus['gain_db'] == echonet['gain_db'] + 6.0
    assert camus['dynamic_range_db'] == echonet['dynamic_range_db'] + 24.0
    assert camus['shadow_rate'] == 0.0 and echonet['shadow_rate'] > 0
    # the classic style has no CAMUS display
    assert generator_knobs(0.5, 'classic', 'camus') == difficulty_knobs(0.5, 'classic')


@pytest.mark.parametrize('style', ['realistic', 'classic'])
def test_video_jitter_stays_within_its_table(style):
    nominal = difficulty_knobs('medium', style)
    table = KNOB_JITTER_REALISTIC if style == 'realistic' else KNOB_JITTER
    seen = {k: [] for k in table}
    for seed in range(40):
        knobs = video_knobs(nominal, np.random.default_rng(seed), True, style == 'realistic')
        assert set(knobs) == set(nominal)
        for k, (kind, w) in table.items():
            lo, hi = ((nominal[k] - w, nominal[k] + w) if kind == 'add'
                      else sorted([nominal[k] * (1 - w), nominal[k] * (1 + w)]))
            if k in ('speckle_memory', 'dropout_strength'):
                lo, hi = max(lo, 0.0), min(hi, 1.0)
            assert lo - 1e-9 <= knobs[k] <= hi + 1e-9, k
            seen[k].append(knobs[k])
    # every knob of the table does vary, and the others do not
    assert all(np.ptp(v) > 0 for v in seen.values())
    knobs = video_knobs(nominal, np.random.default_rng(0), True, style == 'realistic')
    assert all(knobs[k] == nominal[k] for k in set(nominal) - set(table))
    assert video_knobs(nominal, np.random.default_rng(0), False, True) == nominal
    clipped = video_knobs(dict(nominal, speckle_memory=1.5, dropout_strength=-1.0),
                          np.random.default_rng(0), False, True)
    assert clipped['speckle_memory'] == 1.0 and clipped['dropout_strength'] == 0.0
