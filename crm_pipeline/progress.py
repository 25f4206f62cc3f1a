"""Progress messages from long steps; the CLI installs a reporter, libraries just call `report`."""

from __future__ import annotations

from collections.abc import Callable

_reporter: Callable[[str], None] | None = None


def set_reporter(fn: Callable[[str], None] | None) -> None:
    global _reporter
    _reporter = fn


def report(message: str) -> None:
    if _reporter is not None:
        _reporter(message)
