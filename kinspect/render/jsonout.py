"""The summary's JSON document: a public, versioned contract (see README "JSON output")."""

from __future__ import annotations

from typing import Any

from kinspect.analyzers.cost import LayerCost
from kinspect.analyzers.summary import Summary
from kinspect.model import CompileInfo, LayerInfo, ModelInfo, WeightIssue
from kinspect.render.cost import layer_json, report_json
from kinspect.render.formatting import shape_json

SUMMARY_SCHEMA = "kinspect/summary@1"


def _uncertain(trainable: tuple[int, int], non_trainable: tuple[int, int]) -> dict[str, list[int]]:
    """The ``uncertain`` key: where the split is not known, the [low, high] of each count."""
    return {"trainable_params": list(trainable), "non_trainable_params": list(non_trainable)}


def _layer(
    layer: LayerInfo, known: bool, expand: bool, costs: dict[int, LayerCost] | None = None
) -> dict[str, Any]:
    doc = _layer_doc(layer, known, expand, costs)
    if known and layer.uncertain_params:
        doc["uncertain"] = _uncertain(*layer.split_range())
    if costs is not None:  # summary --cost: additive keys
        doc.update(layer_json(costs.get(id(layer))))
    return doc


def _layer_doc(
    layer: LayerInfo, known: bool, expand: bool, costs: dict[int, LayerCost] | None
) -> dict[str, Any]:
    return {
        "name": layer.name,
        "class_name": layer.class_name,
        "module": layer.module,
        "output_shape": shape_json(layer.output_shape),
        "params": layer.params if known else None,
        "trainable_params": layer.trainable_params if known else None,
        "non_trainable_params": layer.non_trainable_params if known else None,
        "trainable": layer.trainable,
        "dtype": layer.dtype,
        "inbound": sorted(
            {ref.layer for ref in layer.connections}, key=[r.layer for r in layer.connections].index
        ),
        "connections": [str(ref) for ref in layer.connections],
        "weights": [
            {
                "name": w.name,
                "path": w.path,
                "shape": list(w.shape),
                "dtype": w.dtype,
                "trainable": w.trainable if w.trainable_known else None,
            }
            for w in layer.weights
        ],
        "notes": list(layer.notes),
        "layers": [_layer(child, known, expand, costs) for child in layer.layers]
        if expand or layer.is_model
        else [],
    }


def _compile(info: CompileInfo | None) -> dict[str, Any] | None:
    if info is None:
        return None
    return {"optimizer": info.optimizer, "learning_rate": info.learning_rate, "loss": info.loss,
            "metrics": info.metrics}  # fmt: skip


def model_json(model: ModelInfo) -> dict[str, Any]:
    return {
        "name": model.name,
        "class_name": model.class_name,
        "keras_version": model.keras_version,
        "backend": model.backend,
        "date_saved": model.date_saved,
        "dtype_policy": model.dtype,
        "inputs": [str(r) for r in model.inputs],
        "outputs": [str(r) for r in model.outputs],
        "compile": _compile(model.compile),
    }


def _issue(issue: WeightIssue) -> dict[str, Any]:
    return {
        "layer": issue.layer,
        "kind": issue.kind.value,
        "weight": issue.weight,
        "expected": list(issue.expected) if issue.expected is not None else None,
        "found": list(issue.found) if issue.found is not None else None,
    }


def summary_doc(summary: Summary) -> dict[str, Any]:
    model = summary.model
    known = model.params_known  # null, not 0, for weights the file does not give kinspect
    t = summary.totals
    rows = [r.layer for r in summary.rows if r.depth == 0]
    costs = None if summary.cost is None else {id(c.layer): c for c in summary.cost.walk()}
    return {
        "schema": SUMMARY_SCHEMA,
        "file": model.path,
        "format": model.format.value,
        "file_size": model.file_size,
        "model": model_json(model),
        "has_architecture": model.has_architecture,
        "weights_checked": model.weights_checked,
        "total_params": t.total - t.optimizer if known else None,
        "trainable_params": t.trainable if known else None,
        "non_trainable_params": t.non_trainable if known else None,
        "optimizer_params": t.optimizer if known else None,
        "total_bytes": t.total_bytes - t.optimizer_bytes if known else None,
        "trainable_bytes": t.trainable_bytes if known else None,
        "non_trainable_bytes": t.non_trainable_bytes if known else None,
        **(
            {"uncertain": _uncertain(t.trainable_range, t.non_trainable_range)}
            if known and t.uncertain
            else {}
        ),
        "layers": [_layer(layer, known, True, costs) for layer in rows],
        "unmatched_weights": [
            {"path": w.path, "shape": list(w.shape), "dtype": w.dtype} for w in model.unmatched_weights
        ],
        "weight_issues": [_issue(i) for i in model.weight_issues],
        **({"weights_mismatch": model.weights_mismatch} if model.weights_mismatch is not None else {}),
        "notes": list(model.notes),
        **(report_json(summary.cost) if summary.cost is not None else {}),
    }
