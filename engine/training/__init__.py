"""Training of the face-swap detectors on real faces and synthetic fakes (needs torch).

``python -m engine.training --config configs/training/<name>.toml --data-root CACHE --out DIR``
trains one detector; ``python -m engine.training.evaluate`` scores labelled media with shipped
weights. Modules: ``config`` (TOML -> TrainConfig), ``datasets`` (real faces + synthetic twins),
``losses``, ``augment`` (MAT's AGDA), ``loop`` (resumable steps, CPU or GPU), ``producer``
(worker processes that synthesise pairs for a GPU), ``release`` (calibration, export, model
card), ``card``, ``metrics``, ``evaluate``; to train on a GPU machine without the face cache:
``face_pack`` (a config's faces in one file), ``carry`` (small checkpoint copies to bring back).
"""
