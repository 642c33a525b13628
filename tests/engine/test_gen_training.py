"""Training the generated-image detector: deterministic packs, paired augmentation, resumable
steps, and the configs that are committed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from engine.synthesis.trace_ae import TraceAutoencoder  # noqa: E402
from engine.training.config_gen import (  # noqa: E402
    GenPackConfig,
    GenTrainConfig,
    TraceAeConfig,
    load_toml_config,
)
from engine.training.gen_data import GenSampler, augment_pair, val_crops  # noqa: E402
from engine.training.gen_pack import GenPack, build_pack  # noqa: E402
from tests.engine.bad_media import write_video  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny data root: 12 UTKFace-like and 12 CelebA-like JPEGs, two short videos."""
    from PIL import Image

    root = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    for folder, side in (("utkface", 200), ("celeba", 100)):
        (root / "faces_real" / folder).mkdir(parents=True)
        for k in range(12):
            img = rng.integers(0, 256, (side, side, 3), dtype=np.uint8)
            Image.fromarray(img).save(root / "faces_real" / folder / f"{k}.jpg", quality=90)
    for name in ("liveportrait_d1.mp4", "ghost_a.mp4"):
        write_video(root / "videos_real" / name, n_frames=12, size_wh=(240, 200))
    return root


@pytest.fixture(scope="module")
def ae_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two untrained autoencoders saved the way trace_ae_train saves them."""
    root = tmp_path_factory.mktemp("runs")
    for name, kind in (("ae_a", "tconv"), ("ae_b", "pixelshuffle")):
        torch.manual_seed(len(name) + len(kind))
        (root / "trace_ae" / name).mkdir(parents=True)
        torch.save(TraceAutoencoder(kind).state_dict(), root / "trace_ae" / name / f"{name}.pt")
        cfg = {"upsampler": kind, "width": 16, "n_blocks": 3}
        (root / "trace_ae" / name / f"{name}.json").write_text(json.dumps({"config": cfg}))
    return root


def _pack_cfg(**kw: object) -> GenPackConfig:
    base = {"generators": ("ae_a", "ae_b"), "split": "train", "n_utkface": 5, "n_celeba": 4,
            "frames_per_video": 2, "crops_per_frame": 2, "pair_px": 96, "context_px": 8}
    return GenPackConfig(**{**base, **kw})  # type: ignore[arg-type]


def _arrays(pack_dir: Path) -> list[bytes]:
    return [p.read_bytes() for p in sorted(pack_dir.rglob("*.npy"))]


@pytest.mark.slow
def test_a_pack_is_the_same_bytes_when_rebuilt_or_resumed(data_root: Path, ae_dir: Path) -> None:
    cfg = _pack_cfg()
    first, second = ae_dir / "pack_a", ae_dir / "pack_b"
    build_pack(cfg, data_root, first, "test")
    build_pack(cfg, data_root, second, "test")
    assert _arrays(first) == _arrays(second)
    pack = GenPack(first)
    assert len(pack) == len(pack.records) > 0
    counts = np.unique(pack.generators, return_counts=True)[1]
    assert counts.max() - counts.min() <= 1  # generators share the pairs evenly
    chunk = sorted(second.glob("chunk_*"))[-1]
    for f in chunk.iterdir():
        f.unlink()
    chunk.rmdir()
    (second / "DONE").unlink()
    build_pack(cfg, data_root, second, "test")  # resumes: makes the missing chunk only
    assert _arrays(first) == _arrays(second)
    real, fake = pack.pair(0)
    assert real.shape == fake.shape == (96, 96, 3)
    assert not np.array_equal(real, fake)


def test_a_pack_waits_for_generators_that_are_not_trained(data_root: Path, ae_dir: Path) -> None:
    out = ae_dir / "pack_missing"
    build_pack(_pack_cfg(generators=("ae_a", "ae_missing")), data_root, out, "test")
    assert not (out / "DONE").exists()
    assert any(out.glob("chunk_*"))  # ae_a's chunks were made
    with pytest.raises(FileNotFoundError, match="not a finished pack"):
        GenPack(out)
    assert (out / "DONE.ae_a").is_file()
    assert not (out / "DONE.ae_missing").exists()
    assert set(GenPack(out, ("ae_a",)).generators) == {"ae_a"}  # finished for ae_a alone
    with pytest.raises(FileNotFoundError, match="not a finished pack"):
        GenPack(out, ("ae_a", "ae_missing"))


def _train_cfg(**kw: object) -> GenTrainConfig:
    return GenTrainConfig(detector="gen_nprnet", crop_px=48, batch_pairs=2, **kw)  # type: ignore[arg-type]


class _PairPack:
    """A stand-in pack whose pairs are one picture twice (an identity generator)."""

    def __init__(self, n: int) -> None:
        rng = np.random.default_rng(1)
        self.pictures = [rng.integers(0, 256, (96, 96, 3), dtype=np.uint8) for _ in range(n)]
        self.generators = np.array(["id"] * n)

    def __len__(self) -> int:
        return len(self.pictures)

    def pair(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        return self.pictures[i], self.pictures[i].copy()


def test_both_members_of_a_pair_get_the_same_augmentation() -> None:
    cfg = _train_cfg(p_jpeg=1.0, p_resize=1.0, p_noise=1.0, p_blur=1.0, p_colour=1.0,
                     p_palette=1.0)
    pack = _PairPack(3)
    rng = np.random.default_rng(0)
    for i in range(3):
        real, fake = augment_pair(pack.pair(i), cfg, rng)
        assert real.shape == (48, 48, 3)
        np.testing.assert_array_equal(real, fake)


def test_h264_round_trip_reaches_both_members_alike_and_changes_them() -> None:
    """``p_h264``: one x264 frame of both members, the same CRF and preset."""
    cfg = _train_cfg(p_h264=1.0, h264_crf_min=30, h264_crf_max=30)
    rng = np.random.default_rng(0)
    noisy = np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    real, fake = augment_pair((noisy, noisy.copy()), cfg, rng)
    np.testing.assert_array_equal(real, fake)
    plain = augment_pair((noisy, noisy.copy()), _train_cfg(), np.random.default_rng(0))[0]
    assert np.abs(real.astype(int) - plain.astype(int)).mean() > 5  # CRF 30 smooths noise
    with pytest.raises(ValueError, match="h264_crf"):
        _train_cfg(h264_crf_min=40, h264_crf_max=30)


def test_the_sampler_resumes_the_same_sequence() -> None:
    from engine.detectors.gen import GEN_NPRNET

    cfg = _train_cfg()
    a = GenSampler(_PairPack(5), cfg, GEN_NPRNET, np.random.default_rng(0))  # type: ignore[arg-type]
    a.sample(3)
    state = a.state()
    expected = a.sample(4)
    b = GenSampler(_PairPack(5), cfg, GEN_NPRNET, np.random.default_rng(9))  # type: ignore[arg-type]
    b.restore(json.loads(json.dumps(state)))
    again = b.sample(4)
    np.testing.assert_array_equal(expected.images, again.images)
    np.testing.assert_array_equal(expected.labels, np.tile([0, 1], 4))
    assert a.epoch >= 1


def test_validation_crops_are_the_centres_in_pair_order() -> None:
    pack = _PairPack(2)
    crops, labels, gens = val_crops(pack, 64)  # type: ignore[arg-type]
    assert crops.shape == (4, 64, 64, 3)
    np.testing.assert_array_equal(labels, [0, 1, 0, 1])
    assert gens.tolist() == ["real", "id", "real", "id"]


@pytest.mark.parametrize(("name", "kind"), [("trace_ae_tconv", TraceAeConfig),
                                       ("trace_ae_nearest", TraceAeConfig),
                                       ("trace_ae_bilinear", TraceAeConfig),
                                       ("trace_ae_pixelshuffle", TraceAeConfig),
                                       ("gen_pack_train", GenPackConfig),
                                       ("gen_pack_val", GenPackConfig),
                                       ("gen_nprnet", GenTrainConfig),
                                       ("gen_nprnet_run1", GenTrainConfig),
                                       ("gen_nprnet_long", GenTrainConfig),
                                       ("gen_probe_effl0", GenTrainConfig)])
def test_committed_configs_load(name: str, kind: type) -> None:
    cfg = load_toml_config(kind, REPO / "configs" / "training" / f"{name}.toml")
    assert isinstance(cfg, kind)


def test_unknown_or_bad_keys_are_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('detector = "gen_nprnet"\nmethod = "gen"\nlearning_rate = 1\n')
    with pytest.raises(ValueError, match="learning_rate"):
        load_toml_config(GenTrainConfig, bad)
    with pytest.raises(ValueError, match="upsampler"):
        TraceAeConfig(name="x", upsampler="deconv")
    with pytest.raises(ValueError, match="multiple of 16"):
        GenTrainConfig(detector="gen_nprnet", crop_px=40)


@pytest.mark.slow
def test_training_resumes_exactly_where_it_stopped(data_root: Path, ae_dir: Path,
                                                    tmp_path: Path) -> None:
    from engine.training.gen_loop import load_run, save_run, setup, train_step

    for split in ("train", "val"):
        build_pack(_pack_cfg(split=split), data_root, ae_dir / f"gen_pack_{split}", "test")
    cfg = _train_cfg(steps=4, warmup_steps=1, p_jpeg=0.5, p_resize=0.5)
    straight = setup(cfg, ae_dir)
    losses = []
    for _ in range(4):
        losses.append(train_step(straight, cfg)["bce"])
        straight.step += 1
    first = setup(cfg, ae_dir)
    for _ in range(2):
        train_step(first, cfg)
        first.step += 1
    save_run(first, cfg, tmp_path / "checkpoint.pt")
    resumed = setup(cfg, ae_dir)
    load_run(resumed, cfg, tmp_path / "checkpoint.pt")
    again = []
    for _ in range(2):
        again.append(train_step(resumed, cfg)["bce"])
        resumed.step += 1
    assert again == pytest.approx(losses[2:], rel=1e-5)
    for a, b in zip(straight.detector.net.state_dict().values(),
                    resumed.detector.net.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)
    other = _train_cfg(steps=5)
    with pytest.raises(ValueError, match="another config"):
        load_run(setup(other, ae_dir), other, tmp_path / "checkpoint.pt")


def test_generator_weights_change_how_often_a_generators_pairs_are_drawn() -> None:
    from engine.detectors.gen import GEN_NPRNET

    pack = _PairPack(40)
    pack.generators = np.array(["a", "b"] * 20)
    cfg = _train_cfg(generator_weights={"b": 3.0})
    sampler = GenSampler(pack, cfg, GEN_NPRNET, np.random.default_rng(0))  # type: ignore[arg-type]
    drawn = [sampler._next() for _ in range(4000)]
    share_b = float(np.mean(pack.generators[drawn] == "b"))
    assert 0.72 < share_b < 0.78
    with pytest.raises(ValueError, match="positive"):
        _train_cfg(generator_weights={"b": 0.0})


def test_soft_fakes_come_fourth_softened_by_their_reals_draw() -> None:
    from engine.detectors.gen import GEN_NPRNET

    cfg = _train_cfg(soft_reals=True, soft_fakes=True, p_jpeg=1.0)
    sampler = GenSampler(_PairPack(4), cfg, GEN_NPRNET, np.random.default_rng(1))  # type: ignore[arg-type]
    batch = sampler.sample(2)
    assert batch.images.shape == (8, 3, 48, 48)
    np.testing.assert_array_equal(batch.labels, [0, 1, 0, 1, 0, 1, 0, 1])
    # identity "generator": real and fake are equal, so one softening draw gives equal copies
    np.testing.assert_array_equal(batch.images[2], batch.images[3])
    np.testing.assert_array_equal(batch.images[6], batch.images[7])
    assert not np.array_equal(batch.images[0], batch.images[2])
    with pytest.raises(ValueError, match="soft_reals"):
        _train_cfg(soft_fakes=True)


def test_soft_reals_come_third_labelled_real_and_get_the_same_format() -> None:
    from engine.detectors.gen import GEN_NPRNET
    from engine.training.gen_data import soften

    rng = np.random.default_rng(0)
    picture = np.zeros((96, 96, 3), dtype=np.uint8)
    picture[::2] = 255  # one-pixel stripes: any softening changes them
    for _ in range(6):
        soft = soften(picture, rng)
        assert soft.shape == picture.shape
        assert not np.array_equal(soft, picture)
    cfg = _train_cfg(soft_reals=True, p_jpeg=1.0)
    sampler = GenSampler(_PairPack(4), cfg, GEN_NPRNET, np.random.default_rng(1))  # type: ignore[arg-type]
    batch = sampler.sample(2)
    assert batch.images.shape == (6, 3, 48, 48)
    np.testing.assert_array_equal(batch.labels, [0, 1, 0, 0, 1, 0])
    np.testing.assert_array_equal(batch.images[0], batch.images[1])  # identity "generator"
