"""The viewer's back end without the web framework: the model, a queue, sessions, files.

One :class:`InferenceService` holds one model and one :class:`~echoseg.apis.VideoPredictor`
(which keeps per-video state), so videos are segmented one at a time by a single worker
thread; requests wait in a FIFO queue and see their place in it. Every browser page opens a
session; its uploads and results are written under a temporary folder of its own, removed
when the page says goodbye, when the session has been idle for ``session_ttl`` seconds, or
when the server stops.

A job does exactly what ``tools/infer.py`` does for one video: ``VideoPredictor.predict``
on the file (read frame by frame; the predictor here only reports how many frames it has
been fed, for the progress bar), the file read again for the overlay, and
:func:`echoseg.apis.export.write_outputs`, whose ``{kind: path}`` gives the download links.
On top it writes a WebM copy of the overlay video that browsers play
(:func:`echoseg.io.write_browser_video`; frames as JPEG files for a frame slider when this
OpenCV build has no VP8 encoder).
"""
import logging
import math
import os
import os.path as osp
import queue
import re
import secrets
import shutil
import tempfile
import threading
import time
import traceback
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

from echoseg.apis import VideoPredictor
from echoseg.apis.export import OUTPUT_KINDS
from echoseg.io import file_suffix, is_dicom_file, readable_suffixes, write_browser_video

logger = logging.getLogger('echoseg.web')

#: default refusal size of an upload (MiB)
DEFAULT_MAX_UPLOAD_MB = 512.0
#: what the download links offer, by kind: the files ``tools/infer.py`` writes
DOWNLOAD_KINDS = OUTPUT_KINDS
#: names of files under the samples folder that hold labels, not videos
_NOT_A_VIDEO = re.compile(r'(segmentation|mask|_gt\b|_gt\.|label)', re.IGNORECASE)


class UploadRejected(ValueError):
    """An upload the service will not segment; ``status`` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


class QueueFull(RuntimeError):
    """The queue holds ``max_queue`` waiting videos already."""


def safe_filename(name: str, default: str = 'video') -> str:
    """A client's file name reduced to a plain base name (letters, digits, ``._-``)."""
    base = re.split(r'[\\/]', str(name or ''))[-1]
    base = re.sub(r'[^A-Za-z0-9._-]+', '_', base).lstrip('.')
    return base[-120:] if base else default


def parse_spacing(text) -> Optional[Tuple[float, float]]:
    """``'0.3'`` or ``'0.3 0.4'`` / ``'0.3,0.4'`` (row, col mm per pixel) -> a pair; empty
    -> None. Raises ``UploadRejected`` on anything else."""
    if text is None or not str(text).strip():
        return None
    parts = [p for p in re.split(r'[\s,;x]+', str(text).strip()) if p]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) not in (1, 2) or not all(math.isfinite(v) and v > 0 for v in values):
        raise UploadRejected(f'spacing {text!r}: give one or two positive numbers, mm per '
                             'pixel (row, column), e.g. "0.3" or "0.3 0.3"')
    return (values[0], values[-1])


def parse_fps(text) -> Optional[float]:
    """A positive frame rate, or None for an empty field."""
    if text is None or not str(text).strip():
        return None
    try:
        fps = float(str(text).strip())
    except ValueError:
        fps = float('nan')
    if not (math.isfinite(fps) and fps > 0):
        raise UploadRejected(f'fps {text!r}: give a positive number of frames per second')
    return fps


def find_samples(root: Optional[str], max_depth: int = 3) -> Dict[str, str]:
    """Video files under ``root`` (e.g. ``../shared/echodata``): ``{relative path: path}``.
    Files whose names say they hold labels (segmentation, mask, gt) are left out."""
    if not root or not osp.isdir(root):
        return {}
    known = set(readable_suffixes())
    found = {}
    for folder, dirs, files in os.walk(root):
        rel_folder = osp.relpath(folder, root)
        depth = 0 if rel_folder == '.' else rel_folder.count(os.sep) + 1
        dirs[:] = sorted(d for d in dirs if not d.startswith('.')) if depth < max_depth else []
        for f in sorted(files):
            if file_suffix(f) in known and not _NOT_A_VIDEO.search(f):
                rel = f if rel_folder == '.' else osp.join(rel_folder, f)
                found[rel.replace(os.sep, '/')] = osp.join(folder, f)
    return found


class _Cancelled(Exception):
    """The job's session was closed while its video was being segmented."""


class ProgressVideoPredictor(VideoPredictor):
    """:class:`~echoseg.apis.VideoPredictor` unchanged, plus a report of the frames fed
    so far: ``on_frames(n)`` is called before each ``step`` (``predict`` on a file steps
    as the frames are read); it may raise to stop the video."""

    on_frames: Optional[Callable[[int], None]] = None

    def step(self, state, frames):
        if self.on_frames is not None:
            self.on_frames(state.num_seen + (1 if np.ndim(frames) == 2 else len(frames)))
        return super().step(state, frames)


class Job:
    """One video of one session: queued -> running -> done | error | cancelled."""

    def __init__(self, job_id: str, session: 'Session', folder: str, source: str):
        self.id = job_id
        self.session = session
        self.folder = folder            # the job's own folder (results), input/ below
        self.source = source            # what the user picked: file name or sample path
        self.path: Optional[str] = None  # the file to read
        self.spacing: Optional[Tuple[float, float]] = None
        self.fps: Optional[float] = None
        self.state = 'new'
        self.stage = ''
        self.progress = 0.0
        self.message = ''
        self.files: Dict[str, str] = {}    # kind -> file name inside ``folder``
        self.frames: List[str] = []        # frame images (no WebM encoder), in ``folder``
        self.name: Optional[str] = None
        self.cancel = False
        self.seq = 0

    def fail(self, message: str) -> None:
        self.state, self.message, self.stage = 'error', message, ''

    def file_names(self) -> List[str]:
        return list(self.files.values()) + self.frames


class Session:
    """A browser page: its folder and jobs."""

    def __init__(self, session_id: str, folder: str):
        self.id = session_id
        self.folder = folder
        self.jobs: Dict[str, Job] = {}
        self.last_seen = time.monotonic()
        self.closed = False


class InferenceService:
    """A model behind a one-at-a-time queue, with per-session temporary folders.

    Args:
        config, checkpoint: as for :func:`echoseg.apis.init_model` (``checkpoint`` None:
            the weights as built, for tests).
        device: ``'cpu'``, ``'cuda'`` ...
        num_frames, stride, frame_step: clip length, window stride and frame step
            (``tools/infer.py``'s ``--num-frames``/``--stride``/``--frame-step``; defaults
            as there).
        postprocess, tta_flip: LV mask post-processing and test-time flip averaging, as
            ``VideoPredictor`` takes them (defaults: on, off; as ``tools/infer.py``).
        cfg_options: dotted config overrides.
        work_root: where the temporary folder is made (default: the system's temp dir).
        max_upload_bytes: larger uploads are refused.
        session_ttl: seconds without a request after which a session's files are removed.
        max_queue: videos that may wait at once; more are refused (``QueueFull``).
        samples_root: a folder of sample videos offered on the page (None: none).
    """

    def __init__(self, config: str, checkpoint: Optional[str], device: str = 'cpu',
                 num_frames: Optional[int] = None, stride: Optional[int] = None,
                 frame_step: int = 1, postprocess=True, tta_flip: bool = False,
                 ef_readout: str = 'frames', cfg_options: Optional[dict] = None,
                 work_root: Optional[str] = None,
                 max_upload_bytes: int = int(DEFAULT_MAX_UPLOAD_MB * 2**20),
                 session_ttl: float = 3600.0, max_queue: int = 8,
                 samples_root: Optional[str] = None):
        from echoseg.apis import init_model
        self.config = config
        self.checkpoint = checkpoint
        self.model = init_model(config, checkpoint, device=device, cfg_options=cfg_options)
        self.predictor = ProgressVideoPredictor(self.model, num_frames=num_frames,
                                                stride=stride, frame_step=frame_step,
                                                postprocess=postprocess, tta_flip=tta_flip,
                                                compress_masks=True, ef_readout=ef_readout)
        self.max_upload_bytes = int(max_upload_bytes)
        self.session_ttl = float(session_ttl)
        self.max_queue = int(max_queue)
        self.samples_root = samples_root
        self.samples = find_samples(samples_root)
        self.root = tempfile.mkdtemp(prefix='echoseg-serve-', dir=work_root)
        self._sessions: Dict[str, Session] = {}
        self._lock = threading.RLock()
        self._queue: 'queue.Queue[Optional[Job]]' = queue.Queue()
        self._seq = 0
        self._running: Optional[Job] = None
        self._worker: Optional[threading.Thread] = None
        self._stopped = False

    # ------------------------------------------------------------------ life cycle
    def start(self) -> 'InferenceService':
        """Start the worker thread (idempotent)."""
        if self._worker is None:
            self._worker = threading.Thread(target=self._work, name='echoseg-inference',
                                            daemon=True)
            self._worker.start()
        return self

    def close(self, timeout: float = 30.0) -> None:
        """Stop the worker (after the running video) and remove every session's files."""
        self._stopped = True
        with self._lock:
            for job in self._all_jobs():
                job.cancel = True
        if self._worker is not None:
            self._queue.put(None)
            self._worker.join(timeout)
        shutil.rmtree(self.root, ignore_errors=True)

    @property
    def busy(self) -> bool:
        """Whether a video is being segmented now."""
        return self._running is not None

    # ------------------------------------------------------------------ sessions
    def open_session(self) -> Session:
        sid = secrets.token_urlsafe(16)
        folder = osp.join(self.root, sid)
        os.makedirs(folder)
        session = Session(sid, folder)
        with self._lock:
            self._sessions[sid] = session
        return session

    def session(self, sid: str) -> Optional[Session]:
        """The open session ``sid`` (its idle clock restarted), or None."""
        with self._lock:
            session = self._sessions.get(sid)
            if session is not None:
                session.last_seen = time.monotonic()
            return session

    def close_session(self, sid: str) -> bool:
        """Forget a session and remove its folder (after its running video, if any)."""
        with self._lock:
            session = self._sessions.pop(sid, None)
            if session is None:
                return False
            session.closed = True
            busy = False
            for job in session.jobs.values():
                job.cancel = True
                if job.state in ('new', 'queued'):
                    job.state = 'cancelled'
                busy = busy or job is self._running
        if not busy:
            shutil.rmtree(session.folder, ignore_errors=True)
        return True

    def reap(self) -> List[str]:
        """Close sessions idle for longer than ``session_ttl``; returns their ids."""
        now = time.monotonic()
        with self._lock:
            idle = [s.id for s in self._sessions.values()
                    if now - s.last_seen > self.session_ttl
                    and not any(j.state in ('queued', 'running') for j in s.jobs.values())]
        for sid in idle:
            self.close_session(sid)
        return idle

    def _all_jobs(self):
        return [j for s in self._sessions.values() for j in s.jobs.values()]

    # ------------------------------------------------------------------ jobs
    def new_job(self, session: Session, filename: str) -> Job:
        """A job whose input will be written to ``job.path`` (an upload)."""
        name = safe_filename(filename)  # its type is checked once written (check_input)
        job = self._make_job(session, source=filename)
        os.makedirs(osp.join(job.folder, 'input'))
        job.path = osp.join(job.folder, 'input', name)
        return job

    def sample_job(self, session: Session, sample: str) -> Job:
        """A job on one of ``self.samples`` (read in place)."""
        if sample not in self.samples:
            raise UploadRejected(f'{sample}: no such sample video', status=404)
        job = self._make_job(session, source=osp.abspath(self.samples[sample]))
        job.path = self.samples[sample]
        return job

    def _make_job(self, session: Session, source: str) -> Job:
        with self._lock:
            if session.closed:
                raise UploadRejected('this session was closed; reload the page', status=410)
            job_id = secrets.token_hex(6)
            job = Job(job_id, session, osp.join(session.folder, job_id), source)
            os.makedirs(job.folder)
            session.jobs[job_id] = job
        return job

    def discard(self, job: Job) -> None:
        """Drop a job that was never queued (a refused upload) and its files."""
        with self._lock:
            job.session.jobs.pop(job.id, None)
        shutil.rmtree(job.folder, ignore_errors=True)

    @staticmethod
    def _known_suffix(name: str) -> bool:
        return file_suffix(name) in readable_suffixes()

    @staticmethod
    def _unknown_type(filename: str) -> str:
        return (f'{filename}: not a video file echoseg reads (use one of '
                f'{", ".join(readable_suffixes())})')

    def check_input(self, job: Job) -> None:
        """Read the file's header now, so that a non-video is refused at once."""
        from echoseg.io import EchoDataError, video_info
        if not self._known_suffix(job.path) and not is_dicom_file(job.path):
            # without a known suffix only a DICOM file (found by its marker) is read
            raise UploadRejected(self._unknown_type(job.source), status=415)
        try:
            info = video_info(job.path)
        except EchoDataError as exc:
            raise UploadRejected(self._display(str(exc), job), status=422) from None
        except Exception as exc:  # readers of broken files raise all kinds of things
            raise UploadRejected(f'{job.source}: cannot be read as a video '
                                 f'({type(exc).__name__}: {exc})', status=422) from None
        if info.num_frames < 1:
            raise UploadRejected(f'{job.source}: the video has no frames', status=422)

    def submit(self, job: Job, spacing=None, fps=None) -> Job:
        """Queue a job; raises ``QueueFull`` when ``max_queue`` videos are waiting."""
        with self._lock:
            if self._stopped:
                raise QueueFull('the server is shutting down')
            waiting = sum(1 for j in self._all_jobs() if j.state == 'queued')
            if waiting >= self.max_queue:
                raise QueueFull(f'{waiting} videos are waiting already; try again later')
            job.spacing, job.fps = spacing, fps
            self._seq += 1
            job.seq = self._seq
            job.state, job.stage = 'queued', 'waiting for the model'
        self._queue.put(job)
        return job

    def position(self, job: Job) -> int:
        """Videos to be segmented before this one (the running one included)."""
        if job.state != 'queued':
            return 0
        with self._lock:
            ahead = sum(1 for j in self._all_jobs() if j.state == 'queued' and j.seq < job.seq)
            return ahead + (1 if self.busy else 0)

    def _display(self, message: str, job: Job) -> str:
        """Error messages name the file as the user knows it, not our temp path."""
        if job.path and job.source != job.path:
            message = message.replace(job.path, job.source)
        return message.replace(self.root + os.sep, '')

    # ------------------------------------------------------------------ the worker
    def _work(self) -> None:
        while True:
            try:
                job = self._queue.get(timeout=min(30.0, max(1.0, self.session_ttl / 4)))
            except queue.Empty:
                self.reap()
                continue
            if job is None:
                return
            if job.state != 'queued':      # cancelled while waiting
                continue
            with self._lock:
                self._running = job
                job.state, job.stage, job.progress = 'running', 'reading the video', 0.02
            try:
                self.run_job(job)
            finally:
                with self._lock:
                    self._running = None
                    closed = job.session.closed
                if closed:
                    shutil.rmtree(job.session.folder, ignore_errors=True)
                self.reap()

    def run_job(self, job: Job) -> None:
        """Segment ``job.path`` as ``tools/infer.py`` does and write its files."""
        from echoseg.apis.export import write_outputs
        from echoseg.apis.inference import video_name
        from echoseg.io import EchoDataError, read_video, video_info
        predictor = self.predictor
        try:
            total = max(1, video_info(job.path).num_frames)
            name = job.name = video_name(job.path)

            def progress(done: int) -> None:
                if job.cancel:
                    raise _Cancelled
                job.progress = 0.05 + 0.8 * min(done, total) / total
                job.stage = f'segmenting: frame {min(done, total)} of {total}'

            predictor.on_frames = progress
            # what infer runs: the file read frame by frame, then again for the overlay
            result = predictor.predict(job.path, spacing=job.spacing, fps=job.fps, name=name)
            job.stage, job.progress = 'writing the results', 0.87
            video = read_video(job.path)
            paths = write_outputs(result, video, job.folder, name, 'nii.gz', with_video=True,
                                  extra=dict(source=job.source, config=self.config,
                                             checkpoint=self.checkpoint))
            job.files.update({kind: osp.basename(p) for kind, p in paths.items()})
            job.stage, job.progress = 'encoding the overlay for the browser', 0.93
            self._browser_overlay(job, result, video)
            job.state, job.stage, job.progress = 'done', '', 1.0
        except _Cancelled:
            job.state, job.stage = 'cancelled', ''
        except EchoDataError as exc:
            job.fail(self._display(str(exc), job))
        except Exception as exc:  # the server must keep serving whatever the file holds
            logger.error('job %s (%s) failed:\n%s', job.id, job.source, traceback.format_exc())
            job.fail(self._display(f'{job.source}: segmentation failed '
                                   f'({type(exc).__name__}: {exc})', job))
        finally:
            predictor.on_frames = None

    def _browser_overlay(self, job: Job, result, video) -> None:
        frames = result.overlay_frames(video)
        fps = result.fps or 25.0
        webm = write_browser_video(osp.join(job.folder, f'{job.name}_overlay.webm'), frames,
                                   fps)
        if webm is not None:
            job.files['video'] = osp.basename(webm)
            return
        import cv2
        os.makedirs(osp.join(job.folder, 'frames'), exist_ok=True)
        for i, frame in enumerate(frames):
            rel = f'frames/{i:05d}.jpg'
            cv2.imwrite(osp.join(job.folder, rel), frame, [cv2.IMWRITE_JPEG_QUALITY, 90])
            job.frames.append(rel)

    # ------------------------------------------------------------------ views
    def status(self, job: Job) -> dict:
        """What the page needs about a job (the result's JSON once done)."""
        out = dict(job=job.id, state=job.state, stage=job.stage,
                   progress=round(float(job.progress), 4), position=self.position(job),
                   source=job.source, message=job.message)
        if job.state == 'done':
            import json
            with open(osp.join(job.folder, job.files['json'])) as f:
                out['result'] = json.load(f)
            out['files'] = dict(job.files)
            out['frames'] = list(job.frames)
        return out

    def file_path(self, job: Job, name: str) -> Optional[str]:
        """The path of a result file of ``job`` named ``name`` (None for anything else)."""
        if job.state != 'done' or name not in job.file_names():
            return None
        path = osp.join(job.folder, name)
        return path if osp.isfile(path) else None

    def describe(self) -> dict:
        return dict(config=self.config, checkpoint=self.checkpoint,
                    num_frames=self.predictor.num_frames, stride=self.predictor.stride,
                    postprocess=self.predictor.postprocess.to_dict()
                    if self.predictor.postprocess else None,
                    tta_flip=bool(self.predictor.tta_flip),
                    image_size=self.predictor.image_size,
                    max_upload_mb=self.max_upload_bytes / 2**20,
                    suffixes=list(readable_suffixes()), samples=sorted(self.samples))


__all__ = ['InferenceService', 'ProgressVideoPredictor', 'Job', 'Session', 'UploadRejected',
           'QueueFull', 'find_samples', 'safe_filename', 'parse_spacing', 'parse_fps',
           'DOWNLOAD_KINDS', 'DEFAULT_MAX_UPLOAD_MB']
