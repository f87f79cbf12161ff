"""``python -m imagewire.server``: the same as ``imagewire serve``."""

from __future__ import annotations

import sys

from imagewire.cli import run

if __name__ == "__main__":
    sys.exit(run("serve"))
