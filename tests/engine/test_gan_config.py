"""Training configs of the GAN and MRL detectors: strict TOML, the shipped files load."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.training.config_video_gan import VideoGanConfig, load_video_gan_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "training"


@pytest.mark.parametrize(("name", "method"), [("gan_effl0", "gan"), ("mrl_effl0", "mrl")])
def test_shipped_configs_load(name: str, method: str) -> None:
    cfg = load_video_gan_config(CONFIGS / f"{name}.toml")
    assert cfg.method == method
    assert cfg.threads == 1
    assert cfg.max_train_s <= 1200.0  # the CPU budget of one run


def test_unknown_keys_and_bad_values_are_errors(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text('detector = "gan_effl0"\nmethod = "gan"\nbatchsize = 4\n')
    with pytest.raises(ValueError, match="batchsize"):
        load_video_gan_config(path)
    with pytest.raises(ValueError, match="mode_probs"):
        VideoGanConfig(detector="relation_effl0", method="mrl", mode_probs=(0.5, 0.5, 0.5))
    with pytest.raises(ValueError, match="multiple of 32"):
        VideoGanConfig(detector="gan_effl0", method="gan", crop_px=200)
    with pytest.raises(ValueError, match="method"):
        VideoGanConfig(detector="gan_effl0", method="sbi")  # type: ignore[arg-type]


def test_the_training_entry_point_hands_these_methods_to_their_loop() -> None:
    from engine.training.__main__ import _method

    assert _method(CONFIGS / "gan_effl0.toml") == "gan"
    assert _method(CONFIGS / "mrl_effl0.toml") == "mrl"
