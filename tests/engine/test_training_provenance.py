"""A chained run's model card names every earlier stage's command and time (no training here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("torch")

from engine.training.card import render_markdown, total_training_s
from engine.training.config import TrainConfig
from engine.training.release import previous_stages

SHIPPED_CARD = Path(__file__).resolve().parents[2] / "resources" / "models" / "sbi_effl0.json"


def _write_card(run_dir: Path, training: dict[str, object]) -> None:
    card = json.loads(SHIPPED_CARD.read_text(encoding="utf-8"))
    card["training"] = training
    run_dir.mkdir(parents=True)
    (run_dir / "sbi_effl0.json").write_text(json.dumps(card), encoding="utf-8")
    (run_dir / "checkpoint.pt").write_bytes(b"")


def test_previous_stages_follow_init_and_trunk_sources_recursively(tmp_path: Path) -> None:
    _write_card(tmp_path / "stage1", {"command": "train stage1", "elapsed_s": 600.0,
                                      "steps": 300})
    _write_card(tmp_path / "stage2", {
        "command": "train stage2", "elapsed_s": 1200.0, "steps": 900,
        "previous_stages": [{"role": "init_from", "checkpoint": "stage1/checkpoint.pt",
                             "command": "train stage1", "elapsed_s": 600.0, "steps": 300}]})
    cfg = TrainConfig(detector="xray_effl0", method="xray", init_from="stage1/checkpoint.pt",
                      trunk_from="stage2/checkpoint.pt")
    stages = previous_stages(cfg, tmp_path / "this_run")
    assert [s["role"] for s in stages] == ["init_from", "trunk_from"]
    assert [s["command"] for s in stages] == ["train stage1", "train stage2"]
    assert stages[1]["previous_stages"][0]["command"] == "train stage1"

    training = {"command": "train this", "elapsed_s": 300.0, "steps": 100,
                "config": cfg.to_dict(), "previous_stages": stages}
    # 300 s here + 600 s (network) + 1200 s and its own 600 s (trunk)
    assert total_training_s(training) == pytest.approx(2700.0)
    card = json.loads(SHIPPED_CARD.read_text(encoding="utf-8"))
    markdown = render_markdown({**card, "training": training})
    for text in ("train stage1", "train stage2", "frozen trunk from `stage2/checkpoint.pt`",
                 "45.0 min", "stem and first stride group "):
        assert text in markdown, text


@pytest.mark.parametrize(("freeze_stages", "expected"), [
    (0, "Frozen during this run: nothing (the whole network trained)."),
    (1, "Frozen during this run: the encoder's stem and first stride group "),
    (3, "Frozen during this run: the encoder's stem and first 3 stride groups "),
])
def test_the_card_says_what_a_run_kept_frozen(freeze_stages: int, expected: str) -> None:
    card = json.loads(SHIPPED_CARD.read_text(encoding="utf-8"))
    training = {"command": "train", "elapsed_s": 60.0, "steps": 10,
                "config": {"freeze_stages": freeze_stages}}
    markdown = render_markdown({**card, "training": training})
    assert expected in markdown
    assert "first 0 stride groups" not in markdown


def test_a_source_run_without_a_card_is_recorded_as_such(tmp_path: Path) -> None:
    (tmp_path / "bare").mkdir()
    cfg = TrainConfig(detector="sbi_effl0", method="sbi", init_from="bare/checkpoint.pt")
    stages = previous_stages(cfg, tmp_path / "this_run")
    assert stages == [{"role": "init_from", "checkpoint": "bare/checkpoint.pt", "command": None}]
    markdown_lines = render_markdown({**json.loads(SHIPPED_CARD.read_text(encoding="utf-8")),
                                      "training": {"previous_stages": stages}})
    assert "(no card found there)" in markdown_lines


def test_a_run_seeded_from_shipped_weights_starts_the_next_stage_with_them(
    tmp_path: Path,
) -> None:
    import types

    import torch

    from engine.detectors import registry
    from engine.training.loop import init_from_run, load_checkpoint
    from engine.training.seed_run import seed_run

    shipped_pt = SHIPPED_CARD.with_suffix(".pt")
    seed_run(shipped_pt, tmp_path / "sbi_effl0_stage2")
    with pytest.raises(FileExistsError):
        seed_run(shipped_pt, tmp_path / "sbi_effl0_stage2")  # a run folder is never overwritten

    detector = registry.create_detector("sbi_effl0")
    init_from_run(types.SimpleNamespace(detector=detector, ril=None),  # type: ignore[arg-type]
                  tmp_path / "sbi_effl0_stage2" / "checkpoint.pt")
    shipped = torch.load(shipped_pt, map_location="cpu", weights_only=True)
    for name, tensor in detector.net.state_dict().items():
        assert torch.equal(tensor, shipped[name]), name

    # the next stage's card still names the command that made the shipped weights
    cfg = TrainConfig(detector="sbi_effl0", method="sbi",
                      init_from="sbi_effl0_stage2/checkpoint.pt")
    [stage] = previous_stages(cfg, tmp_path / "sbi_effl0_stage3")
    shipped_training = json.loads(SHIPPED_CARD.read_text(encoding="utf-8"))["training"]
    assert stage["command"] == shipped_training["command"]
    assert stage["steps"] == shipped_training["steps"]

    # network only: resuming it as a run would silently lose the optimiser, so it is refused
    with pytest.raises(ValueError, match="cannot be resumed"):
        load_checkpoint(None, cfg, tmp_path / "sbi_effl0_stage2" / "checkpoint.pt")  # type: ignore[arg-type]


def test_a_folder_seeded_from_imagenet_starts_a_run_and_names_its_command(
        tmp_path: Path) -> None:
    import types

    import torch

    from engine.detectors import registry
    from engine.detectors.backbones import EfficientNetLite, load_imagenet_lite
    from engine.training.loop import init_from_run
    from engine.training.seed_run import seed_imagenet

    folder = tmp_path / "sbi_effl2_256_imagenet"
    seed_imagenet("sbi_effl2_256", folder)
    with pytest.raises(FileExistsError):
        seed_imagenet("sbi_effl2_256", folder)  # a run folder is never overwritten

    detector = registry.create_detector("sbi_effl2_256")
    init_from_run(types.SimpleNamespace(detector=detector, ril=None),  # type: ignore[arg-type]
                  folder / "checkpoint.pt")
    imagenet = EfficientNetLite(2, head=True)
    load_imagenet_lite(imagenet)
    for name, tensor in imagenet.state_dict().items():
        assert torch.equal(detector.net.encoder.state_dict()[name], tensor), name

    cfg = TrainConfig(detector="sbi_effl2_256", method="sbi",
                      init_from="sbi_effl2_256_imagenet/checkpoint.pt")
    [stage] = previous_stages(cfg, tmp_path / "sbi_effl2_256_gpu")
    assert stage["command"].startswith("python -m engine.training.seed_run --imagenet "
                                       "sbi_effl2_256")
    assert stage["steps"] == 0
