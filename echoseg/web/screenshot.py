"""The web viewer's screenshot for docs/web_viewer.md (``tools/docs/web_viewer_screenshot.py``).

    python tools/docs/web_viewer_screenshot.py CONFIG CHECKPOINT VIDEO --out PNG
        [--width 1200] [--height 1400] [--timeout 900]

Starts ``tools/serve.py CONFIG CHECKPOINT`` on a free localhost port, uploads ``VIDEO`` in
headless Chromium (Selenium, with the Debian ``chromium`` and ``chromedriver`` that
``tools/setup_env.sh`` installs), waits for the result, saves the page as a PNG and prints
what the page shows (mean EF, each beat's ED / ES frames and EF) beside what
:class:`echoseg.apis.VideoPredictor` computes for the same file and checkpoint, so the
caption can quote figures that are checked to be the page's.
"""
import argparse
import os
import os.path as osp
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from typing import Dict, List, Optional

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def free_port() -> int:
    """A TCP port free on localhost now."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_for(url: str, timeout: float = 60.0, proc=None) -> None:
    """Until ``url`` answers 200 (or ``proc`` exits, or the timeout passes)."""
    end = time.time() + timeout
    while time.time() < end:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f'the server exited with status {proc.returncode}')
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f'{url} did not answer within {timeout} s')


def browser_paths() -> Dict[str, Optional[str]]:
    """Chromium and its driver (``ECHOSEG_CHROMIUM`` / ``ECHOSEG_CHROMEDRIVER`` first)."""
    def find(*names):
        return next((p for p in map(shutil.which, names) if p), None)
    return dict(chromium=os.environ.get('ECHOSEG_CHROMIUM')
                or find('chromium', 'chromium-browser', 'google-chrome'),
                driver=os.environ.get('ECHOSEG_CHROMEDRIVER') or find('chromedriver'))


def page_result(driver) -> Dict:
    """What the result panel shows: mean EF text and the beats table's rows."""
    from selenium.webdriver.common.by import By
    rows = []
    for row in driver.find_elements(By.CSS_SELECTOR, '#beats tbody tr'):
        cells = [td.text for td in row.find_elements(By.TAG_NAME, 'td')]
        rows.append(dict(cells=cells, used='unused' not in row.get_attribute('class').split()))
    return dict(ef_mean=driver.find_element(By.ID, 'ef-mean').text,
                ef_beats=driver.find_element(By.ID, 'ef-beats').text, beats=rows)


def take(config: str, checkpoint: str, video: str, out: str, size=(1200, 1400),
         timeout: float = 900.0) -> Dict:
    """Serve, upload ``video``, wait for the result and save the page to ``out``;
    returns :func:`page_result`. Raises ``RuntimeError`` naming what is missing."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    for path in (config, checkpoint, video):
        if not osp.isfile(path):
            raise RuntimeError(f'{path}: file not found')
    paths = browser_paths()
    if not paths['chromium'] or not paths['driver']:
        raise RuntimeError('Chromium or chromedriver not found (Debian: apt-get install '
                           'chromium chromium-driver; tools/setup_env.sh does it)')
    port = free_port()
    url = f'http://127.0.0.1:{port}'
    log = tempfile.NamedTemporaryFile('w+', suffix='.log', delete=False)
    proc = subprocess.Popen([sys.executable, osp.join(ROOT, 'tools', 'serve.py'), config,
                             checkpoint, '--port', str(port), '--samples', ''],
                            stdout=log, stderr=subprocess.STDOUT,
                            env=dict(os.environ, PYTHONPATH=ROOT))
    opts = Options()
    opts.binary_location = paths['chromium']
    for arg in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
                f'--window-size={size[0]},{size[1]}', '--hide-scrollbars'):
        opts.add_argument(arg)
    driver = None
    try:
        try:
            wait_for(url + '/api/health', timeout=300, proc=proc)
        except (RuntimeError, TimeoutError) as exc:   # the server's own words, e.g. a bad file
            log.flush()
            with open(log.name) as f:
                tail = f.read()[-2000:].strip()
            raise RuntimeError(f'tools/serve.py {config} {checkpoint}: {exc}\n{tail}') from exc
        driver = webdriver.Chrome(service=Service(executable_path=paths['driver']),
                                  options=opts)
        driver.get(url + '/')
        WebDriverWait(driver, 60).until(lambda d: d.find_element(By.ID, 'run').is_enabled())
        driver.find_element(By.ID, 'file').send_keys(osp.abspath(video))
        driver.find_element(By.ID, 'run').click()
        WebDriverWait(driver, timeout).until(
            lambda d: d.find_element(By.ID, 'results').is_displayed()
            or d.find_element(By.ID, 'error').is_displayed())
        if driver.find_element(By.ID, 'error').is_displayed():
            raise RuntimeError(f"{video}: the page shows an error: "
                               f"{driver.find_element(By.ID, 'error').text}")
        time.sleep(2)   # the overlay video's first frame and the curve drawn
        os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
        driver.save_screenshot(out)
        return page_result(driver)
    finally:
        if driver is not None:
            driver.quit()
        proc.terminate()
        proc.wait(60)
        log.close()
        os.remove(log.name)


def beats_lines(page: Dict, expected) -> List[str]:
    """The page's beats beside :class:`~echoseg.apis.VideoResult`'s, one line each."""
    lines = [f"page: mean EF {page['ef_mean']} {page['ef_beats']}; echoseg.apis: "
             f"{expected.ef_mean:.1f} %"]
    for i, row in enumerate(page['beats']):
        beat = expected.beats[i] if i < len(expected.beats) else {}
        lines.append(f"  beat {i + 1}: page ED/ES {row['cells'][1]}/{row['cells'][2]} EF "
                     f"{row['cells'][5]}{'' if row['used'] else ' (not used)'}; apis "
                     f"{beat.get('ed_frame')}/{beat.get('es_frame')} EF "
                     f"{beat.get('ef', float('nan')):.1f}")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('video')
    parser.add_argument('--out', default=osp.join('docs', 'images', 'web_viewer.png'))
    parser.add_argument('--width', type=int, default=1200)
    parser.add_argument('--height', type=int, default=1400)
    parser.add_argument('--timeout', type=float, default=900.0)
    args = parser.parse_args(argv)
    try:
        page = take(args.config, args.checkpoint, args.video, args.out,
                    (args.width, args.height), args.timeout)
    except (RuntimeError, TimeoutError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    from echoseg.apis import VideoPredictor, init_model
    expected = VideoPredictor(init_model(args.config, args.checkpoint)).predict(args.video)
    print('\n'.join(beats_lines(page, expected)))
    print(f'wrote {args.out}')
    return 0
