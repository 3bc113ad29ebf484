"""The viewer's HTTP API on a live localhost server: upload, progress, result files,
samples, refusals with messages (size limit, non-video, corrupt), sessions closed."""
import json
import os.path as osp
import shutil
import time
import urllib.error
import urllib.request

import pytest

pytest.importorskip('fastapi', reason='the viewer needs FastAPI (tools/setup_env.sh)')
pytest.importorskip('uvicorn', reason='the viewer needs uvicorn (tools/setup_env.sh)')

from echoseg.web import InferenceService  # noqa: E402


def call(method, url, data=None, headers=None):
    """(status, body bytes, headers) without raising on 4xx/5xx."""
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read(), r.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers


def call_json(method, url, data=None, headers=None):
    status, body, _ = call(method, url, data, headers)
    return status, json.loads(body)


def follow(url, timeout=120):
    end = time.time() + timeout
    states = set()
    while time.time() < end:
        status, st = call_json('GET', url)
        assert status == 200, st
        states.add(st['state'])
        if st['state'] in ('done', 'error', 'cancelled'):
            return st, states
        time.sleep(0.1)
    raise TimeoutError(url)


@pytest.fixture(scope='module')
def server(tiny_viewer, tmp_path_factory, web):
    samples = tmp_path_factory.mktemp('samples')
    (samples / 'sub').mkdir()
    shutil.copy(tiny_viewer.video, samples / 'sub' / 'sample_lv.avi')
    svc = InferenceService(tiny_viewer.config, tiny_viewer.checkpoint,
                           work_root=str(tmp_path_factory.mktemp('work')),
                           max_upload_bytes=200_000, samples_root=str(samples))
    with web.live_server(svc) as url:
        yield url, svc
    assert not osp.exists(svc.root)           # the server's stop removed every file


def test_page_and_static_files(server):
    url, _ = server
    status, body, headers = call('GET', url + '/')
    assert status == 200 and b'id="ef-mean"' in body
    assert headers['content-type'].startswith('text/html')
    for name in ('app.js', 'style.css'):
        assert call('GET', f'{url}/static/{name}')[0] == 200
    status, health = call_json('GET', url + '/api/health')
    assert status == 200 and health['ok'] is True


def test_upload_progress_and_result_files(server, tiny_viewer, monkeypatch):
    from echoseg.io import registry
    # the files are served with the media types of echoseg.io's registry
    monkeypatch.setitem(registry.MEDIA_TYPES, '.csv', 'text/x-echoseg-csv')
    url, svc = server
    status, sess = call_json('POST', url + '/api/sessions')
    assert status == 200 and sess['max_upload_mb'] == pytest.approx(200_000 / 2**20)
    assert sess['postprocess'] is not None and sess['tta_flip'] is False   # infer's defaults
    root = f"{url}/api/sessions/{sess['session']}"
    data = open(tiny_viewer.video, 'rb').read()
    status, job = call_json('PUT', root + '/videos?filename=my%20clip.avi&spacing=0.3&fps=30',
                            data)
    assert status == 200 and job['state'] == 'queued', job
    st, states = follow(f"{root}/jobs/{job['job']}")
    assert st['state'] == 'done' and 'running' in states | {'done'}
    res = st['result']
    assert res['video'] == 'my_clip' and res['spacing'] == [0.3, 0.3] and res['fps'] == 30
    assert res['units']['volume'] == 'ml' and res['source'] == 'my clip.avi'
    folder = osp.join(svc.root, sess['session'], job['job'])
    for kind, name in st['files'].items():
        status, body, headers = call('GET', f"{root}/jobs/{job['job']}/files/{name}?download=1")
        assert status == 200 and body == open(osp.join(folder, name), 'rb').read(), kind
        assert 'attachment' in headers.get('content-disposition', '')
        assert headers['content-type'].split(';')[0] == registry.media_type(name), kind
    assert registry.media_type(st['files']['csv']) == 'text/x-echoseg-csv'
    status, _, headers = call('GET', f"{root}/jobs/{job['job']}/files/{st['files']['video']}")
    assert status == 200 and headers['content-type'] == 'video/webm'
    for name in ('../../../etc/passwd', 'input/my_clip.avi', 'nope.csv'):
        assert call('GET', f"{root}/jobs/{job['job']}/files/{name}")[0] == 404


def test_samples(server):
    url, svc = server
    status, sess = call_json('POST', url + '/api/sessions')
    assert sess['samples'] == ['sub/sample_lv.avi']
    root = f"{url}/api/sessions/{sess['session']}"
    status, job = call_json('POST', root + '/samples',
                            json.dumps(dict(sample='sub/sample_lv.avi', fps='')).encode(),
                            {'Content-Type': 'application/json'})
    assert status == 200, job
    st, _ = follow(f"{root}/jobs/{job['job']}")
    assert st['state'] == 'done' and st['result']['source'] == svc.samples['sub/sample_lv.avi']
    status, err = call_json('POST', root + '/samples',
                            json.dumps(dict(sample='../../etc/passwd')).encode())
    assert status == 404 and 'no such sample' in err['detail']


def test_refusals_come_with_messages_and_the_server_keeps_serving(server, tmp_path):
    url, svc = server
    _, sess = call_json('POST', url + '/api/sessions')
    root = f"{url}/api/sessions/{sess['session']}"
    big = b'\0' * 300_000
    status, err = call_json('PUT', root + '/videos?filename=big.avi', big)
    assert status == 413 and 'over the upload limit' in err['detail']
    # no Content-Length (chunked): cut off while streaming
    status, err = call_json('PUT', root + '/videos?filename=big.avi',
                            iter([b'\0' * 65536] * 5))
    assert status == 413 and 'over the upload limit' in err['detail']
    status, err = call_json('PUT', root + '/videos?filename=notes.txt', b'hello')
    assert status == 415 and 'not a video file' in err['detail']
    status, err = call_json('PUT', root + '/videos?filename=broken.avi', b'RIFF garbage')
    assert status == 422 and 'broken.avi' in err['detail'] and svc.root not in err['detail']
    status, err = call_json('PUT', root + '/videos?filename=empty.avi', b'')
    assert status == 422 and 'empty' in err['detail']
    status, err = call_json('PUT', root + '/videos?filename=x.avi&spacing=-2', b'x')
    assert status == 400 and 'spacing' in err['detail']
    status, err = call_json('PUT', url + '/api/sessions/nope/videos?filename=x.avi', b'x')
    assert status == 404 and 'reload the page' in err['detail']
    # nothing refused was kept
    assert svc.session(sess['session']).jobs == {}
    assert call('GET', url + '/api/health')[0] == 200


def test_close_removes_the_session_files(server, tiny_viewer):
    url, svc = server
    _, sess = call_json('POST', url + '/api/sessions')
    root = f"{url}/api/sessions/{sess['session']}"
    _, job = call_json('PUT', root + '/videos?filename=a.avi',
                       open(tiny_viewer.video, 'rb').read())
    follow(f"{root}/jobs/{job['job']}")
    folder = osp.join(svc.root, sess['session'])
    assert osp.isdir(folder) and call('POST', root + '/ping')[0] == 200
    status, body = call_json('POST', root + '/close')
    assert status == 200 and body['closed'] is True
    assert not osp.exists(folder)
    assert call('GET', f"{root}/jobs/{job['job']}")[0] == 404


def test_dicom_upload_without_a_suffix(server, tiny_viewer, tmp_path):
    """A DICOM cine exported without a suffix is recognised by its marker and segmented."""
    pytest.importorskip('pydicom', reason='pydicom is not installed (tools/setup_env.sh)')
    from echoseg.apis import load_video
    from echoseg.testing import write_dicom_cine
    cine = write_dicom_cine(tmp_path / 'IM0001', load_video(tiny_viewer.video)[0],
                            frame_time_ms=40.0)
    url, _ = server
    _, sess = call_json('POST', url + '/api/sessions')
    root = f"{url}/api/sessions/{sess['session']}"
    status, job = call_json('PUT', root + '/videos?filename=IM0001', open(cine, 'rb').read())
    assert status == 200, job
    st, _ = follow(f"{root}/jobs/{job['job']}")
    assert st['state'] == 'done', st['message']
    res = st['result']
    assert res['num_frames'] == 60 and res['fps'] == pytest.approx(25.0)
    assert res['spacing'] is not None and res['units']['volume'] == 'ml'
