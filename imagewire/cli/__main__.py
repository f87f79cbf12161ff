"""``python -m imagewire.cli``: the ``imagewire`` command."""

import sys

from imagewire.cli import main

sys.exit(main())
