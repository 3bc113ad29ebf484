"""Post-processing of predicted LV masks: one LV per frame, no holes, optional temporal
smoothing (``docs/inference.md``, "Post-processing").

The LV cavity is one simply connected region in an apical view. A network that sees a
frame pixel by pixel can also light up a second blob (typically the left atrium below the
mitral valve) or leave a hole where the cavity is bright; both change the area curve on
which ED and ES are found. As nnU-Net does for a structure known to be one object, the
post-processing keeps the largest 8-connected component of the LV label and fills its
holes; an optional per-pixel majority vote over a few neighbouring frames removes
one-frame flicker. Only the LV label is touched: pixels taken from the LV become
background (0), filled holes become LV.

Components are 8-connected, as in :func:`echoseg.evaluation.functional.simpson_volume`.
When two components tie for the largest, both are kept, so that the result does not depend
on the scan order (a mirrored mask gives the mirrored result).

Which component is the LV: ``component='largest'`` (the default) keeps the largest one of
each frame on its own. That can keep the wrong piece: at end-systole the LV is at its
smallest and a wrongly lit chamber can outgrow it. ``component='overlap'``
(:func:`components_by_overlap`) decides from the neighbouring frames instead: frames where
one component holds most of the LV pixels keep it, and every other frame keeps the
component that overlaps most with the LV kept in the frames next to it.
"""
from dataclasses import asdict, dataclass
from typing import Optional, Tuple, Union

import numpy as np
from scipy import ndimage

_EIGHT = np.ones((3, 3), dtype=bool)
#: how the LV component of a frame is chosen (``LVPostProcessing.component``)
COMPONENT_CHOICES = ('largest', 'overlap')
#: ``component='overlap'``: a frame whose largest component holds at least this share of
#: its LV pixels keeps that component and seeds its neighbours' choice
SEED_DOMINANCE = 0.8


def component_sizes(mask) -> Tuple[np.ndarray, np.ndarray]:
    """(labels (H, W) int, sizes (n,)) of the 8-connected components of a 2-D bool mask;
    label ``k + 1`` has ``sizes[k]`` pixels."""
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim != 2:
        raise ValueError(f'expected a 2-D mask, got shape {mask.shape}')
    labels, n = ndimage.label(mask, structure=_EIGHT)
    sizes = np.bincount(labels.ravel(), minlength=n + 1)[1:] if n else np.zeros(0, np.int64)
    return labels, sizes


def count_components(mask, min_fraction: float = 0.0) -> int:
    """Number of 8-connected components of a 2-D mask whose size is at least
    ``min_fraction`` of the largest one's (0: every component counts)."""
    _, sizes = component_sizes(mask)
    if sizes.size == 0:
        return 0
    return int(np.sum(sizes >= min_fraction * sizes.max()))


def largest_component(mask) -> np.ndarray:
    """The largest 8-connected component of a 2-D mask (all of those tied for largest)."""
    labels, sizes = component_sizes(mask)
    if sizes.size <= 1:
        return labels > 0
    keep = np.flatnonzero(sizes == sizes.max()) + 1
    return np.isin(labels, keep)


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    total = int(a.sum()) + int(b.sum())
    return 2.0 * int(np.logical_and(a, b).sum()) / total if total else 0.0


def components_by_overlap(stack, dominance: float = SEED_DOMINANCE) -> np.ndarray:
    """One LV component per frame of an (N, H, W) bool stack, chosen by the neighbours.

    Seed frames are the non-empty frames whose largest component holds at least
    ``dominance`` of their LV pixels (a single component always does; with no such frame,
    the frames of the highest share); they keep their largest component. The other frames
    are decided in order of their distance (in frames) to the nearest seed: each keeps the
    component with the highest summed Dice against the LV kept in its already decided
    neighbours (frames i - 1 and i + 1 one step closer to a seed); ties go to the largest
    of the tied components (all of those tied in size), and a frame whose components
    overlap none of its neighbours' keeps its largest. Empty frames stay empty. Returns
    the (N, H, W) bool stack of the kept components.
    """
    stack = np.asarray(stack, dtype=bool)
    if stack.ndim != 3:
        raise ValueError(f'expected an (N, H, W) stack, got shape {stack.shape}')
    n = stack.shape[0]
    share = np.zeros(n)
    for i in range(n):
        _, sizes = component_sizes(stack[i])
        if sizes.size:
            share[i] = sizes.max() / sizes.sum()
    out = np.zeros_like(stack)
    if not share.any():
        return out
    seeds = share >= min(float(dominance), share.max())
    # distance of every frame to the nearest seed: a forward and a backward sweep
    dist = np.where(seeds, 0, n + 1)
    for i in range(1, n):
        dist[i] = min(dist[i], dist[i - 1] + 1)
    for i in range(n - 2, -1, -1):
        dist[i] = min(dist[i], dist[i + 1] + 1)
    for i in sorted(range(n), key=lambda k: (dist[k], k)):
        labels, sizes = component_sizes(stack[i])
        if sizes.size == 0:
            continue
        refs = [out[j] for j in (i - 1, i + 1)
                if 0 <= j < n and dist[j] < dist[i] and out[j].any()]
        scores = np.array([sum(_dice(labels == k + 1, r) for r in refs)
                           for k in range(sizes.size)]) if refs else np.zeros(sizes.size)
        best = np.flatnonzero(scores == scores.max()) if scores.max() > 0 else \
            np.arange(sizes.size)
        keep = best[sizes[best] == sizes[best].max()] + 1
        out[i] = np.isin(labels, keep)
    return out


def fill_holes(mask) -> np.ndarray:
    """A 2-D mask with its holes (background not connected to the image border) filled."""
    return ndimage.binary_fill_holes(np.asarray(mask, dtype=bool))


def temporal_majority(masks, window: int) -> np.ndarray:
    """Per-pixel majority vote of a (N, H, W) bool stack over ``window`` frames centred on
    each frame (odd, >= 1; fewer frames at the ends of the video). A tie keeps the frame's
    own value."""
    masks = np.asarray(masks, dtype=bool)
    window = int(window)
    if window < 1 or window % 2 == 0:
        raise ValueError(f'temporal window must be an odd number of frames >= 1, got {window}')
    if window == 1 or masks.shape[0] < 2:
        return masks.copy()
    half = window // 2
    n = masks.shape[0]
    cum = np.concatenate([np.zeros((1, ) + masks.shape[1:], np.int32),
                          np.cumsum(masks, axis=0, dtype=np.int32)])
    lo = np.clip(np.arange(n) - half, 0, n)
    hi = np.clip(np.arange(n) + half + 1, 0, n)
    votes = cum[hi] - cum[lo]                       # (N, H, W) LV votes in the window
    size = (hi - lo)[:, None, None]
    out = 2 * votes > size
    tie = 2 * votes == size
    out[tie] = masks[tie]
    return out


@dataclass
class LVPostProcessing:
    """What to do to the LV label of predicted masks (each step can be switched off).

    Attributes:
        largest_component: keep only one 8-connected LV component per frame.
        fill_holes: fill holes in the LV per frame.
        temporal_window: odd number of frames of the per-pixel majority vote (0 or 1: off).
        component: which component is kept: ``'largest'`` (each frame's largest) or
            ``'overlap'`` (chosen by its overlap with the neighbouring frames' LV:
            :func:`components_by_overlap`, over the frames the call is given).
    """
    largest_component: bool = True
    fill_holes: bool = True
    temporal_window: int = 0
    component: str = 'largest'

    def __post_init__(self) -> None:
        w = int(self.temporal_window)
        if w < 0 or (w > 1 and w % 2 == 0):
            raise ValueError('LVPostProcessing: temporal_window must be 0 (off) or an odd '
                             f'number of frames, got {self.temporal_window}')
        self.temporal_window = w
        if self.component not in COMPONENT_CHOICES:
            raise ValueError(f'LVPostProcessing: component must be one of '
                             f'{COMPONENT_CHOICES}, got {self.component!r}')

    @classmethod
    def build(cls, value: Union[None, bool, dict, 'LVPostProcessing']
              ) -> Optional['LVPostProcessing']:
        """None / False: no post-processing; True: the defaults; a dict: its fields."""
        if value is None or value is False:
            return None
        if value is True:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            unknown = set(value) - {'largest_component', 'fill_holes', 'temporal_window',
                                    'component'}
            if unknown:
                raise ValueError(f'LVPostProcessing: unknown setting(s) {sorted(unknown)}; '
                                 'known: largest_component, fill_holes, temporal_window, '
                                 'component')
            return cls(**value)
        raise TypeError(f'post-processing must be None, a bool, a dict or LVPostProcessing, '
                        f'got {type(value).__name__}')

    @property
    def active(self) -> bool:
        return self.largest_component or self.fill_holes or self.temporal_window > 1

    def to_dict(self) -> dict:
        """The settings; ``component`` only when it is not the default ``'largest'`` (so
        results written before the choice existed read the same)."""
        out = asdict(self)
        if out['component'] == 'largest':
            del out['component']
        return out

    def _spatial_frame(self, lv: np.ndarray) -> np.ndarray:
        out = lv
        if self.largest_component:
            out = largest_component(out)
        if self.fill_holes:
            out = fill_holes(out)
        return out

    def __call__(self, masks, lv_label: int = 1, background: int = 0) -> np.ndarray:
        """(N, H, W) label masks -> post-processed copy (same dtype); only ``lv_label``
        changes. The temporal vote runs first, then the per-frame steps, so every output
        frame holds one LV component."""
        masks = np.asarray(masks)
        if masks.ndim != 3:
            raise ValueError(f'masks must be (N, H, W), got shape {masks.shape}')
        voted = (temporal_majority(masks == lv_label, self.temporal_window)
                 if self.temporal_window > 1 else None)
        chosen = None
        if self.largest_component and self.component == 'overlap':
            chosen = components_by_overlap(masks == lv_label if voted is None else voted)
        out = masks.copy()
        # frame by frame: beyond the copy, memory of one frame (a long or large video's
        # masks are not held several times over; 'overlap' holds one bool stack more)
        for i in range(masks.shape[0]):
            lv = masks[i] == lv_label
            if chosen is not None:
                new = fill_holes(chosen[i]) if self.fill_holes else chosen[i]
            else:
                new = self._spatial_frame(lv if voted is None else voted[i])
            frame = out[i]
            frame[lv & ~new] = background
            frame[new] = lv_label
        return out


def postprocess_lv(masks, lv_label: int = 1, largest: bool = True, holes: bool = True,
                   temporal_window: int = 0, component: str = 'largest') -> np.ndarray:
    """Functional form of :class:`LVPostProcessing` on (N, H, W) or (H, W) label masks."""
    masks = np.asarray(masks)
    single = masks.ndim == 2
    out = LVPostProcessing(largest, holes, temporal_window, component)(
        masks[None] if single else masks, lv_label)
    return out[0] if single else out
