"""What the project relies on in Dagster's private modules (`dagster_defs/dagster_private.py`):
fails when a Dagster upgrade changes it, and when a module imports them around that one module."""

from __future__ import annotations

import ast
import importlib
import inspect
from contextlib import AbstractContextManager
from pathlib import Path

import dagster as dg

from crm_pipeline.paths import REPO_ROOT
from dagster_defs import dagster_private as private
from dagster_defs.storage import NO_COMPUTE_LOGS, HomeSqliteStorage, PooledSqliteEventLogStorage

PRIVATE_PREFIXES = ("dagster._", "dagster_duckdb._", "dagster_k8s._", "dagster_docker._")


def parameters(fn) -> list[str]:
    return list(inspect.signature(fn).parameters)


def test_every_private_name_still_imports():
    for name in private.__all__:
        assert getattr(private, name) is not None, name


def test_the_event_log_storage_keeps_what_the_pooled_one_overrides_and_uses():
    base = private.SqliteEventLogStorage
    assert parameters(base.__init__)[:3] == ["self", "base_dir", "inst_data"]
    assert parameters(base._connect) == ["self", "shard"]
    assert parameters(base._initdb)[:2] == ["self", "engine"]
    assert parameters(base.conn_string_for_shard) == ["self", "shard_name"]
    for method in ("wipe", "dispose"):
        assert callable(getattr(base, method)), method


def test_a_pooled_event_log_has_the_attributes_its_connect_uses(tmp_path):
    storage = PooledSqliteEventLogStorage(str(tmp_path))
    try:
        assert hasattr(storage, "_db_lock") and isinstance(storage._initialized_dbs, set)
        with storage._connect("index") as conn:  # Dagster's own tables are created through it
            assert conn.exec_driver_sql("SELECT count(*) FROM event_logs").scalar() == 0
        assert storage.conn_string_for_shard("index").startswith("sqlite:///")
    finally:
        storage.dispose()


def test_the_home_storage_is_read_through_dagsters_own_properties(tmp_path):
    storage = HomeSqliteStorage(str(tmp_path))
    try:
        assert isinstance(storage.event_log_storage, PooledSqliteEventLogStorage)
        assert isinstance(storage.run_storage, private.SqliteRunStorage)
        assert isinstance(storage.schedule_storage, private.SqliteScheduleStorage)
    finally:
        storage.dispose()
    for cls in (private.DagsterSqliteStorage, private.SqliteRunStorage,
                private.SqliteScheduleStorage):
        assert parameters(cls.from_local)[:2] == ["base_dir", "inst_data"], cls
    assert parameters(private.DagsterStorage.__init__) == ["self"]


def test_the_storage_folders_are_dagsters_default_layout():
    base = "/home/d"
    assert Path(private.runs_directory(base)) == Path(base, "history")
    assert Path(private.event_logs_directory(base)) == Path(base, "history", "runs")
    assert Path(private.schedule_directory(base)) == Path(base, "schedules")
    assert isinstance(private.SQLITE_BUSY_TIMEOUT_SECONDS, int | float)


def test_the_instance_is_built_from_a_folder_with_overrides():
    assert "overrides" in parameters(private.InstanceRef.from_dir)
    assert callable(dg.DagsterInstance.from_ref)


def test_the_no_compute_logs_setting_names_an_importable_manager():
    module = importlib.import_module(NO_COMPUTE_LOGS["module"])
    manager = getattr(module, NO_COMPUTE_LOGS["class"])
    assert manager is private.NoOpComputeLogManager
    assert manager.__name__ == "NoOpComputeLogManager"


def test_the_partition_tag_is_the_one_runs_carry():
    assert private.PARTITION_NAME_TAG == "dagster/partition"


def test_what_the_deploy_tests_read_with():
    assert parameters(private.dagster_instance_config)[:1] == ["base_dir"]
    assert callable(private.validate_config)
    assert hasattr(private.TagConcurrencyLimitsCounter, "is_blocked")
    assert hasattr(private.ConfigurableClassData, "rehydrate")
    assert inspect.isabstract(private.RunLauncher) or inspect.isclass(private.RunLauncher)


def private_dagster_imports(path: Path, strings: bool = True) -> list[str]:
    """Imports of Dagster's private modules, and (with `strings`) module paths naming one."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif strings and isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
            names = [text] if text.startswith(PRIVATE_PREFIXES) and " " not in text else []
        found += [f"{path.relative_to(REPO_ROOT)}:{node.lineno}: {n}" for n in names
                  if n.startswith(PRIVATE_PREFIXES)]
    return found


def test_no_other_module_imports_dagsters_private_modules():
    allowed = {REPO_ROOT / "dagster_defs" / "dagster_private.py"}
    offenders = []
    for folder in ("crm_pipeline", "dagster_defs", "tests", "bench"):
        for path in sorted((REPO_ROOT / folder).rglob("*.py")):
            if path not in allowed:
                # the tests may say "dagster._core" (a traceback must not show it)
                offenders += private_dagster_imports(path, strings=folder != "tests")
    assert offenders == []


def test_the_scan_sees_a_private_import():
    assert private_dagster_imports(REPO_ROOT / "dagster_defs" / "dagster_private.py")


def test_a_context_manager_is_what_connect_gives(tmp_path):
    storage = PooledSqliteEventLogStorage(str(tmp_path))
    try:
        assert isinstance(storage._connect("index"), AbstractContextManager)
    finally:
        storage.dispose()


def test_migration_scripts_are_read_once_and_a_new_storage_is_stamped_at_dagsters_head(tmp_path):
    import alembic.command

    dagster_sql = private.dagster_sql
    # the names Dagster's storage and alembic's stamp build their ScriptDirectory from
    assert dagster_sql.ScriptDirectory is not None and alembic.command.ScriptDirectory is not None
    assert parameters(dagster_sql.get_alembic_config)[:1] == ["dunder_file"]
    private.read_migrations_once()
    config = dagster_sql.get_alembic_config(inspect.getfile(private.SqliteEventLogStorage))
    first = dagster_sql.ScriptDirectory.from_config(config)
    assert alembic.command.ScriptDirectory.from_config(config) is first
    head = first.as_revision_number("head")
    storage = HomeSqliteStorage(str(tmp_path))
    with storage.event_log_storage.index_connection() as conn:
        assert dagster_sql.check_alembic_revision(config, conn) == (head, head)
    storage.dispose()
