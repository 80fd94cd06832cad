"""Long check (not part of the quick suite): kinspect against every keras.applications model.

    python tests/long/all_applications.py [WORKDIR] [--only NAME ...]

Builds each architecture with ``weights=None``, saves it as .keras and .h5, and compares
kinspect's totals, per-layer parameter counts, output shapes and summary text with
Keras's. Prints one line per model and exits non-zero on any difference. Takes tens of
minutes and several GB of disk; run it when shape rules or loaders change.
"""

from __future__ import annotations

import inspect
import os
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ["COLUMNS"] = "400"
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def main() -> int:
    import keras

    from kinspect import load
    from kinspect.analyzers.summary import summarize
    from kinspect.render.formatting import shape_json
    from kinspect.render.table import render_table
    from tests.build_zoo import LINE, keras3_layer, keras3_rows, keras3_summary

    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    only = sys.argv[sys.argv.index("--only") + 1 :] if "--only" in sys.argv else None
    workdir = args[0] if args else tempfile.mkdtemp(prefix="kinspect-apps-")
    os.makedirs(workdir, exist_ok=True)
    names = sorted(n for n, f in vars(keras.applications).items() if inspect.isfunction(f) and n[0].isupper())
    failures = 0
    for name in names:
        if only and name not in only:
            continue
        keras.utils.clear_session()
        try:
            model = getattr(keras.applications, name)(weights=None)
        except Exception as exc:
            print(f"{name}: cannot build ({type(exc).__name__}: {str(exc)[:80]})", flush=True)
            continue
        expected = [keras3_layer(layer) for layer in keras3_rows(model)]
        problems = []
        for ext in ("keras", "h5"):
            path = os.path.join(workdir, f"{name}.{ext}")
            model.save(path)
            info = load(path)
            if info.weight_issues or info.unmatched_weights:
                first = [*info.weight_issues, *info.unmatched_weights][0]
                problems.append(f"{ext}: weights disagree: {first}")
            if info.params != model.count_params():
                problems.append(f"{ext}: total {info.params} != {model.count_params()}")
            for layer, want in zip(info.layers, expected, strict=False):
                got_shape = shape_json(layer.output_shape)
                if (layer.name, layer.params, got_shape) != (
                    want["name"],
                    want["params"],
                    want["output_shape"],
                ):
                    problems.append(f"{ext}: {layer.name} {layer.params} {got_shape} != {want}")
                    break
            if ext == "keras":
                text = render_table(summarize(info), line_length=LINE)
                if text != keras3_summary(model):
                    problems.append(f"{ext}: summary text differs")
            os.unlink(path)
        failures += bool(problems)
        print(f"{name}: {'ok' if not problems else '; '.join(problems)[:400]}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
