"""A local web viewer: upload an echo video, see the LV, the volume curve and the EF:

    python tools/serve.py CONFIG CHECKPOINT [--host 127.0.0.1] [--port 7860]
        [--device cpu] [--max-upload-mb 512] [--samples DIR]

See docs/web_viewer.md; the logic lives in echoseg.cli.serve.
"""
import sys

from echoseg.cli.serve import main

if __name__ == '__main__':
    sys.exit(main())
