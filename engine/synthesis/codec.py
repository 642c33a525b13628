"""Video-codec round trips of one image, in memory: what an H.264 stream does to a face.

Faces that analysts receive were encoded as video (H.264 at some quality, 4:2:0 chroma), often
more than once; training pairs that only ever saw JPEG teach the detectors that a codec's
smoothing and blocking is foreign. ``h264_roundtrip`` encodes an RGB image as a one-frame
H.264 stream with libx264 (PyAV, which carries its own FFmpeg) at a given CRF and preset, and
decodes it with FFmpeg's decoder: an intra frame, with the codec's own transform, quantiser,
deblocking filter and chroma subsampling. P/B frames of a real stream are quantised a little
harder than its I frames; the CRF range drawn by callers covers that.
"""

from __future__ import annotations

import fractions

import numpy as np

from engine.errors import SynthesisInputError

__all__ = ["H264_PRESETS", "h264_roundtrip"]

# NOTE: x264 presets change the encoder's decisions (partitions, trellis, deblocking strength
# search), hence the look of the artefacts at one CRF; these span what real encoders use.
H264_PRESETS = ("ultrafast", "veryfast", "medium")


def h264_roundtrip(rgb_u8: np.ndarray, crf: int, preset: str = "veryfast") -> np.ndarray:
    """Encode ``rgb_u8`` as one H.264 frame (yuv420p, ``crf`` 0-51) and decode it again.

    Odd sizes are padded by edge replication to even ones for the 4:2:0 encoder and cropped
    back, so any (H, W, 3) image of at least 16 x 16 pixels comes back with its own shape.

    Raises:
        SynthesisInputError: not an (H, W, 3) uint8 image of at least 16 x 16, a CRF outside
            0-51, an unknown preset, or a stream that decodes to nothing.
    """
    import av

    if rgb_u8.dtype != np.uint8 or rgb_u8.ndim != 3 or rgb_u8.shape[2] != 3:
        raise SynthesisInputError(f"expected an (H, W, 3) uint8 image, got {rgb_u8.shape}")
    h, w = rgb_u8.shape[:2]
    if min(h, w) < 16:
        raise SynthesisInputError(f"the H.264 round trip needs >= 16 x 16 pixels, got {h}x{w}")
    if not 0 <= crf <= 51:
        raise SynthesisInputError(f"CRF must lie in 0-51, got {crf}")
    if preset not in H264_PRESETS:
        raise SynthesisInputError(f"unknown x264 preset {preset!r}; use one of {H264_PRESETS}")
    padded = np.pad(rgb_u8, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    encoder = av.CodecContext.create("libx264", "w")
    encoder.width, encoder.height = padded.shape[1], padded.shape[0]
    encoder.pix_fmt = "yuv420p"
    encoder.time_base = fractions.Fraction(1, 25)
    encoder.thread_count = 1  # NOTE: one frame; threads would only add start-up cost
    encoder.options = {"crf": str(int(crf)), "preset": preset}
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(padded), format="rgb24")
    packets = [*encoder.encode(frame.reformat(format="yuv420p")), *encoder.encode(None)]
    decoder = av.CodecContext.create("h264", "r")
    decoder.thread_count = 1
    decoded = [f for p in packets for f in decoder.decode(p)] + list(decoder.decode(None))
    if not decoded:
        raise SynthesisInputError("the H.264 stream decoded to no frame")
    out = decoded[-1].to_ndarray(format="rgb24")
    return np.ascontiguousarray(out[:h, :w])
