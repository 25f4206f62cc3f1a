"""Progress messages from long steps; the CLI installs a reporter, libraries just call `report`.

`report` also marks the points where crash-safety tests kill a run: with CRM_TEST_KILL_AT set to
the start of a message (e.g. `resolve`), the process kills itself with SIGKILL right there.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

KILL_ENV = "CRM_TEST_KILL_AT"

_reporter: Callable[[str], None] | None = None


def set_reporter(fn: Callable[[str], None] | None) -> None:
    global _reporter
    _reporter = fn


def report(message: str) -> None:
    kill_at = os.environ.get(KILL_ENV)
    if kill_at and message.startswith(kill_at):
        os.kill(os.getpid(), signal.SIGKILL)
    if _reporter is not None:
        _reporter(message)
