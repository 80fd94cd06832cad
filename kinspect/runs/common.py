"""What every log reader shares: series names as History gives them, bounded reads, sniffing."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from kinspect.training import Run

MAX_TEXT_LOG = 64 << 20  # a CSV or JSON history larger than this is refused (a million epochs is 40 MB)
SNIFF = 4096  # bytes read to recognise a file
PICKLE_HINT = (
    "a pickled History: never unpickled (loading a pickle runs whatever code it names); save the "
    "history as JSON instead: json.dump(history.history, open('history.json', 'w'))"
)

EVENTS_PREFIX = "events.out.tfevents."


@dataclass(frozen=True)
class Read:
    """What reading one path gave: runs (possibly none) and one-line problems naming the file."""

    runs: tuple[Run, ...] = ()
    problems: tuple[str, ...] = ()


def history_name(name: str) -> str:
    """A log's column or tag as ``History`` names it in Keras 3: tf.keras's ``lr`` is
    ``learning_rate`` (keras/src/callbacks/reduce_lr_on_plateau.py writes ``learning_rate``)."""
    if name == "lr":
        return "learning_rate"
    if name == "val_lr":
        return "val_learning_rate"
    return name


_PICKLE_0 = re.compile(rb"^(?:\((?:dp|lp)\d|\}(?:q|r|\()|\](?:q|r|\()|c[A-Za-z_][\w.]*\n[A-Za-z_])")


def is_event_file(name: str) -> bool:
    """A TensorBoard event file, by its name (``events.out.tfevents.<time>.<host>…``)."""
    return name.startswith(EVENTS_PREFIX) or ".tfevents." in name


def is_pickle(head: bytes) -> bool:
    """A pickle stream's opening (pickletools' opcodes): PROTO 2-5, or protocol 0/1 starting a
    dict or list (``(dp0``, ``}q``) or naming a global (``cmodule\nname``)."""
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return True
    return _PICKLE_0.match(head) is not None


def head(path: str, size: int = SNIFF) -> bytes:
    with open(path, "rb") as f:
        return f.read(size)


def is_binary(data: bytes) -> bool:
    """NUL bytes, or bytes that are not UTF-8 text: not a text log."""
    if b"\0" in data:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start < len(data) - 4  # a multi-byte character cut by the sniff window is text
    return False


def read_text(path: str) -> str:
    """A text log, bounded in size, or ValueError with the reason."""
    size = os.path.getsize(path)
    if size > MAX_TEXT_LOG:
        raise ValueError(f"{size:,} bytes: larger than {MAX_TEXT_LOG >> 20} MB, not read")
    with open(path, "rb") as f:
        data = f.read(MAX_TEXT_LOG + 1)
    if is_pickle(data[:16]):
        raise ValueError(PICKLE_HINT)
    if is_binary(data[:SNIFF]):
        raise ValueError("binary data, not a text log")
    return data.decode("utf-8", "replace")


def number(value: object) -> float | None:
    """A cell or JSON value as a float (NaN and Inf kept), None for missing or non-numeric."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if text in ("", "NA", "N/A", "None", "null"):
            return None
        try:
            return float(text)
        except ValueError:
            return None
    return None
