"""Evaluation of the shipped product on media made by others (the real-media benchmark).

``bench_index`` reads and checks a labelled index (``dev_bench/index.csv`` or any CSV of its
shape); ``bench_scores`` runs the app's own :class:`engine.api.Analyzer` over it with a cache
keyed by the weights; ``bench_metrics`` and ``bench_report`` turn the cached per-detector scores
into per-kind and per-source figures, grade tables and a reliability diagram; ``devbench`` is
the command (``python -m engine.evaluation.devbench``).
"""
