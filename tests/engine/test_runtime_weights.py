"""WeightsStore: SHA-256 before loading, typed errors, weights_only loading, the models dir."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from engine.errors import UnknownDetectorError, WeightsIntegrityError
from engine.runtime import default_models_dir, list_shipped, load_detector
from engine.runtime.cfg import DetectorCfg
from engine.runtime.weights import CARD_SCHEMA, WeightsStore, sha256_bytes


def _store(root: Path, payload: bytes = b"weights-bytes", **cfg_changes: object) -> WeightsStore:
    (root / "m.pt").write_bytes(payload)
    cfg = DetectorCfg(
        name="m", version="1", variant="cpu", input_size=64, mean=(0.5,) * 3, std=(0.5,) * 3,
        face_margin=0.25, clip_len=1, output="softmax2", map_kind="none", looks_for="face_swap",
        weights_file="m.pt",
        weights_sha256=sha256_bytes(payload), onnx_file="m.onnx", onnx_sha256="0" * 64,
    ).replace(**cfg_changes)
    (root / "m.json").write_text(json.dumps({"schema": CARD_SCHEMA, "cfg": cfg.to_dict()}))
    return WeightsStore(root)


def test_verified_bytes_are_returned_when_the_hash_matches(tmp_path: Path) -> None:
    store = _store(tmp_path)
    assert store.names() == ["m"]
    assert store.read_verified("m", "torch") == b"weights-bytes"


def test_a_changed_file_fails_the_integrity_check(tmp_path: Path) -> None:
    store = _store(tmp_path)
    (tmp_path / "m.pt").write_bytes(b"weights-bytez")
    with pytest.raises(WeightsIntegrityError, match="integrity check"):
        store.read_verified("m", "torch")


def test_a_card_that_lists_a_missing_file_fails(tmp_path: Path) -> None:
    store = _store(tmp_path)
    with pytest.raises(WeightsIntegrityError, match="missing"):
        store.read_verified("m", "onnx")


def test_a_card_without_weights_fails(tmp_path: Path) -> None:
    store = _store(tmp_path, weights_file=None, weights_sha256=None)
    with pytest.raises(WeightsIntegrityError, match="lists no torch weights"):
        store.read_verified("m", "torch")


def test_unknown_names_list_the_detectors_that_have_weights(tmp_path: Path) -> None:
    _store(tmp_path)
    with pytest.raises(UnknownDetectorError, match="Valid detectors: m"):
        load_detector("nope", runtime="onnx", models_dir=tmp_path)
    with pytest.raises(ValueError, match="unknown runtime"):
        load_detector("m", runtime="tensorflow", models_dir=tmp_path)  # type: ignore[arg-type]


def test_a_bad_card_is_a_typed_error(tmp_path: Path) -> None:
    (tmp_path / "m.json").write_text("{not json")
    with pytest.raises(WeightsIntegrityError, match="unreadable"):
        WeightsStore(tmp_path).cfg("m")
    (tmp_path / "m.json").write_text(json.dumps({"schema": CARD_SCHEMA, "cfg": {"bogus": 1}}))
    with pytest.raises(WeightsIntegrityError, match="bad cfg"):
        WeightsStore(tmp_path).cfg("m")


class _Exploit:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (print, ("code ran while loading weights",))


def test_torch_weights_that_are_not_a_plain_state_dict_are_refused(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    store = _store(tmp_path, payload=pickle.dumps({"w": _Exploit()}, protocol=2))
    with pytest.raises(WeightsIntegrityError, match="not a plain state dict"):
        store.load_state_dict("m")


def test_the_models_dir_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORENSIC_MODELS_DIR", str(tmp_path))
    assert default_models_dir() == tmp_path
    assert list_shipped() == []
    _store(tmp_path)
    assert list_shipped() == ["m"]


def test_config_round_trips_through_json_and_rejects_bad_values() -> None:
    cfg = DetectorCfg(
        name="m", version="1", variant="cpu", input_size=64, mean=(0.5,) * 3, std=(0.5,) * 3,
        face_margin=0.25, clip_len=1, output="softmax2", map_kind="none", looks_for="face_swap",
        calibration=(2.0, 1.0),
    )
    assert DetectorCfg.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    with pytest.raises(ValueError, match="Platt slope"):
        cfg.replace(calibration=(-1.0, 0.0))
    with pytest.raises(ValueError, match="face_margin"):
        cfg.replace(face_margin=0.4)
    with pytest.raises(ValueError, match="threshold"):
        cfg.replace(threshold=1.0)
    assert np.isclose(cfg.threshold, 0.5)
