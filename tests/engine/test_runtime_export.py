"""ONNX export: fixed opset, dynamic batch, torch == ONNX Runtime, and a torch-free ONNX path."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")

from engine.detectors import registry  # noqa: E402
from engine.runtime import LoadedDetector, WeightsStore, load_detector  # noqa: E402
from engine.runtime.export import ONNX_OPSET, export_net  # noqa: E402
from engine.runtime.onnx_rt import OnnxRuntime  # noqa: E402
from engine.runtime.torch_rt import TorchRuntime  # noqa: E402
from engine.runtime.weights import CARD_SCHEMA, sha256_file  # noqa: E402

CPU_DETECTORS = ("sbi_effl0", "xray_effl0", "mat_effl0")
SMALL = 64  # NOTE: tiny graphs keep the test fast; the shipped 192 px graphs are checked
# against torch in test_runtime_shipped.py.


def write_models_dir(root: Path, name: str, seed: int = 0) -> Path:
    """A models folder with ``name`` (random weights, 64 px) exported the shipping way."""
    torch.manual_seed(seed)
    detector = registry.create_detector(name)
    cfg = detector.cfg.replace(input_size=SMALL, calibration=(1.5, -0.2))
    root.mkdir(parents=True, exist_ok=True)
    torch.save(detector.net.state_dict(), root / f"{name}.pt")
    export_net(detector.net, cfg, root / f"{name}.onnx")
    cfg = cfg.replace(weights_file=f"{name}.pt", weights_sha256=sha256_file(root / f"{name}.pt"),
                      onnx_file=f"{name}.onnx", onnx_sha256=sha256_file(root / f"{name}.onnx"))
    card = {"schema": CARD_SCHEMA, "cfg": cfg.to_dict(), "metrics": {}}
    (root / f"{name}.json").write_text(json.dumps(card))
    return root


@pytest.mark.slow
@pytest.mark.parametrize("name", CPU_DETECTORS)
def test_torch_and_onnx_runtime_agree_after_postprocessing(name: str, tmp_path: Path) -> None:
    root = write_models_dir(tmp_path, name)
    model = onnx.load(str(root / f"{name}.onnx"))
    assert model.opset_import[0].version == ONNX_OPSET
    assert [o.name for o in model.graph.output] == ["logits", "map"]
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    store = WeightsStore(root)
    cfg = store.cfg(name)
    net = registry.create_detector(name).net
    net.load_state_dict(store.load_state_dict(name))
    by_torch = LoadedDetector(cfg, TorchRuntime(net), runtime_name="torch", device="cpu")
    by_onnx = load_detector(name, runtime="onnx", models_dir=root, threads=2)
    crops = np.random.default_rng(1).integers(0, 256, (3, 256, 256, 3), dtype=np.uint8)
    a = by_torch.predict(crops, want_maps=True)
    b = by_onnx.predict(crops, want_maps=True)  # batch 3: the graph was traced with 2
    np.testing.assert_allclose(b.p_fake_raw, a.p_fake_raw, atol=1e-4)
    np.testing.assert_allclose(b.p_fake, a.p_fake, atol=1e-4)
    assert a.maps is not None
    assert b.maps is not None
    np.testing.assert_allclose(b.maps, a.maps, atol=1e-4)


_NO_TORCH = """
import sys
sys.modules["torch"] = None  # any import of torch now fails
import numpy as np
from engine.runtime import load_detector
det = load_detector("sbi_effl0", runtime="onnx", models_dir=sys.argv[1], threads=1)
out = det.predict(np.full((2, 256, 256, 3), 127, np.uint8), want_maps=True)
assert "engine.detectors" not in sys.modules, "the ONNX path imported the torch networks"
print(repr(out.p_fake.tolist()))
"""


@pytest.mark.slow
def test_the_onnx_path_runs_without_torch(tmp_path: Path) -> None:
    root = write_models_dir(tmp_path, "sbi_effl0")
    done = subprocess.run([sys.executable, "-c", _NO_TORCH, str(root)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    p_fake = eval(done.stdout.strip().splitlines()[-1])  # a list literal we printed
    expected = load_detector("sbi_effl0", runtime="onnx", models_dir=root).predict(
        np.full((2, 256, 256, 3), 127, np.uint8)).p_fake
    np.testing.assert_allclose(p_fake, expected, atol=1e-6)


def test_onnx_runtime_rejects_an_unknown_device() -> None:
    with pytest.raises(ValueError, match="unknown device"):
        OnnxRuntime(b"", device="tpu")
