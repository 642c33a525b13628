"""``python -m forensic_gui`` starts the desktop application."""

from forensic_gui.app import main

raise SystemExit(main())
