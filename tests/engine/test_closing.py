"""engine.closing.Closing: the one context-manager pair of the engine's resource holders."""

from __future__ import annotations

import pytest

from engine.closing import Closing


class _Holder(Closing):
    def __init__(self) -> None:
        self.n_closed = 0

    def close(self) -> None:
        self.n_closed += 1


def test_the_block_gets_the_object_and_it_is_closed_after() -> None:
    with _Holder() as holder:
        assert holder.n_closed == 0
    assert holder.n_closed == 1


def test_an_error_in_the_block_still_closes_and_is_not_swallowed() -> None:
    holder = _Holder()
    with pytest.raises(ValueError, match="inside"), holder:
        raise ValueError("inside")
    assert holder.n_closed == 1


def test_a_holder_without_close_says_so() -> None:
    class Forgetful(Closing):
        pass

    with pytest.raises(NotImplementedError, match="Forgetful must define close"), Forgetful():
        pass


def test_the_engines_resource_holders_use_it() -> None:
    from engine.api import Analyzer
    from engine.data.extract import FaceExtractor
    from engine.faces.blazeface import BlazeFace
    from engine.faces.mesh import FaceMeshDetector
    from engine.media.animation import AnimationDecoder
    from engine.media.fileguard import GuardedFile
    from engine.media.video_io import VideoDecoder

    for cls in (Analyzer, FaceExtractor, BlazeFace, FaceMeshDetector, AnimationDecoder,
                GuardedFile, VideoDecoder):
        assert issubclass(cls, Closing)
        assert cls.close is not Closing.close, cls
