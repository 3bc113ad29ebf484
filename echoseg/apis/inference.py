"""Inference on whole videos: :func:`init_model` and the stateful :class:`VideoPredictor`.

A video of any length is cut into windows of the model's clip length ``T``; windows start
every ``stride`` frames and a last one is aligned to the end of the video, so every frame is
covered and the model always sees ``T`` consecutive frames. Class probabilities of a frame
covered by several windows are averaged. A video shorter than ``T`` is padded by repeating
its last frame, and the padding is dropped afterwards. Frames are resized to the model's
input size and the probabilities back to the video's own size (bilinear), so masks come
at the original resolution.

The per-video state is an explicit object (as SAM2's ``init_state`` returns one): ``state =
start()`` opens a video, ``step(state, frames)`` feeds frames as they arrive and returns the
masks of frames no later window can touch, ``finish(state)`` runs the last window and
returns the :class:`~echoseg.apis.video_result.VideoResult`. The predictor itself keeps
only its settings, so several videos may be open on one predictor at a time.
:meth:`VideoPredictor.predict` is those three calls on a whole array or file (a file is
read frame by frame, never whole).

Temporal modules that keep a per-video memory (``EchoVideoSegmentor.init_video_memory``)
get it across windows; their windows do not overlap (stride T), so every frame is computed
once. Per-frame models also default to non-overlapping windows (overlap would compute the
same probabilities twice). ``frame_step`` s runs the model on s interleaved sub-videos
(frames p, p + s, p + 2s, ...), so that a window's frames are spaced as training clips'.
"""
import copy
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Any, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .compressed_masks import CompressedMasks
from .video_result import VideoResult

DEFAULT_NUM_FRAMES = 10


# --------------------------------------------------------------------------- model
def init_model(config, checkpoint: Optional[str] = None, device: str = 'cpu',
               cfg_options: Optional[dict] = None) -> nn.Module:
    """Build the model of ``config`` and load ``checkpoint``; eval mode, ``model.cfg`` set.

    Args:
        config: a config file path or an ``mmengine.Config``.
        checkpoint: a checkpoint file (a dict with ``state_dict``, as MMEngine writes);
            loaded through MMEngine's loader, which echoseg routes to
            :func:`echoseg.utils.checkpoint.load_local_checkpoint` (``weights_only=True``).
            None keeps the freshly built weights (for tests and smoke runs).
        device: ``'cpu'``, ``'cuda'``, ``'cuda:1'`` ...
        cfg_options: dotted overrides, as ``--cfg-options`` of the tools.

    Raises:
        FileNotFoundError: the config does not exist.
        echoseg.utils.checkpoint.CheckpointError: the checkpoint is missing, corrupt, holds
            pickled code, or does not match the model; the message names the file.
    """
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmengine.runner import load_checkpoint

    from echoseg.registry import MODELS
    from echoseg.utils.checkpoint import CheckpointError

    if isinstance(config, (str, os.PathLike)):
        from echoseg.utils.config import load_config
        cfg = load_config(os.fspath(config), cfg_options)
    elif isinstance(config, Config):
        cfg = copy.deepcopy(config)
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
    else:
        raise TypeError(f'config must be a path or an mmengine Config, got {type(config)}')
    if cfg.get('model') is None:
        raise KeyError(f'{getattr(cfg, "filename", "config")}: no `model` in the config')
    device = torch.device(device)
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise RuntimeError(f'device {device} requested but CUDA is not available')

    scope = cfg.get('default_scope', 'echoseg')
    with DefaultScope.overwrite_default_scope(scope):
        model = MODELS.build(copy.deepcopy(cfg.model))
        if checkpoint is not None:
            checkpoint = os.fspath(checkpoint)
            if not osp.isfile(osp.expanduser(checkpoint)):
                raise CheckpointError(f'{checkpoint}: checkpoint file not found')
            try:
                load_checkpoint(model, checkpoint, map_location='cpu', strict=True,
                                revise_keys=[(r'^module\.', '')])
            except RuntimeError as exc:
                if isinstance(exc, CheckpointError):
                    raise
                raise CheckpointError(f'{checkpoint}: the weights do not fit the model of '
                                      f'the config: {exc}') from None
    model.cfg = cfg
    model.to(device)
    model.eval()
    return model


def _transform_type(t: dict) -> str:
    typ = t.get('type', '')
    return typ.split('.')[-1] if isinstance(typ, str) else getattr(typ, '__name__', '')


def _test_pipeline(cfg) -> List[dict]:
    for key in ('test_dataloader', 'val_dataloader'):
        loader = cfg.get(key) if cfg is not None else None
        dataset = loader.get('dataset') if loader else None
        if dataset and dataset.get('pipeline'):
            return list(dataset['pipeline'])
    pipeline = cfg.get('test_pipeline') if cfg is not None else None
    return list(pipeline or [])


def clip_settings(cfg) -> Tuple[Optional[int], Optional[Tuple[int, int]]]:
    """(T, (H, W)) of the config's test pipeline: ``SampleClipFrames.num_frames`` and
    ``ResizeClip.scale``; None for what the pipeline does not set."""
    num_frames, size = None, None
    for t in _test_pipeline(cfg):
        typ = _transform_type(t)
        if typ == 'SampleClipFrames':
            num_frames = int(t.get('num_frames', DEFAULT_NUM_FRAMES))
        elif typ == 'ResizeClip':
            scale = t.get('scale')
            size = (int(scale), int(scale)) if isinstance(scale, int) \
                else (int(scale[0]), int(scale[1]))
    return num_frames, size


def window_starts(num_frames: int, clip_len: int, stride: int) -> List[int]:
    """First frames of the windows over a video of ``num_frames`` frames: every ``stride``
    frames while a window fits, then one aligned to the end; ``[0]`` when the video is
    shorter than ``clip_len`` (it is padded)."""
    if num_frames <= clip_len:
        return [0]
    starts = list(range(0, num_frames - clip_len + 1, stride))
    if starts[-1] + clip_len < num_frames:
        starts.append(num_frames - clip_len)
    return starts


# --------------------------------------------------------------------------- predictor
class _MaskStore:
    """The final masks of a video. ``compress``: each frame zlib-compressed as it becomes
    final (:class:`CompressedMasks`: memory flat with the video's length). Otherwise, with
    the frame count known in advance (a file's header) they are written into one
    (N, H, W) array as they become final, so finishing needs no second copy of them; else
    (or when more frames come than announced) they are kept as chunks and joined at the
    end."""

    def __init__(self, capacity: Optional[int] = None, compress: bool = False):
        self.capacity = int(capacity) if capacity else 0
        self.compress = bool(compress)
        self.store: Optional[CompressedMasks] = None
        self.buf: Optional[np.ndarray] = None
        self.chunks: List[np.ndarray] = []
        self.count = 0

    def append(self, masks: np.ndarray) -> None:
        n = masks.shape[0]
        if self.compress:
            if self.store is None:
                self.store = CompressedMasks(masks.shape[1:])
            self.store.append(masks)
        elif not self.chunks and self.count + n <= self.capacity:
            if self.buf is None:
                self.buf = np.empty((self.capacity, ) + masks.shape[1:], masks.dtype)
            self.buf[self.count:self.count + n] = masks
        else:
            if self.buf is not None:  # more frames than announced: chunks from here on
                self.chunks.append(self.buf[:self.count])
                self.buf = None
            self.chunks.append(masks)
        self.count += n

    def array(self, size: Tuple[int, int]):
        if self.compress:
            return self.store if self.store is not None else CompressedMasks(size)
        if self.chunks:
            return np.concatenate(self.chunks)
        if self.buf is None:
            return np.zeros((0, ) + tuple(size), np.uint8)
        return self.buf[:self.count]


@dataclass(eq=False)
class VideoState:
    """One video's state in a :class:`VideoPredictor`: what :meth:`VideoPredictor.start`
    returns and :meth:`~VideoPredictor.step` / :meth:`~VideoPredictor.finish` take.

    Read-only for callers; ``name``, ``fps``, ``spacing``, ``size`` (H, W) and
    ``num_seen`` (frames fed so far) are the fields meant to be read.
    """

    spacing: Optional[Tuple[float, float]] = None
    fps: Optional[float] = None
    name: Optional[str] = None
    size: Optional[Tuple[int, int]] = None      # (H, W), fixed by the first frame
    num_seen: int = 0
    finished: bool = False                      # set by ``finish``
    buffer: List[np.ndarray] = field(default_factory=list)  # raw frames from buffer_start
    buffer_start: int = 0
    next_start: int = 0                         # start of the next regular window
    last_end: int = 0                           # end (exclusive) of the last window run
    final_upto: int = 0                         # frames below this are final
    acc: Optional[np.ndarray] = None            # (M, K, H, W) prob sums from final_upto
    count: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    masks: _MaskStore = field(default_factory=_MaskStore)
    probs: List[np.ndarray] = field(default_factory=list)
    windows: List[Tuple[int, int]] = field(default_factory=list)
    memory: Any = None                          # the model's per-video memory, if any
    memory_flip: Any = None                     # ... and of the mirrored video (tta_flip)
    frame_max: Optional[np.ndarray] = None      # per-pixel max: the sector
    phases: List['VideoState'] = field(default_factory=list)  # frame_step > 1: sub-videos
    phase_masks: List[List[np.ndarray]] = field(default_factory=list)  # final, not returned


class VideoPredictor:
    """Segment whole videos with a clip model: ``predict``, or ``state = start()``,
    ``step(state, frames)``, ``finish(state)`` (the state an explicit :class:`VideoState`).

    Args:
        model: an ``EchoVideoSegmentor`` (or any module with ``data_preprocessor`` and
            ``predict_probabilities(inputs (B, T, C, H, W)) -> (B, T, K, H, W)``), e.g.
            from :func:`init_model`.
        num_frames: clip length ``T``; default: ``SampleClipFrames.num_frames`` of the
            config's test pipeline (``model.cfg``), else 10.
        image_size: model input (H, W); default: ``ResizeClip.scale`` of the test pipeline,
            else each video's own size (no resize).
        stride: frames between window starts, 1..T; default T for a per-frame model and
            for a model that keeps a per-video memory (windows do not overlap), else
            ``max(1, T // 2)`` (each frame seen by about two windows).
        frame_step: s >= 1; windows hold every s-th frame (the video is run as s
            interleaved sub-videos, each frame still predicted), so that the frames of a
            window are spaced like those of training clips sampled from ED to ES.
        video_memory: carry the model's per-video memory across windows when it has one
            (default True; needs ``stride == T``; False runs every window on its own).
        keep_probs: keep (N, K, H, W) probabilities in the result (memory: N*K*H*W floats).
        compress_masks: hold the result's masks as
            :class:`~echoseg.apis.compressed_masks.CompressedMasks` (each frame
            zlib-compressed as it becomes final): memory flat with the video's length
            (``tools/infer.py`` does this); ``np.asarray(result.masks)`` gives the array.
        lv_label: label of the LV in the masks (areas and volumes are of this label).
        curve: ``'area'`` (default) or ``'volume'``: the curve ED/ES are found on. The
            area is a pixel count, steadier from frame to frame than a Simpson volume
            (whose base and apex points jitter), so it places ED/ES better; EF always
            comes from the volumes at those frames.
        postprocess: LV mask post-processing of the result
            (:class:`~echoseg.evaluation.functional.postprocess.LVPostProcessing`): True
            (default: largest component, holes filled), a dict of its fields (e.g.
            ``dict(temporal_window=3)``), or False for the raw argmax masks.
        tta_flip: test-time flip averaging: the probabilities of every window are the mean
            of the model's on the frames and, mirrored back, on the mirrored frames (twice
            the compute). The flip wraps the whole resize-model-resize chain, so the
            prediction on a mirrored video is exactly the mirrored prediction.
        criteria: thresholds of the plausibility flags
            (:class:`~echoseg.evaluation.functional.plausibility.PlausibilityCriteria`).
        ef_readout: each beat's EDV and ESV from its single ED and ES frames
            (``'frames'``) or from the volume curve smoothed over time (``'smoothed'``,
            :func:`~echoseg.evaluation.functional.cardiac_cycle.beats_from_curves`).

    Example:
        >>> model = init_model('configs/baselines/fcn_r18_echonet.py', 'epoch_50.pth')
        >>> result = VideoPredictor(model).predict('video.avi')
        >>> result.ed_frames, result.es_frames, result.ef_mean
    """

    def __init__(self, model: nn.Module, num_frames: Optional[int] = None,
                 image_size: Optional[Union[int, Sequence[int]]] = None,
                 stride: Optional[int] = None, keep_probs: bool = False, lv_label: int = 1,
                 curve: str = 'area', frame_step: int = 1, video_memory: bool = True,
                 postprocess=True, tta_flip: bool = False, criteria=None,
                 compress_masks: bool = False, ef_readout: str = 'frames') -> None:
        from echoseg.evaluation.functional.cardiac_cycle import check_ef_readout
        from echoseg.evaluation.functional.postprocess import LVPostProcessing
        cfg_t, cfg_size = clip_settings(getattr(model, 'cfg', None))
        self.model = model
        self.num_frames = int(num_frames or cfg_t or DEFAULT_NUM_FRAMES)
        if self.num_frames < 1:
            raise ValueError(f'num_frames must be >= 1, got {num_frames}')
        if image_size is None:
            image_size = cfg_size
        if isinstance(image_size, int):
            image_size = (image_size, image_size)
        self.image_size = None if image_size is None else (int(image_size[0]),
                                                           int(image_size[1]))
        has_memory = bool(video_memory) and callable(getattr(model, 'init_video_memory', None)) \
            and model.init_video_memory() is not None
        if stride:
            self.stride = int(stride)
        elif has_memory or getattr(model, 'is_per_frame', False):
            self.stride = self.num_frames
        else:
            self.stride = max(1, self.num_frames // 2)
        #: the model's per-video memory is carried across (non-overlapping) windows
        self.uses_memory = has_memory and self.stride == self.num_frames
        self.frame_step = int(frame_step)
        if self.frame_step < 1:
            raise ValueError(f'frame_step must be >= 1, got {frame_step}')
        if not 1 <= self.stride <= self.num_frames:
            raise ValueError(f'stride must be in 1..num_frames={self.num_frames}, got '
                             f'{stride}: larger strides would leave frames unseen')
        if curve not in ('volume', 'area'):
            raise ValueError(f"curve must be 'volume' or 'area', got {curve!r}")
        self.keep_probs = bool(keep_probs)
        self.compress_masks = bool(compress_masks)
        self.lv_label = int(lv_label)
        self.curve = curve
        self.postprocess = LVPostProcessing.build(postprocess)
        self.tta_flip = bool(tta_flip)
        self.criteria = criteria
        self.ef_readout = check_ef_readout(ef_readout)
        self.align_corners = bool(getattr(model, 'align_corners', False))
        # frame_step > 1: a single-step predictor runs each interleaved sub-video
        self._sub: Optional['VideoPredictor'] = None if self.frame_step == 1 else \
            VideoPredictor(model, self.num_frames, self.image_size, self.stride, keep_probs,
                           lv_label, curve, 1, video_memory, postprocess=False,
                           tta_flip=tta_flip, compress_masks=compress_masks)

    # ------------------------------------------------------------------ model call
    def _model_input(self, frames: np.ndarray) -> torch.Tensor:
        if self.image_size is not None and tuple(frames.shape[1:3]) != self.image_size:
            h, w = self.image_size
            frames = np.stack([cv2.resize(f, (w, h), interpolation=cv2.INTER_LINEAR)
                               for f in frames])
        return torch.from_numpy(np.ascontiguousarray(frames)).float().unsqueeze(1)

    def clip_probabilities(self, frames: np.ndarray, memory=None,
                           memory_flip=None) -> np.ndarray:
        """(T, H, W) frames -> (T, K, H, W) float32 class probabilities at (H, W); with
        ``tta_flip`` the mean with the mirrored-back probabilities of the mirrored frames.

        ``memory``: the model's per-video memory (its ``window_start`` set) or None;
        ``memory_flip``: the one of the mirrored video (``tta_flip``)."""
        probs = self._model_probabilities(frames, memory)
        if self.tta_flip:
            mirrored = self._model_probabilities(np.ascontiguousarray(frames[:, :, ::-1]),
                                                 memory_flip)
            # a + b == b + a in floating point: mirroring the video mirrors this exactly
            probs = (probs + mirrored[..., ::-1]) * np.float32(0.5)
        return probs

    @torch.no_grad()
    def _model_probabilities(self, frames: np.ndarray, memory=None) -> np.ndarray:
        data = self.model.data_preprocessor(dict(inputs=[self._model_input(frames)],
                                                 data_samples=None), False)
        if memory is None:
            probs = self.model.predict_probabilities(data['inputs'])[0].float()
        else:
            probs = self.model.predict_probabilities(data['inputs'], memory=memory)[0].float()
        size = tuple(frames.shape[1:3])
        if tuple(probs.shape[-2:]) != size:
            probs = F.interpolate(probs, size=size, mode='bilinear',
                                  align_corners=self.align_corners)
        return probs.cpu().numpy()

    # ------------------------------------------------------------------ state
    def start(self, info=None, spacing: Optional[Sequence[float]] = None,
              fps: Optional[float] = None, name: Optional[str] = None) -> VideoState:
        """Open a new video; returns its :class:`VideoState`, for :meth:`step` and
        :meth:`finish`.

        ``info`` may be a :class:`echoseg.datasets.video_io.VideoInfo` or a dict with
        ``fps``, ``size`` (H, W), ``spacing``, ``num_frames``; explicit ``spacing``/``fps``
        win. The frame count is not needed (the last window is placed when :meth:`finish`
        is called); when given, the masks are written into one preallocated array.
        """
        info = info._asdict() if hasattr(info, '_asdict') else dict(info or {})
        spacing = spacing if spacing is not None else info.get('spacing')
        fps = fps if fps else info.get('fps')
        size = info.get('size')
        st = VideoState(
            spacing=None if spacing is None else (float(spacing[0]), float(spacing[1])),
            fps=float(fps) if fps else None, name=name,
            size=None if size is None else (int(size[0]), int(size[1])))
        if self._sub is None:
            st.masks = _MaskStore(info.get('num_frames'), self.compress_masks)
        else:
            st.phases = [self._sub.start(dict(size=st.size)) for _ in range(self.frame_step)]
            st.phase_masks = [[] for _ in range(self.frame_step)]
        if self.uses_memory:
            st.memory = self.model.init_video_memory()
            if self.tta_flip:
                st.memory_flip = self.model.init_video_memory()
        return st

    @staticmethod
    def _open(state, call: str) -> VideoState:
        """``state`` if it is an open :class:`VideoState`, else a clear error."""
        if not isinstance(state, VideoState):
            raise TypeError(f'{call}: the first argument must be the VideoState that '
                            f'start() returned, got {type(state).__name__}')
        if state.finished:
            raise RuntimeError(f'{call}: this video is finished; call start() for a new one')
        return state

    def _check_frames(self, st: VideoState, frames) -> np.ndarray:
        frames = np.asarray(frames)
        if frames.ndim == 2:
            frames = frames[None]
        if frames.ndim == 4 and frames.shape[-1] in (1, 3):
            frames = frames[..., 0] if frames.shape[-1] == 1 else np.stack(
                [cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_BGR2GRAY)
                 for f in frames.astype(np.uint8)])
        if frames.ndim != 3:
            raise ValueError(f'frames must be (H, W) or (N, H, W) gray, got {frames.shape}')
        if st.size is None:
            st.size = tuple(frames.shape[1:3])
        elif frames.shape[0] and tuple(frames.shape[1:3]) != st.size:
            raise ValueError(f'frame size {frames.shape[1:3]} differs from the video\'s '
                             f'{st.size}')
        return frames

    def _accumulate(self, st: VideoState, start: int, probs: np.ndarray) -> None:
        end = start + probs.shape[0]
        if st.acc is None:
            st.acc = np.zeros((0, ) + probs.shape[1:], np.float32)
        need = end - st.final_upto
        if need > st.acc.shape[0]:
            grow = need - st.acc.shape[0]
            st.acc = np.concatenate([st.acc, np.zeros((grow, ) + st.acc.shape[1:],
                                                      np.float32)])
            st.count = np.concatenate([st.count, np.zeros(grow, np.int64)])
        lo = start - st.final_upto
        st.acc[lo:lo + probs.shape[0]] += probs
        st.count[lo:lo + probs.shape[0]] += 1

    def _run_window(self, st: VideoState, start: int, frames: np.ndarray,
                    keep: Optional[int] = None) -> None:
        memory, memory_flip = st.memory, st.memory_flip
        for m in (memory, memory_flip):
            if m is not None:
                m.window_start = start
        probs = self.clip_probabilities(frames, memory, memory_flip)
        if keep is not None:
            probs = probs[:keep]
        self._accumulate(st, start, probs)
        end = start + probs.shape[0]
        st.windows.append((start, end))
        st.last_end = max(st.last_end, end)

    def _finalise(self, st: VideoState, upto: int) -> np.ndarray:
        """Turn the frames below ``upto`` into masks; return those masks."""
        n = upto - st.final_upto
        if n <= 0:
            return np.zeros((0, ) + tuple(st.size or (0, 0)), np.uint8)
        if np.any(st.count[:n] == 0):  # cannot happen with stride <= T
            raise RuntimeError('internal error: a frame was finalised without a window')
        probs = st.acc[:n] / st.count[:n, None, None, None]
        masks = probs.argmax(axis=1).astype(np.uint8)
        st.masks.append(masks)
        if self.keep_probs:
            st.probs.append(probs.astype(np.float32))
        st.acc, st.count = st.acc[n:], st.count[n:]
        st.final_upto = upto
        drop = upto - st.buffer_start
        if drop > 0:
            del st.buffer[:drop]
            st.buffer_start = upto
        return masks

    def step(self, state: VideoState, frames) -> np.ndarray:
        """Feed the video of ``state`` (from :meth:`start`) its next frame(s) ((H, W) or
        (n, H, W)); returns the masks (m, H, W) uint8 of the frames that became final (m may
        be 0: they wait for the next window). These are the argmax masks before
        post-processing (its temporal smoothing needs later frames); the result of
        :meth:`finish` holds the post-processed ones."""
        st = self._open(state, 'step(state, frames)')
        frames = self._check_frames(st, frames)
        if frames.shape[0]:
            top = frames.max(axis=0)
            st.frame_max = top if st.frame_max is None else np.maximum(st.frame_max, top)
        if self._sub is not None:
            return self._step_phases(st, frames)
        st.buffer.extend(list(frames))
        st.num_seen += frames.shape[0]
        t = self.num_frames
        final = [np.zeros((0, ) + st.size, np.uint8)]
        while st.num_seen >= st.next_start + t:
            s = st.next_start
            lo = s - st.buffer_start
            self._run_window(st, s, np.stack(st.buffer[lo:lo + t]))
            st.next_start = s + self.stride
            # a later window starts at s + 1 or after (the end window lies past s): the
            # frames up to s are final; with a memory no later window overlaps this one
            final.append(self._finalise(st, s + t if self.uses_memory else s + 1))
        return np.concatenate(final)

    def _step_phases(self, st: VideoState, frames: np.ndarray) -> np.ndarray:
        """frame_step > 1: frame n goes to sub-video n % s; masks come back in order."""
        s = self.frame_step
        for frame in frames:
            p = st.num_seen % s
            st.phase_masks[p].extend(self._sub.step(st.phases[p], frame))
            st.num_seen += 1
        out = []
        while st.phase_masks[st.final_upto % s]:
            out.append(st.phase_masks[st.final_upto % s].pop(0))
            st.final_upto += 1
        return np.stack(out) if out else np.zeros((0, ) + st.size, np.uint8)

    def _finish_arrays(self, st: VideoState) -> Tuple[np.ndarray, Optional[np.ndarray], List]:
        """Run the last window; (masks, probs or None, windows) of the whole video."""
        n, t = st.num_seen, self.num_frames
        if n == 0:
            raise ValueError(f'{st.name or "video"}: no frames were given')
        if self._sub is not None:
            return self._finish_phases(st)
        if self.uses_memory and st.last_end < n:
            # the memory holds the frames before: the rest runs as one shorter window
            lo = st.last_end - st.buffer_start
            self._run_window(st, st.last_end, np.stack(st.buffer[lo:]))
        elif n < t:
            frames = np.stack(st.buffer)
            pad = np.repeat(frames[-1:], t - n, axis=0)
            self._run_window(st, 0, np.concatenate([frames, pad]), keep=n)
        elif st.last_end < n:
            lo = (n - t) - st.buffer_start
            self._run_window(st, n - t, np.stack(st.buffer[lo:lo + t]))
        self._finalise(st, n)
        probs = np.concatenate(st.probs) if self.keep_probs else None
        return st.masks.array(st.size), probs, st.windows

    def _finish_phases(self, st: VideoState):
        s, n = self.frame_step, st.num_seen
        parts = [self._sub._finish_arrays(sub) for sub in st.phases[:min(s, n)]]
        if self.compress_masks:  # interleave the sub-videos' compressed frames
            masks = CompressedMasks(parts[0][0].frame_shape)
            for i in range(n):
                masks.append_raw(parts[i % s][0].raw(i // s))
        else:
            masks = np.zeros((n, ) + parts[0][0].shape[1:], np.uint8)
        probs = None if not self.keep_probs else \
            np.zeros((n, ) + parts[0][1].shape[1:], np.float32)
        windows = []
        for p, (m, pr, wins) in enumerate(parts):
            if not self.compress_masks:
                masks[p::s] = m
            if probs is not None:
                probs[p::s] = pr
            # window of sub-video frames [a, b) = video frames p + s*a, ..., p + s*(b - 1)
            windows.extend((p + s * a, p + s * (b - 1) + 1) for a, b in wins)
        return masks, probs, sorted(windows)

    def finish(self, state: VideoState) -> VideoResult:
        """Run the last window of the video of ``state`` (with a memory, the remaining
        frames; without one, end-aligned, or the padded one of a short video) and return
        the :class:`VideoResult` of the whole video; the state is closed (``finished``)."""
        st = self._open(state, 'finish(state)')
        masks, probs, windows = self._finish_arrays(st)
        from echoseg.evaluation.functional.plausibility import estimate_field_of_view
        result = VideoResult.from_masks(
            masks, spacing=st.spacing, fps=st.fps, probs=probs, lv_label=self.lv_label,
            curve=self.curve, windows=windows, name=st.name,
            postprocess=self.postprocess or False, criteria=self.criteria,
            field_of_view=estimate_field_of_view(st.frame_max), copy=False,
            ef_readout=self.ef_readout)
        result.tta_flip = self.tta_flip
        self._close(st)
        return result

    @staticmethod
    def _close(st: VideoState) -> None:
        """Mark ``st`` finished and let go of what only the running video needed."""
        st.finished = True
        st.buffer, st.acc, st.probs, st.memory, st.memory_flip = [], None, [], None, None
        st.masks, st.phases, st.phase_masks = _MaskStore(), [], []

    # ------------------------------------------------------------------ one call
    def predict(self, video, spacing: Optional[Sequence[float]] = None,
                fps: Optional[float] = None, name: Optional[str] = None) -> VideoResult:
        """Segment a whole video: an (N, H, W) array or a file (any format of
        :mod:`echoseg.datasets.video_io`), read frame by frame (its header spacing and fps
        are used unless ``spacing``/``fps`` are given)."""
        if isinstance(video, (str, os.PathLike)):
            from echoseg.io import iter_frames, video_header
            info, header_spacing = video_header(video)
            state = self.start(info, spacing=spacing if spacing is not None else header_spacing,
                               fps=fps, name=name or video_name(video))
            chunk = []
            for frame in iter_frames(video):
                chunk.append(frame)
                if len(chunk) == self.num_frames:
                    self.step(state, np.stack(chunk))
                    chunk = []
            if chunk:
                self.step(state, np.stack(chunk))
            return self.finish(state)
        video = np.asarray(video)
        if video.ndim == 2:
            video = video[None]
        state = self.start(dict(size=video.shape[1:3]), spacing=spacing, fps=fps, name=name)
        self.step(state, video)
        return self.finish(state)


def video_name(path) -> str:
    """File name without its (possibly double, ``.nii.gz``) suffix."""
    from echoseg.io import file_suffix
    base = osp.basename(os.fspath(path))
    suffix = file_suffix(path)
    return base[:-len(suffix)] if suffix and base.lower().endswith(suffix) else base


def load_video(path, spacing: Optional[Sequence[float]] = None, fps: Optional[float] = None,
               name: Optional[str] = None) -> Tuple[np.ndarray, Optional[Tuple[float, float]],
                                                    Optional[float], str]:
    """(frames, spacing, fps, name) of a video file; given values win over the header's.

    Raises :class:`echoseg.datasets.errors.EchoDataError` naming the file when it cannot
    be read.
    """
    from echoseg.io import is_volume_file, read_volume, video_info
    frames, header_spacing = read_volume(path)
    if not fps and not is_volume_file(path):
        fps = video_info(path).fps
    spacing = spacing if spacing is not None else header_spacing
    return frames, (None if spacing is None else (float(spacing[0]), float(spacing[1]))), \
        (float(fps) if fps else None), name or video_name(path)


def inference_video(model: nn.Module, video, spacing=None, fps=None,
                    **predictor_kwargs) -> VideoResult:
    """One-call shortcut: ``VideoPredictor(model, **predictor_kwargs).predict(video, ...)``."""
    return VideoPredictor(model, **predictor_kwargs).predict(video, spacing=spacing, fps=fps)


__all__ = ['init_model', 'VideoPredictor', 'VideoState', 'clip_settings', 'window_starts',
           'load_video', 'video_name', 'inference_video', 'DEFAULT_NUM_FRAMES']
