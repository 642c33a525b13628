"""Training fakes synthesised from real faces: SBI self-blends, Face X-ray donor blends,
temporal fake clips, and the blur/JPEG and pair post-augmentations.

The face-swap detectors (SBI, Face X-ray, MAT, MRL) train on real faces only; their fakes are
made here on the fly from a face crop and its Face Mesh landmarks (``engine.faces.crop``).
Every routine takes an injected ``np.random.Generator``: the same seed gives the same bytes.
"""

from engine.synthesis.augment import blur_jpeg, pair_postaug
from engine.synthesis.result import BlendResult, real_xray, xray_from_mask
from engine.synthesis.sbi import SbiParams, sample_sbi_params, self_blend
from engine.synthesis.temporal import temporal_donor_blend, temporal_self_blend
from engine.synthesis.xray_blend import (
    BiParams,
    blend_with_donor,
    nearest_donor,
    sample_bi_params,
)

__all__ = [
    "BiParams",
    "BlendResult",
    "SbiParams",
    "blend_with_donor",
    "blur_jpeg",
    "nearest_donor",
    "pair_postaug",
    "real_xray",
    "sample_bi_params",
    "sample_sbi_params",
    "self_blend",
    "temporal_donor_blend",
    "temporal_self_blend",
    "xray_from_mask",
]
