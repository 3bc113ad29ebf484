"""The web viewer's screenshot of docs/web_viewer.md: serve, upload a video in headless
Chromium, save the page and print its EF beside echoseg.apis' (echoseg.web.screenshot).

    python tools/docs/web_viewer_screenshot.py CONFIG CHECKPOINT VIDEO [--out PNG]
"""
import sys

from echoseg.web.screenshot import main

if __name__ == '__main__':
    sys.exit(main())
