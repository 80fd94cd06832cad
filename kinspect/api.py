"""kinspect's library API: what each command computes, returned as values (README "Python API").

Nothing in a file is executed or imported. Each function returns a frozen value
(:mod:`kinspect.results`) that prints as the command line prints it, converts to the command's
JSON document, and shows as HTML in a notebook; the CLI is a thin shell over these functions.
Errors are :class:`~kinspect.errors.InputError` (a file cannot be read) and
:class:`~kinspect.errors.UsageError` (an impossible request), both one-line messages.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from kinspect import loaders
from kinspect.analyzers.summary import summarize
from kinspect.errors import InputError, KinspectError, UsageError
from kinspect.model import ModelInfo
from kinspect.results import CheckResult, Diff, Graph, History, ReportResult, Summary, WeightReport

# A plain summary imports only what it needs (README "What a plain summary reads"): the other
# commands import the weight readers, Graphviz and the renderers when they are called.
if TYPE_CHECKING:
    from kinspect.analyzers.weights import WeightStats
    from kinspect.findings import Finding
    from kinspect.loaders.readers import Prestarted

PathLike = str | os.PathLike[str]
Progress = Callable[[int, int], None]  # (bytes done, bytes in all)
E = TypeVar("E", bound=Enum)

REPORT_BINS = 24  # histogram bins per tensor in the report
REPORT_GRAPH_TIMEOUT = 120.0  # seconds Graphviz may take for each drawing of the report
REPORT_PNG_MEGAPIXELS = 4  # model.png is a companion to the inline SVG: rasterising is the slow part
REPORT_READERS = 4  # weight reader children, at most (and at most one per core)


def load(path: PathLike, arch: PathLike | None = None) -> ModelInfo:
    """Read a saved Keras model or weights file into a :class:`~kinspect.model.ModelInfo`.

    ``arch`` pairs a weights-only file with the ``.keras``, ``.h5`` or ``config.json`` that
    describes its architecture.
    """
    return loaders.load(path, arch)


def summary(
    path: PathLike,
    *,
    arch: PathLike | None = None,
    expand_nested: bool = False,
    layer_range: Sequence[str] | None = None,
    show_trainable: bool = False,
    line_length: int | None = None,
    color: bool = False,
    verify: bool = False,
    cost: bool = False,
    batch: int = 1,
    seq_len: int | None = None,
) -> Summary:
    """What ``model.summary()`` shows for the model in ``path``, with the file's metadata.

    ``layer_range`` is ``(start, end)``: only the layers from the first name matching ``start``
    to the last matching ``end`` (regular expressions, as Keras's). ``show_trainable``,
    ``line_length`` and ``color`` lay out the text, as Keras's options do. Where the config alone
    decides every stored tensor (a Keras 3 ``.keras`` of built-in layers, not compiled), the
    weights are not opened; ``verify`` reads them and checks them against the config, as
    ``check`` always does (``summary.model.weights_checked`` says which happened).

    ``cost`` adds the compute and memory cost (``Summary.cost``): MACs and activation memory per
    layer for ``batch`` samples, the totals, and estimates of peak inference and training memory.
    ``seq_len`` sets every unknown sequence length of the inputs (a ``None`` time axis).
    """
    if not cost and (batch != 1 or seq_len is not None):
        raise UsageError("only counts with cost=True (--cost)", "batch" if batch != 1 else "seq_len")
    if batch < 1 or (seq_len is not None and seq_len < 1):
        raise UsageError(
            "must be at least 1", "batch" if batch < 1 else "seq_len", batch if batch < 1 else seq_len
        )
    bounds = _bounds(layer_range)
    info = loaders.load(path, arch, verify=verify)
    if cost and seq_len is not None:
        from kinspect.loaders.common import with_lengths

        filled = with_lengths(info, seq_len)
        seq_len, info = (seq_len if filled is not info else None), filled
    table = summarize(info, expand_nested, bounds)
    fields = _fields(table)
    if cost:
        from kinspect.analyzers.cost import analyze as analyze_cost

        fields["cost"] = analyze_cost(info, batch, seq_len)
    return Summary(**fields, show_trainable=show_trainable, line_length=line_length, color=color)


def weights(
    path: PathLike,
    *,
    histograms: bool = False,
    bins: int = 20,
    layer: str | None = None,
    optimizer: bool = False,
    sort: str = "file",
    top: int | None = None,
    progress: bool | Progress = False,
    verify: bool = False,
) -> WeightReport:
    """Statistics of every stored tensor in ``path``, and the health diagnostics over them.

    ``histograms`` adds a ``bins``-bin histogram per tensor; ``layer`` (a regex searched in
    layer paths such as ``outer/inner/dense``) and ``optimizer`` (also its slots) choose the
    tensors; ``sort`` (``file``, ``name``, ``layer``, or largest first: ``size``, ``norm``,
    ``std``, ``mean``, ``min``, ``max``, ``absmax``, ``zeros``, ``nan``, ``inf``) and ``top``
    order and cut the rows. ``progress``: True for a bar on a terminal during long reads, or
    a function called with the bytes read and the bytes in all. ``verify`` first checks every
    stored tensor against the checksum its file keeps (TensorFlow checkpoints and SavedModels keep
    a CRC32C per tensor; other formats keep none): a mismatch is an InputError.
    """
    from kinspect.analyzers.weights import SortKey, measure
    from kinspect.loaders.arrays import verify_data
    from kinspect.loaders.readers import Prestarted, in_child

    if bins < 1 or (top is not None and top < 1):
        raise UsageError("must be at least 1", "bins" if bins < 1 else "top", bins if bins < 1 else top)
    key = _choice(SortKey, sort, "sort")
    bar = progress is True and sys.stderr.isatty()
    with contextlib.ExitStack() as stack:
        # One child reports progress as it reads; with no one to report to, every core reads, in
        # children started now so that their start-up overlaps the parsing of the model.
        cores = os.cpu_count() or 1
        early = None if bar or callable(progress) else stack.enter_context(Prestarted(os.fspath(path), cores))
        info = load(path)
        if verify:
            verify_data(info)
        if bar:
            from kinspect.progress import ByteProgress

            progress = stack.enter_context(ByteProgress(f"reading {os.path.basename(info.path)}"))
        report = progress if callable(progress) else None
        read = early.reader(info) if early is not None else in_child(info, report)
        stats = measure(
            info, read, layer=layer, optimizer=optimizer, bins=bins if histograms else None, sort=key, top=top
        )()
    return WeightReport(**_fields(stats))


def check(
    paths: PathLike | Iterable[PathLike],
    *,
    select: str | Sequence[str] | None = None,
    ignore: str | Sequence[str] | None = None,
    fail_on: str | None = None,
    max_params: int | None = None,
    max_file_size: str | int | None = None,
    max_layers: int | None = None,
    allow_layer: str | Sequence[str] | None = None,
    forbid_layer: str | Sequence[str] | None = None,
    input_shape: Any = None,
    input_dtype: str | None = None,
    min_keras_version: str | None = None,
    max_macs: str | int | None = None,
    max_activation_memory: str | int | None = None,
    arch: PathLike | None = None,
    config: PathLike | bool | None = None,
    jobs: int | None = None,
    verify: bool | None = None,
) -> CheckResult:
    """Run the check rules over one file or several (in ``jobs`` processes; default: one per core).

    The settings are ``kinspect check``'s options: ``select``/``ignore`` rule ids or prefixes
    (``"KIN1"``), ``fail_on`` (``error``, ``warning``, ``info``), the budgets (``max_params``,
    ``max_file_size`` such as ``"50MB"``, ``max_layers``, ``allow_layer``, ``forbid_layer``,
    ``input_shape`` such as ``(None, 28, 28, 1)`` or a list of shapes, ``input_dtype``,
    ``min_keras_version``, ``max_macs`` such as ``"4G"``, ``max_activation_memory`` such as
    ``"20MB"``), ``arch`` for weights-only files and ``verify`` (check the data
    checksums TensorFlow checkpoints keep; a mismatch makes the file unreadable). ``[tool.kinspect]`` of a
    pyproject.toml is read only when asked: ``config=True`` for the nearest one above the
    current directory, or its path; arguments given here override it.
    """
    from kinspect.checks.runner import check_files
    from kinspect.checks.settings import find_pyproject, merge, read_table

    files = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    if (
        isinstance(input_shape, (list, tuple))
        and input_shape
        and all(isinstance(s, (list, tuple)) for s in input_shape)
    ):
        input_shape = [list(s) for s in input_shape]  # several shapes, as the TOML lists them
    source = find_pyproject() if config is True else Path(config) if config else None
    table = (read_table(source) or {}) if source else {}
    flags = {
        "select": select, "ignore": ignore, "fail-on": fail_on, "max-params": max_params,
        "max-file-size": max_file_size, "max-layers": max_layers, "allow-layer": allow_layer,
        "forbid-layer": forbid_layer, "input-shape": input_shape, "input-dtype": input_dtype,
        "min-keras-version": min_keras_version, "arch": os.fspath(arch) if arch else None,
        "verify": verify or None, "max-macs": max_macs, "max-activation-memory": max_activation_memory,
    }  # fmt: skip
    settings = merge(table, flags)
    results = check_files([os.fspath(f) for f in files], settings, jobs)
    return CheckResult(tuple(results), settings.fail_on)


def graph(
    path: PathLike,
    *,
    arch: PathLike | None = None,
    expand_nested: bool = False,
    layer_range: Sequence[str] | None = None,
    show_shapes: bool = False,
    show_dtype: bool = False,
    show_layer_names: bool = True,
    show_layer_activations: bool = False,
    show_trainable: bool = False,
    show_params: bool = False,
    color_by: str = "none",
    rankdir: str = "TB",
    dpi: int | None = None,
    splines: str | None = None,
    max_megapixels: float = 50.0,
    timeout: float = 300.0,
) -> Graph:
    """The layer graph ``keras.utils.plot_model`` draws for ``path``, from the file alone.

    The options are plot_model's (``show_shapes``…, ``rankdir`` ``TB``/``LR``/``BT``/``RL``,
    ``expand_nested``, ``layer_range``, ``dpi``) and kinspect's: ``show_params``, ``color_by``
    (``none``, ``family``, ``params``), ``splines`` (``ortho``, ``curved``, ``polyline``,
    ``spline``, ``line``), the largest raster image and Graphviz's ``timeout`` in seconds.
    """
    from kinspect.analyzers.graph import build_graph
    from kinspect.render.dot import LARGE_GRAPH, ColorBy, DotStyle, Rankdir, Splines

    style = DotStyle(
        show_shapes=show_shapes,
        show_dtype=show_dtype,
        show_layer_names=show_layer_names,
        show_layer_activations=show_layer_activations,
        show_trainable=show_trainable,
        show_params=show_params,
        color_by=_choice(ColorBy, color_by, "color_by"),
        rankdir=_choice(Rankdir, rankdir, "rankdir"),
        splines=_choice(Splines, splines, "splines") if splines else None,
    )
    bounds = _bounds(layer_range)
    info = load(path, arch)
    drawing = build_graph(info, expand_nested, bounds)
    notes = list(drawing.notes)
    if splines is None and len(drawing.nodes) > LARGE_GRAPH:
        notes.append(
            f"{len(drawing.nodes):,} nodes: edges drawn as splines, not ortho as Keras does "
            "(Graphviz's ortho routing takes minutes on graphs this size; --splines ortho forces it)"
        )
    return Graph(info.path, drawing, style, dpi, max_megapixels, timeout, tuple(notes))


def report(
    path: PathLike,
    out_dir: PathLike | None = None,
    *,
    graph: bool = True,
    weights: bool = True,
    logs: Sequence[PathLike] | None = None,
    compare: PathLike | None = None,
    warm: bool = False,
) -> ReportResult:
    """Write the HTML debug report of ``path``: ``out_dir/report.html`` (overview, layers, cost,
    graph, weights, diagnostics and check findings, training, notes) and ``out_dir/model.png``.

    ``out_dir`` defaults to ``<model file name>-report`` in the current directory; ``graph`` and
    ``weights`` False skip those sections (no Graphviz run; no weight values read). ``logs``
    names the run's logs for the Training section; by default kinspect looks beside the model
    (its directory and the parent: ``training.csv``, ``training.log``, ``history.json``, ``logs/``).
    ``compare`` adds a "Compared with …" section: :func:`diff` of that file (as A) against
    ``path`` (as B); with ``weights`` False, of the architectures alone. ``warm`` imports numpy
    and h5py (one BLAS thread) in this process first, opening no file with them, so that the
    reader children forked next do not each import them again: for a process that ends with the
    report (the CLI), as it changes this one's numpy settings.
    """
    from kinspect import __version__, graphviz
    from kinspect.analyzers.report import build_report
    from kinspect.output import refuse_input, write_atomic
    from kinspect.render.html import prepare as prepare_html
    from kinspect.render.html import render_html

    path = os.fspath(path)
    out = os.fspath(out_dir) if out_dir else _report_dir(path)
    page, image = os.path.join(out, "report.html"), os.path.join(out, "model.png")
    refuse_input(path, page)
    refuse_input(path, image)
    if compare is not None:
        refuse_input(os.fspath(compare), page)
        refuse_input(os.fspath(compare), image)
    from kinspect.loaders.readers import Prestarted

    with contextlib.ExitStack() as stack:
        # The weight readers are forked first, before the model is parsed, as in weights(); with
        # ``warm`` they find numpy and h5py imported already, else they import them meanwhile.
        # Nothing here starts a thread: Graphviz runs in background processes, so forking stays
        # safe throughout (the listing child, --compare's readers, the Training section's).
        if weights and warm:
            from kinspect.loaders import warm_readers
            from kinspect.loaders.arrays import single_threaded_blas

            single_threaded_blas()
            warm_readers()
        early = stack.enter_context(Prestarted(path, REPORT_READERS)) if weights else None
        # Where the config alone decides every stored tensor, the readers and the layout start
        # from it at once; the stored weights, listed meanwhile in a child, are then checked
        # against it (as any report does), and read again only if the listing differs.
        first, verified = loaders.load_config_first(path)
        stack.callback(verified.cancel)
        reading = _start_weights(first, early) if early is not None and verified.later else None
        drawable = graphviz.find_dot() is not None
        drawing = _start_graph(first, drawable) if graph else None
        if drawing is not None:
            stack.callback(drawing.close)

        def step() -> None:
            """Start the drawings once the layout is done (the PNG's size depends on it): asked
            between the steps below rather than waited for, as the layout may still run."""
            if drawing is not None:
                drawing.draw(wait=False)

        step()
        info = verified()
        step()
        if early is not None and reading is not None and _stored(info) != _stored(first):
            early.close()  # read for another listing: stopped, and read again below
            reading = None
        compared = diff(compare, path, weights=weights) if compare is not None else None
        skipped = [] if graph else ["graph skipped (--no-graph)"]
        skipped += [] if weights else ["weights skipped (--no-weights)"]
        if weights and reading is None:
            reading = _start_weights(info, early if early is not None and early.children else None)
        raw = _raw_config(info)
        checks, note = _check_findings(info, raw)
        skipped += [note] if note else []
        step()
        # What does not need the weights or the drawing is done while they are being made.
        training, training_note = _training(path, logs)
        cost = None
        if info.has_architecture:  # the cost section (summary --cost's numbers)
            from kinspect.analyzers.cost import analyze as analyze_cost

            cost = analyze_cost(info)
        step()
        prepare_html(compare=compared is not None)
        step()
        stats, note = reading() if reading is not None else (None, None)
        skipped += [note] if note else []
        if stats is not None and stats.model is not info:  # read for the same tensors, listed from the config
            stats = dataclasses.replace(stats, model=info)
        graph_part, png = drawing.result() if drawing is not None else (None, None)
        skipped += [training_note] if training_note else []
        value = build_report(info, graph=graph_part, weights=stats, checks=checks, bins=REPORT_BINS,
                             skipped=skipped, version=__version__, training=training)  # fmt: skip
        if cost is not None:
            value = dataclasses.replace(value, cost=cost)
        os.makedirs(out, exist_ok=True)
        if png is not None:
            write_atomic(image, png)
        write_atomic(page, render_html(value, compared))
        missing = f"skipped the graph (model.png and its drawing in report.html): {graphviz.INSTALL_HINT}"
        warnings = (missing,) if graph and not drawable else ()
        written = image if png is not None else None
    return ReportResult(page, written, value.verdict, value.problems, value.notes, warnings)


def history(
    *paths: PathLike,
    monitor: str | None = None,
    mode: str = "auto",
    steps_per_epoch: int | None = None,
    epochs: int | None = None,
    checkpoints: bool = True,
) -> History:
    """The training runs in ``paths`` (run directories, CSVLogger files, History JSON files,
    TensorBoard log directories or event files): curves, best epoch, events, findings (KIN5xx),
    weight trends and the epoch of each checkpoint found beside them.

    ``monitor`` (default ``val_loss``, or ``loss`` without validation) and ``mode`` (``auto``,
    ``min``, ``max``, as Keras's callbacks) choose the best epoch; ``steps_per_epoch`` maps a
    checkpoint's optimizer step to its epoch when the logs do not say it; ``epochs`` is the
    budget given to ``fit()``, which tells an early stop from a finished run. The chance accuracy
    (KIN512) comes from the output layer of a model or checkpoint found with the logs (a model
    named in ``paths`` first), read statically. Files that cannot
    be read are ``problems`` on the result; :class:`~kinspect.errors.NoRunError` (exit 3) when
    nothing could be read.
    """
    from kinspect.analyzers.training import Mode, analyze, default_monitor
    from kinspect.errors import NoRunError
    from kinspect.runs import read_logs

    if not paths:
        raise UsageError("give at least one run directory or log file", "paths")
    chosen = None if mode == "auto" else _choice(Mode, mode, "mode")
    names = [os.fspath(p) for p in paths]
    logs = read_logs(names)
    if not logs.runs:
        raise NoRunError(names[0] if len(names) == 1 else " ".join(names), logs.problems)
    runs = logs.runs
    if len(names) == 1 and len(runs) == 1:
        runs = (dataclasses.replace(runs[0], name=names[0]),)
    monitor = monitor or default_monitor(runs)
    files = _checkpoint_files(logs.checkpoints) if checkpoints else []
    chance = _chance(logs.checkpoints, names)
    analysed = []
    for i, run in enumerate(runs):
        mine = files if i == len(runs) - 1 else []  # checkpoints belong to the latest training
        analysed.append(analyze(run, monitor, chosen, mine, steps_per_epoch, epochs, chance))
    return History(tuple(analysed), logs.problems + logs.notes)


def diff(
    a: PathLike,
    b: PathLike,
    *,
    arch_a: PathLike | None = None,
    arch_b: PathLike | None = None,
    atol: float = 0.0,
    rtol: float = 0.0,
    optimizer: bool = False,
    weights: bool = True,
) -> Diff:
    """What changed from ``a`` to ``b`` (any formats kinspect reads, mixed): the architecture layer
    by layer, and every paired tensor (by layer and weight name, else by structure) with its status,
    max |Δ|, relative L2 change, cosine similarity and the fraction of elements beyond
    ``|b - a| > atol + rtol * |a|``, rolled up per layer; then the findings (KIN6xx).

    ``arch_a``/``arch_b`` pair a weights-only file with its architecture; ``optimizer`` also
    compares the optimizer's state; ``weights`` False compares the architecture alone (no tensor
    is read). Values are read in slices in an isolated child; the same file, or two files with the
    same bytes, are not read at all.
    """
    from kinspect.analyzers.diff import compare
    from kinspect.loaders.pairs import identical_files, read_pairs

    if atol < 0 or rtol < 0:
        raise UsageError("must not be negative", "atol" if atol < 0 else "rtol", atol if atol < 0 else rtol)
    info_a, info_b = load(a, arch_a), load(b, arch_b)
    same = weights and identical_files(info_a, info_b) and arch_a == arch_b
    sizes = {w.path: int(w.nbytes) for w in (*info_a.all_weights(), *info_a.optimizer_weights)}
    read = read_pairs(info_a, info_b, os.cpu_count() or 1, sizes) if weights else _no_values
    waiting = compare(
        info_a, info_b, read, atol=atol, rtol=rtol, optimizer=optimizer, identical=same, weights=weights
    )
    return Diff(**_fields(waiting()))


# ---- helpers -------------------------------------------------------------------------------------


def _no_values(*_: Any) -> Any:
    """The pair reader of an architecture-only diff: never called (no tensor is paired)."""
    raise RuntimeError("no weight is read when the architectures alone are compared")


def _fields(value: Any) -> dict[str, Any]:
    """A dataclass value's fields, to build the API's richer value from the analyzer's."""
    return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}


def _bounds(layer_range: Sequence[str] | None) -> tuple[str, str] | None:
    """``(start, end)`` regexes, or None for every layer."""
    if not layer_range:
        return None
    if isinstance(layer_range, str) or len(layer_range) != 2:
        raise UsageError("must be two regular expressions, (start, end)", "layer_range", layer_range)
    return layer_range[0], layer_range[1]


def _choice(kind: type[E], value: str, option: str) -> E:
    """A user's string as one of a closed set, or a UsageError listing the set."""
    try:
        return kind(value)
    except ValueError:
        known = ", ".join(repr(k.value) for k in kind)
        raise UsageError(f"not one of {known}", option, value) from None


def _report_dir(model: str) -> str:
    """``<file name without its model suffix>-report``, in the current directory."""
    from kinspect.loaders.registry import SUFFIXES

    name = os.path.basename(os.path.normpath(model))
    for suffix in SUFFIXES:
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    return f"{name or 'model'}-report"


def _start_weights(
    info: ModelInfo, early: Prestarted | None
) -> Callable[[], tuple[WeightStats | None, str | None]]:
    """Give every tensor's statistics and histogram to the reader children started ``early``,
    or to up to REPORT_READERS new ones; returns a function that waits for them, or for a note
    saying why there are none."""
    from kinspect.analyzers.weights import measure
    from kinspect.loaders.readers import in_children

    try:
        read = early.reader(info) if early is not None else in_children(info, REPORT_READERS)
        waiting = measure(info, read, bins=REPORT_BINS)
    except InputError as exc:
        note = f"weights: could not be read ({exc.problem})"
        return lambda: (None, note)

    def result() -> tuple[WeightStats | None, str | None]:
        try:
            stats = waiting()
        except InputError as exc:
            return None, f"weights: could not be read ({exc.problem})"
        if not stats.total_tensors:
            return None, "weights: the file holds no weights to read"
        return stats, None

    return result


def _stored(info: ModelInfo) -> list[tuple[str, tuple[int, ...], str]]:
    """Every stored tensor the weights section reads, as where, shape and dtype."""
    weights = (*info.all_weights(), *info.unmatched_weights, *info.optimizer_weights)
    return [(w.path, w.shape, w.dtype) for w in weights]


def _start_graph(info: ModelInfo, drawable: bool) -> Any:
    """Start laying the graph out (a Graphviz process, no thread); the result's ``draw()`` then
    starts the PNG (when the layout is done) and ``result()`` waits and gives the report's
    GraphPart and the PNG bytes; ``close()`` stops what still runs."""
    from kinspect import graphviz
    from kinspect.analyzers.graph import build_graph
    from kinspect.analyzers.report import GraphPart
    from kinspect.render.dot import LARGE_GRAPH, ColorBy, DotStyle, Splines, render_dot

    drawing = build_graph(info)
    count = len(drawing.nodes)
    if not drawable:
        return _GraphDone(GraphPart(None, None, count, (*drawing.notes, graphviz.INSTALL_HINT)))
    large = count > LARGE_GRAPH  # shapes and curved edges cost Graphviz minutes on thousands of nodes
    style = DotStyle(show_shapes=not large, color_by=ColorBy.FAMILY, splines=Splines.LINE if large else None)
    job = graphviz.Drawing(render_dot(drawing, style), "png", REPORT_PNG_MEGAPIXELS, REPORT_GRAPH_TIMEOUT)

    class Started:
        draw = job.draw
        close = job.close

        @staticmethod
        def result() -> tuple[Any, bytes | None]:
            notes = list(drawing.notes)
            if large:
                notes.append(f"{count:,} layers: drawn with names and types only, and straight edges")
            out: dict[str, bytes | None] = {}
            for fmt, get in (("svg", job.svg), ("png", job.raster_image)):
                try:
                    image = get()
                    out[fmt] = image.data if isinstance(image, graphviz.Rendered) else image
                    if isinstance(image, graphviz.Rendered) and image.notes:  # scaled down to the cap
                        notes.append(
                            f"model.png is drawn at a reduced resolution (at most {REPORT_PNG_MEGAPIXELS} "
                            "megapixels); the inline drawing has full detail, and 'kinspect graph "
                            "--max-megapixels' draws a larger PNG"
                        )
                except graphviz.GraphvizError as exc:
                    out[fmt] = None
                    notes.append(f"{fmt.upper()}: {exc}")
            svg = out["svg"].decode("utf-8", "replace") if out["svg"] else None
            png = out["png"]
            part = GraphPart(svg, "model.png" if png else None, count, tuple(dict.fromkeys(notes)))
            return part, png

    return Started


@dataclasses.dataclass(frozen=True)
class _GraphDone:
    """The graph part when there is nothing to draw (no Graphviz)."""

    part: Any

    def draw(self, wait: bool = True) -> None:
        pass

    def close(self) -> None:
        pass

    def result(self) -> tuple[Any, bytes | None]:
        return self.part, None


MAX_STEP_READS = 32  # checkpoints whose optimizer step history reads (a child process each)


def _training(model: str, logs: Sequence[PathLike] | None) -> tuple[Any, str | None]:
    """The run for the report's Training section (the model mapped as one of its checkpoints),
    and a note when given logs could not be read."""
    from kinspect.errors import NoRunError
    from kinspect.runs import logs_beside

    found = [os.fspath(p) for p in logs] if logs else logs_beside(model)
    if not found:
        return None, None
    try:
        result = history(*found, model)
    except NoRunError as exc:
        return None, f"training: no log read ({exc.problem})"
    except KinspectError as exc:
        return None, f"training: {exc}"
    return result.latest, None


MAX_CHANCE_READS = 8  # checkpoints opened to find one with an architecture (the class count)


def _chance(checkpoints: Sequence[str], named: Sequence[str]) -> dict[str, float | None] | None:
    """Each output's chance accuracy from the first model with an architecture among the
    checkpoints (those named by the user first, then full models before weights-only names), or
    None when none has one."""
    from kinspect.analyzers.training import output_chance

    def order(p: str) -> tuple[bool, bool]:
        low = p.lower()
        return p not in named, low.endswith((".weights.h5", ".index")) or ".weights." in low

    for path in sorted(checkpoints, key=order)[:MAX_CHANCE_READS]:
        try:
            info = load(path)
        except KinspectError:
            continue
        if info.has_architecture and info.outputs:
            return output_chance(info)
    return None


def _checkpoint_files(paths: Sequence[str]) -> list[Any]:
    """The checkpoints with their optimizer steps: every file whose name holds no epoch, and the
    first and last of those whose name does (a cross-check; each read costs a child process)."""
    from kinspect.analyzers.training import epoch_in_name
    from kinspect.training import CheckpointFile

    named = [p for p in paths if epoch_in_name(p) is not None]
    wanted = [p for p in paths if p not in named][:MAX_STEP_READS] + named[:1] + named[-1:]
    return [_checkpoint_file(p) if p in wanted else CheckpointFile(p) for p in paths]


def _checkpoint_file(path: str) -> Any:
    """A checkpoint with the optimizer step it stores (read in the isolated reader child)."""
    from kinspect.analyzers.weights import optimizer_scalars
    from kinspect.loaders.readers import in_child
    from kinspect.training import CheckpointFile

    try:
        info = load(path)
        step = optimizer_scalars(info).get("iterations")
        if step is None:
            return CheckpointFile(path, None, None)
        stats = in_child(info)([(step.path, False, False)], 0, int(step.nbytes))()
    except KinspectError as exc:
        return CheckpointFile(path, None, f"optimizer step not read ({exc})")
    value = stats.get(step.path, {}).get("max")
    return CheckpointFile(path, int(value) if isinstance(value, (int, float)) else None, None)


def _raw_config(info: ModelInfo) -> Any:
    """The raw config and archive listing the check rules read (in a reader child for HDF5), or
    the error that prevented reading them."""
    from kinspect.loaders import read_raw

    try:
        return read_raw(info.path)
    except KinspectError as exc:
        return exc


def _check_findings(info: ModelInfo, raw: Any) -> tuple[list[Finding], str | None]:
    """Findings of the default check rules other than the numerics ones (KIN2xx: those are the
    weights diagnostics the report already has), each with its rule's rationale as the hint."""
    from kinspect.checks import RULES, resolve
    from kinspect.checks.base import Subject
    from kinspect.checks.runner import run_rules

    if isinstance(raw, KinspectError):
        return [], f"checks: not run ({raw})"
    try:
        subject = Subject(info.path, info, raw)
    except KinspectError as exc:
        return [], f"checks: not run ({exc})"
    enabled = {rid for rid in resolve(None) if not rid.startswith("KIN2")}
    found, error = run_rules(subject, enabled)
    note = f"checks: {error}" if error else None
    return [dataclasses.replace(f, hint=f.hint or RULES[f.rule].rationale) for f in found], note
