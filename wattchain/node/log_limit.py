"""A rate limit on repeated log lines, so that no client can flood the node's logs.

``RepeatLimit`` lets each (logger, message template) through at most
``limit`` times per ``interval_s``; the line that reaches the limit says that
further ones are being suppressed, and the first line of the next interval
says how many were. Different messages, and the same template with different
arguments, share one budget per template: a flood of "client 1.2.3.4 ..."
lines counts as one kind of line.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_LIMIT = 20
DEFAULT_INTERVAL_S = 60.0
MAX_TEMPLATES = 1_000  # distinct templates tracked at once


@dataclass(slots=True)
class _Window:
    started: float
    passed: int = 0
    suppressed: int = 0


class RepeatLimit(logging.Filter):
    """A logging filter; install it on handlers (``install_repeat_limit``)."""

    def __init__(self, limit: int = DEFAULT_LIMIT, interval_s: float = DEFAULT_INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.limit = limit
        self.interval_s = interval_s
        self.clock = clock
        self.windows: dict[tuple[str, str], _Window] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, str(record.msg))
        now = self.clock()
        window = self.windows.get(key)
        if window is None or now - window.started >= self.interval_s:
            suppressed = window.suppressed if window is not None else 0
            if window is None and len(self.windows) >= MAX_TEMPLATES:
                self._forget_old(now)
            window = self.windows[key] = _Window(now)
            if suppressed:
                _append(record, f" [{suppressed} similar lines were suppressed]")
        if window.passed >= self.limit:
            window.suppressed += 1
            return False
        window.passed += 1
        if window.passed == self.limit:
            _append(record, f" [repeated {self.limit} times; similar lines are suppressed "
                            f"for up to {self.interval_s:g} s]")
        return True

    def _forget_old(self, now: float) -> None:
        expired = [key for key, window in self.windows.items()
                   if now - window.started >= self.interval_s and not window.suppressed]
        for key in expired or list(self.windows):
            del self.windows[key]


def _append(record: logging.LogRecord, note: str) -> None:
    """Add ``note`` to ``record``'s message, keeping %-formatting of its args intact."""
    record.msg = str(record.msg) + (note.replace("%", "%%") if record.args else note)


def install_repeat_limit(limit: int = DEFAULT_LIMIT,
                         interval_s: float = DEFAULT_INTERVAL_S) -> RepeatLimit:
    """Add one ``RepeatLimit`` to every handler of the root logger (idempotent)."""
    root = logging.getLogger()
    for handler in root.handlers:
        for existing in handler.filters:
            if isinstance(existing, RepeatLimit):
                return existing
    repeat_limit = RepeatLimit(limit, interval_s)
    for handler in root.handlers:
        handler.addFilter(repeat_limit)
    return repeat_limit
