"""The engine-API rows of docs/RELIABILITY.md's isolation table (tests/engine/hostile_engine.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine import hostile_engine


def test_a_file_changed_during_the_analysis_is_refused(tmp_path: Path) -> None:
    checks = hostile_engine.changed_file_checks(tmp_path)
    assert all(c.passed for c in checks), [c.outcome for c in checks]


@pytest.mark.slow
def test_cancel_of_a_hung_analysis(tmp_path: Path) -> None:
    check = hostile_engine.cancel_check(tmp_path)
    assert check.passed, check.outcome
