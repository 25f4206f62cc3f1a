"""Dagster's run history for `crm run`: SQLite, as by default, without a disk wait per event.

Dagster's default SQLite event log opens a fresh connection for every event it stores and closes
it after one commit; closing the last connection of a WAL database checkpoints it, so each of a
run's ~100 events (step starts, outputs, materializations, check results) waits for the disk
several times. On this kind of machine that was 2-3 s of a `crm run` that does nothing else.
`HomeSqliteStorage` keeps the same files, tables and layout (`history/runs.db`,
`history/runs/<run>.db`, `schedules/`), so Dagster's own storage, the UI and the daemon read
what it writes, but keeps one connection open per database and commits with
`synchronous=NORMAL` (WAL: durable across a crash of the process; the last events before a power
cut may be lost, which the warehouse's own audit trail does not depend on).

Only the short-lived process of `crm run` uses it (`in_process_overrides`), for one run: the
webserver and the daemon keep the home's storage, whose per-event checkpoints are what their
file watchers see, and which holds no file open per run for the life of the process. A
`dagster.yaml` that configures storage itself is used as it is.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as db
import yaml
from sqlalchemy.pool import QueuePool

from .dagster_private import (
    SQLITE_BUSY_TIMEOUT_SECONDS,
    DagsterSqliteStorage,
    DagsterStorage,
    NoOpComputeLogManager,
    SqliteEventLogStorage,
    SqliteRunStorage,
    SqliteScheduleStorage,
    event_logs_directory,
    runs_directory,
    schedule_directory,
)

STORAGE_KEYS = ("storage", "run_storage", "event_log_storage", "schedule_storage")
POOLED = {"custom": {"module": "dagster_defs.storage", "class": "HomeSqliteStorage",
                     "config": {"base_dir": {"env": "DAGSTER_HOME"}}}}
# A run in this process prints to the terminal it runs in: Dagster's copy of stdout and stderr
# into files (two `tail` processes and two watchers started per run) is left to runs launched from
# the UI, the schedule or the sensor, which keep the home's setting.
NO_COMPUTE_LOGS = {"module": NoOpComputeLogManager.__module__,
                   "class": NoOpComputeLogManager.__name__}


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """Dagster's SQLite event log with one pooled connection per shard (run or index)."""

    def __init__(self, base_dir: str, inst_data=None):
        self._engines: dict[str, db.Engine] = {}
        self._engines_lock = threading.Lock()
        # Answers that stay true for the life of a run's process, asked again at every step
        # and event (each was a fresh SQLite connection: about a fifth of a small run's time).
        self._tables_present: set[str] = set()
        self._partitions_present: set[tuple[str, str]] = set()
        super().__init__(base_dir, inst_data=inst_data)

    def has_table(self, table_name: str) -> bool:
        if table_name in self._tables_present:
            return True
        present = super().has_table(table_name)
        if present:
            self._tables_present.add(table_name)
        return present

    def has_dynamic_partition(self, partitions_def_name: str, partition_key: str) -> bool:
        key = (partitions_def_name, partition_key)
        if key in self._partitions_present:
            return True
        present = super().has_dynamic_partition(partitions_def_name, partition_key)
        if present:
            self._partitions_present.add(key)
        return present

    def delete_dynamic_partition(self, partitions_def_name: str, partition_key: str) -> None:
        self._partitions_present.discard((partitions_def_name, partition_key))
        super().delete_dynamic_partition(partitions_def_name, partition_key)

    def _engine(self, shard: str) -> db.Engine:
        with self._engines_lock:
            engine = self._engines.get(shard)
            if engine is None:
                engine = db.create_engine(
                    self.conn_string_for_shard(shard),
                    poolclass=QueuePool, pool_size=1, max_overflow=4,  # for nested uses
                    connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS,
                                  "check_same_thread": False},
                )
                db.event.listen(engine, "connect", _relaxed_sync)
                self._engines[shard] = engine
            return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[db.Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def _close_engines(self) -> None:
        with self._engines_lock:
            engines, self._engines = list(self._engines.values()), {}
        for engine in engines:
            engine.dispose()

    def wipe(self) -> None:
        self._close_engines()  # its files are deleted: no connection may outlive them
        super().wipe()

    def dispose(self) -> None:
        self._close_engines()
        super().dispose()


def _relaxed_sync(dbapi_connection, _record) -> None:
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


class HomeSqliteStorage(DagsterSqliteStorage):
    """Dagster's SQLite storage (same files) with the pooled event log above."""

    def __init__(self, base_dir: str, inst_data=None):
        self.base_dir = base_dir
        self._run_storage = SqliteRunStorage.from_local(runs_directory(base_dir))
        self._event_log_storage = PooledSqliteEventLogStorage(event_logs_directory(base_dir))
        self._schedule_storage = SqliteScheduleStorage.from_local(schedule_directory(base_dir))
        self._inst_data = inst_data
        DagsterStorage.__init__(self)

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> HomeSqliteStorage:
        return cls.from_local(inst_data=inst_data, **config_value)


def in_process_overrides(dagster_home: Path) -> dict:
    """Instance settings for a run in this process over the home's `dagster.yaml`: no compute
    logs, and `HomeSqliteStorage` unless the file configures storage itself. (A file that named
    `HomeSqliteStorage` for every process, as a development version wrote, is set back.)"""
    path = dagster_home / "dagster.yaml"
    settings = (yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None) or {}
    if settings.get("storage") == POOLED:
        del settings["storage"]
        tmp = path.with_suffix(".yaml.tmp")
        tmp.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
        tmp.replace(path)
    configured = any(key in settings for key in STORAGE_KEYS)
    return {"compute_logs": NO_COMPUTE_LOGS, **({} if configured else {"storage": POOLED})}
