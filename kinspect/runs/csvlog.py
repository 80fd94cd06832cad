"""CSVLogger files (``training.csv``, ``training.log``): keras/src/callbacks/csv_logger.py.

A header ``epoch`` + the sorted metric names, written with the logger's ``separator``; one row
per epoch, the ``epoch`` cell 0-based; ``NA`` for a metric an epoch lacks (and Keras 3 adds
``val_*`` columns, all ``NA``, when there is no validation). ``append=True`` appends the rows of a
new run without a second header, so epochs that restart (an epoch not after the one before)
begin another run.
"""

from __future__ import annotations

import csv
import io

from kinspect.runs.common import Read, history_name, number, read_text
from kinspect.training import Run, Series, Source, SourceKind

SEPARATORS = ",;\t| "
MAX_FIELD = 1 << 20  # bytes in one cell (csv's own default limit is 128 KiB)
MAX_EPOCH = 100_000  # a larger epoch number is a corrupt row, not a run


def separator(header: str) -> str | None:
    """The CSVLogger's separator: the character after ``epoch`` in its header."""
    text = header.lstrip("\ufeff")
    if not text.startswith("epoch"):
        return None
    rest = text[len("epoch") :]
    if not rest.strip("\r\n"):
        return ","  # a header of one column: no metric at all
    return rest[0] if rest[0] in SEPARATORS else None


def looks_like_csvlog(head: bytes) -> bool:
    """The first line is a CSVLogger header."""
    line = head.split(b"\n", 1)[0].decode("utf-8", "replace")
    return separator(line) is not None


def read_csv(path: str) -> Read:
    """The runs a CSVLogger file holds (several when ``append=True`` restarted its epochs)."""
    try:
        text = read_text(path)
    except (OSError, ValueError) as exc:
        return Read(problems=(f"{path}: {getattr(exc, 'strerror', None) or exc}",))
    first = text.split("\n", 1)[0]
    sep = separator(first)
    if sep is None:
        return Read(problems=(f"{path}: not a CSVLogger file (the header does not start with 'epoch')",))
    csv.field_size_limit(MAX_FIELD)
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=sep))
    except csv.Error as exc:
        return Read(problems=(f"{path}: not a readable CSV file ({exc})",))
    names = [history_name(n.strip()) for n in rows[0][1:]]
    runs: list[list[list[str]]] = []
    previous: int | None = None
    skipped = 0
    for row in rows[1:]:
        if not row or row == [""]:
            continue
        epoch = number(row[0])
        if epoch is None or epoch != int(epoch) or not 0 <= epoch < MAX_EPOCH or len(row) != len(names) + 1:
            skipped += 1
            continue
        if previous is None or epoch <= previous:
            runs.append([])
        runs[-1].append(row)
        previous = int(epoch)
    problems = []
    if skipped:
        problems.append(f"{path}: {skipped} row(s) that are not CSVLogger epochs skipped")
    if not runs:
        return Read(problems=(*problems, f"{path}: no epoch rows"))
    out = []
    for index, part in enumerate(runs, 1):
        out.append(_run(path, names, part, index if len(runs) > 1 else None, len(runs)))
    return Read(tuple(out), tuple(problems))


def _run(path: str, names: list[str], rows: list[list[str]], part: int | None, parts: int) -> Run:
    start = int(float(rows[0][0]))
    notes: list[str] = []
    epochs = int(float(rows[-1][0])) + 1
    columns: dict[str, list[float | None]] = {n: [None] * epochs for n in names}
    unparsed: set[str] = set()
    for row in rows:
        epoch = int(float(row[0]))
        for name, cell in zip(names, row[1:], strict=True):
            value = number(cell)
            if value is None and cell.strip() not in ("", "NA"):
                unparsed.add(name)
            columns[name][epoch] = value
    if unparsed:
        notes.append(f"{path}: non-numeric values in {', '.join(sorted(unparsed))} (read as missing)")
    if start:
        notes.append(f"{path}: the run starts at epoch {start + 1} (initial_epoch={start})")
    metrics: dict[str, Series] = {n: tuple(v) for n, v in columns.items() if any(x is not None for x in v)}
    name = path if part is None else f"{path} (run {part} of {parts})"
    return Run(name, (Source(path, SourceKind.CSV, part),), metrics, notes=tuple(notes))
