"""Size limits checked from headers, before any pixel is decoded.

A 20000x20000 PNG is a few hundred bytes on disk and 1.2 GB once decoded; a forged header can
claim more. Every reader checks the frame size the header declares against these limits first,
so a hostile or broken file costs a header read, not the machine's memory.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.errors import MediaTooLargeError

__all__ = ["DEFAULT_LIMITS", "MediaLimits", "check_frame_size"]


@dataclass(frozen=True)
class MediaLimits:
    """Largest inputs the readers accept.

    Attributes:
        max_frame_pixels: most pixels (width x height) in one image or video frame.
        max_animation_pixels: most pixels an animated image may make us composite (frames x
            canvas): each frame of a GIF/APNG/WebP is drawn onto the previous ones, so a small
            file with many frames on a large canvas could otherwise cost minutes.
    """

    # NOTE: 50 MP covers every phone and DSLR photo (a 48 MP phone photo is 8064x6048) and 8K
    # video (33 MP); one such frame is 150 MB as RGB uint8.
    max_frame_pixels: int = 50_000_000
    # NOTE: 2 gigapixels is 1,000 frames of 1080p or 8,000 of 480x270 (a long reaction GIF),
    # about a minute of Pillow compositing at the ~30 MP/s measured here.
    max_animation_pixels: int = 2_000_000_000

    def __post_init__(self) -> None:
        if self.max_frame_pixels <= 0:
            raise ValueError(f"max_frame_pixels must be positive, got {self.max_frame_pixels}")
        if self.max_animation_pixels <= 0:
            raise ValueError(
                f"max_animation_pixels must be positive, got {self.max_animation_pixels}"
            )


DEFAULT_LIMITS = MediaLimits()


def check_frame_size(path: str, width: int, height: int, limits: MediaLimits) -> None:
    """Raise if a frame of ``width`` x ``height`` exceeds ``limits``.

    Raises:
        MediaTooLargeError: more than ``limits.max_frame_pixels`` pixels.
    """
    n_pixels = width * height
    if n_pixels > limits.max_frame_pixels:
        raise MediaTooLargeError(
            path,
            f"Frame is {width}x{height} = {n_pixels / 1e6:.1f} megapixels, over the limit of "
            f"{limits.max_frame_pixels / 1e6:.1f} megapixels",
        )
