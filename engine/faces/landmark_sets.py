"""Named index sets of the Face Mesh (468 points + 10 iris points) for masks and crops.

Self-blending (SBI) and Face X-ray fill the convex hull of a landmark set to get the blending
mask. The paper uses dlib's 81 points so the hull covers the forehead; in 25% of cases it uses
a reduced set (the 68 points, which stop at the eyebrows) to get a smaller hull, and the
reference code also draws among several hull shapes. These are the Face Mesh counterparts:

======================  ======================================================================
``FACE_OVAL``           the mesh silhouette, 36 points in drawing order (image-clockwise from
                        the top of the forehead). The mesh stops around mid-forehead, so this
                        hull is the "81-point" mask minus the hairline band.
``FACE_NO_FOREHEAD``    jaw line + the upper edge of both eyebrows (the dlib-68 hull): the
                        SBI "reduced landmark set" that leaves the forehead out.
``INNER_FACE``          eyebrows, eyes, nose and lips: its hull is the central face (eyes-nose-
                        mouth region) without cheeks, jaw or forehead (SBI's "components" shape).
``LOWER_FACE``          nose, lips and the lower half of the silhouette: mouth/jaw region (the
                        region lip-sync and mouth-swap manipulations change).
======================  ======================================================================

Parts (``LEFT_EYE``, ``LIPS``, ...) are the point sets of MediaPipe's ``FACEMESH_*`` connections;
"left" and "right" are the *subject's* sides, as in MediaPipe (the subject's left eye is on the
image's right in a frontal photo). ``FACE_OVAL`` and ``FACE_NO_FOREHEAD`` are ordered contours
(usable with ``cv2.fillPoly``); the other sets are unordered and meant for a convex hull.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "FACE_NO_FOREHEAD",
    "FACE_OVAL",
    "HULL_SETS",
    "INNER_FACE",
    "LEFT_EYE",
    "LEFT_EYEBROW",
    "LEFT_IRIS",
    "LIPS",
    "LOWER_FACE",
    "NOSE",
    "RIGHT_EYE",
    "RIGHT_EYEBROW",
    "RIGHT_IRIS",
    "hull_points",
]

FACE_OVAL: tuple[int, ...] = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288,
    397, 365, 379, 378, 400, 377, 152, 148, 176, 149, 150, 136,
    172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)  # fmt: skip

# Upper edges of the brows, outer to inner (subject's right) and inner to outer (left).
_RIGHT_BROW_UPPER = (70, 63, 105, 66, 107)
_LEFT_BROW_UPPER = (336, 296, 334, 293, 300)
_GLABELLA = 9  # midline point between the brows

# Silhouette from the subject's left temple (389) round the chin to the right temple (162);
# the contour then runs back over the right brow, the glabella and the left brow.
_JAW = FACE_OVAL[FACE_OVAL.index(389) : FACE_OVAL.index(162) + 1]

FACE_NO_FOREHEAD: tuple[int, ...] = (
    *_JAW,
    *_RIGHT_BROW_UPPER,
    _GLABELLA,
    *_LEFT_BROW_UPPER,
)

LEFT_EYE: tuple[int, ...] = (
    263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466,
)  # fmt: skip
RIGHT_EYE: tuple[int, ...] = (
    33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246,
)  # fmt: skip
LEFT_EYEBROW: tuple[int, ...] = (276, 283, 282, 295, 285, 300, 293, 334, 296, 336)
RIGHT_EYEBROW: tuple[int, ...] = (46, 53, 52, 65, 55, 70, 63, 105, 66, 107)
NOSE: tuple[int, ...] = (
    1, 2, 4, 5, 6, 19, 45, 48, 64, 94, 97, 98,
    115, 168, 195, 197, 220, 275, 278, 294, 326, 327, 344, 440,
)  # fmt: skip
LIPS: tuple[int, ...] = (
    0, 13, 14, 17, 37, 39, 40, 61, 78, 80, 81, 82, 84, 87, 88, 91, 95, 146, 178, 181,
    185, 191, 267, 269, 270, 291, 308, 310, 311, 312, 314, 317, 318, 321, 324, 375, 402,
    405, 409, 415,
)  # fmt: skip
LEFT_IRIS: tuple[int, ...] = (473, 474, 475, 476, 477)  # centre first (needs 478 points)
RIGHT_IRIS: tuple[int, ...] = (468, 469, 470, 471, 472)

INNER_FACE: tuple[int, ...] = (
    *RIGHT_EYEBROW, *LEFT_EYEBROW, *RIGHT_EYE, *LEFT_EYE, *NOSE, *LIPS,
)  # fmt: skip

# Lower silhouette: the oval points below the eyes, from the left cheek (454) round the chin to
# the right cheek (234), with the nose below its bridge (168, 6, 197 and 195 lie between or just
# below the eyes and would pull the hull up).
LOWER_FACE: tuple[int, ...] = (
    *FACE_OVAL[FACE_OVAL.index(454) : FACE_OVAL.index(234) + 1],
    *(i for i in NOSE if i not in (168, 6, 197, 195)),
    *LIPS,
)

HULL_SETS: dict[str, tuple[int, ...]] = {
    "face_oval": FACE_OVAL,
    "face_no_forehead": FACE_NO_FOREHEAD,
    "inner_face": INNER_FACE,
    "lower_face": LOWER_FACE,
}
"""The hull shapes a mask generator can draw from, by name."""


def hull_points(landmarks_xy: np.ndarray, name: str) -> np.ndarray:
    """The (K, 2) landmarks of the named set in ``HULL_SETS``, in the set's order.

    Raises:
        KeyError: ``name`` is not in ``HULL_SETS``; the message lists the valid names.
    """
    if name not in HULL_SETS:
        raise KeyError(f"unknown landmark set {name!r}; valid: {', '.join(sorted(HULL_SETS))}")
    return np.asarray(landmarks_xy)[list(HULL_SETS[name])]
