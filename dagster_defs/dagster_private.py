"""Every name this project takes from Dagster's private modules (`dagster._core` and its
neighbours), in one place; no other module imports them (`tests/test_dagster_private.py` proves it
and checks what the code relies on, so a Dagster upgrade that changes one fails there first).

Why each is needed:
- The run history of `crm run` (`storage.HomeSqliteStorage`): Dagster's SQLite storage with one
  pooled connection per database. It subclasses `DagsterSqliteStorage` and
  `SqliteEventLogStorage` (overriding `_connect`, using `_db_lock`, `_initialized_dbs`, `_initdb`
  and `conn_string_for_shard`), builds the run and schedule storages as Dagster does
  (`SqliteRunStorage`, `SqliteScheduleStorage`, the `_*_directory` helpers, so the files are the
  same), calls `DagsterStorage.__init__`, and opens SQLite with Dagster's busy timeout. Dagster has
  no public way to configure the event log's connections.
- No compute logs for runs in the `crm` process: `NoOpComputeLogManager`, named in the instance
  settings by module and class (`NO_COMPUTE_LOGS`).
- The home's instance with those settings (`launch`): `InstanceRef.from_dir(..., overrides=...)`
  is the only way to apply settings over a `dagster.yaml` without rewriting the file.
- A failed run's tenant (`hooks`): the run's partition tag, `PARTITION_NAME_TAG`
  (`dagster/partition`), also the key of the per-tenant concurrency limit in `deploy/`.
- Opening the storage without re-reading Dagster's migration scripts (`read_migrations_once`):
  Dagster checks and stamps each SQLite database's alembic revision (the run, event-log index,
  schedule and every run's own event-log file) through `alembic.script.ScriptDirectory`, which
  it builds afresh each time, executing Dagster's ~70 migration files to find the head revision:
  about 0.1 s per database, 1 s of every run. The scripts do not change while a process lives,
  so `dagster._core.storage.sql` and `alembic.command` are given a `ScriptDirectory` that builds
  each folder's once per process. The migrations Dagster runs, and the revisions it checks and
  stamps, are unchanged.
- The tests of `deploy/` check the configuration files as Dagster reads them: the instance
  settings (`dagster_instance_config`), a run launcher's config schema (`validate_config`,
  `RunLauncher`, `ConfigurableClassData`) and the run queue's tag limits
  (`TagConcurrencyLimitsCounter`).
"""

from __future__ import annotations

import threading

import alembic.command
from alembic.config import Config
from alembic.script import ScriptDirectory
from dagster._config import validate_config
from dagster._core.instance.config import dagster_instance_config
from dagster._core.instance.ref import InstanceRef
from dagster._core.launcher import RunLauncher
from dagster._core.storage.base_storage import DagsterStorage
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.noop_compute_log_manager import NoOpComputeLogManager
from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage
from dagster._core.storage.schedules.sqlite.sqlite_schedule_storage import SqliteScheduleStorage
from dagster._core.storage import sql as dagster_sql
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage
from dagster._core.storage.sqlite_storage import _event_logs_directory as event_logs_directory
from dagster._core.storage.sqlite_storage import _runs_directory as runs_directory
from dagster._core.storage.sqlite_storage import _schedule_directory as schedule_directory
from dagster._core.storage.tags import PARTITION_NAME_TAG
from dagster._serdes.config_class import ConfigurableClassData
from dagster._utils.tags import TagConcurrencyLimitsCounter

__all__ = [
    "PARTITION_NAME_TAG",
    "SQLITE_BUSY_TIMEOUT_SECONDS",
    "ConfigurableClassData",
    "DagsterSqliteStorage",
    "DagsterStorage",
    "InstanceRef",
    "NoOpComputeLogManager",
    "RunLauncher",
    "SqliteEventLogStorage",
    "SqliteRunStorage",
    "SqliteScheduleStorage",
    "TagConcurrencyLimitsCounter",
    "dagster_instance_config",
    "event_logs_directory",
    "read_migrations_once",
    "runs_directory",
    "schedule_directory",
    "validate_config",
]


class _ScriptDirectoryOnce(ScriptDirectory):
    """`ScriptDirectory.from_config`, built once per script folder and process."""

    _built: dict[tuple, ScriptDirectory] = {}
    _lock = threading.Lock()

    @classmethod
    def from_config(cls, config: Config) -> ScriptDirectory:
        key = (config.get_alembic_option("script_location"),
               tuple(config.get_version_locations_list() or ()))
        with cls._lock:
            script = cls._built.get(key)
            if script is None:
                script = cls._built[key] = ScriptDirectory.from_config(config)
        return script


def read_migrations_once() -> None:
    """Dagster's storage reads its migration scripts once per process (see the module's notes)."""
    dagster_sql.ScriptDirectory = _ScriptDirectoryOnce
    alembic.command.ScriptDirectory = _ScriptDirectoryOnce
