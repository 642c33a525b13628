"""Model cards: the JSON that travels with the weights, and its Markdown rendering.

``<name>.json`` holds the :class:`DetectorCfg` (with threshold, calibration and hashes), the
training config, how training ran, and every measured metric together with the exact command
that produced it. ``<name>.md`` is rendered from that JSON, so the two never disagree; it is
re-rendered whenever a metric is recorded (``python -m engine.training.evaluate --record``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.evaluation.intervals import rate_text
from engine.runtime.cfg import DetectorCfg
from engine.runtime.weights import CARD_SCHEMA

__all__ = [
    "DATA_TERMS",
    "MODEL_NOTES",
    "apply_notes",
    "read_card",
    "record_card_entry",
    "record_metrics",
    "record_threshold",
    "render_markdown",
    "total_training_s",
    "write_card",
]

DATA_TERMS = (
    "Real faces: UTKFace `crop_part1` (non-commercial research only; copyright stays with the "
    "photo owners) and CelebA crops (non-commercial research only), plus frames of the real "
    "clips in `videos_real` (research demo use: MIT/Apache code repositories, clips from the "
    "internet, Pexels licence). Fakes: synthesised on the fly from those reals (self-blends "
    "and donor blends, `engine.synthesis`). No image is shipped; the weights are for research "
    "use only. Evaluation data `dev_eval` (DFDC, research only) was never trained on."
)


_COMMON_LIMITS = (
    "Trained in runs of minutes to an hour on a shared CPU (the SBI trunk's last stage and "
    "the heads' last runs for minutes on one GPU), with a CPU-sized backbone "
    "(EfficientNet-Lite at the input size stated above, its early stages frozen in most "
    "training runs), on real "
    "faces from UTKFace/CelebA/short clips and fakes synthesised from them: it has never seen "
    "a real face-swap video in training. The synthetic validation score measures how well it "
    "finds blending artefacts of the kind it was trained on, not its accuracy on deepfakes in "
    "the wild; the DFDC smoke check is 22 crops (the 11 real ones are frames of one video) "
    "and 2 videos. Calibration was fitted on synthetic validation data, so a calibrated "
    "p_fake is a probability for that mix of real "
    "faces and synthetic blends. Use it as one piece of evidence next to the other "
    "detectors and the analyst's own examination."
)

MODEL_NOTES: dict[str, tuple[str, str, str]] = {
    "sbi": (
        "Self-Blended Images (SBI)",
        "Binary classifier of real faces vs. self-blended images (SBI): it looks for the "
        "generic traces of blending one face region into another (boundary, colour and "
        "frequency mismatch). Explanation map: Grad-CAM of the fake log-odds on the last "
        "convolutional block, computed exactly in the graph as a class activation map.",
        _COMMON_LIMITS,
    ),
    "xray": (
        "Face X-ray (blending boundary)",
        "Predicts the blending boundary (Face X-ray) as a 64x64 map and a real/fake score; "
        "trained on self-blends and nearest-landmark donor blends. Explanation map: the "
        "predicted boundary itself (a per-pixel probability; empty for a clean real face).",
        _COMMON_LIMITS,
    ),
    "mat": (
        "Multi-attentional (MAT)",
        "Multi-attentional classifier: four attention maps pick face regions whose shallow "
        "texture features are pooled and classified with a global feature; trained with the "
        "regional independence loss and attention-guided augmentation on self-blends and "
        "donor blends. Explanation map: the mean of the four attention maps (each kept as a "
        "part map).",
        _COMMON_LIMITS + " Attention maps show where the model looked, not where a forgery is.",
    ),
}


def apply_notes(card: dict[str, Any], method: str) -> dict[str, Any]:
    """The card with the display name, summary and limitations of ``method`` filled in."""
    display_name, summary, limitations = MODEL_NOTES[method]
    return {**card, "display_name": display_name, "summary": summary, "limitations": limitations}


def write_card(out_dir: Path, card: dict[str, Any]) -> tuple[Path, Path]:
    """Write ``<name>.json`` and ``<name>.md`` into ``out_dir``; returns both paths."""
    name = card["cfg"]["name"]
    json_path = Path(out_dir) / f"{name}.json"
    json_path.write_text(json.dumps(card, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    md_path = json_path.with_suffix(".md")
    md_path.write_text(render_markdown(card), encoding="utf-8")
    return json_path, md_path


def read_card(path: Path) -> dict[str, Any]:
    """A card JSON (schema checked, cfg validated)."""
    card: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    if card.get("schema") != CARD_SCHEMA:
        raise ValueError(f"{path} is not a schema-{CARD_SCHEMA} model card")
    DetectorCfg.from_dict(card["cfg"])
    return card


def record_metrics(card_path: Path, key: str, metrics: dict[str, Any], command: str) -> None:
    """Store ``metrics`` under ``key`` with the command that produced them; re-render the md."""
    card = read_card(card_path)
    card.setdefault("metrics", {})[key] = {**metrics, "command": command}
    write_card(Path(card_path).parent, card)


def record_card_entry(card_path: Path, key: str, entry: dict[str, Any]) -> None:
    """Store ``entry`` (with its own command) at the card's top level under ``key``, for
    figures that are not a metrics row (e.g. ``benign_edits``); re-render the md."""
    card = read_card(card_path)
    card[key] = dict(entry)
    write_card(Path(card_path).parent, card)


def record_threshold(card_path: Path, threshold: float, source: dict[str, Any]) -> None:
    """Set the detector's threshold (``cfg.threshold``) and say where it came from
    (``threshold_source``: the real-media fit, ``engine.evaluation.fit_thresholds``); re-render
    the md. No score changes: the threshold is where "above its threshold" starts."""
    card = read_card(card_path)
    card["cfg"]["threshold"] = float(threshold)
    card["threshold_source"] = dict(source)
    write_card(Path(card_path).parent, card)


def _threshold_line(cfg: dict[str, Any], source: dict[str, Any] | None) -> str:
    line = f"- Threshold on calibrated `p_fake`: {cfg['threshold']}"
    if not source:
        return line + "."
    held = source.get("cross_validated", {})
    rates = "; ".join(f"{'photos' if m == 'image' else 'videos'} {c['above']} of {c['n']}"
                      for m, c in held.items() if c.get("n"))
    return (f"{line}, taken from real media: at most {source['max_rate']:.0%} of the real "
            f"photos and of the real videos of `{source.get('index', '?')}` reach it (never "
            f"below 0.5). Each real source held out in turn: {rates or 'none'}. Command: "
            f"`{source.get('command', '')}`.")


def _fmt(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _metrics_table(metrics: dict[str, Any]) -> list[str]:
    lines = ["| evaluation | AUC | AP | accuracy @ threshold | real / fake | command |",
             "|---|---|---|---|---|---|"]
    for key, m in sorted(metrics.items()):
        lines.append(
            f"| {key} | {_fmt(m.get('auc', '-'))} | {_fmt(m.get('ap', '-'))} | "
            f"{_fmt(m.get('accuracy', '-'))} @ {_fmt(m.get('threshold', '-'))} | "
            f"{m.get('n_real', '-')} / {m.get('n_fake', '-')} | `{m.get('command', '')}` |"
        )
    return lines


def _stage_lines(stages: list[dict[str, Any]], depth: int = 0) -> list[str]:
    lines = []
    for stage in stages:
        what = {"init_from": "network from", "trunk_from": "frozen trunk from"}[stage["role"]]
        if stage.get("command") is None:
            lines.append(f"{'  ' * depth}- {what} `{stage['checkpoint']}` (no card found there)")
            continue
        on = f" on {_short_hardware(stage['hardware'])}" if stage.get("hardware") else ""
        lines.append(f"{'  ' * depth}- {what} `{stage['checkpoint']}`: `{stage['command']}`, "
                     f"{stage['elapsed_s'] / 60.0:.1f} min ({stage['steps']} steps{on})")
        lines += _stage_lines(stage.get("previous_stages", []), depth + 1)
    return lines


def _short_hardware(hardware: str) -> str:
    """The first part of a hardware description: "NVIDIA H100 80GB HBM3 GPU (CUDA 13.0), ..."
    gives "NVIDIA H100 80GB HBM3 GPU (CUDA 13.0)", a CPU's "x86_64, ..." "x86_64 CPU"."""
    first = hardware.split(", ")[0]
    return first if "GPU" in first else f"{first} CPU"


def total_training_s(training: dict[str, Any]) -> float:
    """Seconds of training of this run and of every earlier stage it started from."""
    return float(training.get("elapsed_s", 0.0)) + sum(
        total_training_s(stage) for stage in training.get("previous_stages", [])
        if stage.get("command") is not None)


def _training_lines(training: dict[str, Any]) -> list[str]:
    config = training.get("config", {})
    frozen = config.get("freeze_stages")
    lines = [
        f"- Command: `{training.get('command', '')}`",
        f"- Wall time: {training.get('elapsed_s', 0.0) / 60.0:.1f} min of training "
        f"({training.get('steps', '?')} steps); hardware: {training.get('hardware', '?')}.",
    ]
    if training.get("release_command"):
        lines.append(f"- Released (calibrated, exported, measured) with: "
                     f"`{training['release_command']}`")
    if training.get("data_note"):
        lines.append(f"- Training faces: {training['data_note']}")
    if training.get("wise"):
        wise = training["wise"]
        lines.append(f"- Weights: WiSE-FT interpolation (Wortsman et al., CVPR 2022), "
                     f"{wise['alpha']:g} x this run's network + {1 - wise['alpha']:g} x the "
                     f"network it started from (`{wise['start']}`), calibrated and measured "
                     "as such.")
    if frozen == 0:
        lines.append("- Frozen during this run: nothing (the whole network trained).")
    elif frozen is not None:
        groups = "stride group" if frozen == 1 else f"{frozen} stride groups"
        lines.append(f"- Frozen during this run: the encoder's stem and first {groups} "
                     "(ImageNet weights unless an earlier stage below trained them).")
    stages = training.get("previous_stages", [])
    if stages:
        lines += ["- This run started from earlier runs (each rerun with its own command):",
                  *_stage_lines(stages, 1),
                  f"- Training over all stages: {total_training_s(training) / 60.0:.1f} min."]
    return lines


def _input_line(cfg: dict[str, Any], tile_policy: dict[str, Any] | None) -> str:
    norm = f"normalised with mean {cfg['mean']} and std {cfg['std']} (on the [0, 1] scale)"
    if cfg.get("input_mode") == "native_tiles" and tile_policy:
        small = ("upscaled to one tile" if tile_policy.get("fixed_size")
                 else "scored as one smaller tile")
        if not tile_policy.get("score_picture", True):
            return (f"- Input: native-resolution {tile_policy['tile_px']} px tiles of each "
                    f"face's region only, never resized (a region smaller than a tile is "
                    f"{small}; at most {tile_policy['max_tiles_face']} tiles a face in a "
                    f"still, {tile_policy['max_tiles_face_frame']} in a video frame), {norm}.")
        return (f"- Input: native-resolution {tile_policy['tile_px']} px tiles of the whole "
                f"picture, never resized (a picture smaller than a tile is {small}; at most "
                f"{tile_policy['max_tiles_image']} tiles a still, "
                f"{tile_policy['max_tiles_frame']} a video frame), {norm}.")
    return (f"- Input: face crop from `engine.faces.crop.CropPolicy()` (margin 0.25, 256 px), "
            f"resized to {cfg['input_size']} px, {norm}.")


def render_markdown(card: dict[str, Any]) -> str:
    """The human-readable model card."""
    cfg, training = card["cfg"], card.get("training", {})
    lines = [
        f"# {cfg['name']} (version {cfg['version']})", "",
        f"Method: {cfg['paper']}. Variant: `{cfg['variant']}`.", "",
        card.get("summary", ""), "",
        "## Files", "",
        "| file | SHA-256 |", "|---|---|",
        f"| `{cfg['weights_file']}` (PyTorch state dict) | `{cfg['weights_sha256']}` |",
        f"| `{cfg['onnx_file']}` (ONNX opset {cfg['onnx_opset']}, dynamic batch) | "
        f"`{cfg['onnx_sha256']}` |", "",
        "## Inputs and outputs", "",
        _input_line(cfg, card.get("tile_policy")),
        f"- Output: `{cfg['output']}` logits -> `p_fake_raw`; explanation map: "
        f"`{cfg['map_kind']}`.",
        f"- Calibration (Platt, fitted on held-out synthetic validation faces): "
        f"p = sigmoid(a * logit(p_raw) + b) with (a, b) = {cfg['calibration']}.",
        _threshold_line(cfg, card.get("threshold_source")), "",
        "## Data and terms", "", card.get("data_terms") or DATA_TERMS, "",
        f"Training faces: {training.get('n_train_faces', '?')}; validation faces: "
        f"{training.get('n_val_faces', '?')} (identity/clip-disjoint split of the face cache).",
        "", "## Training", "",
        *_training_lines(training),
        "- Config:", "", "```toml", training.get("config_toml", "").rstrip(), "```", "",
        "## Metrics", "",
        *_metrics_table({k: v for k, v in card.get("metrics", {}).items() if k != "dev_bench"}),
        "",
        card.get("metrics_note") or (
            "Synthetic validation = held-out real faces vs. their synthetic fakes (the kind of "
            "fake the model was trained on); it says the model learned the blend artefacts, not "
            "how it does on real deepfakes. `dev_eval` is a small DFDC smoke check (22 crops, 2 "
            "videos), not a benchmark."), "",
        *_dev_bench_lines(card.get("metrics", {}).get("dev_bench")),
        *_benign_edit_lines(card.get("benign_edits")),
        *_part_composite_lines(card.get("part_composites")),
        *_reference_lines(card.get("reference_comparison")),
        "## Limitations", "", card.get("limitations", ""), "",
    ]
    return "\n".join(lines)


def _benign_edit_lines(entry: dict[str, Any] | None) -> list[str]:
    """Real media after benign edits (``engine.evaluation.benign_edits``)."""
    if not entry:
        return []
    lines = ["## Benign edits of real faces", "",
             f"Command: `{entry.get('command', '')}` on the real items of "
             f"`{entry.get('source', '?')}`. Real items at or above this detector's threshold "
             "after each edit (k/n, share; exact 95% interval), and the share of single faces.",
             "", "| edit | real items at or above the threshold | faces |", "|---|---|---|"]
    for m in entry.get("edits", {}).values():
        lines.append(f"| {m.get('words', '?')} | {rate_text(m['items_above'], m['n_items'])} | "
                     f"{100.0 * m['crops_above'] / max(m['n_crops'], 1):.0f}% of "
                     f"{m['n_crops']} |")
    return [*lines, ""]


def _part_composite_lines(entry: dict[str, Any] | None) -> list[str]:
    """Photo composites of face parts (``engine.evaluation.part_composites``)."""
    if not entry:
        return []
    lines = ["## Photo composites of face parts", "",
             f"Command: `{entry.get('command', '')}` on one face of each real item of "
             f"`{entry.get('source', '?')}`: each face gets another real item's eye, nose, mouth "
             "or whole face, aligned on the landmarks. These composites are the project's own, "
             "made of media made by others (evaluation only). AUC of the composites against the "
             "untouched faces, and composites at or above this detector's threshold.", "",
             "| composite | AUC | composites at or above the threshold |", "|---|---|---|"]
    for m in entry.get("rows", {}).values():
        lines.append(f"| {m.get('words', '?')} | {m['auc']:.3f} | "
                     f"{rate_text(m['composites_above'], m['n'])} |")
    return [*lines, ""]


def _reference_lines(entry: dict[str, Any] | None) -> list[str]:
    """Reference comparisons (``engine.evaluation.reference_null``; docs/FINDINGS.md section 6)."""
    if not entry:
        return []
    lines = ["## Against genuine footage of the same source (reference comparisons)", "",
             f"Command: `{entry.get('command', '')}`. Genuine differences: "
             f"{entry.get('measured_on', '?')}, each half set against the other ("
             f"{entry.get('n_videos', '?')} videos); fakes: each fake of "
             f"`{entry.get('pairs', '?')}` (second half) against its own source (first half). "
             "Differences are of the mean frame logit, suspect minus reference.", "",
             "| evidence | genuine: 95th percentile / largest | fakes reached by at most 5% / "
             "1% of genuine |", "|---|---|---|"]
    for label, row in (("this detector", entry.get("detector")),
                       (f"its kind ({(entry.get('kind') or {}).get('name')})", entry.get("kind"))):
        if row:
            lines.append(f"| {label} | {row['genuine_q95']:+.2f} / {row['genuine_max']:+.2f} | "
                         f"{row['fakes_at_5pct']} / {row['fakes_at_1pct']} of {row['n_fakes']} |")
    return [*lines, ""]


def _dev_bench_lines(bench: dict[str, Any] | None) -> list[str]:
    """The detector on media made by others, and the error rates of the findings it feeds."""
    if not bench:
        return []
    lines = ["## On media made by others (dev bench)", "",
             f"Command: `{bench.get('command', '')}`. Each fake kind against the real items of "
             "the same modality (docs/devbench/README.md has every detector and source).", "",
             "| fakes | n fake / real | AUC | AUC 95% interval (bootstrap) | AP |",
             "|---|---|---|---|---|"]
    # NOTE: sorted, as the JSON card stores them, so the page reads the same whichever command
    # wrote it last (the in-memory report keeps the index's order)
    for kind, m in sorted(bench.get("by_kind", {}).items()):
        ci = m.get("auc_ci")
        ci_text = "-" if not ci else f"{ci[0]:.2f}–{ci[1]:.2f}"
        lines.append(f"| {kind} | {m['n_fake']} / {m['n_real']} | {m['auc']:.3f} | {ci_text} | "
                     f"{m['ap']:.3f} |")
    above = bench.get("real_above_threshold")
    if above:
        img, vid = above["image"], above["video"]
        lines += ["", f"Real media at or above this detector's threshold ({above['threshold']}):"
                  f" {img['above']} of {img['n']} real photos, {vid['above']} of {vid['n']} "
                  "real videos."]
    rates = bench.get("error_rates", {}).get("overall", {})
    if rates:
        lines += ["", "Findings (all detectors, fusion v2) on the same media, "
                  f"{bench['error_rates'].get('method', '')}: items graded weak or above / "
                  "moderate or above / strong (k/n, share; exact 95% interval).", "",
                  "| items | weak+ | moderate+ | strong |", "|---|---|---|---|"]
        for group, r in sorted(rates.items()):
            lines.append(f"| {group} | {rate_text(r['WEAK'], r['n'])} | "
                         f"{rate_text(r['MODERATE'], r['n'])} | {rate_text(r['STRONG'], r['n'])} |")
    return [*lines, ""]
