"""``python -m imagewire``: the ``imagewire`` command."""

import sys

from imagewire.cli import main

sys.exit(main())
