"""One writer per CRM home: an advisory lock that a second writer waits for, then is refused."""

from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager

from .errors import WarehouseLocked
from .home import Home


DEFAULT_WAIT_SECONDS = 30.0
WAIT_ENV = "CRM_LOCK_WAIT_SECONDS"


def lock_wait_seconds() -> float:
    """How long a second writer waits before it is refused ($CRM_LOCK_WAIT_SECONDS, default 30)."""
    try:
        return max(0.0, float(os.environ.get(WAIT_ENV, DEFAULT_WAIT_SECONDS)))
    except ValueError:
        return DEFAULT_WAIT_SECONDS


@contextmanager
def write_lock(home: Home, wait_seconds: float | None = None):
    """Hold the home's write lock; wait up to `wait_seconds`, then refuse naming the lock."""
    home.ensure()
    if wait_seconds is None:
        wait_seconds = lock_wait_seconds()
    fd = os.open(home.lock_file, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait_seconds
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _holder(fd)
                    raise WarehouseLocked(
                        f"{home.lock_file}: another crm process{holder} is writing to this home; "
                        "wait for it to finish and try again"
                    ) from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        os.close(fd)  # closing releases the lock, also when the process is killed


def _holder(fd: int) -> str:
    try:
        pid = os.pread(fd, 32, 0).decode().strip()
    except OSError:
        return ""
    return f" (pid {pid})" if pid else ""
