"""Fusion: calibrated per-detector scores -> per-frame/track/file scores -> graded findings.

``calibration`` (owned with the detectors) maps raw detector outputs to probabilities;
``aggregate`` applies the named video rule (frame = max over faces, video = mean over frames,
track = mean over its frames); ``findings`` fuses detectors into one graded statement.
"""

from engine.fusion.aggregate import AGGREGATION_RULE
from engine.fusion.findings import FUSION_RULE, fuse_scores, grade_for

__all__ = ["AGGREGATION_RULE", "FUSION_RULE", "fuse_scores", "grade_for"]
