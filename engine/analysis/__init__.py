"""The orchestrator behind ``engine.api.Analyzer``: media -> faces -> crops -> detectors -> rule.

- ``build``: load the models once (runtime choice, SHA-256-checked weights, face detector).
- ``pipeline``: one file from bytes to a frozen ``MediaResult`` (hash, probe, frames, faces,
  scores, aggregation), with progress and cancellation and no state left behind.
- ``faces_stage``, ``scoring``, ``batching``: the batched, timed, cancellable stages.
- ``media_io``, ``detectors``, ``catalog``, ``runtime_choice``: the doorways to ``engine.media``,
  ``engine.runtime`` and the shipped model cards (``media_io`` reads every file through one
  guarded descriptor).
- ``pool``, ``worker``, ``backends``: where the work runs: a pool of worker processes (a crash,
  hang or runaway allocation is one file's error; settings in ``engine.isolation``), or
  in-process for the test seams (docs/ISOLATION.md).

Only ``engine.api`` is public; nothing here is imported until an analysis is asked for.
"""
