"""What a list of paths names: the files to analyse or add, every folder walked.

One walker serves both ways in: ``forensic-analyze`` (:mod:`engine.cli`) and the app's import
(``forensic_gui.tasks.run_import``, through :mod:`engine.api`), so a folder of evidence gives the
same files, in the same order, with the same reasons, whichever of the two reads it.

The rules, and why:

- Files come in the order given; a folder's files are sorted by path and walked recursively.
- Hidden entries (a name starting with ".") below a named folder are skipped: they are the
  operating system's and the tools' own files (``.DS_Store``, ``.thumbnails``). A hidden file
  named directly is kept: the analyst asked for it.
- Nothing is passed over in silence. A path that does not exist, a special file or a broken link
  is kept in ``files``, so it gets its own error. A folder that cannot be listed, and a link to a
  folder met inside a walk (not followed: it can loop, or lead out of the evidence folder), are
  kept in ``files`` too, with the reason in ``not_walked``. A named folder in which nothing was
  found is listed in ``empty``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["LINKED_FOLDER", "Inputs", "walk_inputs"]

LINKED_FOLDER = ("A link to a folder inside a walked folder is not followed; name the folder it "
                 "points to, to include its files")


@dataclass
class Inputs:
    """What a list of paths names: the files, in order.

    Attributes:
        files: every input file, in the order given, folders walked (sorted, hidden skipped),
            with the paths of ``not_walked`` among them where they were met.
        folders: the named folders that were walked.
        not_walked: path -> why it was not walked: a folder (the named one or one inside it)
            that could not be listed, or a link to a folder met inside a walk. Each is also in
            ``files``, so it gets its own error instead of contributing nothing in silence.
        empty: the named folders in which the walk found nothing to try (empty, or hidden
            entries only), so the caller can say so.
    """

    files: list[str] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)
    not_walked: dict[str, str] = field(default_factory=dict)
    empty: list[str] = field(default_factory=list)


def walk_inputs(paths: Sequence[str]) -> Inputs:
    """Files in the order given; folders walked recursively, sorted by path, hidden skipped.

    See the module docstring for what is kept and why. Never raises for a path.
    """
    inputs = Inputs()
    for raw in paths:
        if not os.path.isdir(raw):
            inputs.files.append(raw)
            continue
        inputs.folders.append(raw)
        found: list[str] = []

        def note(exc: OSError, found: list[str] = found, top: str = raw) -> None:
            where = exc.filename if isinstance(exc.filename, str) else top
            inputs.not_walked[where] = f"Cannot read this folder: {exc.strerror}"
            found.append(where)

        for root, dirs, files in os.walk(raw, onerror=note):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for linked in [d for d in dirs if os.path.islink(os.path.join(root, d))]:
                # NOTE: os.walk does not descend into it either; said here, not skipped.
                path = os.path.join(root, linked)
                inputs.not_walked[path] = LINKED_FOLDER
                found.append(path)
            found.extend(os.path.join(root, name) for name in files if not name.startswith("."))
        if not found:
            inputs.empty.append(raw)
        inputs.files.extend(sorted(found))
    return inputs
