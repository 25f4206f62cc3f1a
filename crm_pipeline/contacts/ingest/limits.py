"""Limits on an input file, checked before it costs memory or time: a device, a FIFO, a file of
unbounded size, a million-column header or a gigabyte line is refused with one clear line.

The limits are generous for real exports and can be raised per process through the environment:
`CRM_MAX_IMPORT_BYTES` (default 2 GiB), `CRM_MAX_IMPORT_COLUMNS` (2,000) and
`CRM_MAX_IMPORT_LINE_BYTES` (8 MiB, one physical line).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from crm_pipeline.errors import BadArgument, RefusedFile

MAX_BYTES_ENV = "CRM_MAX_IMPORT_BYTES"
MAX_COLUMNS_ENV = "CRM_MAX_IMPORT_COLUMNS"
MAX_LINE_ENV = "CRM_MAX_IMPORT_LINE_BYTES"
DEFAULT_MAX_BYTES = 2 * 1024**3
DEFAULT_MAX_COLUMNS = 2_000
DEFAULT_MAX_LINE_BYTES = 8 * 1024**2


def max_import_bytes() -> int:
    """The largest file an import reads ($CRM_MAX_IMPORT_BYTES)."""
    return _limit(MAX_BYTES_ENV, DEFAULT_MAX_BYTES)


def max_columns() -> int:
    """The most columns a contact file may have ($CRM_MAX_IMPORT_COLUMNS)."""
    return _limit(MAX_COLUMNS_ENV, DEFAULT_MAX_COLUMNS)


def max_line_bytes() -> int:
    """The longest physical line a file may have ($CRM_MAX_IMPORT_LINE_BYTES)."""
    return _limit(MAX_LINE_ENV, DEFAULT_MAX_LINE_BYTES)


def _limit(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip().replace("_", "")
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise BadArgument(f"{name}={os.environ[name]!r} is not a positive whole number; "
                          f"unset it for the default ({default:,})")
    return value


def size_text(n: int) -> str:
    """A byte count as people read it: `2.0 GiB`, `512 KiB`, `300 bytes`."""
    for unit, size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"


def regular_file_bytes(path: Path, limit: int | None = None, hint: str | None = None) -> bytes:
    """The bytes of a regular file of at most `limit` bytes (default: the import limit; `hint`
    says what to do about a larger file).

    A device (`/dev/zero`), FIFO, socket or folder is refused from its status, before it is
    opened (opening a FIFO waits for a writer; some devices act when opened); the file is then
    opened without waiting and checked again, and read no further than the limit, so a file
    growing meanwhile is refused too."""
    path = Path(path)
    if limit is None:
        limit = max_import_bytes()
        hint = hint or f"split it into smaller files, or raise {MAX_BYTES_ENV}"
    try:
        status = os.stat(path)
    except OSError as exc:
        raise RefusedFile(path, _unreadable(exc)) from exc
    _refuse_special(path, status.st_mode)
    _refuse_size(path, status.st_size, limit, hint)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise RefusedFile(path, _unreadable(exc)) from exc
    try:
        with os.fdopen(fd, "rb") as file:
            status = os.fstat(file.fileno())
            _refuse_special(path, status.st_mode)
            _refuse_size(path, status.st_size, limit, hint)
            data = file.read(status.st_size + 1)  # one buffer of the file's size
            if len(data) > status.st_size:  # it grew since: read on, up to the limit
                data += file.read(limit + 1 - len(data))
                _refuse_size(path, len(data), limit, hint)
    except OSError as exc:
        raise RefusedFile(path, _unreadable(exc)) from exc
    return data


def _refuse_special(path: Path, mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        kind = "a folder"
    elif stat.S_ISFIFO(mode):
        kind = "a pipe (FIFO)"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = "a device"
    elif stat.S_ISSOCK(mode):
        kind = "a socket"
    else:
        kind = "not a regular file"
    raise RefusedFile(path, f"is {kind}, not a regular file; save the data to a file and "
                            "import that")


def _refuse_size(path: Path, size: int, limit: int, hint: str | None) -> None:
    if size > limit:
        raise RefusedFile(path, f"is larger than the limit of {size_text(limit)} "
                                f"({size_text(size)} or more)" + (f"; {hint}" if hint else ""))


def _unreadable(exc: OSError) -> str:
    return f"cannot be read ({exc.strerror or exc}); check the path"
