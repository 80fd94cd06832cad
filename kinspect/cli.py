"""The command line: parse options, call the library API, render, write. Nothing else lives here.

Exit codes (every command): 0 success; 1 ``check`` found problems, or ``diff --fail-on-change`` a
change; 2 usage error;
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
FLAGS = {"output": "-o"}  # library keywords whose flag is not --keyword-with-dashes


def output_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE instead of stdout."
    )(fn)


def emit(text: str, output: str | None) -> None:
    """Print, or write ``output`` atomically."""
    if output is None:
        click.echo(text, nl=False)
        return
    from kinspect.output import write_atomic

    write_atomic(output, text)


def guard_output(model_path: str, output: str | None) -> None:
    """Refuse ``-o`` naming the model being read (before reading it)."""
    if output:
        from kinspect.output import refuse_input

        refuse_input(model_path, output)


def message(exc: KinspectError) -> str:
    """The library's one-line message, worded for the command line: the option at fault as its
    flag, and what to try."""
    from kinspect import graphviz

    if isinstance(exc, UsageError) and exc.option:
        flag = FLAGS.get(exc.option, "--" + exc.option.replace("_", "-"))
        if exc.value is None:
            return f"{flag}: {exc.message}"
        value = " ".join(map(str, exc.value)) if isinstance(exc.value, tuple) else exc.value
        return f"{flag} {value}: {exc.message}"
    if isinstance(exc, graphviz.GraphvizMissing):
        return f"{exc}; '-o FILE.dot' writes DOT text without it"
    if isinstance(exc, graphviz.GraphvizTimeout):
        return f"{exc}; try --timeout, -o FILE.svg, --layer-range or --splines line"
    return str(exc)


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
    type=click.Path(dir_okay=True),
    help="Architecture (.keras, .h5, config.json, SavedModel) for a weights-only file.",
)
@click.option(
    "--color/--no-color", default=None, help="Colour the table (default: when stdout is a terminal)."
)
@click.option("--cost", is_flag=True, help="Add MACs and activation memory per layer, and memory totals.")
@click.option(
    "--batch", type=click.IntRange(1), default=1, show_default=True, help="Samples the cost is for."
)
@click.option(
    "--seq-len", type=click.IntRange(1), help="Length for unknown (None) sequence dims, for --cost."
)
@click.option(
    "--verify",
    is_flag=True,
    help="Read the stored weights and check them against the config, even where the config alone "
    "gives the counts.",
)
@output_option
def summary(model: str, fmt: str, color: bool | None, output: str | None, **options: Any) -> None:
    """Print what model.summary() shows for MODEL, plus the file's metadata.

    \b
    Example:
      kinspect summary samples/mnist_cnn.keras --show-trainable
      kinspect summary model.keras --cost --batch 32
    """
    from kinspect import api

    guard_output(model, output)
    color = color if color is not None else (output is None and sys.stdout.isatty())
    result = api.summary(model, color=color, **options)
    emit({"json": result.to_json, "markdown": result.to_markdown}.get(fmt, result.__str__)(), output)


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
@click.option("--arch", type=click.Path(dir_okay=True), help="Architecture for a weights-only file.")
def graph(model: str, output: str | None, **options: Any) -> None:
    """Draw MODEL's layer graph as keras.utils.plot_model does, from the file alone.

    The format follows the extension of -o: .png, .svg, .pdf (Graphviz 'dot' needed) or
    .dot (DOT text, needs nothing). Without -o, DOT is written to stdout.

    \b
    Example:
      kinspect graph samples/mnist_cnn.keras -o mnist.png --show-shapes
    """
    from kinspect import api, graphviz

    if output:
        graphviz.output_format(output)  # refused before reading: an unknown format, or no Graphviz
    result = api.graph(model, **options)
    notes = result.write(output) if output else ()
    if output is None:
        click.echo(result.dot, nl=False)
    for note in (*result.notes, *notes):
        click.echo(f"kinspect: note: {note}", err=True)


@cli.command()
def doctor() -> None:
    """Report what kinspect finds installed: Graphviz dot (version, formats) and packages.

    \b
    Example:
      kinspect doctor
    """
    from kinspect.doctor import gather, render_environment

    click.echo(render_environment(gather()), nl=False)


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
@click.option(
    "--verify", is_flag=True, help="First check the data checksums (TensorFlow checkpoints keep them)."
)
@output_option
def weights(model: str, fmt: str, output: str | None, **options: Any) -> None:
    """Statistics of every stored tensor of MODEL, then health diagnostics (NaN/Inf, dead
    units, BatchNorm statistics, untrained layers, exploding weights, float16 overflow).

    \b
    Example:
      kinspect weights samples/mnist_cnn.keras --histograms --sort norm --top 5
    """
    from kinspect import api

    guard_output(model, output)
    result = api.weights(model, progress=True, **options)
    emit(result.to_json() if fmt == "json" else str(result), output)


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
@click.option("--max-macs", metavar="N", help="KIN308: at most N MACs per sample (e.g. 4G, 300M).")
@click.option(
    "--max-activation-memory",
    metavar="SIZE",
    help="KIN309: peak activations per sample at most SIZE (e.g. 20MB).",
)
@click.option("--arch", type=click.Path(dir_okay=True), help="KIN403: architecture for weights-only files.")
@click.option(
    "--verify", is_flag=True, default=None, help="Check the data checksums (TensorFlow checkpoints)."
)
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
    output: str | None,
    **settings: Any,
) -> None:
    """Run the check rules over FILES: one line per finding, then a count.

    Exit 0 when no finding reaches --fail-on, 1 when one does, 3 when a file could not be read.
    Settings come from [tool.kinspect] in the nearest pyproject.toml, overridden by flags.

    \b
    Example:
      kinspect check models/*.keras --max-params 5000000 --format sarif -o kinspect.sarif
    """
    from kinspect import api

    for path in files:
        guard_output(path, output)
    result = api.check(files, config=config_file or not no_config, **settings)
    emit({"json": result.to_json, "sarif": result.to_sarif}.get(fmt, result.__str__)(), output)
    code = EXIT_INPUT if result.unreadable else EXIT_FINDINGS if result.failed else EXIT_OK
    click.get_current_context().exit(code)


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
@click.option(
    "--logs", multiple=True, type=click.Path(), metavar="PATH",
    help="The run's logs for the Training section (default: training.csv, logs/… beside the model).",
)  # fmt: skip
@click.option("--open", "open_browser", is_flag=True, help="Open the report in the default web browser.")
@click.option(
    "--compare",
    type=click.Path(dir_okay=True),
    metavar="OTHER",
    help="Add a section: what changed from OTHER.",
)
def report(
    model: str,
    outdir: str | None,
    no_graph: bool,
    no_weights: bool,
    logs: tuple[str, ...],
    open_browser: bool,
    compare: str | None,
) -> None:
    """Write an HTML debug report of MODEL: DIR/report.html (one self-contained page: overview,
    layers, graph, weights, diagnostics, notes) and DIR/model.png (the graph).

    \b
    Example:
      kinspect report samples/mnist_cnn.keras --open
    """
    from kinspect import api

    # warm: this process ends with the command, so it may import numpy and h5py for its children.
    result = api.report(
        model,
        outdir,
        graph=not no_graph,
        weights=not no_weights,
        logs=logs or None,
        compare=compare,
        warm=True,
    )
    click.echo(str(result))
    for warning in result.warnings:
        click.echo(f"kinspect: warning: {warning}", err=True)
    if open_browser:
        import pathlib
        import webbrowser

        webbrowser.open(pathlib.Path(result.page).resolve().as_uri())


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=True, exists=False))
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Draw the curves to FILE: .svg, or .png (plot extra).",
)
@click.option(
    "--monitor", metavar="METRIC", help="Metric that picks the best epoch (default val_loss, or loss)."
)
@click.option(
    "--mode", type=click.Choice(["auto", "min", "max"]), default="auto", show_default=True,
    help="Whether --monitor improves down or up; auto as Keras (max for accuracy-like names).",
)  # fmt: skip
@click.option(
    "--steps-per-epoch", type=click.IntRange(1), metavar="N", help="Map checkpoint steps to epochs."
)
@click.option(
    "--epochs", type=click.IntRange(1), metavar="N", help="The epochs fit() was given (tells early stops)."
)
def history(paths: tuple[str, ...], fmt: str, output: str | None, **options: Any) -> None:
    """Learning curves, best epoch, events, diagnostics and checkpoint epochs of the training
    runs in PATHS: run directories, CSVLogger files, History JSON, TensorBoard logs.

    \b
    Example:
      kinspect history runs/mnist/ -o curves.svg
    """
    from kinspect import api
    from kinspect.errors import NoRunError

    if output and os.path.splitext(output)[1].lower() not in (".svg", ".png"):
        raise UsageError("the curves are written as .svg or .png", "output", output)
    try:
        result = api.history(*paths, **options)
    except NoRunError as exc:
        for problem in exc.problems[1:]:
            click.echo(f"kinspect: warning: {problem}", err=True)
        raise
    if output:
        result.write(output)
    emit({"json": result.to_json, "markdown": result.to_markdown}.get(fmt, result.__str__)(), None)
    for problem in result.problems:
        click.echo(f"kinspect: warning: {problem}", err=True)


@cli.command()
@click.argument("a", type=click.Path(dir_okay=True, exists=False))
@click.argument("b", type=click.Path(dir_okay=True, exists=False))
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True
)
@click.option("--atol", type=click.FloatRange(0), default=0.0, show_default=True, help="Absolute tolerance.")
@click.option("--rtol", type=click.FloatRange(0), default=0.0, show_default=True, help="Relative tolerance.")
@click.option("--optimizer", is_flag=True, help="Also compare the optimizer's state.")
@click.option(
    "--fail-on-change", type=click.Choice(["any", "weights", "architecture"]), is_flag=False,
    flag_value="any", default=None, help="Exit 1 when something changed (any, or only weights/architecture).",
)  # fmt: skip
@click.option("--arch-a", type=click.Path(dir_okay=True), help="Architecture for a weights-only A.")
@click.option("--arch-b", type=click.Path(dir_okay=True), help="Architecture for a weights-only B.")
@output_option
def diff(a: str, b: str, fmt: str, fail_on_change: str | None, output: str | None, **options: Any) -> None:
    """What changed from model A to model B: layers added, removed and changed, and every
    tensor's change (max |Δ|, relative L2, cosine, elements beyond --atol/--rtol), per layer.

    \b
    Example:
      kinspect diff run/epoch-03.keras run/epoch-04.keras --fail-on-change weights
    """
    from kinspect import api

    guard_output(a, output)
    guard_output(b, output)
    result = api.diff(a, b, **options)
    emit({"json": result.to_json, "markdown": result.to_markdown}.get(fmt, result.__str__)(), output)
    weights, arch = result.weights_changed, result.architecture_changed
    hit = {"any": weights or arch, "weights": weights, "architecture": arch}.get(fail_on_change or "", False)
    click.get_current_context().exit(EXIT_FINDINGS if hit else EXIT_OK)


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
        click.echo(f"kinspect: error: {message(exc)}", err=True)
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


if __name__ == "__main__":
    run()
