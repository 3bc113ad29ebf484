"""``tools/serve.py`` / ``echoseg-serve``: a local web viewer of a trained model.

    python tools/serve.py CONFIG CHECKPOINT [--host 127.0.0.1] [--port 7860]
        [--device cpu] [--num-frames T] [--stride S] [--frame-step N] [--no-postprocess]
        [--temporal-window W] [--tta-flip] [--max-upload-mb 512]
        [--session-ttl 3600] [--max-queue 8] [--samples DIR] [--cfg-options k=v ...]

Open http://127.0.0.1:7860 and drop a video. See ``docs/web_viewer.md``.
"""
import argparse
import os
import os.path as osp

from echoseg.web.service import DEFAULT_MAX_UPLOAD_MB
from .args import (DEMO_CHECKPOINT, DEMO_CONFIG, DEMO_WORK_DIR, add_predictor_args, fail,
                   predictor_kwargs, user_errors)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
NO_CHECKPOINT = (
    'a trained checkpoint is needed. The demo writes one in under an hour on a CPU:\n'
    f'    bash tools/run_demo.sh        # -> {DEMO_CHECKPOINT}\n'
    f'    python tools/serve.py {DEMO_WORK_DIR}/{osp.basename(DEMO_CONFIG)} {DEMO_CHECKPOINT}\n'
    'or train your own: python tools/train.py CONFIG (docs/getting_started.md)')


def default_samples_root() -> str:
    """``$ECHOSEG_ECHODATA``, else ``../shared/echodata`` beside the repository."""
    return os.environ.get('ECHOSEG_ECHODATA', osp.join(osp.dirname(ROOT), 'shared', 'echodata'))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description='A local web viewer: upload an echo video, see the LV, the volume curve '
        'and the EF (docs/web_viewer.md)')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', nargs='?', help='checkpoint file (the demo writes '
                        f'{DEMO_CHECKPOINT})')
    parser.add_argument('--host', default='127.0.0.1',
                        help='address to listen on (default 127.0.0.1: this machine only; '
                        '0.0.0.0 opens it to the network)')
    parser.add_argument('--port', type=int, default=7860, help='port (default 7860)')
    parser.add_argument('--max-upload-mb', type=float, default=DEFAULT_MAX_UPLOAD_MB,
                        help=f'refuse larger uploads (default {DEFAULT_MAX_UPLOAD_MB:g})')
    parser.add_argument('--session-ttl', type=float, default=3600.0,
                        help='seconds without a request after which a page\'s files are '
                        'removed (default 3600)')
    parser.add_argument('--max-queue', type=int, default=8,
                        help='videos that may wait for the model at once (default 8)')
    parser.add_argument('--samples', default=None,
                        help='folder of sample videos offered on the page (default '
                        '$ECHOSEG_ECHODATA or ../shared/echodata when present; "" for none)')
    add_predictor_args(parser)
    return parser


def check_files(config: str, checkpoint) -> None:
    """Raise ``SystemExit``-worthy ``ValueError`` messages before anything is loaded."""
    if not osp.isfile(config):
        raise ValueError(f'{config}: config file not found')
    if not checkpoint:
        raise ValueError(f'no checkpoint given; {NO_CHECKPOINT}')
    if not osp.isfile(checkpoint):
        raise ValueError(f'{checkpoint}: checkpoint file not found; {NO_CHECKPOINT}')


def build_service(args):
    """The service of the parsed arguments, its predictor built as tools/infer.py builds
    its own (:func:`echoseg.cli.args.predictor_kwargs`)."""
    from echoseg.web.service import InferenceService
    predictor = predictor_kwargs(args)
    samples = default_samples_root() if args.samples is None else args.samples
    return InferenceService(
        args.config, args.checkpoint, device=args.device, cfg_options=args.cfg_options,
        max_upload_bytes=int(args.max_upload_mb * 2**20), session_ttl=args.session_ttl,
        max_queue=args.max_queue, samples_root=samples or None, **predictor)


def main(argv=None) -> int:
    """Serve until interrupted; returns the exit status (2 on a usage or model error)."""
    args = build_parser().parse_args(argv)
    try:
        import fastapi  # noqa: F401
        import uvicorn
    except ImportError as exc:
        return fail(f'{exc.name} is not installed; run `bash tools/setup_env.sh` (or '
                    '`pip install fastapi uvicorn`)')
    try:
        check_files(args.config, args.checkpoint)
        service = build_service(args)
    except user_errors() + (ValueError, RuntimeError) as exc:
        return fail(exc)
    from echoseg.web.app import create_app
    app = create_app(service)
    where = 'this machine only' if args.host in ('127.0.0.1', 'localhost', '::1') \
        else f'the network ({args.host})'
    print(f'model: {args.config} + {args.checkpoint}; clip length '
          f'{service.predictor.num_frames}, {len(service.samples)} sample video(s)')
    print(f'echoseg viewer on http://{args.host}:{args.port}  (listening for {where}; '
          'Ctrl+C stops it)', flush=True)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level='warning')
    finally:
        service.close()
    return 0


__all__ = ['main', 'build_parser', 'check_files', 'build_service', 'NO_CHECKPOINT']
