"""How ``kinspect report`` gets to its page quickly without changing it: the readers and the
graph start from the config where it decides every stored tensor (the verified listing is still
read and checked), and Graphviz lays out once and draws the SVG and the PNG (under the megapixel
cap) from that layout, in background processes rather than threads."""

from __future__ import annotations

import os
import re
import struct
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from kinspect import api, graphviz, loaders
from kinspect.analyzers.graph import build_graph
from kinspect.render.dot import ColorBy, DotStyle, render_dot
from tests.keras_build import built
from tests.test_fidelity import rewrite_weights

ROOT = Path(__file__).parent.parent
SAMPLE = ROOT / "samples" / "mnist_cnn.keras"
needs_dot = pytest.mark.skipif(graphviz.find_dot() is None, reason="Graphviz is not installed")


@pytest.fixture(scope="module")
def fid() -> Path:
    return built("build_fidelity.py", "build_zoo.py")


def _wider_kernel(f: h5py.File) -> None:
    del f["layers/dense/vars/0"]  # d1: Dense(4) on 8 inputs, its kernel stored as (8, 5)
    f["layers/dense/vars"].create_dataset("0", data=np.ones((8, 5), "float32"))


def _report_stats(path: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The report's weight statistics and model, as build_report received them."""
    import kinspect.analyzers.report as report_module

    seen: dict[str, Any] = {}
    real = report_module.build_report

    def spy(model: Any, **kwargs: Any) -> Any:
        seen.update(kwargs, model=model)
        return real(model, **kwargs)

    monkeypatch.setattr(report_module, "build_report", spy)
    api.report(path, out, graph=False)
    return seen


def _rows(stats: Any) -> list[Any]:
    """Each row's tensor and every statistic of it."""
    return [(r.entry.weight, {k: v for k, v in vars(r).items() if k != "entry"}) for r in stats.rows]


def test_config_first_load_is_the_verified_one(fid: Path, tmp_path: Path) -> None:
    plain = fid / "plain.keras"
    first, verified = loaders.load_config_first(plain)
    assert first.weights_checked is False and verified.later
    info = verified()
    assert info.weights_checked is True
    assert api._stored(info) == api._stored(first)
    assert info == loaders.load(plain)
    # A file whose weights contradict the config: the listing says so, the config does not.
    misfit = rewrite_weights(plain, tmp_path / "misfit.keras", _wider_kernel)
    first, verified = loaders.load_config_first(misfit)
    assert api._stored(verified()) != api._stored(first)
    assert verified() == loaders.load(misfit)
    # A compiled model (its optimizer state is only in the file): one load, the verified one.
    first, verified = loaders.load_config_first(SAMPLE)
    assert first.weights_checked is True and not verified.later and verified() is first
    verified.cancel()


@pytest.mark.parametrize("name", ["plain", "misfit"])
def test_report_statistics_are_those_of_the_stored_tensors(
    name: str, fid: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read from the config's listing (plain) or again from the file's (misfit: the config
    describes a kernel the file does not hold), the report's statistics are what ``weights``
    reads from the file, and the model is the verified one."""
    path = fid / "plain.keras"
    if name == "misfit":
        path = rewrite_weights(path, tmp_path / "misfit.keras", _wider_kernel)
    seen = _report_stats(path, tmp_path / "r", monkeypatch)
    expected = api.weights(path, histograms=True, bins=api.REPORT_BINS)
    assert seen["model"].weights_checked is True and seen["weights"].model is seen["model"]
    assert _rows(seen["weights"]) == _rows(expected)
    if name == "misfit":
        assert (8, 5) in [r.entry.weight.shape for r in seen["weights"].rows]
        assert seen["model"].weights_mismatch


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@needs_dot
def test_drawing_matches_render_and_keeps_the_cap(tmp_path: Path) -> None:
    text = render_dot(build_graph(api.load(SAMPLE)), DotStyle(show_shapes=True, color_by=ColorBy.FAMILY))
    cap = 0.05  # megapixels: far below the 96 dpi drawing
    job = graphviz.Drawing(text, "png", cap, 60)
    job.draw()
    svg, png = job.svg(), job.raster_image()
    job.close()
    assert not os.path.exists(job.svg_path)  # the SVG Graphviz wrote beside the layout: read, removed
    reference = graphviz.render(text, "png", None, cap, 60)
    assert png.notes == reference.notes and png.notes and "0.05 megapixels" in png.notes[0]
    width, height = _png_size(png.data)
    # The cap holds for the drawing's bounding box; Graphviz adds its 4-point pad around it.
    assert width * height <= cap * 1e6 * 1.05
    assert (width, height) == _png_size(reference.data)
    # The SVG of the same layout: every node and edge that render() draws, at full size.
    full = graphviz.render(text, "svg", None, cap, 60).data.decode()
    titles = re.compile(r"<title>([^<]*)</title>")
    assert sorted(titles.findall(svg.decode())) == sorted(titles.findall(full))
    assert re.search(r'<svg width="(\d+)pt"', svg.decode())[1] == re.search(r'<svg width="(\d+)pt"', full)[1]  # type: ignore[index]


@needs_dot
def test_drawing_errors_and_timeouts_are_graphviz_errors() -> None:
    job = graphviz.Drawing("digraph { a -> }", "png", 4, 60)
    with pytest.raises(graphviz.GraphvizError, match="failed"):
        job.svg()
    with pytest.raises(graphviz.GraphvizError, match="failed"):
        job.raster_image()
    job.close()
    assert not os.path.exists(job.svg_path)
    unused = graphviz.Drawing("digraph { a -> b }", "png", 4, 60)
    unused.close()  # stopped before its layout was waited for: its SVG file goes too
    assert not os.path.exists(unused.svg_path)
    slow = graphviz.Background(["/bin/sleep", "5"], b"", 0.2)
    with pytest.raises(graphviz.GraphvizTimeout, match=r"longer than 0\.2 s"):
        slow.result()
    assert slow.proc is not None and slow.proc.returncode is not None  # stopped, not left running


def test_warm_imports_numpy_here_only_when_asked(tmp_path: Path) -> None:
    """``kinspect report`` (warm) imports numpy and h5py in its own process before forking the
    readers; the library call does not unless asked, and both write the same statistics."""
    import subprocess
    import sys

    probe = (
        "import sys, kinspect.api as a\n"
        "r = a.report(sys.argv[1], sys.argv[2], graph=False, warm=sys.argv[3] == '1')\n"
        "print('numpy' in sys.modules, 'h5py' in sys.modules)\n"
    )
    pages = {}
    for warm in ("0", "1"):
        out = tmp_path / warm
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(
            [sys.executable, "-c", probe, str(SAMPLE), str(out), warm],
            capture_output=True,
            text=True,
            env=env,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == (["True", "True"] if warm == "1" else ["False", "False"])
        page = (out / "report.html").read_text()
        pages[warm] = re.sub(r"generated [^<]*", "", page)
        assert 'id="weights"' in page
    assert pages["0"] == pages["1"]


@needs_dot
def test_png_written_by_gd_or_by_cairo_when_gd_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    """PNGs are drawn by cairo and written by gd (a palette image, the same size); a Graphviz
    that lacks the gd plugin does not know that format, and cairo writes the PNG instead."""
    text = render_dot(build_graph(api.load(SAMPLE)), DotStyle(show_shapes=True, color_by=ColorBy.FAMILY))
    fast = graphviz.render(text, "png", None, 4, 60).data
    monkeypatch.setitem(graphviz.FAST_FORMATS, "png", "png:nosuchrenderer")
    plain = graphviz.render(text, "png", None, 4, 60).data
    job = graphviz.Drawing(text, "png", 4, 60)
    drawn = job.raster_image().data
    job.close()
    assert _png_size(fast) == _png_size(plain) == _png_size(drawn)
    assert fast[25] == 3 and plain[25] == drawn[25] == 6  # PNG colour type: palette (gd), RGBA (cairo)
    monkeypatch.undo()
    monkeypatch.setattr(graphviz, "FAST_MEGAPIXELS", 0.01)  # gd's second copy of a large image: not
    large = graphviz.render(text, "png", None, 4, 60).data
    assert _png_size(large) == _png_size(fast) and large[25] == 6
