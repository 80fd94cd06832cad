"""A byte progress bar on stderr for long reads: only on a terminal, only for large reads, and
only once the work has taken long enough to be worth watching (short runs print nothing)."""

from __future__ import annotations

import sys
import time
from typing import Any

DELAY = 1.0  # seconds before a bar appears
MIN_BYTES = 64 * 1024 * 1024  # smaller reads never show a bar


class ByteProgress:
    """Callable ``(done, total)``; ``done < 0`` is a tick with no news. Use as a context manager."""

    def __init__(self, description: str) -> None:
        self.description = description
        self.start = time.monotonic()
        self.bar: Any = None
        self.task: Any = None
        self.done = 0

    @staticmethod
    def wanted(total: int) -> bool:
        return total >= MIN_BYTES and sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        if done >= 0:
            self.done = done
        if self.bar is None:
            if time.monotonic() - self.start < DELAY or self.done >= total or not self.wanted(total):
                return
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )

            self.bar = Progress(
                "[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                TransferSpeedColumn(), TimeRemainingColumn(),
                console=Console(stderr=True), transient=True,
            )  # fmt: skip
            self.bar.start()
            self.task = self.bar.add_task(self.description, total=total)
        self.bar.update(self.task, completed=self.done)

    def __enter__(self) -> ByteProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()
