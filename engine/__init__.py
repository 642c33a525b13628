"""Headless analysis engine: media, faces, synthesis, detectors, runtimes and fusion.

The engine never imports Qt, SQLAlchemy or the GUI (import-linter enforces this). The GUI and
the CLI reach it through :mod:`engine.api` and the frozen result types in :mod:`engine.types`.
"""

__version__ = "0.1.0"
