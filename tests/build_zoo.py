"""Build the fixture models with Keras, save them in every format, and record the oracle.

Run as ``python tests/build_zoo.py OUTDIR``. For every model of ``tests/zoo.py``
(Keras 3) and ``tests/zoo_keras2.py`` (tf_keras), it writes the saved files and
``<name>.oracle.json``: what the live Keras model reports (parameter counts, output
shapes, trainable split), the text of ``summary()`` on the model loaded back, and the
nodes and edges ``keras.utils.model_to_dot`` draws for the live model.
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
import traceback
from contextlib import redirect_stdout
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ["COLUMNS"] = "400"  # Keras caps the summary width at the terminal's
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

LINE = 150  # summary line length used for text comparisons
SHARDED = {"mnist_cnn", "nested", "ResNet50"}  # also saved as sharded weights
TEXT_VARIANTS = {"plain": {}, "expanded": {"expand_nested": True, "show_trainable": True}}


def _shape(x: Any) -> Any:
    if hasattr(x, "shape"):
        return [None if d is None else int(d) for d in x.shape]
    if isinstance(x, dict):
        return {k: _shape(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_shape(v) for v in x]
    return None


def _flat_shapes(outputs: Any) -> Any:
    import keras

    flat = keras.tree.flatten(outputs)
    shapes = [_shape(t) for t in flat]
    return shapes[0] if len(shapes) == 1 else shapes


def _size(weights: Any) -> int:
    import math

    return int(sum(math.prod(w.shape) for w in weights))


def keras3_layer(layer: Any) -> dict[str, Any]:
    nodes = getattr(layer, "_inbound_nodes", [])
    shape = _flat_shapes(nodes[-1].output_tensors) if nodes else None
    built = getattr(layer, "built", True)
    children = getattr(layer, "layers", None) if hasattr(layer, "layers") else None
    return {
        "name": layer.name,
        "class_name": type(layer).__name__,
        "params": layer.count_params() if built and hasattr(layer, "count_params") else 0,
        "trainable_params": _size(getattr(layer, "trainable_weights", [])),
        "non_trainable_params": _size(getattr(layer, "non_trainable_weights", [])),
        "output_shape": shape,
        "layers": [keras3_layer(c) for c in children] if children else [],
    }


def keras3_rows(model: Any) -> list[Any]:
    from keras.src.models import Functional

    return list(model._operations) if isinstance(model, Functional) else list(model.layers)


def keras3_summary(model: Any, **kwargs: Any) -> str:
    lines: list[str] = []
    model.summary(line_length=LINE, print_fn=lambda s, **_: lines.append(s), **kwargs)
    return "".join(lines)


def _label_cells(label: str) -> list[str]:
    """The text of each table cell of a Keras 3 HTML-like node label, tags removed."""
    return [re.sub(r"<[^>]*>", "", cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", label)]


def keras3_graph(model: Any, expand_nested: bool) -> dict[str, Any]:
    """What ``model_to_dot(show_shapes=True)`` draws, with Keras's ``id(layer)`` node ids mapped
    back to layer paths (names from the top model down) through the layer objects."""
    import keras
    from keras.src.models import Functional

    paths: dict[str, list[str]] = {}

    def walk(container: Any, prefix: list[str]) -> None:
        ops = container._operations if isinstance(container, Functional) else container.layers
        for op in ops:
            paths.setdefault(str(id(op)), [*prefix, op.name])
            if isinstance(op, (keras.Model,)) and hasattr(op, "layers"):
                walk(op, [*prefix, op.name])

    walk(model, [])
    dot = keras.utils.model_to_dot(model, show_shapes=True, expand_nested=expand_nested)
    nodes: list[dict[str, Any]] = []
    edges: list[list[list[str]]] = []

    def collect(graph: Any, cluster: list[str]) -> None:
        for node in graph.get_nodes():
            if node.get_name() in paths:
                cells = _label_cells(node.get("label") or "")
                nodes.append({"path": paths[node.get_name()], "cells": cells, "cluster": cluster})
        for edge in graph.get_edges():
            edges.append([paths[str(edge.get_source())], paths[str(edge.get_destination())]])
        for sub in graph.get_subgraphs():
            collect(sub, [*cluster, sub.get_name().removeprefix("cluster_")])

    collect(dot, [])
    return {"nodes": nodes, "edges": edges}


def keras3_graphs(model: Any) -> dict[str, Any]:
    variants = {"plain": False}
    if any(isinstance(getattr(op, "layers", None), list) for op in keras3_rows(model)):
        variants["expanded"] = True
    graphs: dict[str, Any] = {}
    for variant, expand in variants.items():
        try:
            graphs[variant] = keras3_graph(model, expand)
        except Exception as exc:  # Keras cannot draw every model
            graphs[f"{variant}/error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
    return graphs


def build_keras3(outdir: str) -> None:
    import keras
    import zoo

    for name, builder in zoo.BUILDERS.items():
        base = os.path.join(outdir, name)
        if os.path.exists(base + ".oracle.json"):
            continue
        print(f"building {name}", flush=True)
        keras.utils.clear_session()
        model = builder()
        model.save(base + ".keras")
        model.save(base + ".h5")
        model.save_weights(base + ".weights.h5")
        if name in SHARDED:
            # Sharded weights: an index and several shard files; shards hold whole variables.
            sizes = [v.numpy().nbytes for v in model.weights]
            shard_gb = max(max(sizes), sum(sizes) // 3) * 1.01 / 1024**3
            model.save_weights(base + ".sharded.weights.json", max_shard_size=shard_gb)
        oracle: dict[str, Any] = {
            "family": "keras3",
            "application": name in zoo.APPLICATIONS,
            "name": model.name,
            "class_name": type(model).__name__,
            "total_params": model.count_params(),
            "trainable_params": _size(model.trainable_weights),
            "non_trainable_params": _size(model.non_trainable_weights),
            "layers": [keras3_layer(layer) for layer in keras3_rows(model)],
            "summary": {f"live/{v}": keras3_summary(model, **kw) for v, kw in TEXT_VARIANTS.items()},
            "graph": keras3_graphs(model),
        }
        for fmt in ("keras", "h5"):
            try:
                live = keras.saving.load_model(f"{base}.{fmt}", safe_mode=False)
            except Exception as exc:  # Keras cannot always read back what it wrote
                oracle["summary"][f"{fmt}/error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
                continue
            for variant, kwargs in TEXT_VARIANTS.items():
                oracle["summary"][f"{fmt}/{variant}"] = keras3_summary(live, **kwargs)
        with open(base + ".oracle.json", "w") as fh:
            json.dump(oracle, fh, indent=1)


def keras2_layer(layer: Any) -> dict[str, Any]:
    n = len(getattr(layer, "_inbound_nodes", []))
    shapes = []
    for i in range(n):
        try:
            shapes.append(_as_list(layer.get_output_shape_at(i)))
        except (AttributeError, RuntimeError, ValueError):
            shapes.append(None)
    children = getattr(layer, "layers", None)
    return {
        "name": layer.name,
        "class_name": type(layer).__name__,
        "params": layer.count_params() if layer.built else 0,
        "trainable_params": _size(layer.trainable_weights),
        "non_trainable_params": _size(layer.non_trainable_weights),
        "output_shapes": shapes,
        "layers": [keras2_layer(c) for c in children] if children else [],
    }


def _as_list(shape: Any) -> Any:
    if isinstance(shape, tuple) and all(d is None or isinstance(d, int) for d in shape):
        return list(shape)
    if hasattr(shape, "as_list"):
        return shape.as_list()
    if isinstance(shape, (list, tuple)):
        return [_as_list(s) for s in shape]
    return shape


def build_keras2(outdir: str) -> None:
    import tf_keras
    import zoo_keras2

    for name, builder in zoo_keras2.BUILDERS.items():
        base = os.path.join(outdir, name)
        if os.path.exists(base + ".oracle.json"):
            continue
        print(f"building {name} (tf_keras)", flush=True)
        tf_keras.backend.clear_session()
        model = builder()
        model.save(base + ".h5")
        model.save(base + ".keras")
        model.save_weights(base + ".weights.hdf5")
        oracle = {
            "family": "keras2",
            "application": name in zoo_keras2.APPLICATIONS,
            "name": model.name,
            "class_name": type(model).__name__,
            "total_params": model.count_params(),
            "trainable_params": _size(model.trainable_weights),
            "non_trainable_params": _size(model.non_trainable_weights),
            "layers": [keras2_layer(layer) for layer in model.layers],
        }
        with open(base + ".oracle.json", "w") as fh:
            json.dump(oracle, fh, indent=1)


def main() -> int:
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    try:
        with redirect_stdout(io.StringIO()) if "--quiet" in sys.argv else redirect_stdout(sys.stdout):
            build_keras3(outdir)
            build_keras2(outdir)
    except Exception:
        traceback.print_exc()
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
