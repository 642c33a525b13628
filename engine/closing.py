"""One context-manager protocol for the engine's objects that hold something to release.

Face detectors (MediaPipe graphs), decoders (a file and an FFmpeg container), guarded file
descriptors and the analyzer (models, a worker pool) are all used as ``with X(...) as x:`` and
must release what they hold on the way out, whether the block ended normally or raised. Each
used to write the same ``__enter__`` / ``__exit__`` pair; :class:`Closing` is that pair once.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

__all__ = ["Closing"]


class Closing:
    """Mixin: ``with obj:`` returns ``obj`` and calls ``obj.close()`` when the block ends.

    A subclass defines :meth:`close`; it should be safe to call twice, since a caller may
    close explicitly inside the block too. An exception from the block is never swallowed.
    """

    def close(self) -> None:
        """Release what the object holds."""
        raise NotImplementedError(f"{type(self).__name__} must define close()")

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
