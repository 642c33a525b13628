"""The shipped fusion rule belongs to the shipped detectors: new weights need a refit."""

from __future__ import annotations

import pytest

from engine.fusion.rules import load_rule, rule_file
from engine.runtime.weights import WeightsStore

pytestmark = pytest.mark.weights


def test_the_shipped_rule_was_fitted_for_the_shipped_weights() -> None:
    rule = load_rule(rule_file())
    store = WeightsStore()
    fitted = {name: (model.kind, sha) for model in rule.kinds
              for name, sha in model.detectors.items()}
    shipped = {name: (store.cfg(name).looks_for, store.cfg(name).onnx_sha256)
               for name in store.names()}
    # After shipping new weights, refit: python -m engine.evaluation.devbench --fit
    assert fitted == shipped


def test_the_shipped_rule_carries_cross_validated_error_rates() -> None:
    rule = load_rule(rule_file())
    rates = rule.error_rates
    assert rates["method"].startswith("leave-one-source-out")
    assert {"real_image", "real_video"} <= set(rates["overall"])
    assert rule.fitted["index_sha256"]
    assert rule.fitted["command"]
    for model in rule.kinds:
        assert set(model.thresholds) >= {"image"}
        assert model.platt is None or model.platt[0] > 0
