"""``kinspect graph``: Keras's own ``model_to_dot`` is the oracle for nodes, labels and edges.

The fixtures record what ``keras.utils.model_to_dot(model, show_shapes=True)`` draws for the
live model (``tests/build_zoo.py``); kinspect draws from the saved file and must give the
same boxes with the same text, joined by the same edges.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kinspect.analyzers.graph import Graph, build_graph
from kinspect.cli import cli, main
from kinspect.loaders import load
from kinspect.model import Format, LayerInfo, ModelInfo, TensorRef, WeightInfo
from kinspect.render.dot import DotStyle, render_dot
from tests.conftest import check_golden, load_oracle, oracle_names

ROOT = Path(__file__).parent.parent
SAMPLE = "samples/mnist_cnn.keras"
HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz dot is not installed")
KERAS3 = [n for n in oracle_names() if not n.startswith("k2_")]

NODE = re.compile(r"^\s*(n\d+) \[label=<(.*)>, fontname=Helvetica, border=0, margin=0\];$", re.M)
EDGE = re.compile(r"^(n\d+) -> (n\d+) \[penwidth=2\];$", re.M)
CLUSTER = re.compile(r"^\s*subgraph (cluster_\d+) \{$|^\s*(n\d+) \[|^\s*\}$", re.M)


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def cells(label: str) -> list[str]:
    """Text of each table cell, as the oracle records Keras's labels."""
    return [html.unescape(re.sub(r"<[^>]*>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", label)]


def parse(
    dot: str, graph: Graph
) -> tuple[dict[tuple[str, ...], list[str]], set[tuple[tuple[str, ...], ...]]]:
    """Nodes (path -> label cells) and edges (path pairs) read back from the DOT text."""
    paths = {node.id: node.path for node in graph.nodes}
    nodes = {paths[i]: cells(label) for i, label in NODE.findall(dot)}
    edges = {(paths[a], paths[b]) for a, b in EDGE.findall(dot)}
    assert len(nodes) == len(NODE.findall(dot)) == len(graph.nodes)
    return nodes, edges


def clusters_of(dot: str, graph: Graph) -> dict[tuple[str, ...], list[str]]:
    """Each node's enclosing clusters (by name), from the nesting of ``subgraph`` blocks."""
    names = {c.id: c.path[-1] for c in graph.clusters}
    paths = {node.id: node.path for node in graph.nodes}
    stack: list[str] = []
    found: dict[tuple[str, ...], list[str]] = {}
    for m in CLUSTER.finditer(dot):
        if m.group(1):
            stack.append(names[m.group(1)])
        elif m.group(2):
            found[paths[m.group(2)]] = list(stack)
        elif stack:
            stack.pop()
    return found


def agrees(ours: list[str], keras: list[str]) -> bool:
    """Same cells; a shape kinspect reports as unknown (``?``: a custom layer's output, which
    the file does not record) is the only allowed difference."""
    if len(ours) != len(keras):
        return False
    return all(
        a == b or (a.endswith("shape: ?") and a[:-1] == b[: len(a) - 1])
        for a, b in zip(ours, keras, strict=True)
    )


@pytest.mark.parametrize("fmt", ["keras", "h5"])
@pytest.mark.parametrize("name", KERAS3)
def test_graph_matches_keras(zoo_dir: Path, name: str, fmt: str) -> None:
    oracle = load_oracle(zoo_dir, name)["graph"]
    info = load(str(zoo_dir / f"{name}.{fmt}"))
    for variant, expand in (("plain", False), ("expanded", True)):
        if variant not in oracle:
            continue
        graph = build_graph(info, expand_nested=expand)
        dot = render_dot(graph, DotStyle(show_shapes=True))
        nodes, edges = parse(dot, graph)
        want_nodes = {tuple(n["path"]): n["cells"] for n in oracle[variant]["nodes"]}
        assert set(nodes) == set(want_nodes), variant
        assert edges == {(tuple(a), tuple(b)) for a, b in oracle[variant]["edges"]}, variant
        for path, label in nodes.items():
            assert agrees(label, want_nodes[path]), (variant, path, label, want_nodes[path])
        if expand:
            want = {tuple(n["path"]): n["cluster"] for n in oracle[variant]["nodes"]}
            assert clusters_of(dot, graph) == want


@pytest.mark.parametrize("name", [n for n in oracle_names() if n.startswith("k2_")])
def test_keras2_files_draw_their_connections(zoo_dir: Path, name: str) -> None:
    """tf_keras files (which Keras 3 cannot always draw): one edge per distinct connection."""
    info = load(str(zoo_dir / f"{name}.h5"))
    graph = build_graph(info)
    nodes, edges = parse(render_dot(graph, DotStyle()), graph)
    assert set(nodes) == {(layer.name,) for layer in info.layers}
    if info.class_name == "Sequential":
        assert len(edges) == len(info.layers) - 1
    else:
        assert edges == {((ref.layer,), (layer.name,)) for layer in info.layers for ref in layer.connections}


def test_wrappers_expand_with_edges_into_and_out_of_them(zoo_dir: Path) -> None:
    graph = build_graph(load(str(zoo_dir / "rnn_stack.keras")), expand_nested=True)
    nodes, edges = parse(render_dot(graph, DotStyle()), graph)
    inner = {("bidirectional", "forward_lstm"), ("bidirectional", "backward_lstm")}
    assert inner <= set(nodes)
    for path in inner:
        assert (("embedding",), path) in edges and ((("not_equal",), path) in edges)
        assert (path, ("gru",)) in edges
    assert ("time_distributed", "dense") in nodes
    assert [c.path for c in graph.clusters] == [("bidirectional",), ("time_distributed",)]


def test_layer_range_keeps_edges_between_drawn_layers() -> None:
    graph = build_graph(load(SAMPLE), bounds=("conv2d$", "max_pool"))
    nodes, edges = parse(render_dot(graph, DotStyle()), graph)
    assert sorted(nodes) == [("batch_normalization",), ("conv2d",), ("max_pooling2d",)]
    assert edges == {(("conv2d",), ("batch_normalization",)), (("batch_normalization",), ("max_pooling2d",))}


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("mnist_cnn.graph.dot", [SAMPLE, "--show-shapes"]),
        (
            "mnist_cnn.h5.graph.dot",
            ["samples/mnist_cnn.h5", "--hide-layer-names", "--rankdir", "LR", "--dpi", "72"],
        ),
        ("mnist_cnn.weights.graph.dot", ["samples/mnist_cnn.weights.h5", "--show-params"]),
        (
            "text_classifier.graph.dot",
            [
                "samples/text_classifier.keras",
                "--show-shapes",
                "--show-dtype",
                "--show-trainable",
                "--show-layer-activations",
                "--show-params",
                "--color-by",
                "family",
            ],
        ),
        ("text_classifier.params.graph.dot", ["samples/text_classifier.keras", "--color-by", "params"]),
    ],
)
def test_golden_dot(name: str, args: list[str], update_golden: bool) -> None:
    result = CliRunner().invoke(cli, ["graph", *args])
    assert result.exit_code == 0, result.output
    check_golden(name, result.stdout, update_golden)


def test_weights_only_says_it_has_no_edges() -> None:
    result = CliRunner().invoke(cli, ["graph", "samples/mnist_cnn.weights.h5"])
    assert result.exit_code == 0
    assert " -> " not in result.stdout
    assert "without connections" in result.stdout and "without connections" in result.stderr


HOSTILE = [
    '"]; evil [label="x',
    "<script>alert(1)</script>",
    "line\nbreak\r\x00",
    "ünïcødé 🧪 层",
    "back\\",
    "&amp;",
]


def hostile_model() -> ModelInfo:
    layers = [LayerInfo(name=HOSTILE[0], class_name="InputLayer", output_shape=(None, 3))]
    for i, name in enumerate(HOSTILE[1:]):
        layers.append(
            LayerInfo(
                name=name,
                class_name=f'Evil"{i}<b&',
                config={"activation": '"]; x [shape=box'},
                inbound=((TensorRef(layers[-1].name, 0, 0),),),
                weights=(WeightInfo("w", f"layers/{i}/vars/0", (3, 3), "float32", True),),
            )
        )
    return ModelInfo(
        path="evil.keras", format=Format.KERAS, name='m"}', class_name="Functional", layers=tuple(layers)
    )


def test_hostile_names_render_as_text() -> None:
    graph = build_graph(hostile_model())
    style = DotStyle(show_shapes=True, show_dtype=True, show_trainable=True, show_layer_activations=True)
    dot = render_dot(graph, style)
    nodes, edges = parse(dot, graph)
    assert len(nodes) == len(HOSTILE) and len(edges) == len(HOSTILE) - 1
    titles = [c[0] for c in nodes.values()]
    assert titles[0] == '"]; evil [label="x (InputLayer)'
    assert titles[1] == '<script>alert(1)</script> (Evil"0<b&)'
    assert titles[2] == 'line\\nbreak\\r\\x00 (Evil"1<b&)'  # control characters shown, not obeyed
    assert "ünïcødé 🧪 层" in titles[3]
    assert '"];' not in dot and "<script>" not in dot  # no raw quote can end a string early
    if HAS_DOT:
        proc = subprocess.run(["dot", "-Tsvg"], input=dot.encode(), capture_output=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        svg = proc.stdout.decode()
        assert svg.count('class="node"') == len(HOSTILE)
        assert "&lt;script&gt;" in svg and "<script>" not in svg


@needs_dot
@pytest.mark.parametrize(
    ("ext", "magic"), [("png", b"\x89PNG\r\n\x1a\n"), ("svg", b"<?xml"), ("pdf", b"%PDF-")]
)
def test_images_are_valid(tmp_path: Path, ext: str, magic: bytes) -> None:
    target = tmp_path / f"model.{ext}"
    result = CliRunner().invoke(cli, ["graph", SAMPLE, "-o", str(target), "--show-shapes", "--expand-nested"])
    assert (result.exit_code, result.stdout) == (0, "")
    data = target.read_bytes()
    assert data.startswith(magic)
    if ext == "svg":
        assert b"<svg" in data and data.rstrip().endswith(b"</svg>")
    assert [p.name for p in tmp_path.iterdir()] == [target.name]  # written atomically


def chain_model(n: int) -> ModelInfo:
    """A long residual stack built directly as a ModelInfo: Input, then Dense/Add pairs."""
    layers = [LayerInfo(name="input", class_name="InputLayer", output_shape=(None, 8))]
    prev = "input"
    for i in range(n // 2):
        dense = LayerInfo(
            name=f"dense_{i}",
            class_name="Dense",
            output_shape=(None, 8),
            inbound=((TensorRef(prev, 0, 0),),),
            weights=(WeightInfo("kernel", f"layers/dense_{i}/vars/0", (8, 8), "float32", True),),
        )
        add = LayerInfo(
            name=f"add_{i}",
            class_name="Add",
            output_shape=(None, 8),
            inbound=((TensorRef(prev, 0, 0), TensorRef(dense.name, 0, 0)),),
        )
        layers += [dense, add]
        prev = add.name
    return ModelInfo(
        path="chain.keras",
        format=Format.KERAS,
        name="chain",
        class_name="Functional",
        layers=tuple(layers),
        inputs=(TensorRef("input", 0, 0),),
        outputs=(TensorRef(prev, 0, 0),),
    )


def test_three_thousand_layers_make_a_plain_graph() -> None:
    """Timing is the benchmark's job; here: every layer and connection, cheap graph settings."""
    info = chain_model(3000)
    graph = build_graph(info)
    dot = render_dot(graph, DotStyle(show_shapes=True))
    assert len(graph.nodes) == 3001 and len(graph.edges) == 4500
    assert "splines=spline;" in dot and "concentrate" not in dot


def png_size(data: bytes) -> tuple[int, int]:
    return struct.unpack(">II", data[16:24])


@needs_dot
def test_large_png_is_capped_and_the_user_told(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import kinspect.loaders

    monkeypatch.setattr(kinspect.loaders, "load", lambda path, arch=None: chain_model(120))
    target = tmp_path / "big.png"
    result = CliRunner().invoke(cli, ["graph", "chain.keras", "-o", str(target), "--max-megapixels", "0.5"])
    assert result.exit_code == 0, result.output
    assert "megapixels" in result.stderr and "drawn at" in result.stderr
    width, height = png_size(target.read_bytes())
    assert width * height <= 0.5e6 * 1.05


def test_without_dot_one_line_install_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["graph", SAMPLE, "-o", str(tmp_path / "m.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "apt-get install graphviz" in err
    assert not (tmp_path / "m.png").exists()
    assert main(["graph", SAMPLE, "-o", str(tmp_path / "m.dot")]) == 0
    assert (tmp_path / "m.dot").read_text().startswith("digraph G {")
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "Graphviz dot: not found" in out and "apt-get install graphviz" in out


@needs_dot
def test_doctor_reports_dot_and_packages() -> None:
    result = CliRunner().invoke(cli, ["doctor"])
    assert result.exit_code == 0
    out = result.stdout
    version = (
        subprocess.run(["dot", "-V"], capture_output=True, text=True).stderr.split("version ")[1].split()[0]
    )
    assert f"Graphviz dot: {shutil.which('dot')} (version {version})" in out
    assert "image formats: png, svg, pdf" in out
    assert re.search(r"^Required: click \S+, h5py \S+, numpy", out, re.M)
    assert "pydot" in out and "keras" in out


@pytest.mark.parametrize(
    ("args", "code", "pattern"),
    [
        (["graph", "no/such/file.keras"], 3, r"no/such/file.keras: cannot read file"),
        (["graph", "samples"], 3, r"samples: is a directory"),
        (["graph", "README.md"], 3, r"README.md: not a Keras model file"),
        (["graph", SAMPLE, "-o", "model.bmpx"], 2, r"unknown image format 'bmpx'"),
        (["graph", SAMPLE, "-o", "noext"], 2, r"unknown image format '\(no extension\)'"),
        (["graph", SAMPLE, "-o", SAMPLE.replace(".keras", ".dot"), "--rankdir", "XY"], 2, r"--rankdir"),
        (["graph", SAMPLE, "--layer-range", "(", "x"], 2, r"invalid regular expression"),
        (["graph", SAMPLE, "--layer-range", "zzz", "yyy"], 2, r"matches no layer names"),
    ],
)
def test_bad_input_is_one_line(
    args: list[str], code: int, pattern: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (ROOT / SAMPLE).read_bytes()
    assert main(args) == code
    err = capsys.readouterr().err.strip()
    assert re.search(pattern, err), err
    assert "Traceback" not in err
    assert (ROOT / SAMPLE).read_bytes() == before


def test_refuses_to_overwrite_the_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "m.dot"
    copy.write_bytes((ROOT / SAMPLE).read_bytes())
    before = copy.read_bytes()
    assert main(["graph", str(copy), "-o", str(copy)]) == 2
    assert "is the input file" in capsys.readouterr().err
    assert copy.read_bytes() == before


def test_graph_never_imports_keras_or_tensorflow(tmp_path: Path) -> None:
    target = tmp_path / ("m.svg" if HAS_DOT else "m.dot")
    code = (
        "import sys; from kinspect.cli import main; "
        f"rc = main(['graph', {SAMPLE!r}, '-o', {str(target)!r}, '--show-shapes']); "
        "heavy = ('keras', 'tensorflow', 'tf_keras', 'jax', 'torch', 'pydot'); "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in heavy); "
        "print(rc, bad, file=sys.stderr)"
    )
    env = {**os.environ}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120, env=env
    )
    assert proc.stderr.strip().splitlines()[-1] == "0 []"
