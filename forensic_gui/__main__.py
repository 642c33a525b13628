"""``python -m forensic_gui`` starts the desktop application.

A frozen bundle has no Python interpreter to start the engine's analysis worker processes
with, so it starts its own executable with the worker flag; this is where that is answered.
"""

import sys

if len(sys.argv) > 1 and sys.argv[1] == "--engine-analysis-worker":
    from engine.api import run_worker_process

    raise SystemExit(run_worker_process(sys.argv[2:]))

from forensic_gui.app import main

raise SystemExit(main())
