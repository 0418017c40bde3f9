"""A progress bar on stderr: redrawn in place on a terminal, one line per case otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, total: int, *, stream: TextIO | None = None, enabled: bool = True) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.failed = 0
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.started = time.perf_counter()
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def update(self, label: str, passed: bool) -> None:
        self.done += 1
        self.failed += 0 if passed else 1
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.started
        left = elapsed / self.done * (self.total - self.done)
        width = 30
        filled = int(width * self.done / self.total)
        bar = "#" * filled + "." * (width - filled)
        mark = "ok" if passed else "FAIL"
        line = (
            f"[{bar}] {self.done}/{self.total} failed {self.failed} "
            f"{elapsed:5.1f}s eta {left:5.1f}s  {mark:<4} {label}"
        )
        if self.tty:
            self.stream.write("\r\033[K" + line[:160])
            if self.done == self.total:
                self.stream.write("\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
