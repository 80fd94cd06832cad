"""The floor under every kinspect command: starting Python, and importing kinspect's CLI.

Only through ``python benchmarks/run.py``. Its rows put ``python -c "import kinspect.cli"`` and
``kinspect --version`` (the console script: click parses, nothing is read) beside
``python -c pass``, so that the other rows can be read against what no command can go under.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any


def cases(quick: bool, work_dir: Path) -> list[Any]:
    from bench_summary import kinspect_executable
    from suite import Case

    python = [sys.executable, "-c", "pass"]
    way = "`python -c pass` (the interpreter alone)"
    cli = [sys.executable, "-c", "import kinspect.cli"]
    return [
        Case("floor", '`python -c "import kinspect.cli"`', cli, python, way),
        Case("floor", "`kinspect --version`", [str(kinspect_executable()), "--version"], python, way),
    ]
