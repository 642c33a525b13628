"""The PySide6 desktop application: cases, evidence, analysis timeline, findings and verdicts.

Only :mod:`forensic_gui.workers` starts threads. The GUI reaches the engine through
:mod:`engine.api` and :mod:`engine.types` only; :mod:`forensic_gui.cases` holds the Qt-free case
storage. Start it with ``python -m forensic_gui`` or the ``forensic-gui`` script.
"""
