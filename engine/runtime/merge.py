"""Merge detector graphs that read the same input into one graph that computes shared work once.

SBI, Face X-ray and MAT share one EfficientNet-Lite0 trunk up to stride 16: SBI fine-tuned it
from ImageNet stage by stage (docs/MODELS.md), and X-ray and MAT trained their heads on it
with it frozen (``freeze_stages`` and ``trunk_from`` in ``configs/training``), at the same
input size and normalisation. Their exported graphs therefore start with hundreds of identical
nodes on identical weights. Running them as three sessions computes that trunk three times per
face; merged, ONNX Runtime computes it once and each head reads it.

The merge is a common-subexpression elimination across graphs: nodes are visited in each
graph's (topological) order, and a node whose operator, attributes and (already merged) inputs
equal those of a node seen before is not copied; its outputs are mapped onto the earlier
node's. Initialisers are identified by their content (dtype, shape, SHA-256 of the bytes), so
only weights that are bit-identical are shared, and two graphs that share nothing merge into
their plain union. The merged graph's outputs are ``<name>/logits`` and ``<name>/map`` for each
input graph, bit-for-bit what the graph computes alone (the same operators on the same values);
tensors inside are renamed ``<name>:<tensor>``.

Nothing is written to disk: the inputs are the SHA-256-verified model bytes and the merged
model lives in memory.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["MergedGraph", "merge_graphs"]

_INPUT = "input"


@dataclass(frozen=True)
class MergedGraph:
    """A merged model and how much of it is shared.

    Attributes:
        model_bytes: the serialised merged ONNX model.
        outputs: per input graph, its output names in the merged graph, in its own order.
        n_nodes_alone: nodes of the input graphs added up.
        n_nodes_merged: nodes of the merged graph (fewer when work is shared).
    """

    model_bytes: bytes
    outputs: dict[str, tuple[str, ...]]
    n_nodes_alone: int
    n_nodes_merged: int


@dataclass
class _Merger:
    """The graph being built and the tables that find work already in it."""

    opset: Any
    nodes: list[Any] = field(default_factory=list)
    initializers: list[Any] = field(default_factory=list)
    init_by_content: dict[tuple[Any, ...], str] = field(default_factory=dict)
    node_by_key: dict[tuple[Any, ...], list[str]] = field(default_factory=dict)


def merge_graphs(models: Mapping[str, bytes]) -> MergedGraph:
    """Merge ``{name: onnx model bytes}`` (each with one input ``input``) into one model.

    Raises:
        ValueError: fewer than two graphs, different opsets or inputs, or an operator with a
            subgraph (its outer-scope references cannot be renamed safely).
    """
    import onnx

    if len(models) < 2:
        raise ValueError(f"merging needs at least two graphs, got {list(models)}")
    parsed = {name: onnx.load_from_string(data) for name, data in models.items()}
    first = next(iter(parsed.values()))
    merger = _Merger(opset=list(first.opset_import))
    outputs: dict[str, tuple[str, ...]] = {}
    graph_outputs: list[Any] = []
    for name, model in parsed.items():
        _check_compatible(name, model, first)
        mapped = _add_graph(merger, name, model.graph)
        outputs[name] = tuple(f"{name}/{o.name}" for o in model.graph.output)
        for out in model.graph.output:
            merger.nodes.append(onnx.helper.make_node(
                "Identity", [mapped[out.name]], [f"{name}/{out.name}"],
                name=f"{name}/output/{out.name}"))
            renamed = onnx.ValueInfoProto()
            renamed.CopyFrom(out)
            renamed.name = f"{name}/{out.name}"
            graph_outputs.append(renamed)
    graph = onnx.helper.make_graph(
        merger.nodes, "merged_" + "_".join(parsed), [first.graph.input[0]], graph_outputs,
        initializer=merger.initializers)
    merged = onnx.helper.make_model(graph, opset_imports=merger.opset)
    merged.ir_version = first.ir_version
    onnx.checker.check_model(merged)
    return MergedGraph(
        model_bytes=merged.SerializeToString(),
        outputs=outputs,
        n_nodes_alone=sum(len(m.graph.node) for m in parsed.values()),
        n_nodes_merged=len(merger.nodes) - len(graph_outputs),
    )


def _check_compatible(name: str, model: Any, first: Any) -> None:
    opsets = {(o.domain, o.version) for o in model.opset_import}
    if opsets != {(o.domain, o.version) for o in first.opset_import}:
        raise ValueError(f"graph {name!r} uses opsets {sorted(opsets)}; the first graph others")
    inputs = [i.name for i in model.graph.input]
    if inputs != [_INPUT] or model.graph.input[0] != first.graph.input[0]:
        raise ValueError(f"graph {name!r} must have the one input {_INPUT!r} of the first graph")


def _add_graph(merger: _Merger, name: str, graph: Any) -> dict[str, str]:
    """Add ``graph``'s initialisers and nodes; its tensor names -> merged tensor names."""
    mapped = {_INPUT: _INPUT, "": ""}  # "" is an omitted optional input
    for init in graph.initializer:
        mapped[init.name] = _add_initializer(merger, name, init)
    for node in graph.node:
        _add_node(merger, name, node, mapped)
    return mapped


def _add_initializer(merger: _Merger, prefix: str, init: Any) -> str:
    import onnx

    content = onnx.numpy_helper.to_array(init).tobytes()
    key = (init.data_type, tuple(init.dims), hashlib.sha256(content).hexdigest())
    if key not in merger.init_by_content:
        copy = onnx.TensorProto()
        copy.CopyFrom(init)
        copy.name = f"{prefix}:{init.name}"
        merger.initializers.append(copy)
        merger.init_by_content[key] = copy.name
    return merger.init_by_content[key]


def _add_node(merger: _Merger, prefix: str, node: Any, mapped: dict[str, str]) -> None:
    import onnx

    if any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)
           for a in node.attribute):
        raise ValueError(f"node {node.name!r} ({node.op_type}) has a subgraph; cannot merge")
    inputs = [mapped[i] for i in node.input]
    attrs = tuple(sorted((a.name, a.SerializeToString()) for a in node.attribute))
    key = (node.domain, node.op_type, attrs, tuple(inputs), len(node.output))
    seen = merger.node_by_key.get(key)
    if seen is None:
        copy = onnx.NodeProto()
        copy.CopyFrom(node)
        copy.name = f"{prefix}:{node.name}"
        del copy.input[:]
        copy.input.extend(inputs)
        del copy.output[:]
        copy.output.extend(f"{prefix}:{o}" if o else "" for o in node.output)
        merger.nodes.append(copy)
        seen = merger.node_by_key[key] = list(copy.output)
    for original, merged in zip(node.output, seen, strict=True):
        if original:
            mapped[original] = merged
