"""InferenceService: the same numbers and files as tools/infer.py, one video at a time,
sessions whose files go away, refusals with clear messages."""
import json
import os
import os.path as osp
import shutil
import threading
import time

import numpy as np
import pytest

from echoseg.web import service as service_mod
from echoseg.web.service import (InferenceService, QueueFull, UploadRejected, find_samples,
                                 parse_fps, parse_spacing, safe_filename)


def wait_state(job, states=('done', 'error', 'cancelled'), timeout=60.0):
    end = time.time() + timeout
    while job.state not in states:
        if time.time() > end:
            raise TimeoutError(f'job {job.id} stuck in {job.state}')
        time.sleep(0.05)
    return job.state


@pytest.fixture
def service(tiny_viewer, tmp_path):
    svc = InferenceService(tiny_viewer.config, tiny_viewer.checkpoint,
                           work_root=str(tmp_path), max_queue=2)
    yield svc
    svc.close()


def upload(svc, session, src, filename=None):
    job = svc.new_job(session, filename or osp.basename(src))
    shutil.copy(src, job.path)
    return job


def test_parse_spacing_and_fps():
    assert parse_spacing('0.3') == (0.3, 0.3)
    assert parse_spacing(' 0.3 0.4 ') == (0.3, 0.4) == parse_spacing('0.3,0.4')
    assert parse_spacing('') is None and parse_spacing(None) is None
    for bad in ('-1', 'abc', '1 2 3', '0', 'nan'):
        with pytest.raises(UploadRejected, match='spacing'):
            parse_spacing(bad)
    assert parse_fps('50') == 50.0 and parse_fps(' ') is None
    for bad in ('0', 'x', 'inf', '-3'):
        with pytest.raises(UploadRejected, match='fps'):
            parse_fps(bad)


def test_safe_filename_keeps_a_plain_base_name():
    assert safe_filename('../../etc/passwd') == 'passwd'
    assert safe_filename('C:\\videos\\my echo (1).avi') == 'my_echo_1_.avi'
    assert safe_filename('.hidden.nii.gz') == 'hidden.nii.gz'
    assert safe_filename('') == 'video'


def test_find_samples_lists_videos_not_labels(tmp_path):
    (tmp_path / 'a' / 'Videos').mkdir(parents=True)
    (tmp_path / 'a' / 'Videos' / 'x.avi').write_bytes(b'')
    (tmp_path / 'b.nii.gz').write_bytes(b'')
    (tmp_path / 'segmentation_reference.nii.gz').write_bytes(b'')
    (tmp_path / 'notes.csv').write_bytes(b'')
    deep = tmp_path / 'd1' / 'd2' / 'd3' / 'd4'
    deep.mkdir(parents=True)
    (deep / 'too_deep.avi').write_bytes(b'')
    found = find_samples(str(tmp_path))
    assert sorted(found) == ['a/Videos/x.avi', 'b.nii.gz']
    assert found['b.nii.gz'] == str(tmp_path / 'b.nii.gz')
    assert find_samples(str(tmp_path / 'missing')) == {} and find_samples(None) == {}


def test_job_gives_the_numbers_and_files_of_infer(service, tiny_viewer, tmp_path, web):
    from echoseg.apis import VideoPredictor, init_model
    from echoseg.apis.export import OUTPUT_KINDS
    from echoseg.cli.infer import main as infer_main
    from echoseg.io import read_mask, video_info
    service.start()
    session = service.open_session()
    job = upload(service, session, tiny_viewer.video)
    service.check_input(job)
    service.submit(job, fps=25.0)
    assert wait_state(job) == 'done', job.message
    model = init_model(tiny_viewer.config, tiny_viewer.checkpoint)
    expected = VideoPredictor(model).predict(tiny_viewer.video, fps=25.0)
    status = service.status(job)
    # the tiny model's LV stays inside the frame: unflagged beats and a mean EF
    assert np.isfinite(expected.ef_mean) and sum(b['used'] for b in expected.beats) >= 2
    assert status['result']['ef_mean'] == pytest.approx(expected.ef_mean, rel=1e-12)
    assert [(b['ef'], b['used'], b['flags']) for b in status['result']['beats']] == \
        [(pytest.approx(b['ef'], rel=1e-12), b['used'], b['flags']) for b in expected.beats]
    assert status['result']['ed_frames'] == expected.ed_frames
    out = tmp_path / 'infer'
    assert infer_main([tiny_viewer.config, tiny_viewer.checkpoint, tiny_viewer.video,
                       '--out-dir', str(out), '--fps', '25']) == 0
    files = status['files']
    # every kind write_outputs reports, under the names infer gave the same files
    assert set(files) == set(OUTPUT_KINDS) | {'video'}
    assert sorted(files[kind] for kind in OUTPUT_KINDS) == \
        sorted(f for f in os.listdir(out) if f != 'summary.csv')
    name = 'beating_lv'
    for kind in ('csv', 'beats'):
        assert (out / files[kind]).read_bytes() == \
            open(osp.join(job.folder, files[kind]), 'rb').read()
    np.testing.assert_array_equal(read_mask(str(out / f'{name}_masks.nii.gz')),
                                  read_mask(osp.join(job.folder, files['masks'])))
    ours = json.load(open(osp.join(job.folder, files['json'])))
    theirs = json.load(open(out / f'{name}.json'))
    assert ours['source'] == 'beating_lv.avi'      # the name the user uploaded
    web.assert_json_as_infer(ours, theirs, expected)
    assert video_info(osp.join(job.folder, files['video'])).num_frames == 60
    assert service.file_path(job, files['csv']) == osp.join(job.folder, files['csv'])
    assert service.file_path(job, '../' + files['csv']) is None
    assert service.file_path(job, 'input/beating_lv.avi') is None   # uploads are not served


def test_progress_predictor_is_the_predictor_plus_a_frame_count(service, tiny_viewer):
    from echoseg.apis import VideoPredictor
    seen = []
    predictor = service.predictor
    predictor.on_frames = seen.append
    ours = predictor.predict(tiny_viewer.video)
    predictor.on_frames = None
    plain = VideoPredictor(service.model).predict(tiny_viewer.video)
    np.testing.assert_array_equal(ours.masks, plain.masks)
    assert np.isfinite(ours.ef_mean) and ours.ef_mean == plain.ef_mean
    np.testing.assert_equal(ours.beats, plain.beats)
    assert seen[-1] == 60 and seen == sorted(seen) and len(seen) > 1   # frame by frame


def test_a_cancelled_job_stops(service, tiny_viewer):
    job = upload(service, service.open_session(), tiny_viewer.video)
    job.cancel = True
    service.run_job(job)
    assert job.state == 'cancelled' and job.files == {}
    assert service.predictor.on_frames is None
    # the stopped video leaves nothing in the predictor: the next one is as on a fresh one
    from echoseg.apis import VideoPredictor
    assert not hasattr(service.predictor, 'state')
    after = service.predictor.predict(tiny_viewer.video)
    np.testing.assert_array_equal(after.masks,
                                  VideoPredictor(service.model).predict(tiny_viewer.video).masks)


def test_frames_when_no_webm_encoder(service, tiny_viewer, monkeypatch):
    monkeypatch.setattr(service_mod, 'write_browser_video', lambda *a, **k: None)
    service.start()
    job = upload(service, service.open_session(), tiny_viewer.video)
    service.submit(job)
    assert wait_state(job) == 'done', job.message
    assert 'video' not in job.files and len(job.frames) == 60
    import cv2
    frame = cv2.imread(osp.join(job.folder, job.frames[0]))
    assert frame.shape == (48, 64, 3)


def test_unreadable_inputs_are_refused_and_the_worker_goes_on(service, tiny_viewer, tmp_path):
    session = service.open_session()
    notes = tmp_path / 'notes.txt'
    notes.write_text('hello')
    with pytest.raises(UploadRejected, match='notes.txt: not a video file') as exc:
        # refused at once, or (with a DICOM reader: no suffix needed) once it is read
        service.check_input(upload(service, session, str(notes)))
    assert exc.value.status == 415
    bad = tmp_path / 'broken.avi'
    bad.write_bytes(b'RIFF\x00\x00 not a video at all')
    job = upload(service, session, str(bad))
    with pytest.raises(UploadRejected, match='broken.avi') as exc:
        service.check_input(job)
    assert exc.value.status == 422 and service.root not in str(exc.value)
    # a file that gets past the header check and fails in the worker: an error on the
    # job, and the next video is segmented
    service.start()
    service.submit(job)
    good = upload(service, session, tiny_viewer.video)
    service.submit(good)
    assert wait_state(job) == 'error'
    assert 'broken.avi' in job.message and service.root not in job.message
    assert wait_state(good) == 'done', good.message


def gated_service(service, monkeypatch):
    """Replace the segmentation by a step that waits for ``gate`` and records overlap."""
    gate, log = threading.Event(), dict(active=0, max_active=0, order=[])

    def fake_run(job):
        log['active'] += 1
        log['max_active'] = max(log['max_active'], log['active'])
        log['order'].append(job.id)
        gate.wait(30)
        time.sleep(0.02)
        log['active'] -= 1
        job.state = 'done'
    monkeypatch.setattr(service, 'run_job', fake_run)
    return gate, log


def test_one_video_at_a_time_in_order_with_positions(service, tiny_viewer, monkeypatch):
    gate, log = gated_service(service, monkeypatch)
    service.start()
    a, b = service.open_session(), service.open_session()
    jobs = [service.submit(upload(service, a, tiny_viewer.video))]
    wait_state(jobs[0], states=('running', ))
    assert service.busy
    jobs += [service.submit(upload(service, s, tiny_viewer.video)) for s in (b, a)]
    assert [service.position(j) for j in jobs] == [0, 1, 2]
    with pytest.raises(QueueFull, match='waiting'):          # max_queue=2 are waiting
        service.submit(upload(service, b, tiny_viewer.video))
    gate.set()
    for job in jobs:
        assert wait_state(job) == 'done'
    assert log['max_active'] == 1 and log['order'] == [j.id for j in jobs]


def test_closing_a_session_removes_its_files(service, tiny_viewer, monkeypatch):
    gate, _ = gated_service(service, monkeypatch)
    service.start()
    a, b = service.open_session(), service.open_session()
    running = service.submit(upload(service, a, tiny_viewer.video))
    waiting = service.submit(upload(service, b, tiny_viewer.video))
    wait_state(running, states=('running', ))
    assert service.close_session(b.id) and waiting.state == 'cancelled'
    assert not osp.exists(b.folder) and service.session(b.id) is None
    assert service.close_session(a.id)
    assert osp.isdir(a.folder)              # its video is still being segmented
    gate.set()
    wait_state(running)
    end = time.time() + 10
    while osp.exists(a.folder) and time.time() < end:
        time.sleep(0.05)
    assert not osp.exists(a.folder)
    assert not service.close_session(a.id)


def test_idle_sessions_are_reaped_and_close_removes_everything(tiny_viewer, tmp_path):
    svc = InferenceService(tiny_viewer.config, tiny_viewer.checkpoint,
                           work_root=str(tmp_path), session_ttl=0.2)
    idle, busy = svc.open_session(), svc.open_session()
    svc.submit(upload(svc, busy, tiny_viewer.video))   # queued, no worker: stays queued
    time.sleep(0.3)
    assert svc.reap() == [idle.id]
    assert not osp.exists(idle.folder) and osp.isdir(busy.folder)
    svc.close()
    assert not osp.exists(svc.root)
    assert not os.listdir(tmp_path)
