"""One writer per tenant shard: advisory locks that a second writer waits for, then is refused.

Two levels: a tenant's writer holds the home's lock shared and the tenant's lock exclusively, so
writers of different tenants run at the same time; a command over the whole home (the demo, a
migration) holds the home's lock exclusively and so waits for every tenant's writer.
"""

from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager

from crm_pipeline.errors import WarehouseLocked
from crm_pipeline.home import Home

DEFAULT_WAIT_SECONDS = 30.0
WAIT_ENV = "CRM_LOCK_WAIT_SECONDS"


def lock_wait_seconds() -> float:
    """How long a second writer waits before it is refused ($CRM_LOCK_WAIT_SECONDS, default 30)."""
    try:
        return max(0.0, float(os.environ.get(WAIT_ENV, DEFAULT_WAIT_SECONDS)))
    except ValueError:
        return DEFAULT_WAIT_SECONDS


@contextmanager
def write_lock(home: Home, tenant_id: str | None = None, wait_seconds: float | None = None):
    """Hold the write lock of one tenant (with the home's shared), or of the whole home; wait up
    to `wait_seconds`, then refuse naming the lock."""
    home.ensure()
    if wait_seconds is None:
        wait_seconds = lock_wait_seconds()
    deadline = time.monotonic() + wait_seconds
    if tenant_id is None:
        with _flock(home.lock_file, fcntl.LOCK_EX, deadline, "this home"):
            yield
        return
    home.shard_dir(tenant_id).mkdir(parents=True, exist_ok=True)
    with _flock(home.lock_file, fcntl.LOCK_SH, deadline, "this home as a whole"), \
            _flock(home.tenant_lock_file(tenant_id), fcntl.LOCK_EX, deadline,
                   f"tenant {tenant_id}"):
        yield


@contextmanager
def _flock(path, mode: int, deadline: float, what: str):
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        while True:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WarehouseLocked(
                        f"{path}: another crm process{_holder(fd)} is writing to {what}; "
                        "wait for it to finish and try again"
                    ) from None
                time.sleep(0.05)
        if mode == fcntl.LOCK_EX:
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        os.close(fd)  # closing releases the lock, also when the process is killed


@contextmanager
def heads_lock(home: Home):
    """Held while the audit head files are read and rewritten: short, never refused."""
    with short_lock(home.heads_lock_file):
        yield


@contextmanager
def short_lock(path):
    """An exclusive lock on `path` for a moment's work (waits, never refused): one process at a
    time creates a shared file, such as Dagster's run storage on a home's first runs."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _holder(fd: int) -> str:
    try:
        pid = os.pread(fd, 32, 0).decode().strip()
    except OSError:
        return ""
    return f" (pid {pid})" if pid else ""
