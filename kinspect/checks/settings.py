"""Check settings: ``[tool.kinspect]`` in pyproject.toml, overridden by command-line flags."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kinspect.checks.base import Budgets
from kinspect.errors import UsageError
from kinspect.findings import Severity

KEYS = {
    "select",
    "ignore",
    "fail-on",
    "severity",
    "max-params",
    "max-file-size",
    "max-layers",
    "allowed-layers",
    "forbidden-layers",
    "input-shape",
    "input-dtype",
    "min-keras-version",
    "max-macs",
    "max-activation-memory",
    "verify",
}
ALIASES = {"allow-layer": "allowed-layers", "forbid-layer": "forbidden-layers"}  # flag name -> config key
UNITS = {"": 1, "b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "kib": 1024, "mib": 1024**2, "gib": 1024**3}


@dataclass(frozen=True)
class Settings:
    """Everything a check run needs besides the files."""

    rules: frozenset[str]
    fail_on: Severity = Severity.ERROR
    severities: Mapping[str, Severity] = field(default_factory=dict)
    budgets: Budgets = field(default_factory=Budgets)
    arch: str | None = None
    verify: bool = False  # check the stored data checksums (TensorFlow checkpoints keep a CRC32C per tensor)


def find_pyproject(start: str | os.PathLike[str] | None = None) -> Path | None:
    """The nearest pyproject.toml with a ``[tool.kinspect]`` table, walking up from ``start``."""
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            table = read_table(candidate)
            if table is not None:
                return candidate
    return None


def read_table(path: Path) -> dict[str, Any] | None:
    """``[tool.kinspect]`` of a pyproject.toml, or None when it has none."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{path}: cannot read configuration ({exc})") from None
    table = data.get("tool", {}).get("kinspect")
    if table is None:
        return None
    if not isinstance(table, dict):
        raise UsageError(f"{path}: [tool.kinspect] must be a table")
    if unknown := sorted(set(table) - KEYS):
        raise UsageError(f"{path}: unknown key {unknown[0]!r} in [tool.kinspect]")
    return table


def parse_size(text: str | int) -> int:
    """``50MB``, ``1.5GiB``, ``1000`` → bytes."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    m = re.fullmatch(r"\s*([0-9_.]+)\s*([a-zA-Z]*)\s*", str(text))
    if not m or m.group(2).lower() not in UNITS:
        raise UsageError(f"invalid size {text!r} (use e.g. 50MB, 2GiB or a number of bytes)")
    return int(float(m.group(1).replace("_", "")) * UNITS[m.group(2).lower()])


COUNT_UNITS = {"": 1, "k": 1000, "m": 1000**2, "g": 1000**3, "t": 1000**4}


def parse_count(text: str | int, key: str) -> int:
    """``4G``, ``300M``, ``1_000_000`` → a count (decimal prefixes)."""
    if isinstance(text, int) and not isinstance(text, bool):
        if text < 0:
            raise UsageError(f"{key} must be a non-negative number")
        return text
    m = re.fullmatch(r"\s*([0-9_.]+)\s*([a-zA-Z]?)\s*", str(text))
    if not m or m.group(2).lower() not in COUNT_UNITS:
        raise UsageError(f"invalid {key} {text!r} (use e.g. 4G, 300M or a number)")
    try:
        return int(float(m.group(1).replace("_", "")) * COUNT_UNITS[m.group(2).lower()])
    except ValueError:
        raise UsageError(f"invalid {key} {text!r} (use e.g. 4G, 300M or a number)") from None


def parse_shape(text: str | list[Any]) -> tuple[int | None, ...]:
    """``None,28,28,1`` (or ``?`` / ``null`` for unknown, or a TOML list) → a shape."""
    items = text if isinstance(text, list) else str(text).strip("()[] ").split(",")
    dims: list[int | None] = []
    for item in items:
        word = str(item).strip().lower() if item is not None else "none"
        if word in ("none", "?", "null", "-1", ""):
            dims.append(None)
        elif word.isdigit():
            dims.append(int(word))
        else:
            raise UsageError(f"invalid input shape {text!r} (use e.g. None,28,28,1)")
    return tuple(dims)


def _list(value: Any, key: str) -> list[str]:
    """A list of names from a TOML list, repeated flags, or comma/space separated text."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(v, str) for v in items):
        raise UsageError(f"{key} must be a list of strings")
    return [part for item in items for part in re.split(r"[,\s]+", item) if part]


def merge(table: Mapping[str, Any], flags: Mapping[str, Any]) -> Settings:
    """Settings from the config table, each key overridden by a flag that was given."""
    from kinspect.checks import resolve

    flags = {ALIASES.get(k, k): v for k, v in flags.items()}

    def pick(key: str) -> Any:
        value = flags.get(key)
        return value if value not in (None, (), []) else table.get(key)

    try:
        select = pick("select")
        rules = resolve(
            _list(select, "select") if select is not None else None, _list(pick("ignore") or [], "ignore")
        )
        fail_on = Severity(str(pick("fail-on") or "error").lower())
        severities = {
            str(k).upper(): Severity(str(v).lower()) for k, v in (table.get("severity") or {}).items()
        }
    except ValueError as exc:
        raise UsageError(f"check: {exc}") from None
    allowed = pick("allowed-layers")
    shapes = pick("input-shape")
    if shapes is not None and (
        not isinstance(shapes, (list, tuple)) or not shapes or not isinstance(shapes[0], (list, str))
    ):
        shapes = [shapes]  # one TOML list [null, 28, 28, 1]
    budgets = Budgets(
        max_params=_int(pick("max-params"), "max-params"),
        max_file_size=parse_size(pick("max-file-size")) if pick("max-file-size") is not None else None,
        max_layers=_int(pick("max-layers"), "max-layers"),
        allowed_layers=frozenset(_list(allowed, "allowed-layers")) if allowed is not None else None,
        forbidden_layers=frozenset(_list(pick("forbidden-layers") or [], "forbidden-layers")),
        input_shapes=tuple(parse_shape(s) for s in shapes or ()),
        input_dtype=pick("input-dtype"),
        min_keras_version=str(pick("min-keras-version")) if pick("min-keras-version") is not None else None,
        max_macs=parse_count(pick("max-macs"), "max-macs") if pick("max-macs") is not None else None,
        max_activation_memory=(
            parse_size(pick("max-activation-memory")) if pick("max-activation-memory") is not None else None
        ),
    )
    verify = pick("verify")
    if verify is not None and not isinstance(verify, bool):
        raise UsageError("verify must be true or false")
    return Settings(
        rules=rules, fail_on=fail_on, severities=severities, budgets=budgets, arch=flags.get("arch"),
        verify=bool(verify),
    )  # fmt: skip


def _int(value: Any, key: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UsageError(f"{key} must be a non-negative integer")
    return value
