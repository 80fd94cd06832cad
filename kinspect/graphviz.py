"""Running Graphviz: find ``dot``, report what is installed, render DOT text to image bytes.

This is I/O (child processes), so it lives outside the pure renderers. DOT goes in on stdin,
the image comes back on stdout, every run has a timeout. Raster output is laid out first
(``dot -Tdot``: positions and the bounding box), its size in pixels checked against a cap, and
only then drawn (``neato -n2``, which keeps the positions): Graphviz rasterising a graph of
thousands of layers at 200 dpi otherwise takes minutes and gigabytes.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from kinspect.errors import KinspectError, UsageError

INSTALL_HINT = (
    "Graphviz is not installed (no 'dot' on PATH): install it with 'apt-get install graphviz' "
    "(Debian/Ubuntu), 'brew install graphviz' (macOS) or from https://graphviz.org/download/"
)
RASTER = {"png", "jpg", "jpeg", "gif", "bmp", "tif", "tiff", "webp"}
# A PNG is drawn by cairo and written by gd: the same drawing as a palette image, in half the time
# and a quarter of the bytes of cairo's own RGBA writer (writing is most of a large PNG's cost),
# but gd holds a second copy of the image meanwhile: only up to FAST_MEGAPIXELS (64 MB more).
# A Graphviz without its gd plugin does not know that format: cairo writes the PNG then.
FAST_FORMATS = {"png": "png:cairo:gd"}
FAST_MEGAPIXELS = 16
VECTOR = {"svg", "pdf", "ps", "eps"}
FORMATS = RASTER | VECTOR
TEXT = {"dot", "gv"}  # DOT text: written without Graphviz
DEFAULT_RASTER_DPI = 96  # Keras draws at 200: four times the pixels, rarely what a screen needs
MAX_SIDE = 32_000  # pixels; cairo cannot allocate surfaces beyond 32767 per side


class GraphvizError(KinspectError):
    """Graphviz is missing, failed or timed out (exit 2: nothing wrong with the model file)."""

    exit_code = 2


class GraphvizMissing(GraphvizError):
    """No ``dot`` on PATH."""


class GraphvizTimeout(GraphvizError):
    """Graphviz took longer than it was given."""


@dataclass(frozen=True)
class DotInfo:
    """What ``kinspect doctor`` reports about Graphviz."""

    path: str | None
    version: str | None = None
    formats: tuple[str, ...] = ()
    neato: str | None = None


@dataclass
class Rendered:
    data: bytes
    notes: list[str] = field(default_factory=list)  # told to the user on stderr


def find_dot() -> str | None:
    return shutil.which("dot")


def output_format(path: str) -> str:
    """The format a file name asks for, by its extension: DOT text (``dot``, ``gv``) or an image
    format, which needs Graphviz installed."""
    fmt = os.path.splitext(path)[1].lower().lstrip(".")
    if fmt not in FORMATS | TEXT:
        known = ", ".join(f".{f}" for f in sorted((*FORMATS, "dot")))
        raise UsageError(
            f"unknown image format {fmt or '(no extension)'!r}; use one of {known}", "output", path
        )
    if fmt not in TEXT and find_dot() is None:
        raise GraphvizMissing(INSTALL_HINT)
    return fmt


def probe(timeout: float = 10) -> DotInfo:
    """Locate dot and ask it its version and output formats (``dot -V``, ``dot -T?``)."""
    path = find_dot()
    if path is None:
        return DotInfo(None)
    version = None
    formats: tuple[str, ...] = ()
    try:
        out = subprocess.run([path, "-V"], capture_output=True, text=True, timeout=timeout)
        match = re.search(r"version\s+(\S+)", out.stderr + out.stdout)
        version = match.group(1) if match else None
        out = subprocess.run([path, "-T?"], capture_output=True, text=True, timeout=timeout)
        listed = (out.stderr + out.stdout).partition("Use one of:")[2]
        formats = tuple(sorted({f.split(":")[0] for f in listed.split()}))
    except (OSError, subprocess.SubprocessError):
        pass
    return DotInfo(path, version, formats, shutil.which("neato"))


def _run(argv: list[str], data: bytes, timeout: float) -> bytes:
    try:
        proc = subprocess.run(argv, input=data, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise GraphvizTimeout(f"Graphviz '{argv[0]}' took longer than {timeout:g} s") from None
    except OSError as exc:
        raise GraphvizError(f"cannot run Graphviz '{argv[0]}': {exc.strerror or exc}") from None
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        last = detail[-1] if detail else f"exit code {proc.returncode}"
        raise GraphvizError(f"Graphviz '{argv[0]}' failed: {last}")
    return proc.stdout


def _bounding_box(laid_out: bytes) -> tuple[float, float]:
    """Width and height in points of a laid-out graph (its ``bb`` attribute)."""
    match = re.search(rb'bb="([-\d.e]+),([-\d.e]+),([-\d.e]+),([-\d.e]+)"', laid_out)
    if not match:
        return 0.0, 0.0
    x0, y0, x1, y1 = (float(v) for v in match.groups())
    return x1 - x0, y1 - y0


def layout(dot_text: str, timeout: float) -> bytes:
    """The graph laid out by ``dot`` (positions and edge splines in DOT): the slow step, which
    :func:`render` can reuse for several formats."""
    dot = find_dot()
    if dot is None:
        raise GraphvizMissing(INSTALL_HINT)
    return _run([dot, "-Tdot"], dot_text.encode("utf-8"), timeout)


class Background:
    """A Graphviz run started now in a process of its own, with no thread (so that the caller
    may still fork): stdin written at once, stdout and stderr to anonymous files (nobody reads
    while it works). :meth:`result` waits for stdout; :meth:`cancel` stops it."""

    def __init__(self, argv: list[str], data: bytes, timeout: float) -> None:
        self.name = os.path.basename(argv[0])
        self.timeout = timeout
        self.started = time.monotonic()
        self.out = tempfile.TemporaryFile()  # noqa: SIM115  (closed by result() or cancel())
        self.err = tempfile.TemporaryFile()  # noqa: SIM115
        self.error: GraphvizError | None = None
        self.data: bytes | None = None
        try:
            self.proc: subprocess.Popen[bytes] | None = subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=self.out, stderr=self.err
            )
        except OSError as exc:
            self.proc = None
            self.error = GraphvizError(f"cannot run Graphviz '{argv[0]}': {exc.strerror or exc}")
            return
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(data)
        except BrokenPipeError:
            pass  # it failed early: its exit code and message tell why
        finally:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()

    def result(self) -> bytes:
        """What it wrote on stdout (GraphvizError when it failed or outlived the timeout)."""
        if self.data is None and self.error is None and self.proc is not None:
            try:
                code = self.proc.wait(max(0.0, self.timeout - (time.monotonic() - self.started)))
            except subprocess.TimeoutExpired:
                self.cancel()
                self.error = GraphvizTimeout(f"Graphviz '{self.name}' took longer than {self.timeout:g} s")
            else:
                if code != 0:
                    self.err.seek(0)
                    detail = self.err.read().decode("utf-8", "replace").strip().splitlines()
                    last = detail[-1] if detail else f"exit code {code}"
                    self.error = GraphvizError(f"Graphviz '{self.name}' failed: {last}")
                else:
                    self.out.seek(0)
                    self.data = self.out.read()
            self._close()
        if self.error is not None:
            raise self.error
        assert self.data is not None
        return self.data

    def done(self) -> bool:
        """Whether it has ended (result() would not wait)."""
        return self.proc is None or self.proc.poll() is not None

    def cancel(self) -> None:
        """Stop it if it still runs."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._close()

    def _close(self) -> None:
        self.out.close()
        self.err.close()


class Drawing:
    """A graph laid out once and drawn as SVG (at full size) and as a raster image (capped at
    ``max_megapixels``), without threads: one ``dot`` run, started at once, lays it out and draws
    the SVG of that layout; :meth:`draw` then starts the raster drawing of the same layout
    (``neato -n2``) at the resolution the cap allows (as :func:`render` chooses it)."""

    def __init__(self, dot_text: str, fmt: str, max_megapixels: float, timeout: float) -> None:
        dot = find_dot()
        if dot is None:
            raise GraphvizMissing(INSTALL_HINT)
        self.fmt, self.max_megapixels, self.timeout = fmt, max_megapixels, timeout
        self.dot_text = dot_text
        handle, self.svg_path = tempfile.mkstemp(prefix="kinspect-", suffix=".svg")
        os.close(handle)
        # -o names the file of the -T before it: the SVG to that file, the layout on stdout.
        self.layout = Background([dot, "-Tsvg", f"-o{self.svg_path}", "-Tdot"], dot_text.encode(), timeout)
        self.vector: bytes | GraphvizError | None = None
        self.raster: Background | Rendered | GraphvizError | None = None
        self.plain: Callable[[str], Background] | None = None
        self.notes: list[str] = []

    def draw(self, wait: bool = True) -> None:
        """Take the SVG and start the raster drawing, once the layout is done (waiting for it;
        with ``wait`` False, only if it is done already). Once started, a no-op."""
        if self.raster is not None or (not wait and not self.layout.done()):
            return
        try:
            laid_out = self.layout.result()
            with open(self.svg_path, "rb") as fh:
                self.vector = fh.read()
        except GraphvizError as exc:
            self.raster = self.vector = exc
            return
        except OSError as exc:
            self.raster = self.vector = GraphvizError(f"cannot read Graphviz's SVG ({exc.strerror or exc})")
            return
        finally:
            self._remove_svg()
        chosen, self.notes = raster_dpi(laid_out, None, self.max_megapixels)

        def start(form: str) -> Background:
            return Background(*_raster_command(form, chosen, laid_out, self.dot_text.encode()), self.timeout)

        forms = _formats(self.fmt, laid_out, chosen)
        self.raster = start(forms[0])
        self.plain = start if len(forms) > 1 else None  # the fallback format

    def svg(self) -> bytes:
        """The SVG drawing (GraphvizError when it could not be drawn)."""
        if self.vector is None:
            self.draw()
        if isinstance(self.vector, GraphvizError):
            raise self.vector
        assert self.vector is not None
        return self.vector

    def raster_image(self) -> Rendered:
        """The raster image (GraphvizError when it could not be drawn)."""
        if self.raster is None:
            self.draw()
        if isinstance(self.raster, GraphvizError):
            raise self.raster
        if isinstance(self.raster, Background):
            try:
                data = self.raster.result()
            except GraphvizError as exc:
                if self.plain is None or not _unknown_format(exc):
                    raise
                data = self.plain(self.fmt).result()
            self.raster = Rendered(data, self.notes)
        assert isinstance(self.raster, Rendered)
        return self.raster

    def close(self) -> None:
        """Stop what still runs."""
        for job in (self.layout, self.raster):
            if isinstance(job, Background):
                job.cancel()
        self._remove_svg()

    def _remove_svg(self) -> None:
        with contextlib.suppress(OSError):
            os.unlink(self.svg_path)


def raster_dpi(laid_out: bytes, dpi: int | None, max_megapixels: float) -> tuple[float, list[str]]:
    """The resolution to draw a laid-out graph at: ``dpi`` (default 96), lowered to stay under
    ``max_megapixels`` and MAX_SIDE pixels per side, with a note saying so."""
    wanted = dpi or DEFAULT_RASTER_DPI
    width, height = _bounding_box(laid_out)
    chosen = float(wanted)
    if width > 0 and height > 0:
        pixels = (width / 72 * wanted) * (height / 72 * wanted)
        fits = min(
            (max_megapixels * 1e6 / pixels) ** 0.5 if pixels else 1.0,
            MAX_SIDE / (max(width, height) / 72 * wanted),
        )
        if fits < 1:
            chosen = max(1.0, wanted * fits)
    notes = []
    if chosen < wanted:
        w, h = int(width / 72 * wanted), int(height / 72 * wanted)
        cw, ch = int(width / 72 * chosen), int(height / 72 * chosen)
        notes.append(
            f"the graph is {w:,}x{h:,} px at {wanted} dpi; drawn at {chosen:.0f} dpi ({cw:,}x{ch:,} px) to "
            f"stay under {max_megapixels:g} megapixels and {MAX_SIDE:,} px a side "
            "(--max-megapixels raises the cap; .svg and .pdf have no such limit)"
        )
    return chosen, notes


def render(
    dot_text: str,
    fmt: str,
    dpi: int | None,
    max_megapixels: float,
    timeout: float,
    laid_out: bytes | None = None,
) -> Rendered:
    """Image bytes in ``fmt``. Raster images get ``dpi`` (default 96), lowered to stay under
    ``max_megapixels`` and MAX_SIDE pixels per side, with a note saying so. ``laid_out`` (from
    :func:`layout`) skips the layout when ``neato`` can draw it as it is."""
    dot = find_dot()
    if dot is None:
        raise GraphvizMissing(INSTALL_HINT)
    data = dot_text.encode("utf-8")
    neato = shutil.which("neato")
    if fmt not in RASTER:
        extra = [f"-Gdpi={dpi}"] if dpi else []
        if laid_out is not None and neato:
            return Rendered(_run([neato, "-n2", f"-T{fmt}", *extra], laid_out, timeout))
        return Rendered(_run([dot, f"-T{fmt}", *extra], data, timeout))
    if laid_out is None:
        laid_out = _run([dot, "-Tdot"], data, timeout)
    chosen, notes = raster_dpi(laid_out, dpi, max_megapixels)
    forms = _formats(fmt, laid_out, chosen)
    try:
        image = _run(*_raster_command(forms[0], chosen, laid_out, data), timeout)
    except GraphvizError as exc:
        if len(forms) == 1 or not _unknown_format(exc):
            raise
        image = _run(*_raster_command(forms[-1], chosen, laid_out, data), timeout)
    return Rendered(image, notes)


def _raster_command(form: str, dpi: float, laid_out: bytes, dot_text: bytes) -> tuple[list[str], bytes]:
    """The Graphviz command, and its stdin, that draws a laid-out graph as ``form`` at ``dpi``:
    ``neato -n2`` draws the layout as it is; without neato, ``dot`` lays the graph out again."""
    extra = [f"-T{form}", f"-Gdpi={dpi:.2f}"]
    neato = shutil.which("neato")
    if neato:
        return [neato, "-n2", *extra], laid_out
    return [str(find_dot()), *extra], dot_text


def _formats(fmt: str, laid_out: bytes, dpi: float) -> list[str]:
    """The -T formats that draw ``fmt`` (a layout drawn at ``dpi``), the fastest first."""
    width, height = _bounding_box(laid_out)
    fast = FAST_FORMATS.get(fmt)
    small = (width / 72 * dpi) * (height / 72 * dpi) <= FAST_MEGAPIXELS * 1e6
    return [fast, fmt] if fast and small else [fmt]


def _unknown_format(exc: GraphvizError) -> bool:
    """Graphviz refused the -T format (``Format: "png:cairo:gd" not recognized``)."""
    return "not recognized" in str(exc)
