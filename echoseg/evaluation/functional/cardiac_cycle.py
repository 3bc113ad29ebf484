"""End-diastole / end-systole frames and beats from an LV volume (or area) curve.

Pure numpy/scipy. The rules (``docs/inference.md`` explains them for users):

1. *Period.* The beat period ``P`` (frames) is the lag of the first peak of the curve's
   autocorrelation that follows a negative dip, with a correlation of at least 0.3. With
   ``fps`` known the lag is searched only within a plausible heart rate (30-200 bpm, i.e.
   ``60 * fps / 200 .. 60 * fps / 30`` frames). ``P`` is None when the video holds too little
   of a cycle for the autocorrelation to show one.
2. *Smoothing.* A Gaussian of ``sigma = P / 16`` frames (1 frame when ``P`` is unknown)
   removes segmentation jitter but keeps the beat's shape.
3. *Candidates.* Local maxima (ED) and minima (ES) of the smoothed curve with
   ``scipy.signal.find_peaks``: at least ``0.6 P`` frames apart (and never closer than the
   200 bpm period ``0.3 s * fps``; a quarter of the video when neither is known), and with a
   prominence of at least 20 % of the curve's 5-95 % range (and 3 % of its median, so that
   noise on a flat curve is no beat). A side of an extreme that runs into the first or last
   frame was cut short by the recording and needs only half of that prominence.
4. *Refinement.* Each candidate moves to the extreme of a lightly smoothed curve
   (``sigma = P / 48``) within ``P / 8`` frames: heavy smoothing finds the beats, light
   smoothing places the frame.
5. *Alternation.* Sorted by frame, two EDs with no ES between them keep the larger one, two
   ESs with no ED between them the smaller one. A beat is an ED followed by the next ES;
   ``EF = (EDV - ESV) / EDV * 100``.
5b. *ED by cardiac phase.* ES is the beat's minimum; ED is the top of the systolic fall
   into it, not the highest point of all diastole: walking back from ES on the lightly
   smoothed curve, the walk ends where the curve has dropped below its running maximum by
   more than ``ED_SEPARATION`` (20 %) of the beat's stroke (the highest point since the
   previous ES minus ESV), a dip that separates an earlier diastolic hump (early filling) from the end-diastolic
   peak; ED is the maximum of the stretch walked. An ED that would land on the first frame
   keeps the candidate of rule 3.
6. *Edges.* Extremes at the first or last frame are not events (the video may start or end
   mid-phase), with one exception: when no interior beat is found at all (a half cycle such
   as a CAMUS ED-to-ES sequence), the global maximum and minimum make one beat marked
   ``partial``.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import find_peaks

from .beat_ef import smoothed_curve
from .plausibility import PlausibilityCriteria, beat_flags, trusted_ef
from .simpson import ejection_fraction

#: plausible heart rates (beats per minute) when the frame rate is known
HEART_RATE_RANGE = (30.0, 200.0)
#: rule 5b: a dip deeper than this fraction of the stroke ends the walk back from ES
ED_SEPARATION = 0.2


@dataclass
class CardiacCycle:
    """ED/ES frames and beats found on one curve (indices into the curve)."""
    ed_frames: List[int] = field(default_factory=list)
    es_frames: List[int] = field(default_factory=list)
    beats: List[Dict] = field(default_factory=list)
    period: Optional[float] = None          # frames per beat, None when not found
    smoothed: Optional[np.ndarray] = None   # the curve the candidates were found on

    @property
    def ef_mean(self) -> float:
        efs = [b['ef'] for b in self.beats if np.isfinite(b['ef'])]
        return float(np.mean(efs)) if efs else float('nan')


def _finite_curve(curve) -> np.ndarray:
    x = np.asarray(curve, dtype=np.float64).reshape(-1)
    if x.size and not np.all(np.isfinite(x)):
        good = np.isfinite(x)
        if not good.any():
            return np.zeros_like(x)
        idx = np.arange(x.size)
        x = np.interp(idx, idx[good], x[good])
    return x


def estimate_period(curve, fps: Optional[float] = None,
                    heart_rate_range: Sequence[float] = HEART_RATE_RANGE,
                    min_corr: float = 0.3) -> Optional[float]:
    """Dominant beat period (frames) of ``curve`` by autocorrelation, or None.

    The autocorrelation is the unbiased one of the linearly detrended curve; the period is
    the first local maximum (>= ``min_corr``) after the correlation has gone negative,
    refined by a parabola through it and its neighbours.
    """
    x = _finite_curve(curve)
    n = x.size
    if n < 8:
        return None
    t = np.arange(n, dtype=np.float64)
    x = x - np.polyval(np.polyfit(t, x, 1), t)
    var = float(np.mean(x * x))
    if var <= 1e-12 * max(1.0, float(np.max(np.abs(curve)))) ** 2:
        return None
    max_lag = n - max(4, n // 5)   # at least a fifth of the video overlaps at every lag
    lo, hi = 2, max_lag
    if fps:
        lo = max(lo, int(np.floor(60.0 * fps / heart_rate_range[1])))
        hi = min(hi, int(np.ceil(60.0 * fps / heart_rate_range[0])))
    if hi - lo < 2:
        return None
    lags = np.arange(0, hi + 2)
    lags = lags[lags < n]
    r = np.array([np.mean(x[:n - k] * x[k:]) / var for k in lags])
    went_negative = bool(np.any(r[1:lo + 1] < 0))
    for k in range(max(lo, 1), min(hi, len(r) - 2) + 1):
        if r[k] < 0:
            went_negative = True
            continue
        if went_negative and r[k] >= min_corr and r[k] >= r[k - 1] and r[k] >= r[k + 1]:
            a, b, c = r[k - 1], r[k], r[k + 1]
            denom = a - 2 * b + c
            shift = 0.5 * (a - c) / denom if denom < 0 else 0.0
            return float(k + np.clip(shift, -0.5, 0.5))
    return None


def _prominent_peaks(x: np.ndarray, detail: np.ndarray, distance: int, prominence: float,
                     radius: int, edge_fraction: float = 0.5) -> np.ndarray:
    """Local maxima of ``x`` at least ``distance`` apart that stand out by ``prominence``.

    Like ``find_peaks(prominence=...)``, except that a side of a peak that runs into the
    first or last frame (no higher point before the video's edge) is cut short by the
    recording, so that side needs only ``edge_fraction * prominence``: an ED two or three
    frames into a video is still found, while the other side must show the full drop.
    Smoothing flattens a curve at its ends, so the depth of such a side is also measured
    on the lightly smoothed ``detail`` curve (the larger of the two counts).
    """
    peaks, _ = find_peaks(x, distance=distance)
    keep = []
    for p in peaks:
        depths, edges = [], []
        for step in (-1, 1):
            i, low = p + step, x[p]
            while 0 <= i < x.size and x[i] <= x[p]:
                low = min(low, x[i])
                i += step
            edge = not 0 <= i < x.size
            depth = x[p] - low
            if edge:
                top = float(np.max(detail[max(0, p - radius):p + radius + 1]))
                side = detail[:p + 1] if step < 0 else detail[p:]
                depth = max(depth, top - float(np.min(side)))
            depths.append(depth)
            edges.append(edge)
        need = [edge_fraction * prominence if e else prominence for e in edges]
        if all(e for e in edges):  # monotone on both sides up to the edges
            need = [prominence, edge_fraction * prominence] if depths[0] >= depths[1] \
                else [edge_fraction * prominence, prominence]
        if all(d >= q for d, q in zip(depths, need)):
            keep.append(int(p))
    return np.asarray(keep, dtype=np.int64)


def _refine(curve: np.ndarray, idx: Sequence[int], radius: int, find_max: bool) -> List[int]:
    out = []
    for i in idx:
        lo, hi = max(0, int(i) - radius), min(curve.size, int(i) + radius + 1)
        seg = curve[lo:hi]
        out.append(lo + int(np.argmax(seg) if find_max else np.argmin(seg)))
    return out


def _alternate(events, fine: np.ndarray):
    """Sorted (frame, kind) with kind 'ed'/'es' -> alternating, keeping the extreme one."""
    out = []
    for frame, kind in sorted(set(events)):
        if out and out[-1][1] == kind:
            prev = out[-1][0]
            better = fine[frame] > fine[prev] if kind == 'ed' else fine[frame] < fine[prev]
            if better:
                out[-1] = (frame, kind)
        elif out and out[-1][0] == frame:
            continue  # a frame cannot be both; keep the first
        else:
            out.append((frame, kind))
    return out


def end_diastole_before(curve: np.ndarray, es: int, lo: int = 0,
                        separation: float = ED_SEPARATION) -> int:
    """ED of the beat ending at ``es`` (rule 5b): the top of the systolic fall into it.

    Walks back from ``es`` to ``lo`` keeping the running maximum and stops where the curve
    lies more than ``separation`` x stroke below it (stroke = the highest point between
    ``lo`` and ``es`` - ``curve[es]``); returns the running maximum's frame (``lo`` when
    the curve only rose from ``lo`` to ``es``).
    """
    x = np.asarray(curve, dtype=np.float64)
    if es <= lo:
        return es
    dip = separation * (float(np.max(x[lo:es])) - x[es])
    top = es
    for t in range(es - 1, lo - 1, -1):
        if x[t] > x[top]:
            top = t
        elif x[top] - x[t] > dip:
            break
    return top


def event_frame_errors(found: Sequence[int], truth: Sequence[int]) -> List[Optional[int]]:
    """For each labelled frame in ``truth``, the distance in frames to the nearest event
    in ``found`` (None when nothing was found): how far a detected ED (or ES) lies from a
    labelled one."""
    found = [int(f) for f in found]
    return [min(abs(f - int(g)) for f in found) if found else None for g in truth]


def _beat(curve: np.ndarray, ed: int, es: int, partial: bool = False) -> Dict:
    edv, esv = float(curve[ed]), float(curve[es])
    return dict(ed_frame=int(ed), es_frame=int(es), edv=edv, esv=esv,
                ef=float(ejection_fraction(edv, esv)), partial=bool(partial))


def detect_cardiac_cycle(curve, fps: Optional[float] = None,
                         period: Optional[float] = None,
                         heart_rate_range: Sequence[float] = HEART_RATE_RANGE,
                         min_prominence: float = 0.2,
                         ed_separation: Optional[float] = ED_SEPARATION) -> CardiacCycle:
    """ED (maxima) and ES (minima) frames and the beats of an LV volume or area curve.

    Args:
        curve: (N,) LV volume (or area) per frame.
        fps: frames per second, or None; bounds the period by ``heart_rate_range``.
        period: frames per beat when known (skips the autocorrelation).
        min_prominence: fraction of the curve's 5-95 % range an extreme must stand out by.
        ed_separation: rule 5b's dip (fraction of the stroke); None places ED at the
            candidate maximum of rule 3 (the highest point of diastole, as before 5b).

    Returns:
        :class:`CardiacCycle`; ``beats`` are dicts ``ed_frame, es_frame, edv, esv, ef``
        (percent) and ``partial`` (True only for the half-cycle fallback of rule 6).
    """
    raw = _finite_curve(curve)
    n = raw.size
    if n == 0:
        return CardiacCycle()
    if period is None:
        period = estimate_period(raw, fps, heart_rate_range)
    sigma = period / 16.0 if period else 1.0
    sm = gaussian_filter1d(raw, sigma, mode='nearest') if n > 1 else raw.copy()
    fine_sigma = period / 48.0 if period else 0.0
    fine = gaussian_filter1d(raw, fine_sigma, mode='nearest') if fine_sigma >= 0.3 else raw
    radius = max(1, int(round(period / 8.0))) if period else 1

    if period:
        distance = 0.6 * period
    elif fps:
        distance = 60.0 * fps / heart_rate_range[1]
    else:
        distance = n / 4.0
    if fps:
        distance = max(distance, 60.0 * fps / heart_rate_range[1])
    distance = max(1, int(np.floor(distance)))
    spread = float(np.percentile(sm, 95) - np.percentile(sm, 5))
    prominence = max(min_prominence * spread, 0.03 * abs(float(np.median(sm))), 1e-9)

    maxima = _prominent_peaks(sm, fine, distance, prominence, radius)
    minima = _prominent_peaks(-sm, -fine, distance, prominence, radius)
    eds = _refine(fine, maxima, radius, True)
    ess = _refine(fine, minima, radius, False)
    # a refined extreme that slid onto the first/last frame is an edge, not an event
    events = [(f, 'ed') for f in eds if 0 < f < n - 1] + \
             [(f, 'es') for f in ess if 0 < f < n - 1]
    seq = _alternate(events, fine)
    cycle = CardiacCycle(period=period, smoothed=sm)
    placed, last_es = [], 0
    for i, (f, k) in enumerate(seq):
        if ed_separation is not None and k == 'ed' and i + 1 < len(seq) \
                and seq[i + 1][1] == 'es':   # rule 5b
            by_phase = end_diastole_before(fine, seq[i + 1][0], lo=last_es,
                                           separation=ed_separation)
            f = by_phase if by_phase > 0 else f
        elif k == 'es':
            last_es = f
        placed.append((f, k))
    seq = placed
    cycle.ed_frames = [f for f, k in seq if k == 'ed']
    cycle.es_frames = [f for f, k in seq if k == 'es']
    for (f0, k0), (f1, k1) in zip(seq[:-1], seq[1:]):
        if k0 == 'ed' and k1 == 'es':
            cycle.beats.append(_beat(raw, f0, f1))
    if not cycle.beats and n >= 2:
        ed, es = int(np.argmax(fine)), int(np.argmin(fine))
        if ed != es and fine[ed] - fine[es] >= prominence:
            cycle.ed_frames, cycle.es_frames = [ed], [es]
            cycle.beats = [_beat(raw, ed, es, partial=True)]
    return cycle


#: how a beat's EDV and ESV are read (:func:`beats_from_curves`)
EF_READOUTS = ('frames', 'smoothed')


def check_ef_readout(ef_readout: str) -> str:
    if ef_readout not in EF_READOUTS:
        raise ValueError(f'ef_readout must be one of {EF_READOUTS}, got {ef_readout!r}')
    return ef_readout


def _keep_missing(smoothed: np.ndarray, raw) -> np.ndarray:
    """``smoothed`` with NaN where ``raw`` has no value (a frame without a reading stays
    one: its beat is flagged as before)."""
    out = np.array(smoothed, dtype=np.float64)
    out[~np.isfinite(np.asarray(raw, dtype=np.float64))] = np.nan
    return out


def beats_from_curves(areas, volumes, fps: Optional[float] = None, curve: str = 'area',
                      measures: Optional[Dict[str, np.ndarray]] = None,
                      criteria: Optional[PlausibilityCriteria] = None,
                      heart_rate_range: Sequence[float] = HEART_RATE_RANGE,
                      ed_separation: Optional[float] = ED_SEPARATION,
                      ef_readout: str = 'frames'):
    """The clinical read-out of an LV area and volume curve: ``(cycle, beats, ef_mean,
    ef_note)``.

    ED/ES are found on ``curve`` (``'area'`` or ``'volume'``) with
    :func:`detect_cardiac_cycle`; every beat gets ``ed_frame, es_frame, edv, esv, eda,
    esa, ef`` (the volumes and areas at its ED and ES frames, EF from the volumes),
    ``partial``, its plausibility ``flags``
    (:func:`~echoseg.evaluation.functional.plausibility.beat_flags`, with the per-frame
    ``measures`` when given) and ``used``. ``ef_mean`` is the mean EF of the used
    (unflagged) beats, NaN with the reason in ``ef_note`` when there is none.

    ``ef_readout`` (:data:`EF_READOUTS`): ``'frames'`` reads EDV, ESV (and the areas) at
    the single ED and ES frames; ``'smoothed'`` reads them at the same frames from the
    curves smoothed over time (:func:`~.beat_ef.smoothed_curve`: a quadratic over about a
    quarter of the beat), which removes the outward bias of a noisy curve's extremes
    (docs/inference.md, "EF robust to noise").
    """
    areas = np.asarray(areas, dtype=np.float64).reshape(-1)
    volumes = np.asarray(volumes, dtype=np.float64).reshape(-1)
    if areas.shape != volumes.shape:
        raise ValueError(f'areas ({areas.size}) and volumes ({volumes.size}) must have one '
                         'value per frame each')
    if curve not in ('volume', 'area'):
        raise ValueError(f"curve must be 'volume' or 'area', got {curve!r}")
    check_ef_readout(ef_readout)
    fps = float(fps) if fps else None
    cycle = detect_cardiac_cycle(volumes if curve == 'volume' else areas, fps=fps,
                                 heart_rate_range=heart_rate_range,
                                 ed_separation=ed_separation)
    read_a, read_v = areas, volumes
    if ef_readout == 'smoothed':
        read_a = _keep_missing(smoothed_curve(areas, cycle.period), areas)
        read_v = _keep_missing(smoothed_curve(volumes, cycle.period), volumes)
    beats = []
    for b in cycle.beats:
        ed, es = b['ed_frame'], b['es_frame']
        edv, esv, eda, esa = (float(read_v[ed]), float(read_v[es]), float(read_a[ed]),
                              float(read_a[es]))
        beats.append(dict(ed_frame=ed, es_frame=es, edv=edv, esv=esv, eda=eda, esa=esa,
                          ef=ejection_fraction(edv, esv),
                          partial=b['partial'],
                          flags=beat_flags(edv, esv, eda, esa, ed, es, measures, fps,
                                           cycle.period, areas.size, b['partial'],
                                           criteria)))
    ef_mean, used, note = trusted_ef(beats, criteria)
    for k, b in enumerate(beats):
        b['used'] = k in used
    return cycle, beats, ef_mean, note
