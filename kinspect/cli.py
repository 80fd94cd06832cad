"""The command line: parse options, load, analyze, render, write. Nothing else lives here.

Exit codes (every command): 0 success; 1 ``check`` found problems; 2 usage error;
3 an input could not be read; 4 internal error (a bug in kinspect: one line, no traceback,
unless ``--debug`` or ``KINSPECT_DEBUG=1`` asks for it).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import click

from kinspect.errors import KinspectError, UsageError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3, 4
DEBUG_ENV = "KINSPECT_DEBUG"


def output_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE instead of stdout."
    )(fn)


def emit(text: str, output: str | None) -> None:
    """Print, or write ``output`` atomically; refuse to overwrite the model being read."""
    if output is None:
        click.echo(text, nl=False)
        return
    from kinspect.output import write_atomic

    write_atomic(output, text)


def guard_output(model_path: str, output: str | None) -> None:
    if output and os.path.exists(output) and os.path.samefile(model_path, output):
        raise UsageError(f"-o {output} is the input file; kinspect never writes to the files it reads")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="kinspect")
@click.option(
    "--debug",
    is_flag=True,
    expose_value=False,
    help=f"Show the traceback of an internal error (exit 4) instead of one line (also: {DEBUG_ENV}=1).",
)
def cli() -> None:
    """Inspect saved Keras models without TensorFlow or Keras, and without running the file."""


@cli.command()
@click.argument("model", type=click.Path(dir_okay=True, exists=False))
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True
)
@click.option("--expand-nested", is_flag=True, help="List the layers of nested models under them.")
@click.option("--show-trainable", is_flag=True, help="Add a Trainable column (Y/N/-).")
@click.option("--layer-range", nargs=2, metavar="START END", help="Only layers from START to END (regexes).")
@click.option(
    "--line-length",
    "--width",
    "line_length",
    type=click.IntRange(20, 1000),
    help="Total width of the table (default as Keras: 88 or 108, capped by the terminal).",
)
@click.option(
    "--arch",
    type=click.Path(dir_okay=False),
    help="Architecture (.keras, .h5, config.json) for a weights-only file.",
)
@click.option(
    "--color/--no-color", default=None, help="Colour the table (default: when stdout is a terminal)."
)
@output_option
def summary(
    model: str,
    fmt: str,
    expand_nested: bool,
    show_trainable: bool,
    layer_range: tuple[str, str] | None,
    line_length: int | None,
    arch: str | None,
    color: bool | None,
    output: str | None,
) -> None:
    """Print what model.summary() shows for MODEL, plus the file's metadata.

    \b
    Example:
      kinspect summary samples/mnist_cnn.keras --show-trainable
    """
    from kinspect.analyzers.summary import summarize
    from kinspect.loaders import load
    from kinspect.render.header import metadata_lines, note_lines
    from kinspect.render.jsonout import summary_json
    from kinspect.render.markdown import render_markdown
    from kinspect.render.table import render_table

    guard_output(model, output)
    info = load(model, arch=arch)
    result = summarize(info, expand_nested=expand_nested, bounds=layer_range or None)
    if fmt == "json":
        text = summary_json(result)
    elif fmt == "markdown":
        text = render_markdown(result, show_trainable=show_trainable)
    else:
        use_color = color if color is not None else (output is None and sys.stdout.isatty())
        table = render_table(result, line_length=line_length, show_trainable=show_trainable, color=use_color)
        text = "\n".join(metadata_lines(info)) + "\n" + table + "".join(f"{n}\n" for n in note_lines(info))
    emit(text, output)


# ---- graph command (issue: kinspect graph) ----


@cli.command()
@click.argument("model", type=click.Path(dir_okay=True, exists=False))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Image to write: .png .svg .pdf .dot (default: DOT on stdout).",
)
@click.option("--show-shapes", is_flag=True, help="Input and output shapes on each node.")
@click.option("--show-dtype", is_flag=True, help="Output dtype on each node.")
@click.option(
    "--show-layer-names/--hide-layer-names", default=True, show_default=True, help="Layer names on nodes."
)
@click.option("--show-layer-activations", is_flag=True, help="Activation of layers that have one.")
@click.option("--show-trainable", is_flag=True, help="Trainable / Non-trainable on layers with weights.")
@click.option("--show-params", is_flag=True, help="Parameter count on each node.")
@click.option(
    "--color-by", type=click.Choice(["none", "family", "params"]), default="none", show_default=True,
    help="Colour node titles by layer family or by share of the parameters.",
)  # fmt: skip
@click.option("--rankdir", type=click.Choice(["TB", "LR", "BT", "RL"]), default="TB", show_default=True)
@click.option("--expand-nested", is_flag=True, help="Draw nested models and wrappers as clusters.")
@click.option("--layer-range", nargs=2, metavar="START END", help="Only layers from START to END (regexes).")
@click.option(
    "--dpi", type=click.IntRange(1, 1200), help="Resolution (PNG default 96, capped by --max-megapixels)."
)
@click.option(
    "--splines", type=click.Choice(["ortho", "curved", "polyline", "spline", "line"]),
    help="Edge style (default ortho, as Keras; spline above 400 nodes, where ortho is very slow).",
)  # fmt: skip
@click.option(
    "--max-megapixels", type=click.FloatRange(0.1, 1000), default=50, show_default=True,
    help="Largest raster image; a bigger graph is drawn at a lower dpi (and you are told).",
)  # fmt: skip
@click.option(
    "--timeout", type=click.FloatRange(1), default=300, show_default=True, help="Seconds Graphviz may take."
)
@click.option("--arch", type=click.Path(dir_okay=False), help="Architecture for a weights-only file.")
def graph(
    model: str,
    output: str | None,
    show_shapes: bool,
    show_dtype: bool,
    show_layer_names: bool,
    show_layer_activations: bool,
    show_trainable: bool,
    show_params: bool,
    color_by: str,
    rankdir: str,
    expand_nested: bool,
    layer_range: tuple[str, str] | None,
    dpi: int | None,
    splines: str | None,
    max_megapixels: float,
    timeout: float,
    arch: str | None,
) -> None:
    """Draw MODEL's layer graph as keras.utils.plot_model does, from the file alone.

    The format follows the extension of -o: .png, .svg, .pdf (Graphviz 'dot' needed) or
    .dot (DOT text, needs nothing). Without -o, DOT is written to stdout.

    \b
    Example:
      kinspect graph samples/mnist_cnn.keras -o mnist.png --show-shapes
    """
    from kinspect import graphviz
    from kinspect.analyzers.graph import build_graph
    from kinspect.loaders import load
    from kinspect.render.dot import LARGE_GRAPH, ColorBy, DotStyle, Rankdir, Splines, render_dot

    fmt = os.path.splitext(output)[1].lower().lstrip(".") if output else "dot"
    if fmt not in (*graphviz.FORMATS, "dot", "gv"):
        known = ", ".join(f".{f}" for f in sorted((*graphviz.FORMATS, "dot")))
        raise UsageError(f"-o {output}: unknown image format {fmt or '(no extension)'!r}; use one of {known}")
    if fmt not in ("dot", "gv") and graphviz.find_dot() is None:
        raise graphviz.GraphvizError(graphviz.INSTALL_HINT)
    guard_output(model, output)
    info = load(model, arch=arch)
    drawing = build_graph(info, expand_nested=expand_nested, bounds=layer_range or None)
    style = DotStyle(
        show_shapes=show_shapes,
        show_dtype=show_dtype,
        show_layer_names=show_layer_names,
        show_layer_activations=show_layer_activations,
        show_trainable=show_trainable,
        show_params=show_params,
        color_by=ColorBy(color_by),
        rankdir=Rankdir(rankdir),
        dpi=dpi if fmt in ("dot", "gv") else None,  # images get their dpi from the renderer
        splines=Splines(splines) if splines else None,
    )
    notes = list(drawing.notes)
    if splines is None and len(drawing.nodes) > LARGE_GRAPH:
        notes.append(
            f"{len(drawing.nodes):,} nodes: edges drawn as splines, not ortho as Keras does "
            "(Graphviz's ortho routing takes minutes on graphs this size; --splines ortho forces it)"
        )
    text = render_dot(drawing, style)
    if fmt in ("dot", "gv"):
        emit(text, output)
    else:
        assert output is not None
        image = graphviz.render(text, fmt, dpi, max_megapixels, timeout)
        notes.extend(image.notes)
        from kinspect.output import write_atomic

        write_atomic(output, image.data)
    for note in notes:
        click.echo(f"kinspect: note: {note}", err=True)


@cli.command()
def doctor() -> None:
    """Report what kinspect finds installed: Graphviz dot (version, formats) and packages.

    \b
    Example:
      kinspect doctor
    """
    from kinspect.doctor import gather, render_report

    click.echo(render_report(gather()), nl=False)


# ---- weights command (issue: kinspect weights) ----


@cli.command()
@click.argument("model", type=click.Path(dir_okay=True, exists=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--optimizer", is_flag=True, help="Also read the optimizer's slots (momentums, velocities…).")
@click.option("--histograms", is_flag=True, help="Add a histogram per tensor (a sparkline in the table).")
@click.option("--bins", type=click.IntRange(1, 10_000), default=20, show_default=True, help="Histogram bins.")
@click.option("--layer", metavar="REGEX", help="Only layers whose path matches REGEX (re.search).")
@click.option(
    "--sort",
    type=click.Choice(["file", "name", "layer", "size", "norm", "std", "mean", "min", "max", "absmax",
                       "zeros", "nan", "inf"]),
    default="file",
    show_default=True,
    help="Row order: the file's, by name, or largest first.",
)  # fmt: skip
@click.option("--top", type=click.IntRange(1), metavar="N", help="Only the first N rows (after --sort).")
@output_option
def weights(
    model: str,
    fmt: str,
    optimizer: bool,
    histograms: bool,
    bins: int,
    layer: str | None,
    sort: str,
    top: int | None,
    output: str | None,
) -> None:
    """Statistics of every stored tensor of MODEL, then health diagnostics (NaN/Inf, dead
    units, BatchNorm statistics, untrained layers, exploding weights, float16 overflow).

    \b
    Example:
      kinspect weights samples/mnist_cnn.keras --histograms --sort norm --top 5
    """
    from kinspect.analyzers.weights import SortKey, plan, report, total_bytes, wanted
    from kinspect.loaders import load
    from kinspect.loaders.arrays import Request, read_stats
    from kinspect.progress import ByteProgress
    from kinspect.render.weights import render_json, render_text

    guard_output(model, output)
    info = load(model)
    entries = plan(info, layer=layer, optimizer=optimizer)
    size = total_bytes(entries)
    requests = [Request(*w) for w in wanted(info, entries)]
    with ByteProgress(f"reading {os.path.basename(model)}") as bar:
        stats = read_stats(info, requests, bins if histograms else 0, size, bar if bar.wanted(size) else None)
    result = report(info, entries, stats, SortKey(sort), top, bins if histograms else None)
    emit(render_json(result) if fmt == "json" else render_text(result), output)


# ---- check command (issue: kinspect check) ----


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True, exists=False))
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text", show_default=True
)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "info"]),
    help="Exit 1 when a finding reaches this severity (default: error, or the config's).",
)
@click.option("--select", multiple=True, metavar="IDS", help="Only these rule ids or prefixes (KIN1,KIN301).")
@click.option("--ignore", multiple=True, metavar="IDS", help="Skip these rule ids or prefixes.")
@click.option("--max-params", type=click.IntRange(0), metavar="N", help="KIN301: at most N parameters.")
@click.option("--max-file-size", metavar="SIZE", help="KIN302: at most SIZE (e.g. 50MB, 2GiB, bytes).")
@click.option("--max-layers", type=click.IntRange(0), metavar="N", help="KIN303: at most N layers (nested).")
@click.option("--allow-layer", multiple=True, metavar="CLASS", help="KIN304: only these layer classes.")
@click.option("--forbid-layer", multiple=True, metavar="CLASS", help="KIN304: never these layer classes.")
@click.option("--input-shape", multiple=True, metavar="SHAPE", help="KIN305: required shape (None,28,28,1).")
@click.option("--input-dtype", metavar="DTYPE", help="KIN306: required input dtype.")
@click.option("--min-keras-version", metavar="VERSION", help="KIN307: saved by at least this Keras version.")
@click.option("--arch", type=click.Path(dir_okay=False), help="KIN403: architecture for weights-only files.")
@click.option(
    "--config", "config_file", type=click.Path(dir_okay=False), help="Read [tool.kinspect] from this file."
)
@click.option("--no-config", is_flag=True, help="Ignore pyproject.toml.")
@click.option("-j", "--jobs", type=click.IntRange(1), metavar="N", help="Worker processes (default: cores).")
@output_option
def check(
    files: tuple[str, ...],
    fmt: str,
    config_file: str | None,
    no_config: bool,
    jobs: int | None,
    output: str | None,
    **flags: Any,
) -> None:
    """Run the check rules over FILES: one line per finding, then a count.

    Exit 0 when no finding reaches --fail-on, 1 when one does, 3 when a file could not be read.
    Settings come from [tool.kinspect] in the nearest pyproject.toml, overridden by flags.

    \b
    Example:
      kinspect check models/*.keras --max-params 5000000 --format sarif -o kinspect.sarif
    """
    from pathlib import Path

    from kinspect import __version__
    from kinspect.checks.report import render_json, render_sarif, render_text
    from kinspect.checks.runner import check_files, reached
    from kinspect.checks.settings import find_pyproject, merge, read_table

    for path in files:
        guard_output(path, output)
    source = Path(config_file) if config_file else None if no_config else find_pyproject()
    table = (read_table(source) or {}) if source else {}
    settings = merge(table, {k.replace("_", "-"): v for k, v in flags.items()})
    results = check_files(list(files), settings, jobs)
    renderers = {"json": render_json, "sarif": lambda r: render_sarif(r, __version__)}
    emit(renderers.get(fmt, render_text)(results), output)
    if any(r.unreadable for r in results):
        code = EXIT_INPUT
    else:
        code = EXIT_FINDINGS if reached(results, settings.fail_on) else EXIT_OK
    click.get_current_context().exit(code)


# ---- report command (issue: kinspect report) ----


@cli.command()
@click.argument("model", type=click.Path(dir_okay=True, exists=False))
@click.option(
    "-o", "--output", "outdir", type=click.Path(file_okay=False), metavar="DIR",
    help="Directory for report.html and model.png (default: <model file name>-report/).",
)  # fmt: skip
@click.option("--no-graph", is_flag=True, help="Skip the graph section (no Graphviz run, no model.png).")
@click.option(
    "--no-weights", is_flag=True, help="Skip reading weight values (no weights section, no numerics)."
)
@click.option("--open", "open_browser", is_flag=True, help="Open the report in the default web browser.")
def report(model: str, outdir: str | None, no_graph: bool, no_weights: bool, open_browser: bool) -> None:
    """Write an HTML debug report of MODEL: DIR/report.html (one self-contained page: overview,
    layers, graph, weights, diagnostics, notes) and DIR/model.png (the graph).

    \b
    Example:
      kinspect report samples/mnist_cnn.keras --open
    """
    from kinspect import __version__
    from kinspect.analyzers.report import build_report
    from kinspect.loaders import load
    from kinspect.output import write_atomic
    from kinspect.render.html import render_html
    from kinspect.reporting import REPORT_BINS, default_report_dir, run_checks, start_graph, start_weights

    outdir = outdir or default_report_dir(model)
    page, image = os.path.join(outdir, "report.html"), os.path.join(outdir, "model.png")
    guard_output(model, page)
    guard_output(model, image)
    info = load(model)
    skipped = ["graph skipped (--no-graph)"] if no_graph else []
    skipped += ["weights skipped (--no-weights)"] if no_weights else []
    # Child processes are forked before any thread starts: the weight readers, then the checks'
    # raw read; Graphviz then runs in threads while the readers work.
    reading = None if no_weights else start_weights(info)
    checks, note = run_checks(model, info)
    skipped += [note] if note else []
    drawing = None if no_graph else start_graph(info)
    weights_result, note = reading() if reading is not None else (None, None)
    skipped += [note] if note else []
    graph_part, png = drawing() if drawing is not None else (None, None)
    value = build_report(info, graph=graph_part, weights=weights_result, checks=checks, bins=REPORT_BINS,
                         skipped=skipped, version=__version__)  # fmt: skip
    os.makedirs(outdir, exist_ok=True)
    if png is not None:
        write_atomic(image, png)
    write_atomic(page, render_html(value))
    click.echo(f"{page}{' and ' + image if png is not None else ''}: {value.verdict}")
    if open_browser:
        import pathlib
        import webbrowser

        webbrowser.open(pathlib.Path(page).resolve().as_uri())


def main(argv: list[str] | None = None) -> int:
    """Entry point: map every kinspect error to its one-line message and exit code.

    Anything else is a bug in kinspect: one line naming the input and how to see the
    traceback (``--debug`` or ``KINSPECT_DEBUG=1``, which re-raise it), and exit code 4.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        code = cli.main(args=args, prog_name="kinspect", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("kinspect: aborted", err=True)
        return EXIT_USAGE
    except click.ClickException as exc:
        exc.show()
        return EXIT_USAGE
    except KinspectError as exc:
        click.echo(f"kinspect: error: {exc}", err=True)
        return exc.exit_code
    except OSError as exc:  # e.g. the output directory does not exist
        click.echo(f"kinspect: error: {exc.filename or ''}: {exc.strerror or exc}", err=True)
        return EXIT_INPUT
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the last resort: never a traceback unless asked for
        if _debugging(args):
            raise
        click.echo(_internal_error(args, exc), err=True)
        return EXIT_INTERNAL
    return code if isinstance(code, int) else EXIT_OK  # check's 0/1/3


def _debugging(args: list[str]) -> bool:
    """``--debug`` before the command name (the group's options are all flags), or the variable."""
    if os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no"):
        return True
    for arg in args:
        if arg == "--debug":
            return True
        if not arg.startswith("-"):
            return False  # the command name: what follows is the command's own
    return False


def _internal_error(args: list[str], exc: Exception) -> str:
    what = _printable(" ".join(f"{type(exc).__name__}: {exc}".split()))
    if len(what) > 200:
        what = what[:199] + "…"
    inputs = _inputs(args)
    where = ""
    if inputs:
        more = f" (and {len(inputs) - 3} more)" if len(inputs) > 3 else ""
        where = f"{', '.join(_printable(i) for i in inputs[:3])}{more}: "
    return (
        f"kinspect: internal error: {where}{what}. This is a bug in kinspect; run again with --debug "
        f"(or {DEBUG_ENV}=1) for the traceback, and please report it"
    )


def _printable(text: str) -> str:
    """A file name on one line: control characters as escapes (``\\n``)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _inputs(args: list[str]) -> list[str]:
    """The command's file arguments, parsed again without running anything (empty if unknown)."""
    try:
        index = next(i for i, a in enumerate(args) if not a.startswith("-"))
        command = cli.commands.get(args[index])
        if command is None:
            return []
        ctx = command.make_context(args[index], args[index + 1 :], resilient_parsing=True)
        found: list[str] = []
        for param in command.params:
            if isinstance(param, click.Argument):
                value = ctx.params.get(param.name or "")
                found.extend(str(v) for v in (value if isinstance(value, (list, tuple)) else [value]) if v)
        return found
    except Exception:
        return []


def run() -> None:
    sys.exit(main())
