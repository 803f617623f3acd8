"""``python -m musiclib`` is the ``musiclib`` command."""

import sys

from .cli import main

sys.exit(main())
