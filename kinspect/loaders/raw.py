"""What ``kinspect check`` needs before (or instead of) a full load: the raw config and
the archive's member names, read with the same bounds as the loaders.

The full loader refuses a hostile archive (a member path escaping it) or a model whose
weights contradict its config; a check run still wants to scan that file's config and
report the problem as a finding. Each format module reads its own (``raw()``); nothing
here is executed or imported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RawFile:
    """The parsed config (None when absent or unreadable), metadata and archive members."""

    config: Any = None
    metadata: Any = None
    members: tuple[str, ...] = ()
    unsafe: tuple[str, ...] = ()
    is_archive: bool = False
    problem: str | None = None  # why the config could not be read, when it could not
    duplicates: tuple[str, ...] = ()  # member names that several members share
    pickled: tuple[tuple[str, str, bool], ...] = ()  # (member, what, True): pickled data; False: uncheckable
    shadowed: tuple[Any, ...] = ()  # other config.json members, hidden by the one zipfile reads


def parse_json(data: bytes | str, what: str) -> tuple[Any, str | None]:
    """Decoded JSON, or None and why not: a check run reports, it does not refuse."""
    try:
        return json.loads(data), None
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError) as exc:
        return None, f"{what} is not valid JSON ({str(exc)[:100]})"
    except RecursionError:
        return None, f"{what} is nested too deeply"
