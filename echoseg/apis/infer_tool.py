"""``tools/infer.py``: a trained model on whole videos -> masks, curves, ED/ES, EF.

    python tools/infer.py CONFIG CHECKPOINT INPUT [INPUT ...] --out-dir DIR
        [--device cpu] [--spacing ROW COL] [--fps F] [--num-frames T] [--stride S]
        [--mask-format nii.gz|npz] [--no-video] [--skip-invalid] [--no-postprocess]
        [--temporal-window W] [--tta-flip] [--cfg-options k=v ...]

INPUT is a video file (AVI, MP4, NIfTI, MHD, DICOM cine, ...) or a folder of them
(searched recursively). Files are read frame by frame, and again frame by frame for the
overlay video, and the masks are held zlib-compressed frame by frame and written to disk
frame by frame, so memory stays flat with a video's length. A progress bar runs over the
videos and the frames/s achieved is printed at the end.
Per video ``<name>`` it writes ``<name>_masks.nii.gz`` (or ``.npz``), ``<name>.json``,
``<name>.csv`` (per frame), ``<name>_beats.csv`` (per beat, with its flags),
``<name>_overlay.mp4`` (unless ``--no-video``) and ``<name>_curves.png``; over all videos
``summary.csv``. Beats left out of the mean EF, and videos without an EF, are printed as
warnings. A video's files are written into a hidden ``.<name>.*.partial`` folder and moved
into ``--out-dir`` only when all are complete, so a crash or kill never leaves a partial
result (a killed run may leave that hidden folder; delete it). See ``docs/inference.md``
and, for bad inputs, ``docs/errors.md``.
"""
import argparse
import csv
import io
import math
import os
import os.path as osp
import shutil
import sys
import tempfile
import time
from typing import List, Optional, Tuple

SUMMARY_FIELDS = ['video', 'path', 'num_frames', 'height', 'width', 'fps', 'num_ed', 'num_es',
                  'num_beats', 'num_beats_used', 'ef_mean', 'ef_sd', 'edv_mean', 'esv_mean',
                  'heart_rate', 'volume_unit', 'area_unit', 'partial', 'flags', 'ef_note']


def build_parser() -> argparse.ArgumentParser:
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(
        description='Segment the LV in whole echo videos and report volumes, ED/ES frames '
        'and EF per beat (docs/inference.md)')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('inputs', nargs='+', metavar='INPUT',
                        help='video files (AVI, MP4, NIfTI, MHD ...) or folders of them')
    parser.add_argument('--out-dir', required=True, help='where the results go')
    parser.add_argument('--device', default='cpu', help="'cpu', 'cuda', 'cuda:1' ...")
    parser.add_argument('--spacing', nargs=2, type=float, metavar=('ROW', 'COL'),
                        help='pixel spacing in mm (overrides NIfTI/MHD headers); without '
                        'one, AVI/MP4 results are in pixels')
    parser.add_argument('--fps', type=float,
                        help='frame rate (overrides the video header); bounds the beat '
                        'detection to 30-200 bpm')
    parser.add_argument('--num-frames', type=int,
                        help="clip length T (default: the config's test pipeline)")
    parser.add_argument('--stride', type=int,
                        help='frames between windows (default T for per-frame models and '
                        'models with a per-video memory, else T // 2)')
    parser.add_argument('--frame-step', type=int, default=1,
                        help='windows hold every n-th frame (as training clips sampled '
                        'from ED to ES); every frame is still predicted')
    parser.add_argument('--mask-format', choices=['nii.gz', 'npz'], default='nii.gz',
                        help='file format of the masks (default nii.gz)')
    parser.add_argument('--no-video', action='store_true', help='skip the overlay video')
    parser.add_argument('--skip-invalid', action='store_true',
                        help='skip unreadable inputs (reported at the end) instead of '
                        'stopping at the first')
    parser.add_argument('--no-postprocess', action='store_true',
                        help='keep the raw argmax masks (default: the largest LV component '
                        'per frame, holes filled)')
    parser.add_argument('--temporal-window', type=int, default=0, metavar='W',
                        help='also smooth the LV masks by a per-pixel majority over W '
                        '(odd) frames (default 0: off)')
    parser.add_argument('--tta-flip', action='store_true',
                        help='test-time flip averaging: mean of the predictions on the '
                        'video and on its mirror image (twice the compute)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value (dotted keys)')
    return parser


def collect_inputs(paths: List[str]) -> List[Tuple[str, Optional[str]]]:
    """(path, error) per input; folders expand to their video files, recursively (sorted;
    DICOM files are also found by their ``DICM`` marker when they have no suffix).
    ``error`` names a folder without videos; files are checked when they are read."""
    from echoseg.datasets.dicom_io import DICOM_SUFFIXES, is_dicom_file
    from echoseg.datasets.video_io import VIDEO_SUFFIXES_READ, VOLUME_SUFFIXES, file_suffix
    known = set(VIDEO_SUFFIXES_READ) | set(VOLUME_SUFFIXES) | set(DICOM_SUFFIXES)

    def is_video(f):
        return file_suffix(f) in known or (file_suffix(f) == '' and is_dicom_file(f))

    out = []
    for path in paths:
        if osp.isdir(path):
            files = sorted(osp.join(d, f) for d, _, names in os.walk(path) for f in names
                           if is_video(osp.join(d, f)))
            if not files:
                out.append((path, f'{path}: no video files ({", ".join(sorted(known))}) in '
                           'the folder'))
            out.extend((f, None) for f in files)
        else:
            out.append((path, None))
    return out


def _unique(name: str, used: set) -> str:
    candidate, k = name, 2
    while candidate in used:
        candidate, k = f'{name}_{k}', k + 1
    used.add(candidate)
    return candidate


def _fmt(value) -> str:
    if value is None:
        return ''
    if isinstance(value, float):
        return '' if not math.isfinite(value) else f'{value:.4g}'
    return str(value)


def write_outputs(result, video, out_dir: str, name: str, mask_format: str = 'nii.gz',
                  with_video: bool = True, extra: Optional[dict] = None) -> List[str]:
    """Every per-video file of the CLI; returns their paths."""
    from echoseg.datasets.errors import EchoDataError
    base = osp.join(out_dir, name)
    paths = [result.save_masks(f'{base}_masks.{mask_format}'),
             result.to_json(f'{base}.json', extra=extra),
             result.to_csv(f'{base}.csv'), result.to_beats_csv(f'{base}_beats.csv')]
    if with_video:
        try:
            paths.append(result.write_overlay_video(f'{base}_overlay.mp4', video))
        except EchoDataError:  # no mp4 codec in this OpenCV build: MJPG AVI always works
            paths.append(result.write_overlay_video(f'{base}_overlay.avi', video))
    paths.append(f'{base}_curves.png')
    result.plot_curves(paths[-1])
    return paths


def publish_outputs(staging: str, out_dir: str) -> List[str]:
    """Move the complete files of one video from ``staging`` into ``out_dir`` (each by an
    atomic rename, after fsync); returns the final paths."""
    from echoseg.utils.atomic_io import fsync_dir
    out = []
    for name in sorted(os.listdir(staging)):
        src = osp.join(staging, name)
        with open(src, 'rb') as f:
            os.fsync(f.fileno())
        out.append(osp.join(out_dir, name))
        os.replace(src, out[-1])
    fsync_dir(out_dir)
    return out


class _Progress:
    """A progress bar over the videos on stderr (rich), when stderr is a terminal."""

    def __init__(self, total: int):
        self.bar = None
        if sys.stderr.isatty():
            try:
                from rich.console import Console
                from rich.progress import Progress
            except ImportError:
                return
            self.bar = Progress(console=Console(stderr=True), transient=False)
            self.task = self.bar.add_task('videos', total=total)
            self.bar.start()
        self.first = True

    def advance(self, label: str) -> None:
        if self.bar is not None:
            self.bar.update(self.task, advance=0 if self.first else 1,
                            description=label)
            self.first = False

    def close(self) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=self.bar.tasks[0].total)
            self.bar.stop()
            self.bar = None


def main(argv=None) -> int:
    """Run the CLI; returns the exit status (0 ok, 1 nothing processed, 2 error)."""
    args = build_parser().parse_args(argv)

    from echoseg.datasets.errors import EchoDataError
    from echoseg.utils.checkpoint import CheckpointError
    from echoseg.utils.config_check import ConfigError
    from echoseg.utils.atomic_io import atomic_write
    from .inference import VideoPredictor, init_model, video_name

    def fail(msg) -> int:
        print(f'error: {msg}', file=sys.stderr)
        return 2

    inputs = collect_inputs(args.inputs)
    if not args.skip_invalid:
        for path, error in inputs:
            if error:
                return fail(error)
    try:
        model = init_model(args.config, args.checkpoint, device=args.device,
                           cfg_options=args.cfg_options)
        postprocess = False if args.no_postprocess else dict(
            temporal_window=args.temporal_window)
        if args.no_postprocess and args.temporal_window:
            raise ValueError('--temporal-window is part of the post-processing: it cannot '
                             'go with --no-postprocess')
        predictor = VideoPredictor(model, num_frames=args.num_frames, stride=args.stride,
                                   frame_step=args.frame_step, postprocess=postprocess,
                                   tta_flip=args.tta_flip, compress_masks=True)
    except (ConfigError, FileNotFoundError, CheckpointError, KeyError, ValueError,
            RuntimeError) as exc:
        return fail(exc)
    os.makedirs(args.out_dir, exist_ok=True)
    post = predictor.postprocess.to_dict() if predictor.postprocess else 'off'
    print(f'model: {args.config} + {args.checkpoint}; clip length {predictor.num_frames}, '
          f'stride {predictor.stride}, frame step {predictor.frame_step}, per-video memory '
          f'{"yes" if predictor.uses_memory else "no"}, input size '
          f'{predictor.image_size or "as the video"}, post-processing {post}, test-time flip '
          f'{"on" if args.tta_flip else "off"}')

    rows, skipped, used = [], [], set()
    total_frames, total_time = 0, 0.0
    progress = _Progress(len(inputs))
    for path, error in inputs:
        progress.advance(osp.basename(path))
        start = time.time()
        try:
            if error:
                raise EchoDataError(error)
            name = _unique(video_name(path), used)
            # frames are read one at a time, and again for the overlay video
            result = predictor.predict(path, spacing=args.spacing, fps=args.fps, name=name)
            video = None if args.no_video else path
        except EchoDataError as exc:
            if not args.skip_invalid:
                progress.close()
                return fail(exc)
            skipped.append((path, str(exc)))
            print(f'skipped: {exc}', file=sys.stderr)
            continue
        total_frames += result.num_frames
        total_time += time.time() - start
        # into a hidden folder first: a crash or kill never leaves a partial result
        staging = tempfile.mkdtemp(prefix=f'.{name}.', suffix='.partial', dir=args.out_dir)
        try:
            write_outputs(result, video, staging, name, args.mask_format,
                          with_video=not args.no_video,
                          extra=dict(source=osp.abspath(path), config=args.config,
                                     checkpoint=args.checkpoint))
            publish_outputs(staging, args.out_dir)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        row = dict(result.summary(), path=path)
        rows.append(row)
        num_used = sum(b['used'] for b in result.beats)
        ef = (f'{result.ef_mean:.1f}% over {num_used} of {len(result.beats)} beat(s)'
              if math.isfinite(result.ef_mean) else 'not reported')
        print(f'{name}: {result.num_frames} frames, {len(result.ed_frames)} ED, '
              f'{len(result.es_frames)} ES, {len(result.beats)} beat(s), mean EF {ef} '
              f'({time.time() - start:.1f} s)')
        for line in result.warnings():
            print(f'warning: {name}: {line}', file=sys.stderr)

    progress.close()
    summary = osp.join(args.out_dir, 'summary.csv')
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=SUMMARY_FIELDS)
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _fmt(row.get(k)) for k in SUMMARY_FIELDS})
    atomic_write(summary, text.getvalue())
    print(f'{len(rows)} video(s) processed; results in {args.out_dir} (summary: {summary})')
    if total_time > 0:
        print(f'{total_frames} frames in {total_time:.1f} s: {total_frames / total_time:.1f} '
              'frames/s (reading and segmenting, writing excluded)')
    if skipped:
        print(f'{len(skipped)} invalid input(s) skipped:', file=sys.stderr)
        for path, msg in skipped:
            print(f'  {msg}', file=sys.stderr)
    return 0 if rows else 1


__all__ = ['main', 'build_parser', 'collect_inputs', 'write_outputs', 'publish_outputs']
