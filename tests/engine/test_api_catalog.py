"""list_detectors' catalogue, the runtime choice, and a light engine.api import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.analysis.catalog import shipped_detectors, shipped_names
from engine.analysis.runtime_choice import resolve_runtime
from engine.api import AnalysisOptions
from engine.runtime.cfg import DetectorCfg


def _card(models: Path, name: str, *, extra: dict[str, object], write_weights: bool) -> None:
    cfg = DetectorCfg(
        name=name,
        version="2",
        variant="cpu",
        input_size=192,
        mean=(0.5, 0.5, 0.5),
        std=(0.5, 0.5, 0.5),
        face_margin=0.25,
        clip_len=1,
        output="softmax2",
        map_kind="xray",
        looks_for="face_swap",
        threshold=0.42,
        onnx_file=f"{name}.onnx",
        onnx_sha256="cd" * 32,
        paper="Li et al., Face X-ray, CVPR 2020",
    )
    card = {"schema": 1, "cfg": cfg.to_dict(), **extra}
    (models / f"{name}.json").write_text(json.dumps(card), encoding="utf-8")
    if write_weights:
        (models / f"{name}.onnx").write_bytes(b"onnx")


def test_catalog_lists_cards_with_weights_and_reads_their_fields(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _card(tmp_path, "xray_a", extra={"display_name": "Face X-ray"}, write_weights=True)
    _card(tmp_path, "xray_b", extra={}, write_weights=False)
    (tmp_path / "xray_a.md").write_text(
        "# Face X-ray\n\n## Limits\nMisses fully generated faces.\n\n## Data\nx\n", "utf-8"
    )
    assert shipped_names(tmp_path) == ["xray_a"]
    assert "xray_b" in caplog.text
    (info,) = shipped_detectors(tmp_path)
    assert info.name == "xray_a"
    assert info.display_name == "Face X-ray"
    assert info.scope == "face"
    assert info.threshold == 0.42
    assert info.weights_sha256 == "cd" * 32
    assert info.map_kind == "blending boundary"
    assert info.method.startswith("Li et al.")
    assert info.card_summary == "Misses fully generated faces."


def test_no_models_directory_means_no_detectors(tmp_path: Path) -> None:
    assert shipped_detectors(tmp_path / "absent") == []


def test_runtime_choice_defaults_to_onnx_on_cpu() -> None:
    assert resolve_runtime("onnx").runtime == "onnx"
    auto = resolve_runtime("auto")
    assert (auto.runtime, auto.device) in {("onnx", "cpu"), ("torch", "cuda")}
    with pytest.raises(ValueError, match="unknown runtime"):
        resolve_runtime("tensorflow")


@pytest.mark.parametrize(
    "kwargs",
    [{"n_frames": 0}, {"fps": 0.0}, {"max_faces": 0}, {"runtime": "cuda"}, {"n_frames": None}],
)
def test_bad_options_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        AnalysisOptions(**kwargs)  # type: ignore[arg-type]


def test_engine_api_imports_nothing_heavy() -> None:
    code = (
        "import sys, engine.api\n"
        "heavy = ['cv2', 'onnxruntime', 'torch', 'mediapipe', 'engine.media', 'engine.faces',"
        " 'engine.analysis', 'engine.runtime', 'PIL']\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


def test_a_detector_without_its_torch_weights_is_still_listed(tmp_path: Path) -> None:
    """The offline bundle ships the ONNX graphs only (no torch, no .pt files)."""
    _card(tmp_path, "xray_a", extra={}, write_weights=True)
    card_path = tmp_path / "xray_a.json"
    card = json.loads(card_path.read_text(encoding="utf-8"))
    card["cfg"]["weights_file"] = "xray_a.pt"  # named in the card, absent on disk
    card_path.write_text(json.dumps(card), encoding="utf-8")
    assert shipped_names(tmp_path) == ["xray_a"]
