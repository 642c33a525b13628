"""The orchestrator behind ``engine.api.Analyzer``: media -> faces -> crops -> detectors -> rule.

- ``build``: load the models once (runtime choice, SHA-256-checked weights, face detector).
- ``pipeline``: one file from bytes to a frozen ``MediaResult`` (hash, probe, frames, faces,
  scores, aggregation), with progress and cancellation and no state left behind.
- ``faces_stage``, ``scoring``, ``batching``: the batched, timed, cancellable stages.
- ``media_io``, ``detectors``, ``catalog``, ``runtime_choice``: the doorways to ``engine.media``,
  ``engine.runtime`` and the shipped model cards.

Only ``engine.api`` is public; nothing here is imported until an analysis is asked for.
"""
