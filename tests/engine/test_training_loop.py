"""The training loop end to end on real faces (tiny: 64 px, a few steps): train, resume,
release (calibration, ONNX, model card), and every method's step."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from engine.detectors import registry  # noqa: E402
from engine.detectors.base import Detector  # noqa: E402
from engine.runtime import load_detector  # noqa: E402
from engine.training import release as release_module  # noqa: E402
from engine.training.config import TrainConfig  # noqa: E402
from engine.training.datasets import PairSampler, RealFaces  # noqa: E402
from engine.training.loop import run_training, save_checkpoint, setup, train_step  # noqa: E402
from engine.training.release import release  # noqa: E402

pytestmark = pytest.mark.slow


def _faces_from(shared_data: Path, n: int) -> RealFaces:
    """The first ``n`` UTKFace images through the real face pipeline and crop policy."""
    import cv2

    from engine.faces.crop import CropPolicy, crop_face
    from engine.faces.mesh import FaceMeshDetector

    crops, landmarks = [], []
    files = sorted((shared_data / "faces_real" / "utkface").iterdir())
    with FaceMeshDetector() as mesh:
        for path in files:
            rgb = np.ascontiguousarray(cv2.imread(str(path))[..., ::-1])
            faces = mesh.detect(rgb)
            if faces:
                crop, lm, _ = crop_face(rgb, faces[0].landmarks_xy, CropPolicy())
                crops.append(crop)
                landmarks.append(lm)
            if len(crops) == n:
                break
    return RealFaces(np.stack(crops), np.stack(landmarks),
                     np.array([f"utkface:{i}" for i in range(n)]))


@pytest.fixture(scope="module")
def faces(shared_data: Path) -> tuple[RealFaces, RealFaces]:
    all_faces = _faces_from(shared_data, 10)
    return all_faces.subset(np.arange(6)), all_faces.subset(np.arange(6, 10))


def small(name: str) -> Detector:
    """The registered detector at 64 px input (same network, a quarter of the pixels)."""
    detector = registry.create_detector(name)
    detector.cfg = detector.cfg.replace(input_size=64)
    return detector


def _cfg(**changes: object) -> TrainConfig:
    base = {"detector": "sbi_effl0", "method": "sbi", "steps": 2, "batch_reals": 2,
            "val_reals": 4, "warmup_steps": 1, "log_every_steps": 1, "val_every_steps": 100}
    return TrainConfig.from_dict({**base, **changes})


def test_resuming_from_a_checkpoint_gives_the_same_weights(
    faces: tuple[RealFaces, RealFaces], tmp_path: Path
) -> None:
    train, val = faces
    cfg = _cfg()
    straight, _ = run_training(cfg, train, val, tmp_path / "a", factory=small)
    # Interrupted run: one step, checkpoint, then the same command resumes.
    interrupted = setup(cfg, train, factory=small)
    train_step(interrupted, cfg, interrupted.sampler.sample(cfg.batch_reals))
    interrupted.step = 1
    (tmp_path / "b").mkdir()
    save_checkpoint(interrupted, cfg, tmp_path / "b" / "checkpoint.pt")
    resumed, _ = run_training(cfg, train, val, tmp_path / "b", factory=small)
    assert resumed.step == straight.step == 2
    for key, value in straight.detector.net.state_dict().items():
        torch.testing.assert_close(resumed.detector.net.state_dict()[key], value,
                                   atol=1e-6, rtol=1e-5, msg=key)


def test_a_checkpoint_from_another_config_is_refused(
    faces: tuple[RealFaces, RealFaces], tmp_path: Path
) -> None:
    train, val = faces
    run = setup(_cfg(), train, factory=small)
    save_checkpoint(run, _cfg(), tmp_path / "checkpoint.pt")
    with pytest.raises(ValueError, match="another config"):
        run_training(_cfg(lr=1e-2), train, val, tmp_path, factory=small)


def test_snapshots_keep_the_network_of_every_nth_step_and_cannot_be_resumed(
    faces: tuple[RealFaces, RealFaces], tmp_path: Path
) -> None:
    from engine.training.loop import read_checkpoint

    train, val = faces
    cfg = _cfg(steps=2, snapshot_every_steps=1, capture_prob=1.0, video_share=0.0)
    run, _ = run_training(cfg, train, val, tmp_path / "run", factory=small)
    snaps = sorted(p.name for p in (tmp_path / "run").glob("step_*.pt"))
    assert snaps == ["step_00001.pt", "step_00002.pt"]
    last = read_checkpoint(tmp_path / "run" / "step_00002.pt")
    assert last["step"] == 2
    for key, value in run.detector.net.state_dict().items():
        torch.testing.assert_close(last["net"][key], value, msg=key)
    (tmp_path / "again").mkdir()
    (tmp_path / "again" / "checkpoint.pt").write_bytes(
        (tmp_path / "run" / "step_00001.pt").read_bytes())
    with pytest.raises(ValueError, match="cannot be resumed"):
        run_training(cfg, train, val, tmp_path / "again", factory=small)


def test_a_second_stage_starts_from_the_first_runs_network(
    faces: tuple[RealFaces, RealFaces], tmp_path: Path
) -> None:
    train, val = faces
    first, _ = run_training(_cfg(), train, val, tmp_path / "stage1", factory=small)
    # lr 0: the second stage's one step cannot move the weights it started from (batch-norm
    # statistics still follow the batch, so only parameters are compared).
    second_cfg = _cfg(steps=1, lr=0.0, init_from="stage1/checkpoint.pt")
    second, _ = run_training(second_cfg, train, val, tmp_path / "stage2", factory=small)
    started_from = dict(second.detector.net.named_parameters())
    for key, value in first.detector.net.named_parameters():
        torch.testing.assert_close(started_from[key], value, msg=key)
    with pytest.raises(FileNotFoundError, match="init_from"):
        run_training(_cfg(init_from="nowhere/checkpoint.pt"), train, val, tmp_path / "x",
                     factory=small)


def test_trunk_from_takes_exactly_the_frozen_trunk_of_another_run(
    faces: tuple[RealFaces, RealFaces], tmp_path: Path
) -> None:
    train, val = faces
    # An SBI run that trains the second stride group, like configs/training/sbi_effl0_stage2.toml.
    sbi, _ = run_training(_cfg(freeze_stages=1, lr=1e-2), train, val, tmp_path / "sbi",
                          factory=small)
    xray_cfg = _cfg(detector="xray_effl0", method="xray", p_bi=0.0, steps=1, lr=0.0,
                    freeze_stages=2, trunk_runtime="onnx", trunk_from="sbi/checkpoint.pt")
    xray, _ = run_training(xray_cfg, train, val, tmp_path / "xray", factory=small)
    with torch.random.fork_rng():
        torch.manual_seed(xray_cfg.seed)  # the run's own seeded initialisation
        fresh = small("xray_effl0").net.state_dict()
    got, donor = xray.detector.net.state_dict(), sbi.detector.net.state_dict()
    frozen_params = {n for n, p in xray.detector.net.named_parameters() if not p.requires_grad}
    last_block = max(int(n.split(".")[2]) for n in frozen_params if n.startswith("encoder.blocks."))
    trunk = {n for n in got if n.startswith("encoder.stem.") or (
        n.startswith("encoder.blocks.") and int(n.split(".")[2]) <= last_block)}
    assert frozen_params <= trunk
    moved = [n for n in trunk if n.endswith("weight") and not torch.equal(donor[n], fresh[n])]
    assert moved, "the donor run did not change its trunk; the test would prove nothing"
    for name in trunk:
        torch.testing.assert_close(got[name], donor[name], rtol=0, atol=0, msg=name)
    for name, param in xray.detector.net.named_parameters():  # lr 0: the rest is untouched
        if name not in trunk and name.startswith("encoder."):
            torch.testing.assert_close(param.detach(), fresh[name], rtol=0, atol=0, msg=name)
    # The ONNX trunk used for training was exported again from the new weights.
    assert xray.trunk is not None
    x = torch.randn(2, 3, 64, 64)
    with torch.inference_mode():
        want = xray.detector.net.encoder.trunk(2).eval()(x)
    for w, h in zip(want, xray.trunk(x.numpy()).taps, strict=True):
        torch.testing.assert_close(h, w, atol=1e-3, rtol=1e-3)
    with pytest.raises(FileNotFoundError, match="trunk_from"):
        run_training(_cfg(trunk_from="nowhere/checkpoint.pt"), train, val, tmp_path / "y",
                     factory=small)


def test_release_writes_weights_onnx_and_a_card_that_loads(
    faces: tuple[RealFaces, RealFaces], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    train, val = faces
    cfg = _cfg(steps=1)
    run, val_set = run_training(cfg, train, val, tmp_path, factory=small)
    real_scoring = release_module._score_with_onnx

    def ranked_scores(*args: object) -> np.ndarray:
        # The exported graph is really run; its one-step scores are then replaced by scores
        # that rank fakes higher, because calibration refuses (rightly) an untrained model.
        p_raw = real_scoring(*args)  # type: ignore[arg-type]
        assert p_raw.shape == val_set.labels.shape
        return 0.3 + 0.4 * val_set.labels + 0.01 * np.arange(len(p_raw)) / len(p_raw)

    monkeypatch.setattr(release_module, "_score_with_onnx", ranked_scores)
    card_path = release(run, cfg, val_set, tmp_path, command="python -m engine.training test",
                        config_toml="steps = 1\n", n_faces=(len(train), len(val)))
    card = json.loads(card_path.read_text())
    assert card["cfg"]["calibration"][0] > 0
    assert card["metrics"]["synthetic_val"]["command"] == "python -m engine.training test"
    assert 0.0 <= card["metrics"]["synthetic_val"]["auc"] <= 1.0
    markdown = card_path.with_suffix(".md").read_text()
    assert card["cfg"]["weights_sha256"] in markdown
    assert "UTKFace" in markdown
    loaded = load_detector("sbi_effl0", runtime="onnx", models_dir=tmp_path)
    out = loaded.predict(val_set.crops[:2], want_maps=True)
    assert out.maps is not None
    assert np.all((out.p_fake >= 0) & (out.p_fake <= 1))


@pytest.mark.parametrize(
    ("detector", "method", "extra"),
    [("xray_effl0", "xray", {"p_bi": 1.0}),
     ("mat_effl0", "mat", {"p_bi": 0.5, "agda_prob": 1.0, "trunk_runtime": "onnx"})],
)
def test_every_method_takes_a_finite_step(
    faces: tuple[RealFaces, RealFaces], detector: str, method: str, extra: dict[str, object]
) -> None:
    train, _ = faces
    cfg = _cfg(detector=detector, method=method, **extra)
    run = setup(cfg, train, factory=small)
    before = {k: v.clone() for k, v in run.detector.net.state_dict().items()}
    batch = run.sampler.sample(2)
    assert batch.labels.tolist() == [0, 0, 1, 1]
    assert batch.xray[:2].max() == 0
    assert batch.xray[2:].max() > 0.5
    parts = train_step(run, cfg, batch)
    assert np.isfinite(parts["loss"])
    changed = [k for k, v in run.detector.net.state_dict().items()
               if v.dtype.is_floating_point and not torch.equal(v, before[k])]
    assert any(k.startswith("encoder.blocks.15") for k in changed)
    assert not any(k.startswith("encoder.stem") for k in changed)  # frozen stem


def test_the_sampler_replays_the_same_batches_after_restore(
    faces: tuple[RealFaces, RealFaces],
) -> None:
    train, _ = faces
    cfg = registry.get_cfg("sbi_effl0").replace(input_size=64)
    sampler = PairSampler(train, cfg, np.random.default_rng(0), p_bi=0.0)
    sampler.sample(2)
    state = sampler.state()
    first = sampler.sample(3)
    sampler.restore(state)
    np.testing.assert_array_equal(sampler.sample(3).images, first.images)


def test_sample_seed_gives_other_training_draws(faces: tuple[RealFaces, RealFaces]) -> None:
    train, _ = faces
    first = setup(_cfg(), train, factory=small).sampler.sample(2).images
    again = setup(_cfg(), train, factory=small).sampler.sample(2).images
    other = setup(_cfg(sample_seed=1), train, factory=small).sampler.sample(2).images
    np.testing.assert_array_equal(again, first)
    assert not np.array_equal(other, first)


def test_synthetic_eval_scores_the_shipped_graph_on_fakes_made_as_in_training(
    faces: tuple[RealFaces, RealFaces], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from engine.runtime import default_models_dir
    from engine.training import datasets, synthetic_eval

    train, _ = faces
    for suffix in (".json", ".md", ".onnx", ".pt"):
        shutil.copy(default_models_dir() / f"sbi_effl0{suffix}", tmp_path / f"sbi_effl0{suffix}")
    asked: dict[str, object] = {}

    def cache_faces(root: Path, **kwargs: object) -> RealFaces:
        asked.update(kwargs, root=root)
        return train

    monkeypatch.setattr(datasets, "faces_from_cache", cache_faces)
    assert synthetic_eval.main(["--detector", "sbi_effl0", "--data-root", str(tmp_path / "c"),
                                "--models-dir", str(tmp_path), "--record", "val_all"]) == 0
    trained = json.loads((tmp_path / "sbi_effl0.json").read_text())
    config = trained["training"]["config"]
    assert asked["split"] == "val"
    assert asked["sources"] == tuple(config["sources"])
    recorded = trained["metrics"]["val_all"]
    assert recorded["n_real"] == recorded["n_fake"] == len(train)
    assert recorded["p_bi"] == config["p_bi"]
    assert 0.5 < recorded["auc"] <= 1.0  # the shipped SBI tells these faces from their blends
    assert recorded["auc_by_source"] == {"utkface": recorded["auc"]}  # one source here
    assert recorded["command"].startswith("python -m engine.training.synthetic_eval")
    assert "val_all" in (tmp_path / "sbi_effl0.md").read_text()


def test_worker_processes_train_reproducibly(
    faces: tuple[RealFaces, RealFaces], tmp_path: Path
) -> None:
    """data_workers > 0 (the GPU path's data pipeline) on the CPU: same config, same worker
    count, same weights; and the batches differ from the in-process sampler's."""
    train, val = faces
    cfg = _cfg(data_workers=2, steps=3, lr=1e-2)
    a, _ = run_training(cfg, train, val, tmp_path / "a", factory=small)
    b, _ = run_training(cfg, train, val, tmp_path / "b", factory=small)
    c, _ = run_training(_cfg(steps=3, lr=1e-2), train, val, tmp_path / "c", factory=small)
    assert a.step == b.step == 3
    for key, value in a.detector.net.state_dict().items():
        torch.testing.assert_close(b.detector.net.state_dict()[key], value, msg=key)
    assert any(not torch.equal(c.detector.net.state_dict()[k], v)
               for k, v in a.detector.net.state_dict().items()
               if v.dtype.is_floating_point)


def test_a_cuda_config_without_a_gpu_fails_loudly(
    faces: tuple[RealFaces, RealFaces], tmp_path: Path
) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    train, val = faces
    with pytest.raises(RuntimeError, match="no CUDA GPU"):
        run_training(_cfg(device="cuda"), train, val, tmp_path, factory=small)


def test_the_card_names_the_hardware_and_data_the_checkpoint_recorded(
    faces: tuple[RealFaces, RealFaces], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A GPU run released on a CPU machine: the card reports where it trained, not where it
    was released, and that its faces came from a face pack."""
    train, val = faces
    cfg = _cfg(steps=1)
    first = setup(cfg, train, factory=small)
    first.step = 1
    first.hardware = "Example GPU (CUDA 13.0), torch 2.11, 14 data workers on 16 logical CPUs"
    first.data_note = "6 faces of the face cache, read from a face pack (faces.npz)"
    first.train_command = "python -m engine.training --data-root faces.npz --no-release"
    save_checkpoint(first, cfg, tmp_path / "checkpoint.pt")
    # The checkpoint holds plain Python and tensors only (it must load under numpy 1 and 2).
    torch.load(tmp_path / "checkpoint.pt", map_location="cpu", weights_only=True)
    run, val_set = run_training(cfg, train, val, tmp_path, factory=small)
    assert run.hardware.startswith("Example GPU")
    monkeypatch.setattr(release_module, "_score_with_onnx",
                        lambda *args: 0.3 + 0.4 * val_set.labels.astype(float))
    card_path = release(run, cfg, val_set, tmp_path, command="python -m engine.training t",
                        config_toml="", n_faces=(len(train), len(val)),
                        wise={"alpha": 0.5, "start": "stage4/checkpoint.pt"})
    card = json.loads(card_path.read_text())
    assert card["training"]["hardware"].startswith("Example GPU")
    assert card["training"]["command"] == first.train_command
    assert card["training"]["release_command"] == "python -m engine.training t"
    markdown = card_path.with_suffix(".md").read_text()
    assert "hardware: Example GPU" in markdown
    assert "Training faces: 6 faces of the face cache, read from a face pack" in markdown
    assert "Released (calibrated, exported, measured) with: `python -m engine.training t`" \
        in markdown
    assert "0.5 x this run's network + 0.5 x the network it started from " \
        "(`stage4/checkpoint.pt`)" in markdown


def test_carry_copies_release_a_finished_run_and_share_its_trunk(
    faces: tuple[RealFaces, RealFaces], tmp_path: Path
) -> None:
    """The small copies a GPU run travels back as: a finished copy (no optimiser state) is
    released by rerunning, never trained further; a trunk copy feeds trunk_from."""
    from engine.training.carry import finished_copy, trunk_copy

    train, val = faces
    cfg = _cfg(steps=1, freeze_stages=0, lr=1e-2)
    full, _ = run_training(cfg, train, val, tmp_path / "gpu", factory=small)
    copy = finished_copy(tmp_path / "gpu" / "checkpoint.pt", tmp_path / "back" / "checkpoint.pt")
    assert copy.stat().st_size < (tmp_path / "gpu" / "checkpoint.pt").stat().st_size / 2
    released, _ = run_training(cfg, train, val, tmp_path / "back", factory=small)
    assert released.step == 1
    for key, value in full.detector.net.state_dict().items():
        torch.testing.assert_close(released.detector.net.state_dict()[key], value, msg=key)
    unfinished = torch.load(copy, weights_only=True)
    unfinished["step"] = 0  # as if the copy had been made halfway
    torch.save(unfinished, copy)
    with pytest.raises(ValueError, match="without optimiser state"):
        run_training(cfg, train, val, tmp_path / "back", factory=small)
    trunk_copy(tmp_path / "gpu" / "checkpoint.pt", "sbi_effl0", 3,
               tmp_path / "trunk" / "checkpoint.pt")
    head_cfg = _cfg(steps=1, freeze_stages=3, lr=0.0, trunk_from="trunk/checkpoint.pt")
    head, _ = run_training(head_cfg, train, val, tmp_path / "head", factory=small)
    names = head.detector.net.trunk_state_keys(3)
    for name in names:
        torch.testing.assert_close(head.detector.net.state_dict()[name],
                                   full.detector.net.state_dict()[name], msg=name)
