"""``tools/infer.py`` / ``echoseg-infer``: a trained model on whole videos -> masks,
curves, ED/ES, EF.

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
result (a killed run may leave that hidden folder; delete it). The files are written by
:mod:`echoseg.apis.export`. See ``docs/inference.md`` and, for bad inputs,
``docs/errors.md``.
"""
import argparse
import math
import os
import os.path as osp
import shutil
import sys
import tempfile
import time
from typing import List, Optional, Tuple

from .args import add_predictor_args, fail, predictor_kwargs, user_errors


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description='Segment the LV in whole echo videos and report volumes, ED/ES frames '
        'and EF per beat (docs/inference.md)')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('inputs', nargs='+', metavar='INPUT',
                        help='video files (AVI, MP4, NIfTI, MHD ...) or folders of them')
    parser.add_argument('--out-dir', required=True, help='where the results go')
    parser.add_argument('--spacing', nargs=2, type=float, metavar=('ROW', 'COL'),
                        help='pixel spacing in mm (overrides NIfTI/MHD headers); without '
                        'one, AVI/MP4 results are in pixels')
    parser.add_argument('--fps', type=float,
                        help='frame rate (overrides the video header); bounds the beat '
                        'detection to 30-200 bpm')
    parser.add_argument('--mask-format', choices=['nii.gz', 'npz'], default='nii.gz',
                        help='file format of the masks (default nii.gz)')
    parser.add_argument('--no-video', action='store_true', help='skip the overlay video')
    parser.add_argument('--skip-invalid', action='store_true',
                        help='skip unreadable inputs (reported at the end) instead of '
                        'stopping at the first')
    add_predictor_args(parser)
    return parser


def collect_inputs(paths: List[str]) -> List[Tuple[str, Optional[str]]]:
    """(path, error) per input; folders expand to their video files, recursively (sorted;
    DICOM files are also found by their ``DICM`` marker when they have no suffix).
    ``error`` names a folder without videos; files are checked when they are read."""
    from echoseg.io import file_suffix, is_dicom_file, readable_suffixes
    known = set(readable_suffixes())

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

    from echoseg.apis.export import publish_outputs, write_outputs, write_summary
    from echoseg.apis.inference import VideoPredictor, init_model, video_name
    from echoseg.io import EchoDataError

    inputs = collect_inputs(args.inputs)
    if not args.skip_invalid:
        for path, error in inputs:
            if error:
                return fail(error)
    try:
        model = init_model(args.config, args.checkpoint, device=args.device,
                           cfg_options=args.cfg_options)
        predictor = VideoPredictor(model, compress_masks=True, **predictor_kwargs(args))
    except user_errors() + (ValueError, RuntimeError) as exc:
        return fail(exc)
    os.makedirs(args.out_dir, exist_ok=True)
    post = predictor.postprocess.to_dict() if predictor.postprocess else 'off'
    print(f'model: {args.config} + {args.checkpoint}; clip length {predictor.num_frames}, '
          f'stride {predictor.stride}, frame step {predictor.frame_step}, per-video memory '
          f'{"yes" if predictor.uses_memory else "no"}, input size '
          f'{predictor.image_size or "as the video"}, post-processing {post}, test-time flip '
          f'{"on" if args.tta_flip else "off"}, EF read-out {predictor.ef_readout}')

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
    summary = write_summary(osp.join(args.out_dir, 'summary.csv'), rows)
    print(f'{len(rows)} video(s) processed; results in {args.out_dir} (summary: {summary})')
    if total_time > 0:
        print(f'{total_frames} frames in {total_time:.1f} s: {total_frames / total_time:.1f} '
              'frames/s (reading and segmenting, writing excluded)')
    if skipped:
        print(f'{len(skipped)} invalid input(s) skipped:', file=sys.stderr)
        for path, msg in skipped:
            print(f'  {msg}', file=sys.stderr)
    return 0 if rows else 1


__all__ = ['main', 'build_parser', 'collect_inputs']
