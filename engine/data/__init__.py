"""The training dataset: face crops prepared once from the shared data, and read back fast.

``python -m engine.data.prepare`` (or ``python -m engine.data``) runs the face pipeline over the
data root and writes a cache outside the repository; :class:`engine.data.cache.FaceCache` reads
it for training. ``python -m engine.data.landmark_report`` measures how often landmarks are
found. See docs/DATA.md for the layout, the split and the measured figures.
"""
