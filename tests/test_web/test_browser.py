"""The must-show test: tools/serve.py on a free localhost port, driven in headless Chromium.

Uploads a synthetic video, waits for the result, checks that the EF on the page is the EF
``echoseg.apis`` computes for the same file and checkpoint, that the download links give
the files ``tools/infer.py`` writes, that a corrupt upload and one over the size limit show
their messages while the server keeps answering, and that stopping the server removes its
temporary files. Skipped where Chromium, its driver or Selenium is missing
(``tools/setup_env.sh`` installs them where it can).
"""
import json
import os
import os.path as osp
import subprocess
import sys
import urllib.request

import numpy as np
import pytest

from echoseg.web.screenshot import browser_paths

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


_BROWSER = browser_paths()
CHROMIUM, DRIVER = _BROWSER['chromium'], _BROWSER['driver']
try:
    import selenium  # noqa: F401
    HAVE_SELENIUM = True
except ImportError:
    HAVE_SELENIUM = False

pytestmark = [
    pytest.mark.skipif(not HAVE_SELENIUM, reason='selenium is not installed (run '
                       'tools/setup_env.sh)'),
    pytest.mark.skipif(CHROMIUM is None or DRIVER is None,
                       reason='Chromium and chromium-driver are not installed (Debian: '
                       'apt-get install chromium chromium-driver; tools/setup_env.sh does '
                       'it where it can)'),
]
pytest.importorskip('fastapi', reason='the viewer needs FastAPI (tools/setup_env.sh)')


def fetch(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.status, r.read()


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    opts = Options()
    opts.binary_location = CHROMIUM   # both paths given: Selenium Manager downloads nothing
    for arg in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
                '--window-size=1200,1400', '--disable-extensions', '--no-first-run'):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=opts)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture
def served(tiny_viewer, tmp_path, web):
    """``tools/serve.py CONFIG CHECKPOINT --port P`` in a subprocess (1 MB upload limit)."""
    port = web.free_port()
    tmp = tmp_path / 'server_tmp'
    tmp.mkdir()
    env = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS='1', TMPDIR=str(tmp))
    log = open(tmp_path / 'server.log', 'w')
    proc = subprocess.Popen(
        [sys.executable, osp.join(ROOT, 'tools', 'serve.py'), tiny_viewer.config,
         tiny_viewer.checkpoint, '--port', str(port), '--samples', '', '--max-upload-mb', '1'],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f'http://127.0.0.1:{port}'
    try:
        web.wait_for(url + '/api/health', timeout=180, proc=proc)
        yield url, proc, tmp
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(60)
        log.close()
        print(open(tmp_path / 'server.log').read()[-3000:])


def submit(driver, path):
    from selenium.webdriver.common.by import By
    field = driver.find_element(By.ID, 'file')
    field.clear()
    field.send_keys(path)
    driver.find_element(By.ID, 'run').click()


def test_upload_segment_download_and_errors_in_a_browser(browser, served, tiny_viewer,
                                                         tmp_path, web):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from echoseg.apis import VideoPredictor, init_model
    from echoseg.cli.infer import main as infer_main
    from echoseg.io import read_mask
    url, proc, server_tmp = served
    by_id = lambda i: browser.find_element(By.ID, i)  # noqa: E731

    browser.get(url + '/')
    WebDriverWait(browser, 60).until(lambda d: by_id('run').is_enabled())
    submit(browser, tiny_viewer.video)
    WebDriverWait(browser, 180).until(
        lambda d: by_id('results').is_displayed() or by_id('error').is_displayed())
    assert not by_id('error').is_displayed(), by_id('error').text

    # the EF on the page is the EF of echoseg.apis on the same file and checkpoint
    expected = VideoPredictor(init_model(tiny_viewer.config, tiny_viewer.checkpoint)) \
        .predict(tiny_viewer.video)
    assert np.isfinite(expected.ef_mean) and sum(b['used'] for b in expected.beats) >= 2
    ef = by_id('ef-mean')
    assert ef.text == f'{expected.ef_mean:.1f} %'
    assert float(ef.get_attribute('data-ef')) == pytest.approx(expected.ef_mean, rel=1e-9)
    rows = browser.find_elements(By.CSS_SELECTOR, '#beats tbody tr')
    assert len(rows) == len(expected.beats)
    for row, beat in zip(rows, expected.beats):   # beats left out are struck through
        assert ('unused' in row.get_attribute('class').split()) == (not beat['used'])
    assert rows[0].find_elements(By.TAG_NAME, 'td')[5].text == \
        f"{expected.beats[0]['ef']:.1f}"
    # the curve has its ED and ES markers, and the browser plays the overlay video
    assert len(browser.find_elements(By.CSS_SELECTOR, '#curve polygon.ed')) == \
        len(expected.ed_frames)
    assert len(browser.find_elements(By.CSS_SELECTOR, '#curve polygon.es')) == \
        len(expected.es_frames)
    WebDriverWait(browser, 30).until(lambda d: d.execute_script(
        "const v = document.getElementById('overlay-video'); return v.readyState >= 1 && "
        "v.videoWidth === 64 && !v.error"))

    # the download links return the files tools/infer.py writes for the same video
    out = tmp_path / 'infer'
    assert infer_main([tiny_viewer.config, tiny_viewer.checkpoint, tiny_viewer.video,
                       '--out-dir', str(out)]) == 0
    links = {k: by_id(f'download-{k}').get_attribute('href')
             for k in ('masks', 'csv', 'json', 'overlay', 'curves', 'beats')}
    got = {}
    for kind, href in links.items():
        status, got[kind] = fetch(href)
        assert status == 200 and len(got[kind]) > 0, kind
    assert got['csv'] == (out / 'beating_lv.csv').read_bytes()
    assert got['beats'] == (out / 'beating_lv_beats.csv').read_bytes()
    ours, theirs = json.loads(got['json']), json.loads((out / 'beating_lv.json').read_text())
    assert ours['source'] == 'beating_lv.avi'
    web.assert_json_as_infer(ours, theirs, expected)
    masks = tmp_path / 'downloaded_masks.nii.gz'
    masks.write_bytes(got['masks'])
    np.testing.assert_array_equal(read_mask(str(masks)),
                                  read_mask(str(out / 'beating_lv_masks.nii.gz')))
    assert got['curves'][:8] == b'\x89PNG\r\n\x1a\n'

    # a corrupt upload: a message on the page, and the server keeps answering
    broken = tmp_path / 'broken.avi'
    broken.write_bytes(b'RIFF\x10\x00\x00\x00AVI this is not a video')
    submit(browser, str(broken))
    WebDriverWait(browser, 60).until(lambda d: by_id('error').is_displayed())
    assert 'broken.avi' in by_id('error').text and 'corrupt' in by_id('error').text
    assert fetch(url + '/api/health')[0] == 200
    assert fetch(links['csv'])[1] == got['csv']
    # over the size limit (1 MB here): refused with a message
    big = tmp_path / 'big.avi'
    big.write_bytes(b'\0' * (2 * 2**20))
    submit(browser, str(big))
    WebDriverWait(browser, 30).until(
        lambda d: 'upload limit' in by_id('error').text)
    assert fetch(url + '/api/health')[0] == 200 and proc.poll() is None

    # stopping the server removes the uploads and results
    assert any(n.startswith('echoseg-serve-') for n in os.listdir(server_tmp))
    proc.terminate()
    # uvicorn shuts down gracefully on SIGTERM, then re-raises it
    assert proc.wait(60) in (0, -15)
    assert not any(n.startswith('echoseg-serve-') for n in os.listdir(server_tmp))


def test_screenshot_tool_saves_the_page_and_reports_its_ef(tiny_viewer, tmp_path, capsys):
    """tools/docs/web_viewer_screenshot.py: a PNG of the page at the asked size, and the
    page's mean EF and beats equal to echoseg.apis' for the same file and checkpoint."""
    import cv2

    from echoseg.apis import VideoPredictor, init_model
    from echoseg.web import screenshot
    out = tmp_path / 'shot.png'
    assert screenshot.main([tiny_viewer.config, tiny_viewer.checkpoint, tiny_viewer.video,
                            '--out', str(out), '--width', '900', '--height', '1000']) == 0
    image = cv2.imread(str(out))
    assert image is not None and image.shape[1] == 900
    expected = VideoPredictor(init_model(tiny_viewer.config, tiny_viewer.checkpoint)) \
        .predict(tiny_viewer.video)
    lines = capsys.readouterr().out.splitlines()
    page = next(line for line in lines if line.startswith('page: '))
    assert page.startswith(f'page: mean EF {expected.ef_mean:.1f} %')
    beat_lines = [line for line in lines if line.startswith('  beat ')]
    assert len(beat_lines) == len(expected.beats)
    for line, beat in zip(beat_lines, expected.beats):
        assert f"page ED/ES {beat['ed_frame']}/{beat['es_frame']} EF {beat['ef']:.1f}" in line
    # a missing video: a message naming it, exit status 2, no browser started
    assert screenshot.main([tiny_viewer.config, tiny_viewer.checkpoint,
                            str(tmp_path / 'none.avi'), '--out', str(out)]) == 2
    assert 'none.avi: file not found' in capsys.readouterr().err


def test_screenshot_tool_reports_why_the_server_did_not_start(tiny_viewer, tmp_path, capsys):
    """A checkpoint that is not a checkpoint: the server exits, and the tool's error
    carries the server's own message naming the file (its log is not thrown away)."""
    from echoseg.web import screenshot
    bad = tmp_path / 'not_a_checkpoint.pth'
    bad.write_bytes(b'this is not a torch file')
    assert screenshot.main([tiny_viewer.config, str(bad), tiny_viewer.video,
                            '--out', str(tmp_path / 'shot.png')]) == 2
    err = capsys.readouterr().err
    assert 'the server exited' in err and 'not_a_checkpoint.pth' in err.split('\n', 1)[1]
    assert not (tmp_path / 'shot.png').exists()
