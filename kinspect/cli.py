"""The command line: parse options, load, analyze, render, write. Nothing else lives here.

Exit codes (every command): 0 success; 1 ``check`` found problems; 2 usage error;
3 an input could not be read.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import click

from kinspect.errors import KinspectError, UsageError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INPUT = 0, 1, 2, 3


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


# ---- weights command (issue: kinspect weights) ----


def main(argv: list[str] | None = None) -> int:
    """Entry point: map every kinspect error to its one-line message and exit code."""
    try:
        cli.main(args=argv, prog_name="kinspect", standalone_mode=False)
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
    return EXIT_OK


def run() -> None:
    sys.exit(main())
