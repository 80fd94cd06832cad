"""``kinspect report``: the HTML page's content (parsed), escaping, options, packaging, and a
real headless browser (Debian's chromium through playwright)."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kinspect.cli import cli
from tests.conftest import check_golden, load_oracle, renamed_archive

ROOT = Path(__file__).parent.parent
ARTIFACTS = Path(__file__).parent / ".artifacts"
SAMPLE = ROOT / "samples" / "mnist_cnn.keras"
SECTIONS = ["overview", "layers", "cost", "graph", "weights", "diagnostics", "notes"]
HOSTILE_LAYER = "<script>alert(1)</script>"
HOSTILE_MODEL = '"><img src=x onerror=alert(2)>'
CHROMIUM = "/usr/bin/chromium"


class Page(HTMLParser):
    """What the tests look at: elements with their attributes, sections and their headings,
    table headers and body rows (cells as text), and scripts."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.sections: list[tuple[str, str]] = []
        self.tables: dict[str, dict[str, Any]] = {}
        self.scripts: list[tuple[dict[str, str], str]] = []
        self._stack: list[str] = []
        self._text: list[str] | None = None
        self._heading: list[str] | None = None
        self._table: str | None = None
        self._row: list[str] | None = None
        self._row_attrs: dict[str, str] = {}
        self._in_head = False
        self._script: tuple[dict[str, str], list[str]] | None = None
        self._skip: list[str] = []  # open elements whose text is not a cell's value
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.elements.append((tag, a))
        if self._skip or set(a.get("class", "").split()) & {"badge", "note", "tog"}:
            self._skip.append(tag)
            return
        if tag == "section":
            self.sections.append((a.get("id", ""), ""))
        elif tag == "h2":
            self._heading = []
        elif tag == "table" and a.get("id"):
            self._table = a["id"]
            self.tables[self._table] = {"columns": [], "rows": []}
        elif tag == "thead":
            self._in_head = True
        elif tag == "tr" and self._table:
            self._row, self._row_attrs = [], a
        elif tag in ("td", "th") and self._row is not None:
            self._text = []
        elif tag == "script":
            self._script = (a, [])

    def handle_endtag(self, tag: str) -> None:
        if self._skip:
            if self._skip[-1] == tag:
                self._skip.pop()
            return
        if tag == "h2" and self._heading is not None and self.sections:
            sid, _ = self.sections[-1]
            self.sections[-1] = (sid, re.sub(r"\s*\(.*\)$", "", "".join(self._heading).strip()))
            self._heading = None
        elif tag in ("td", "th") and self._text is not None and self._row is not None:
            self._row.append(" ".join("".join(self._text).split()))
            self._text = None
        elif tag == "tr" and self._row is not None and self._table:
            table = self.tables[self._table]
            if self._in_head:
                table["columns"] = self._row
            else:
                table["rows"].append((self._row_attrs, self._row))
            self._row = None
        elif tag == "thead":
            self._in_head = False
        elif tag == "table":
            self._table = None
        elif tag == "script" and self._script is not None:
            self.scripts.append((self._script[0], "".join(self._script[1])))
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        for sink in (self._text, self._heading, self._script[1] if self._script else None):
            if sink is not None:
                sink.append(data)

    def section_ids(self) -> list[str]:
        return [sid for sid, _ in self.sections]

    def rows(self, table: str) -> list[tuple[dict[str, str], list[str]]]:
        return self.tables[table]["rows"]

    def tags(self, name: str) -> list[dict[str, str]]:
        return [a for t, a in self.elements if t == name]


def run_report(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["report", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def report(model: Path | str, out: Path, *extra: str) -> Page:
    code, _, err = run_report(str(model), "-o", str(out), *extra)
    assert code == 0, err
    return Page((out / "report.html").read_text(encoding="utf-8"))


def count_layers(layers: list[dict[str, Any]]) -> int:
    return sum(1 + count_layers(layer.get("layers", [])) for layer in layers)


def keras_totals(summary_text: str) -> dict[str, int]:
    """Total / Trainable / Non-trainable / Optimizer params as Keras's summary prints them."""
    found = re.findall(r"^ ?([A-Za-z-]+) params: ([\d,]+)", summary_text, re.M)
    names = {"Total": "total", "Trainable": "trainable", "Non-trainable": "non_trainable"}
    names["Optimizer"] = "optimizer"
    return {names[k]: int(v.replace(",", "")) for k, v in found}


def totals_of(page: Page) -> dict[str, int]:
    return {
        attrs["data-total"]: int(cells[1].replace(",", ""))
        for attrs, cells in page.rows("totals")
        if "data-total" in attrs
    }


# ---- content ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["mnist_cnn", "nested", "multi_io", "frozen_layers", "compiled_trained", "rnn_stack", "k2_cnn"]
)
def test_report_content_matches_keras(name: str, zoo_dir: Path, tmp_path: Path) -> None:
    oracle = load_oracle(zoo_dir, name)
    page = report(zoo_dir / f"{name}.keras", tmp_path)
    assert page.section_ids() == SECTIONS
    rows = page.rows("layer-table")
    assert len(rows) == count_layers(oracle["layers"]), "one row per layer, nested ones included"
    top = [cells[1] for attrs, cells in rows if "data-parent" not in attrs]
    assert top == [layer["name"] for layer in oracle["layers"]]
    nested = [attrs for attrs, _ in rows if "data-parent" in attrs]
    assert all("hidden" in attrs for attrs in nested), "nested layers start collapsed"
    got = totals_of(page)
    if "summary" in oracle:  # Keras 3 fixtures: the summary Keras printed for the loaded file
        for key, value in keras_totals(oracle["summary"]["keras/plain"]).items():
            assert got[key] == value, key
    assert got["trainable"] == oracle["trainable_params"]
    assert got["non_trainable"] == oracle["non_trainable_params"]
    params = {cells[1]: int(cells[4].replace(",", "")) for attrs, cells in rows if "data-parent" not in attrs}
    assert params == {layer["name"]: layer["params"] for layer in oracle["layers"]}
    assert (tmp_path / "model.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert page.tags("svg"), "the graph is inlined as SVG"
    weights = page.rows("weight-table")
    assert len(weights) == sum(1 for _ in _tensors(zoo_dir / f"{name}.keras"))


def _tensors(path: Path) -> Iterator[Any]:
    import kinspect
    from kinspect.analyzers.weights import plan

    yield from plan(kinspect.load(path))


def test_overview_and_page_is_self_contained(tmp_path: Path) -> None:
    page = report(SAMPLE, tmp_path)
    text = (tmp_path / "report.html").read_text()
    overview = " ".join(cells[0] for _, cells in page.rows("totals"))
    assert "Total" in overview and "Optimizer" in overview
    for needle in ("mnist_cnn.keras", "Keras version", "3.15.1", "Adam", "sparse_categorical_crossentropy",
                   "image[0][0]", "(None, 28, 28, 1)", "digits[0][0]", "(None, 10)"):  # fmt: skip
        assert needle in text, needle
    assert page.tags("p")[0]["id"] == "verdict"
    # No external resource of any kind: no src, no stylesheet link, no http(s) URL outside text.
    assert not [a for _, a in page.elements if "src" in a]
    assert not page.tags("link") and not page.tags("img") and not page.tags("iframe")
    assert not re.search(r"(src|href)=\"(https?:)?//", text)
    csp = [a["content"] for a in page.tags("meta") if a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in csp[0]
    links = [a["href"] for a in page.tags("a")]
    assert "model.png" in links and all(h.startswith("#") or h == "model.png" for h in links)
    hist = [body for attrs, body in page.scripts if attrs.get("type") == "application/json"]
    assert len(json.loads(hist[0])) == len(page.rows("weight-table"))


def test_structure_golden(tmp_path: Path, update_golden: bool) -> None:
    """The template's skeleton (sections, headings, tables and their columns) does not drift."""
    page = report(SAMPLE, tmp_path)
    lines = [f"section #{sid}: {title}" for sid, title in page.sections]
    lines += [f"table #{tid}: {' | '.join(t['columns'])}" for tid, t in page.tables.items()]
    lines += ["nav: " + " ".join(a["href"] for a in page.tags("a") if a.get("href", "").startswith("#"))]
    text = "\n".join(lines) + "\n"
    check_golden("mnist_cnn.report.structure.txt", text, update_golden)


def test_default_directory_and_stdout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_report(str(SAMPLE))
    assert code == 0
    assert out == "mnist_cnn-report/report.html and mnist_cnn-report/model.png: healthy\n"
    assert sorted(p.name for p in (tmp_path / "mnist_cnn-report").iterdir()) == ["model.png", "report.html"]


def test_no_graph_and_no_weights(tmp_path: Path) -> None:
    page = report(SAMPLE, tmp_path, "--no-graph", "--no-weights")
    assert page.section_ids() == ["overview", "layers", "cost", "diagnostics", "notes"]
    assert not (tmp_path / "model.png").exists()
    text = (tmp_path / "report.html").read_text()
    assert "graph skipped (--no-graph)" in text and "weights skipped (--no-weights)" in text
    assert not page.tags("svg") and "weight-table" not in page.tables
    page = report(SAMPLE, tmp_path / "w", "--no-graph")
    assert page.section_ids() == ["overview", "layers", "cost", "weights", "diagnostics", "notes"]


def test_open_launches_the_browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import webbrowser

    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "open", lambda url, *a, **k: opened.append(url) or True)
    report(SAMPLE, tmp_path, "--open", "--no-weights", "--no-graph")
    assert opened == [(tmp_path / "report.html").resolve().as_uri()]


def test_without_graphviz_the_report_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without Graphviz (no dot on PATH) the page is written and says why it has no drawing, and
    one line on stderr names what was skipped and how to install Graphviz; the exit code is 0."""
    monkeypatch.setenv("PATH", str(tmp_path / "no-graphviz"))
    code, out, err = run_report(str(SAMPLE), "-o", str(tmp_path))
    assert code == 0 and out == f"{tmp_path / 'report.html'}: healthy\n"
    assert len(err.splitlines()) == 1 and "model.png" in err and "apt-get install graphviz" in err
    page = Page((tmp_path / "report.html").read_text(encoding="utf-8"))
    assert "graph" in page.section_ids() and not page.tags("svg")
    assert not (tmp_path / "model.png").exists()
    assert "Graphviz is not installed" in (tmp_path / "report.html").read_text()
    code, _, err = run_report(str(SAMPLE), "-o", str(tmp_path / "asked"), "--no-graph")
    assert (code, err) == (0, ""), "nothing to say when the graph was not asked for"


def test_weights_only_file(tmp_path: Path) -> None:
    page = report(ROOT / "samples" / "mnist_cnn.weights.h5", tmp_path)
    text = (tmp_path / "report.html").read_text()
    assert "unknown (weights only)" in text
    assert "no architecture" in text  # the notes say what cannot be known
    assert page.rows("layer-table") and page.rows("weight-table")


def test_findings_are_listed_and_highlighted(zoo_dir: Path, tmp_path: Path) -> None:
    page = report(zoo_dir / "ResNet50.keras", tmp_path, "--no-graph")
    findings = page.rows("finding-table")
    assert findings and all(re.fullmatch(r"KIN\d{3}", cells[0]) for _, cells in findings)
    assert any(cells[0] == "KIN204" and cells[4] for _, cells in findings), "rule, layer and hint shown"
    flagged = [attrs for attrs, _ in page.rows("weight-table") if "flag" in attrs.get("class", "")]
    assert flagged
    verdict = (tmp_path / "report.html").read_text().split('id="verdict"', 1)[1][:200]
    assert re.search(r"\d+ problems", verdict)


def test_check_results_are_included(zoo_dir: Path, tmp_path: Path) -> None:
    """The default check rules run too: a Lambda layer's bytecode is a KIN101 error on its layer."""
    page = report(zoo_dir / "lambda_layer.keras", tmp_path, "--no-weights", "--no-graph")
    findings = {cells[0]: cells for _, cells in page.rows("finding-table")}
    assert {"KIN101", "KIN107"} <= findings.keys()
    assert findings["KIN101"][1] == "error" and findings["KIN101"][2] == "double"
    assert "bytecode" in findings["KIN101"][4], "the rule's rationale is the hint"
    assert "2 problems" in (tmp_path / "report.html").read_text()


def test_nan_weights_are_highlighted(tmp_path: Path) -> None:
    """NaN planted in the sample's output kernel: an error finding, the row and cell highlighted,
    and the histogram data still strict JSON."""
    import h5py
    import numpy as np

    target = tmp_path / "nan.keras"
    with zipfile.ZipFile(SAMPLE) as src, zipfile.ZipFile(target, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "model.weights.h5":
                (tmp_path / "w.h5").write_bytes(data)
                with h5py.File(tmp_path / "w.h5", "r+") as f:
                    kernel = f["layers/dense/vars/0"]
                    values = kernel[()]
                    values[0, :3] = np.nan
                    kernel[...] = values
                data = (tmp_path / "w.h5").read_bytes()
            dst.writestr(item, data)
    page = report(target, tmp_path / "out", "--no-graph")
    rows = {(cells[0], cells[1]): (attrs, cells) for attrs, cells in page.rows("weight-table")}
    attrs, cells = rows[("digits", "kernel")]
    assert "bad" in attrs.get("class", "") and cells[10] == "3"
    findings = [cells for _, cells in page.rows("finding-table")]
    assert findings[0][:2] == ["KIN201", "error"] and findings[0][2].startswith("digits")
    hist = next(body for attrs, body in page.scripts if attrs.get("type") == "application/json")
    json.loads(hist, parse_constant=lambda c: pytest.fail(f"{c} in the histogram data"))
    assert "1 problem found" in (tmp_path / "out" / "report.html").read_text()


def test_model_file_is_never_overwritten(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from kinspect.cli import main

    target = tmp_path / "report.html"
    shutil.copy(SAMPLE, target)
    assert main(["report", str(target), "-o", str(tmp_path)]) == 2
    assert "is the input file" in capsys.readouterr().err
    assert target.read_bytes() == SAMPLE.read_bytes()


def test_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from kinspect.cli import main

    assert main(["report", str(tmp_path / "missing.keras"), "-o", str(tmp_path / "out")]) == 3
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "missing.keras" in err
    assert not (tmp_path / "out").exists()


# ---- escaping -------------------------------------------------------------------------------


def hostile_copy(tmp_path: Path) -> Path:
    """The mnist sample with its ``dropout`` layer renamed to a script tag and the model to an
    attribute breakout (Keras itself refuses '/' in names, so the config is rewritten)."""
    names = {"dropout": HOSTILE_LAYER, "mnist_cnn": HOSTILE_MODEL}
    return renamed_archive(SAMPLE, tmp_path / "hostile.keras", names)


def test_hostile_names_are_text(tmp_path: Path) -> None:
    page = report(hostile_copy(tmp_path), tmp_path / "out")
    text = (tmp_path / "out" / "report.html").read_text()
    names = [cells[1] for _, cells in page.rows("layer-table")]
    assert HOSTILE_LAYER in names, "shown as text in the table"
    assert [attrs for attrs, _ in page.scripts] == [{"type": "application/json", "id": "hist-data"}, {}], (
        "only kinspect's own script and its JSON data"
    )
    assert not page.tags("img") and not [a for _, a in page.elements if "onerror" in a]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<script>alert(1)" not in text and "<img" not in text
    titles = re.findall(r"<title>(.*?)</title>", text)
    assert titles[0].startswith("&#34;&gt;&lt;img") or titles[0].startswith("&quot;&gt;&lt;img")


# ---- size and packaging ----------------------------------------------------------------------


def test_large_model_page_stays_small() -> None:
    """3,000 layers (6,000 tensors with histograms): the page stays a few megabytes and renders
    in well under a second's budget per thousand layers."""
    from kinspect.analyzers.report import build_report
    from kinspect.analyzers.tensorstats import Entry, Histogram, TensorStats
    from kinspect.analyzers.weights import WeightStats as WeightsReport
    from kinspect.model import Format, LayerInfo, ModelInfo, TensorRef, WeightInfo
    from kinspect.render.html import render_html

    layers = []
    for i in range(3000):
        ws = (
            WeightInfo("kernel", f"layers/dense_{i}/vars/0", (64, 64), "float32", True),
            WeightInfo("bias", f"layers/dense_{i}/vars/1", (64,), "float32", True),
        )
        inbound = ((TensorRef(f"dense_{i - 1}", 0, 0),),) if i else ()
        layers.append(LayerInfo(f"dense_{i}", "Dense", "keras.layers", output_shape=(None, 64),
                                inbound=inbound, weights=ws))  # fmt: skip
    model = ModelInfo("big.keras", Format.KERAS, "big", "Functional", tuple(layers), file_size=50_000_000)
    hist = Histogram(tuple(x / 10 for x in range(25)), tuple(range(24)))
    stats = dict(size=4096, min=-0.1, max=0.1, mean=0.0, std=0.05, norm=1.0, zeros=0, nan=0, inf=0)
    rows = tuple(
        TensorStats(Entry(layer.name, w, layer), histogram=hist, **stats)
        for layer in layers
        for w in layer.weights
    )
    weights = WeightsReport(model, rows, (), {}, 24, len(rows), 0, 0)
    start = time.perf_counter()
    html = render_html(build_report(model, weights=weights, bins=24))
    elapsed = time.perf_counter() - start
    size = len(html.encode())
    assert size < 4_500_000, f"{size:,} bytes for 3,000 layers"
    assert elapsed < 10, elapsed
    assert html.count('<tr id="L') == 3000


def test_every_package_is_listed_in_pyproject() -> None:
    """pyproject.toml lists packages explicitly (for the templates' package-dir mapping): a new
    subpackage missing from the list would be left out of the wheel."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "kinspect").rglob("__init__.py")} | {
        "kinspect.templates"
    }
    assert listed == found


def test_compiled_templates_are_those_of_the_sources() -> None:
    """templates/compiled/ holds one module per template, compiled from the sources as they are
    now; and a report loads them whenever the installed Jinja2 is of the series that wrote them."""
    import jinja2

    from kinspect.render import html

    folder = ROOT / "templates"
    manifest = json.loads((folder / html.COMPILED / "manifest.json").read_text())
    assert manifest["sources"] == html.source_digests(folder), f"templates edited: run {html.RECOMPILE}"
    modules = {p.name for p in (folder / html.COMPILED).glob("tmpl_*.py")}
    assert len(modules) == len(manifest["sources"]), f"run {html.RECOMPILE}"
    series = manifest["jinja2"].split(".")[:2] == jinja2.__version__.split(".")[:2]
    assert isinstance(html._compiled_loader(), jinja2.ModuleLoader) is series


def test_compiled_templates_render_as_the_sources(
    zoo_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The same page from the compiled modules as from the sources, and a stale manifest (a template
    edited since) makes kinspect compile the sources."""
    import jinja2

    from kinspect import api
    from kinspect.render import html

    monkeypatch.chdir(tmp_path)
    real = html.environment
    pages = []
    for compiled in (True, False):
        monkeypatch.setattr(html, "environment", lambda compiled=compiled: real(compiled))
        page = Path(api.report(zoo_dir / "branches.keras", tmp_path / str(compiled), compare=SAMPLE).page)
        pages.append(page.read_text())
    assert pages[0] == pages[1]
    copy = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", copy)
    (copy / "cost.html.j2").write_text((copy / "cost.html.j2").read_text() + "\n")
    monkeypatch.setattr(html, "_templates", lambda: copy)
    assert html._compiled_loader() is None
    assert isinstance(real.__wrapped__(True).loader, jinja2.FunctionLoader)


def test_wheel_ships_templates(tmp_path: Path) -> None:
    """A built (non-editable) wheel carries the templates and renders a report from them."""
    missing = [name for name in ("setuptools", "wheel") if importlib.util.find_spec(name) is None]
    if missing:  # pip builds with this environment's backend (--no-build-isolation: no index needed)
        pytest.skip(f"building a wheel needs {' and '.join(missing)}: pip install -e '.[test]'")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
         str(tmp_path / "dist"), str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    wheel = next((tmp_path / "dist").glob("kinspect-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for name in ("report.html.j2", "report.css", "report.js", "__init__.py", "compiled/manifest.json"):
        assert f"kinspect/templates/{name}" in names
    assert sum(n.startswith("kinspect/templates/compiled/tmpl_") for n in names) == 3
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    # -S: no site-packages .pth files, so the editable install of this checkout is not on the path.
    import jinja2
    import markupsafe

    deps = {str(Path(m.__file__).parent.parent) for m in (jinja2, markupsafe, __import__("click"))}
    code = (
        "import kinspect.render.html as h, kinspect.templates as t, sys;"
        "assert t.__file__.startswith(sys.argv[1]), t.__file__;"
        "assert type(h.environment().loader).__name__ == 'ModuleLoader';"
        "print(len(h._template_text('report.html.j2')))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), *sorted(deps)])}
    proc = subprocess.run([sys.executable, "-S", "-c", code, str(site)], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=60)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout) > 1000


# ---- a real browser ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        yield b
        b.close()


def open_page(browser: Any, path: Path, tmp_path: Path) -> tuple[Any, list[str], list[str]]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (errors.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.resolve().as_uri())
    return page, errors, requests


def visible_names(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        "#layer-table tbody tr:not([hidden])",
        "rows => rows.map(r => r.cells[1].querySelector('span').textContent)",
    )


def test_in_browser_resnet50(browser: Any, zoo_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "resnet"
    report(zoo_dir / "ResNet50.keras", out)
    page, errors, requests = open_page(browser, out / "report.html", tmp_path)
    loaded = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
    assert loaded < 2000, f"ResNet50's report took {loaded:.0f} ms to load"
    names = visible_names(page)
    assert len(names) == 177 and names[0] == "input_layer"
    assert page.locator("#graph-view svg").count() == 0, "the drawing waits until it is scrolled to"
    # Sorting: a click on Params orders largest first, a second click reverses.
    page.click("#layer-table th:nth-child(5)")
    params = page.eval_on_selector_all(
        "#layer-table tbody tr", "rows => rows.map(r => parseInt(r.cells[4].textContent.replace(/,/g, '')))"
    )
    assert params == sorted(params, reverse=True) and params[0] > params[-1]
    page.click("#layer-table th:nth-child(5)")
    params = page.eval_on_selector_all(
        "#layer-table tbody tr", "rows => rows.map(r => parseInt(r.cells[4].textContent.replace(/,/g, '')))"
    )
    assert params == sorted(params)
    page.click("#layer-table th:nth-child(1)")  # back to model order
    # Search filters rows.
    page.fill("#layer-search", "conv5_block3")
    page.wait_for_timeout(300)
    names = visible_names(page)
    assert names and len(names) < 20 and all("conv5_block3" in n for n in names)
    page.fill("#layer-search", "")
    page.wait_for_timeout(300)
    assert len(visible_names(page)) == 177
    names = page.eval_on_selector_all("#layer-table tbody tr", "rows => rows.map(r => r.id)")
    assert names == [f"L{i}" for i in range(177)], "the # column restores the model's order"
    # Histograms are drawn when their rows scroll into view.
    assert page.locator("#weight-table svg.spark").count() == 0
    page.evaluate("document.getElementById('weights').scrollIntoView()")
    page.wait_for_timeout(400)
    drawn = page.locator("#weight-table svg.spark").count()
    assert 0 < drawn < page.locator("#weight-table tbody tr").count()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report-resnet50-weights.png"))
    # The graph is attached when its section comes into view, then pans and zooms.
    page.evaluate("document.getElementById('graph').scrollIntoView()")
    page.wait_for_selector("#graph-view svg")
    page.wait_for_timeout(100)
    before = page.get_attribute("#graph-view svg", "viewBox")
    page.click("#zoom-in")
    assert page.get_attribute("#graph-view svg", "viewBox") != before
    page.evaluate("document.getElementById('graph').scrollIntoView()")
    page.screenshot(path=str(ARTIFACTS / "report-resnet50-graph.png"))
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / "report-resnet50.png"))
    assert errors == []
    assert all(u.startswith("file://") for u in requests), requests


def test_in_browser_nested_and_hostile(browser: Any, zoo_dir: Path, tmp_path: Path) -> None:
    report(zoo_dir / "nested.keras", tmp_path / "nested")
    page, errors, _ = open_page(browser, tmp_path / "nested" / "report.html", tmp_path)
    assert visible_names(page) == ["input_layer_2", "encoder", "frozen_head", "dense_1"]
    page.click("#L1 button.tog")
    assert page.get_attribute("#L1 button.tog", "aria-expanded") == "true"
    assert visible_names(page) == [
        "input_layer_2",
        "encoder",
        "input_layer",
        "inner_dense",
        "frozen_head",
        "dense_1",
    ]
    page.fill("#layer-search", "dense")
    page.wait_for_timeout(300)
    assert visible_names(page) == ["inner_dense", "dense", "dense_1"]
    page.fill("#layer-search", "")
    page.click("#expand-all")
    assert len(visible_names(page)) == 8
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report-nested.png"), full_page=True)
    assert errors == []

    report(hostile_copy(tmp_path), tmp_path / "hostile")
    page, errors, _ = open_page(browser, tmp_path / "hostile" / "report.html", tmp_path)
    page.wait_for_timeout(200)
    assert HOSTILE_LAYER in visible_names(page)
    assert page.title().startswith(HOSTILE_MODEL)
    assert page.locator("img").count() == 0
    assert errors == [], "no script from the file ran (no dialog) and nothing failed"


def test_weight_readers_start_before_the_model_is_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The report forks its weight readers before parsing the model (their start-up overlaps the
    parse) and gives them the tensors after; without weights none is started."""
    import kinspect.api as api
    from kinspect import loaders
    from kinspect.loaders import readers

    events: list[str] = []
    real_load, real_init = loaders.load_config_first, readers.Prestarted.__init__

    def load(*args: Any, **kwargs: Any) -> Any:
        events.append("load")
        return real_load(*args, **kwargs)

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        events.append("prestart")
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(loaders, "load_config_first", load)
    monkeypatch.setattr(readers.Prestarted, "__init__", init)
    api.report(SAMPLE, tmp_path / "r")
    assert events[:2] == ["prestart", "load"]
    page = Page((tmp_path / "r" / "report.html").read_text())
    rows = page.tables["weight-table"]["rows"]
    assert len(rows) == api.weights(SAMPLE).total_tensors
    events.clear()
    api.report(SAMPLE, tmp_path / "n", weights=False)
    assert "prestart" not in events
