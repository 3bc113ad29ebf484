"""Plausibility flags of a beat, the trusted mean EF, the sector estimate and border zone."""
import numpy as np
import pytest

from echoseg.evaluation.functional.plausibility import (BEAT_FLAGS, PlausibilityCriteria,
                                                        beat_flags, border_zone, ef_in_range,
                                                        estimate_field_of_view,
                                                        frame_measures, trusted_ef)


def _disc(h, w, cy, cx, r):
    yy, xx = np.mgrid[:h, :w]
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r


GOOD = dict(edv=100.0, esv=40.0, eda=900.0, esa=500.0, ed=10, es=25)


def test_a_plausible_beat_has_no_flag():
    assert beat_flags(**GOOD, period=40.0, num_frames=120) == []


@pytest.mark.parametrize('change, flag', [
    (dict(esv=120.0, esa=400.0), 'ef_out_of_range'),       # EDV < ESV: EF -20 %
    (dict(edv=0.0, esv=0.0), 'ef_out_of_range'),           # empty ED: no EF
    (dict(edv=float('nan')), 'ef_out_of_range'),
    (dict(eda=400.0, esa=500.0), 'area_volume_disagree'),  # area says ES is larger
    (dict(es=11), 'short_systole'),
])
def test_each_beat_flag(change, flag):
    flags = beat_flags(**dict(GOOD, **change), period=40.0, num_frames=120)
    assert flag in flags


def test_edv_below_esv_flags_both_range_and_disagreement():
    flags = beat_flags(100.0, 130.0, 900.0, 500.0, 10, 25, period=40.0, num_frames=120)
    assert flags == ['ef_out_of_range', 'area_volume_disagree']


def test_cycle_flags():
    # no period found (its own flag: the video may hold many beats), a video shorter
    # than one period, the half-cycle fallback
    no_period = beat_flags(**GOOD, period=None, num_frames=120)
    assert 'no_period' in no_period and 'fewer_than_one_beat' not in no_period
    assert beat_flags(**GOOD, period=None, num_frames=120, partial=True)[-1:] == [
        'fewer_than_one_beat']
    assert not {'no_period', 'fewer_than_one_beat'} & set(
        beat_flags(**GOOD, period=40.0, num_frames=120))
    assert 'fewer_than_one_beat' in beat_flags(**GOOD, period=40.0, num_frames=35)
    assert 'fewer_than_one_beat' in beat_flags(**GOOD, period=40.0, num_frames=120,
                                               partial=True)
    # ED to ES in 0.08 s at 50 fps is too short, 0.3 s is not
    assert 'short_systole' in beat_flags(**dict(GOOD, es=14), fps=50.0)
    assert 'short_systole' not in beat_flags(**dict(GOOD, es=25), fps=50.0)


def test_frame_flags_from_measures():
    h = w = 64
    lv = np.stack([_disc(h, w, 30, 32, 12)] * 4)
    raw = lv.copy()
    raw[1] |= _disc(h, w, 55, 32, 5)                  # frame 1: a second blob (before)
    lv[2] = _disc(h, w, 30, 32, 3)                    # frame 2: tiny LV (28 px < 1 %)
    lv[3] = _disc(h, w, 12, 32, 14)                   # frame 3: cut by the top edge
    raw[2], raw[3] = lv[2], lv[3]
    m = frame_measures(raw, lv)
    assert m['components'].tolist() == [1, 2, 1, 1]
    assert m['border_pixels'][0] == 0 and m['border_pixels'][3] > 10
    assert m['area_fraction'][2] == pytest.approx(lv[2].sum() / (h * w))
    base = dict(edv=100.0, esv=40.0, eda=900.0, esa=500.0, measures=m)
    assert beat_flags(**base, ed=0, es=0) == ['short_systole']   # ES on ED's frame
    flags = {k: beat_flags(**base, ed=0, es=k, criteria=PlausibilityCriteria(
        min_systole_frames=0)) for k in (1, 2, 3)}
    assert flags[1] == ['multiple_components']
    assert flags[2] == ['small_lv']
    assert flags[3] == ['touches_border']


def test_sector_estimate_and_border_zone():
    h, w = 80, 100
    yy, xx = np.mgrid[:h, :w]
    angle = np.degrees(np.arctan2(xx - w / 2, yy + 5))
    sector = (np.abs(angle) < 35) & (np.hypot(xx - w / 2, yy + 5) < 80)
    frame = np.where(sector, 120, 0).astype(np.uint8)
    cavity = _disc(h, w, 40, 50, 12)
    frame[cavity] = 0                                  # the dark LV inside the sector
    fov = estimate_field_of_view(frame)
    assert fov is not None and fov[cavity].all()       # the cavity is inside the sector
    assert abs(int(fov.sum()) - int(sector.sum())) < 0.03 * sector.sum()
    zone = border_zone((h, w), fov)
    assert zone[0].all() and zone[:, 0].all()          # the image edge always counts
    assert not zone[cavity].any()
    # an LV running along the sector's side touches it; one inside does not
    side = (np.abs(angle - 33) < 4) & (np.hypot(xx - w / 2, yy + 5) < 60) & (yy > 20)
    m = frame_measures(np.stack([cavity, side]), np.stack([cavity, side]), fov)
    assert m['border_pixels'][0] == 0 and m['border_pixels'][1] > 10
    assert estimate_field_of_view(np.zeros((20, 20))) is None     # nothing bright
    assert estimate_field_of_view(np.full((20, 20), 200)) is None  # no sector to see
    with pytest.raises(ValueError, match='does not match'):
        border_zone((10, 10), np.ones((5, 5), bool))


def test_trusted_ef_excludes_flagged_beats_and_says_why():
    beats = [dict(ef=60.0, flags=[]), dict(ef=-20.0, flags=['ef_out_of_range']),
             dict(ef=50.0, flags=['touches_border'])]
    ef, used, note = trusted_ef(beats)
    assert ef == 60.0 and used == [0] and note is None
    # a flag left out of `exclude` only informs
    ef, used, _ = trusted_ef(beats, PlausibilityCriteria(exclude=('ef_out_of_range', )))
    assert ef == 55.0 and used == [0, 2]
    ef, used, note = trusted_ef(beats[1:])
    assert np.isnan(ef) and used == [] and 'no trustworthy beat' in note
    assert 'EF outside [0, 100]' in note and 'touches the image or sector border' in note
    ef, _, note = trusted_ef([])
    assert np.isnan(ef) and note.startswith('no beat found')
    # an EF outside [0, 100] is never used, even without its flag
    assert np.isnan(trusted_ef([dict(ef=140.0, flags=[])])[0])
    with pytest.raises(ValueError, match='unknown flag'):
        PlausibilityCriteria(exclude=('negative_ef', ))


def test_ef_in_range():
    assert ef_in_range(0.0) and ef_in_range(100.0) and ef_in_range(55.5)
    assert not any(ef_in_range(v) for v in (-0.1, 100.1, float('nan'), None, float('inf')))
    assert len(BEAT_FLAGS) == 8 and BEAT_FLAGS[-1] == 'no_period'
