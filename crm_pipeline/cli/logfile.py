"""Details of an internal error, kept in a log file so that the user sees one line.

The log goes to `<home>/logs/crm-<UTC time>-<pid>.log` (readable by its owner only: a
traceback may quote values), or to the temporary folder when there is no home folder (one is
never created just for a log) or it cannot hold the file.
"""

from __future__ import annotations

import os
import tempfile
import traceback
from datetime import UTC, datetime
from pathlib import Path


def first_line(exc: BaseException) -> str:
    """The error's first line, or its type when it has no message."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def log_text(argv: list[str], exc: BaseException) -> str:
    """The command, the time, the full traceback and any details the error carries."""
    parts = [f"crm {' '.join(argv)}", f"at {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC", "",
             "".join(traceback.format_exception(exc))]
    for detail in getattr(exc, "details", None) or []:
        parts += ["", detail]
    return "\n".join(parts) + "\n"


def write_log(home_root: Path | None, argv: list[str], exc: BaseException) -> Path | None:
    """Write the error's details to a new log file; its path, or None if none could be written."""
    name = f"crm-{datetime.now(UTC):%Y%m%dT%H%M%S}-{os.getpid()}.log"
    folders = [home_root / "logs"] if home_root is not None and home_root.is_dir() else []
    folders.append(Path(tempfile.gettempdir()) / "crm-logs")
    text = log_text(argv, exc)
    for folder in folders:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / name
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            return path
        except OSError:
            continue
    return None
