"""Training of the face-swap detectors on real faces and synthetic fakes (needs torch).

``python -m engine.training --config configs/training/<name>.toml --data-root CACHE --out DIR``
trains one detector; ``python -m engine.training.evaluate`` scores labelled media with shipped
weights. Modules: ``config`` (TOML -> TrainConfig), ``datasets`` (real faces + synthetic twins),
``losses``, ``augment`` (MAT's AGDA), ``loop`` (resumable steps), ``release`` (calibration,
export, model card), ``card``, ``metrics``, ``evaluate``.
"""
