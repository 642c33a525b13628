"""TrainConfig: TOML in, unknown keys out; the committed configs name registered detectors."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.training.config import TrainConfig, load_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "training"
FACE_SWAP_CONFIGS = ("sbi_effl0.toml", "xray_effl0.toml", "mat_effl0.toml",
                     "sbi_effl2_256_gpu.toml", "sbi_effl0_256_gpu.toml")


@pytest.mark.parametrize("file_name", FACE_SWAP_CONFIGS)
def test_committed_configs_load_and_name_registered_detectors(file_name: str) -> None:
    pytest.importorskip("torch")
    from engine.detectors import registry

    cfg = load_config(CONFIGS / file_name)
    assert cfg.detector in registry.list_detectors("cpu")
    assert cfg.detector.split("_")[0] in {"sbi": "sbi", "xray": "xray", "mat": "mat"}[cfg.method]
    assert cfg.threads == 2
    assert cfg.time_budget_s <= 35 * 60


def test_unknown_keys_are_an_error_that_names_them(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('detector = "sbi_effl0"\nmethod = "sbi"\nlearning_rate = 0.1\n')
    with pytest.raises(ValueError, match="learning_rate") as info:
        load_config(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"method": "gan"}, "method"), ({"steps": 0}, "steps"), ({"p_bi": 1.5}, "p_bi"),
     ({"val_reals": 2}, "val_reals")],
)
def test_invalid_values_are_rejected(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TrainConfig.from_dict({"detector": "sbi_effl0", "method": "sbi", **changes})


def test_round_trip_through_a_dict() -> None:
    cfg = TrainConfig(detector="mat_effl0", method="mat", sources=("utkface",), agda_prob=0.5)
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
