"""Detector networks and their registry (needs torch; the app runs them through engine.runtime).

Each detector module is imported explicitly below, which registers its entrypoints: no
scanning, no ``exec``, no dispatch on names. Use ``registry.list_detectors()``,
``registry.get_cfg(name)`` and ``registry.create_detector(name, **kw)``.
"""

from engine.detectors import face_xray, gan, gen, gen_probe, mat, registry, relation, sbi

__all__ = ["face_xray", "gan", "gen", "gen_probe", "mat", "registry", "relation", "sbi"]
