"""Which software the metadata names, sorted into editors, AI generators and re-encoders.

A file's metadata often names the program that last wrote it: EXIF ``Software``, XMP
``CreatorTool`` and its edit history, a PNG ``Software`` chunk, a video's ``encoder`` tag or
compressor name. The tables below are the names analysts meet in casework; matching is on
whole words, case-insensitive. A name here is a reason to look, never proof: editors are also
used to crop, rotate or convert, and a file can be opened and saved without any change. The
absence of a name proves nothing either: metadata is easy to strip or rewrite.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["SOFTWARE_KEYS", "Named", "find_software"]

EDITORS = {
    "photoshop": "Adobe Photoshop", "lightroom": "Adobe Lightroom", "gimp": "GIMP",
    "affinity": "Affinity Photo", "pixelmator": "Pixelmator", "snapseed": "Snapseed",
    "facetune": "Facetune", "faceapp": "FaceApp", "picsart": "PicsArt", "canva": "Canva",
    "photopea": "Photopea", "paint.net": "Paint.NET", "krita": "Krita",
    "capture one": "Capture One", "darktable": "darktable", "rawtherapee": "RawTherapee",
    "luminar": "Luminar", "meitu": "Meitu", "remini": "Remini", "lensa": "Lensa",
    "premiere": "Adobe Premiere", "after effects": "Adobe After Effects",
    "final cut": "Final Cut Pro", "davinci": "DaVinci Resolve", "imovie": "iMovie",
    "capcut": "CapCut", "kinemaster": "KineMaster", "filmora": "Filmora",
    "shotcut": "Shotcut", "vegas": "VEGAS", "avidemux": "Avidemux", "inshot": "InShot",
}
GENERATORS = {
    "stable diffusion": "Stable Diffusion", "midjourney": "Midjourney", "dall-e": "DALL-E",
    "dall·e": "DALL-E", "firefly": "Adobe Firefly", "comfyui": "ComfyUI",
    "automatic1111": "AUTOMATIC1111", "invokeai": "InvokeAI", "novelai": "NovelAI",
    "leonardo.ai": "Leonardo.Ai", "deepfacelab": "DeepFaceLab", "faceswap": "Faceswap",
    "facefusion": "FaceFusion", "roop": "roop", "reface": "Reface", "synthesia": "Synthesia",
    "heygen": "HeyGen", "runway": "Runway", "sora": "Sora", "kling": "Kling",
    "deepswap": "DeepSwap", "swapface": "Swapface", "liveportrait": "LivePortrait",
}
REENCODERS = {
    "lavf": "FFmpeg (libavformat)", "lavc": "FFmpeg (libavcodec)", "ffmpeg": "FFmpeg",
    "libx264": "x264", "x264": "x264", "x265": "x265", "handbrake": "HandBrake",
}
# Where the software is named, by key; XMP history entries are matched by their key's end.
SOFTWARE_KEYS = (
    "Exif.Image.Software", "Exif.Image.ProcessingSoftware", "Exif.Image.HostComputer",
    "Xmp.xmp.CreatorTool", "Xmp.tiff.Software", "Xmp.photoshop.History",
    "Iptc.Application2.Program", "encoder", "handler_name", "com.apple.quicktime.software",
    "Software", "software",
)
_HISTORY_SUFFIXES = ("stEvt:softwareAgent", "stEvt:parameters")


@dataclass(frozen=True)
class Named:
    """A program named in the metadata.

    Attributes:
        kind: ``"editor"``, ``"generator"`` (AI or face swap) or ``"reencoder"``.
        product: the program's usual name.
        where: ``"<key> = <value>"`` where it was found.
    """

    kind: str
    product: str
    where: str


def _pattern(words: Iterable[str]) -> re.Pattern[str]:
    alternatives = "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))
    # NOTE: a version number may follow a name directly ("Lavf62.12"), a letter may not.
    return re.compile(rf"(?<![a-z0-9])({alternatives})(?![a-z])", re.IGNORECASE)


_TABLES = (
    ("generator", GENERATORS, _pattern(GENERATORS)),
    ("editor", EDITORS, _pattern(EDITORS)),
    ("reencoder", REENCODERS, _pattern(REENCODERS)),
)


def _is_software_key(key: str) -> bool:
    return key in SOFTWARE_KEYS or key.endswith(_HISTORY_SUFFIXES)


def find_software(*sources: Mapping[str, str]) -> list[Named]:
    """Every program named under a software key of ``sources`` (key -> value maps), once."""
    found: dict[tuple[str, str], Named] = {}
    for values in sources:
        for key, value in values.items():
            if not _is_software_key(key):
                continue
            for kind, table, pattern in _TABLES:
                for match in pattern.finditer(value):
                    product = table[match.group(1).lower()]
                    found.setdefault((kind, product), Named(kind, product, f"{key} = {value}"))
    return list(found.values())
