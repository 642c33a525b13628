"""Fixtures for the case store: a temp database, an evidence file, a case with an analysis."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from forensic_gui.cases import CaseStore, EvidenceRecord, KeyFrameImage
from tests.cases.fabricate import hash_file, make_result, png_bytes


@pytest.fixture
def store(tmp_path: Path) -> Iterator[CaseStore]:
    """A fresh store in a temp folder."""
    with CaseStore.open(tmp_path / "db" / "cases.sqlite3") as opened:
        yield opened


@pytest.fixture
def evidence_file(tmp_path: Path) -> Path:
    """A small evidence file with fixed content (the store never parses it)."""
    path = tmp_path / "evidence" / "clip 01.mp4"
    path.parent.mkdir()
    path.write_bytes(np.random.default_rng(7).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    return path


@pytest.fixture
def added(store: CaseStore, evidence_file: Path) -> EvidenceRecord:
    """A case with one evidence item."""
    case = store.create_case(
        number="2025-017",
        title="Video of the mayor",
        analyst="A. Analyst",
        notes="Received on USB stick",
        actor="A. Analyst",
    )
    return store.hash_and_add_evidence(
        case.id, evidence_file, actor="A. Analyst", sha256_fn=hash_file, notes="as received"
    )


@pytest.fixture
def analysed(store: CaseStore, added: EvidenceRecord, evidence_file: Path) -> EvidenceRecord:
    """The evidence item with an analysis (two key frames) and two verdicts."""
    result = make_result(evidence_file, added.sha256)
    frames = [
        KeyFrameImage(30, "Frame with the highest fused score", png_bytes("f30"), 1.2),
        KeyFrameImage(60, "Second face appears", png_bytes("f60"), 2.4),
    ]
    store.record_analysis(added.id, result, actor="A. Analyst", key_frames=frames)
    store.record_verdict(
        added.id,
        analyst="A. Analyst",
        verdict="inconclusive",
        rationale="First look only.",
        actor="A. Analyst",
    )
    store.record_verdict(
        added.id,
        analyst="A. Analyst",
        verdict="manipulated",
        rationale="Blending seam at the jaw line in frames 30-70.",
        actor="A. Analyst",
    )
    return added
