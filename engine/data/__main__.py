"""``python -m engine.data`` is ``python -m engine.data.prepare``."""

import sys

from engine.data.prepare import main

sys.exit(main())
