"""The FastAPI app of the viewer: the page, a small JSON API and the result files.

| route | what |
|---|---|
| ``GET /`` | the page (``static/index.html``; script and style under ``/static``) |
| ``GET /api/health`` | ``{"ok": true, ...}``: the model and the queue |
| ``POST /api/sessions`` | open a session: its id, the upload limit, the sample videos |
| ``POST /api/sessions/{sid}/ping`` | keep a session alive |
| ``POST /api/sessions/{sid}/close`` | remove its files (the page's ``pagehide`` beacon) |
| ``PUT /api/sessions/{sid}/videos?filename=&spacing=&fps=`` | the raw file as the body: checked, queued |
| ``POST /api/sessions/{sid}/samples`` | JSON ``{sample, spacing, fps}``: a sample video queued |
| ``GET /api/sessions/{sid}/jobs/{jid}`` | state, queue position, progress; the result when done |
| ``GET /api/sessions/{sid}/jobs/{jid}/files/{name}`` | a result file |

Errors are JSON ``{"detail": message}`` with a 4xx status; the page shows the message.
The upload is streamed to disk and cut off as soon as it passes the size limit.
"""
import os.path as osp
from contextlib import asynccontextmanager
from typing import Optional

from fastapi import FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from echoseg.io import media_type
from .service import InferenceService, QueueFull, UploadRejected, parse_fps, parse_spacing

STATIC = osp.join(osp.dirname(osp.abspath(__file__)), 'static')
_CHUNK = 1 << 20


def _mb(n: float) -> str:
    return f'{n / 2**20:.4g} MB'


def create_app(service: InferenceService, close_service: bool = True) -> FastAPI:
    """The app around a service; the service's worker starts with the app and, with
    ``close_service``, stops (and its temporary folder is removed) when the app stops."""

    @asynccontextmanager
    async def lifespan(app):
        service.start()
        try:
            yield
        finally:
            if close_service:
                await run_in_threadpool(service.close)

    app = FastAPI(title='echoseg viewer', lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.service = service
    app.mount('/static', StaticFiles(directory=STATIC), name='static')

    def session_or_404(sid: str):
        session = service.session(sid)
        if session is None:
            raise HTTPException(404, 'this session has ended (idle too long, or the server '
                                'restarted); reload the page')
        return session

    def job_or_404(sid: str, jid: str):
        job = session_or_404(sid).jobs.get(jid)
        if job is None:
            raise HTTPException(404, f'no job {jid} in this session')
        return job

    def queue(job, spacing, fps):
        try:
            service.submit(job, spacing=spacing, fps=fps)
        except QueueFull as exc:
            service.discard(job)
            raise HTTPException(503, str(exc)) from None
        return service.status(job)

    @app.get('/', include_in_schema=False)
    def index():
        return FileResponse(osp.join(STATIC, 'index.html'), media_type='text/html')

    @app.get('/api/health')
    def health():
        return dict(ok=True, model=service.describe(), busy=service.busy)

    @app.post('/api/sessions')
    def open_session():
        session = service.open_session()
        return dict(session=session.id, **service.describe())

    @app.post('/api/sessions/{sid}/ping')
    def ping(sid: str):
        session_or_404(sid)
        return dict(ok=True)

    @app.post('/api/sessions/{sid}/close')
    async def close_session(sid: str):
        closed = await run_in_threadpool(service.close_session, sid)
        return dict(closed=closed)

    @app.put('/api/sessions/{sid}/videos')
    async def upload(sid: str, request: Request, filename: str, spacing: str = '',
                     fps: str = ''):
        session = session_or_404(sid)
        limit = service.max_upload_bytes
        try:
            spacing_value, fps_value = parse_spacing(spacing), parse_fps(fps)
            declared = request.headers.get('content-length')
            if declared is not None and declared.isdigit() and int(declared) > limit:
                raise UploadRejected(f'{filename}: {_mb(int(declared))} is over the upload '
                                     f'limit of {_mb(limit)}', status=413)
            job = service.new_job(session, filename)
        except UploadRejected as exc:
            raise HTTPException(exc.status, str(exc)) from None
        size = 0
        try:
            with open(job.path, 'wb') as f:
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > limit:
                        raise UploadRejected(f'{job.source}: over the upload limit of '
                                             f'{_mb(limit)}', status=413)
                    f.write(chunk)
            if size == 0:
                raise UploadRejected(f'{job.source}: the file is empty', status=422)
            await run_in_threadpool(service.check_input, job)
        except UploadRejected as exc:
            service.discard(job)
            raise HTTPException(exc.status, str(exc)) from None
        except BaseException:
            service.discard(job)
            raise
        return queue(job, spacing_value, fps_value)

    @app.post('/api/sessions/{sid}/samples')
    async def sample(sid: str, request: Request):
        session = session_or_404(sid)
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get('sample'), str):
            raise HTTPException(400, 'send JSON {"sample": "<one of the samples>"}')
        try:
            spacing, fps = parse_spacing(body.get('spacing')), parse_fps(body.get('fps'))
            job = service.sample_job(session, body['sample'])
        except UploadRejected as exc:
            raise HTTPException(exc.status, str(exc)) from None
        return queue(job, spacing, fps)

    @app.get('/api/sessions/{sid}/jobs/{jid}')
    def job_status(sid: str, jid: str):
        return service.status(job_or_404(sid, jid))

    @app.get('/api/sessions/{sid}/jobs/{jid}/files/{name:path}')
    def job_file(sid: str, jid: str, name: str, download: Optional[int] = None):
        path = service.file_path(job_or_404(sid, jid), name)
        if path is None:
            raise HTTPException(404, f'no result file {name}')
        return FileResponse(path, media_type=media_type(path),
                            filename=osp.basename(path) if download else None)

    @app.exception_handler(HTTPException)
    async def http_error(request, exc):  # one shape for every error: {"detail": message}
        return JSONResponse({'detail': exc.detail}, status_code=exc.status_code)

    return app


__all__ = ['create_app']
