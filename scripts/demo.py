"""The demo: the reference provider on a free port, images made through the CLI and the Python API, a gallery.

    python scripts/demo.py [--out demo-output]

See :mod:`imagewire.demo.gallery`.
"""

from __future__ import annotations

import sys

from imagewire.demo.gallery import main

if __name__ == "__main__":
    sys.exit(main())
