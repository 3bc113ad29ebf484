"""Synthetic apical-view echocardiography videos with exactly known LV volumes.

The simulator is pure numpy / OpenCV (no torch, no MMEngine), so it can run in data-loader
workers, tests and tools alike. :class:`SyntheticEchoGenerator` draws one *plan* per seed
(geometry, cardiac cycle, appearance; cheap, no pixels) and *renders* it to a grayscale
video and a label video:

* a fan-shaped sector with its apex at the top, as in an apical view: EchoNet-Dynamic's
  wide fan cut by the frame (``geometry='echonet'``, default) or CAMUS's whole fan;
* the LV cavity as a bullet / half-ellipse from the mitral base to the apex with a small,
  smooth boundary irregularity; its long axis ``L`` and base half-width ``b`` follow a cardiac
  cycle (fast systole of about a third of the cycle, diastole with early filling, diastasis
  and atrial kick) so that the end-systolic volume is ``EDV * (1 - EF)``; its position,
  tilt, size and apex shape vary as in EchoNet's tracings, with foreshortened views;
* a myocardium band that thickens in systole, the RV beside the septum (none in two-chamber
  views), the atria below the base, the pericardium, the mitral valve, papillary muscles;
* ultrasound-like speckle: complex Gaussian scatterers times the tissue echogenicity,
  convolved with an anisotropic point-spread function in beam (polar) coordinates, envelope
  (magnitude), depth attenuation with imperfect time-gain compensation, electronic noise,
  log compression, then scan conversion to the Cartesian sector. The scatterer field is a
  fixed per-video field mixed with fresh noise in every frame (partly correlated speckle);
* artefacts scaled by ``difficulty``: low blood/tissue contrast, near-field clutter (haze at
  the apex), dropout of wall segments, acoustic shadows (dark rays from the apex), noise,
  blur, rigid probe/breathing motion.

Two looks (``style``): ``'realistic'`` (default), fitted to real apical views with
``tools/experiments/fit_synthetic_appearance.py``: dark to mid-gray patchy tissue around the
heart, bright pericardium behind the base and along the lateral wall, walls dim on their
endocardial side and brightest outside, a bright septum and a faint lateral wall,
trabeculae and haze that blur the cavity's edge, thin mitral leaflets that open in
diastole, patchy apical haze; and ``'classic'``, the first look (uniformly bright tissue
around dark chambers), kept to reproduce earlier results.

Labels of every frame: 0 background, 1 LV cavity, 2 LV myocardium, 3 other chambers (RV,
left and right atria).

Volumes are those of Simpson's single-plane method of disks applied to the *continuous*
shape: with the LV's width profile ``w(u) = b * D(u)`` (``u`` from the base, 0, to the apex,
1), ``V = pi/4 * b^2 * L * int_0^1 D(u)^2 du`` (``2/3 * pi * L * b^2`` for a plain
half-ellipse), in ml (mm^3 / 1000). Because only ``L`` and ``b`` change over the cycle, the
volume ratio of any two frames is exact, whatever the irregularity.

Everything is deterministic from the seed (an int or a tuple of non-negative ints, e.g.
``(dataset_seed, video_index)``): each part (frame count, heart, look, timing, speckle, noise)
has its own child of ``np.random.SeedSequence(seed)``, so nothing depends on global random
state and changing the frame count does not change the heart.

Modules: :mod:`.knobs` (difficulty levels and appearance knobs), :mod:`.plan` (the per-video
plan), :mod:`.heart` (the heart's pose and shape), :mod:`.cycle` (beats, contraction,
volumes, ED/ES), :mod:`.anatomy` (label and region maps of a frame), :mod:`.appearance`
(echogenicity), :mod:`.physics` (speckle, PSF, attenuation, noise, log compression),
:mod:`.scan_conversion` (the sector, beams to pixels), :mod:`.generator` (the simulator),
:mod:`.dataset` (the registered ``SyntheticEchoDataset``). See ``docs/synthetic_data.md``
for the knobs and difficulty levels.
"""
from .common import GEOMETRIES, RAW_CLASSES, STYLES
from .cycle import cardiac_contraction, mitral_opening
from .dataset import IGNORE_INDEX, SyntheticEchoDataset, synthetic_classes
from .generator import SyntheticEchoGenerator
from .knobs import DIFFICULTY_LEVELS, difficulty_knobs, resolve_difficulty
from .plan import SyntheticVideoPlan

__all__ = [
    'DIFFICULTY_LEVELS', 'RAW_CLASSES', 'resolve_difficulty', 'difficulty_knobs',
    'cardiac_contraction', 'mitral_opening', 'SyntheticVideoPlan', 'SyntheticEchoGenerator',
    'STYLES', 'GEOMETRIES', 'SyntheticEchoDataset', 'synthetic_classes', 'IGNORE_INDEX'
]
