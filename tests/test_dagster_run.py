"""A `crm run` in process: Dagster's history in the home, the warehouse opened once, the checks."""

from __future__ import annotations

import os

import dagster as dg
import duckdb
import pytest
import yaml
from helpers import HUBSPOT_HEADER, write_csv

from crm_pipeline.home import Home
from crm_pipeline.trust.heads import audit_heads, verified_heads
from dagster_defs.checks import ALL_CHECKS
from dagster_defs.dagster_private import DagsterSqliteStorage, SqliteEventLogStorage
from dagster_defs.definitions import build_definitions
from dagster_defs.launch import run_pipeline
from dagster_defs.partitions import tenant_partitions
from dagster_defs.storage import POOLED, HomeSqliteStorage, in_process_overrides

AS_OF = "2026-11-15"
ROWS = [
    "101,Ann,Lee,ann.lee@example.com,+1 415 555 2671,Acme Inc.,CEO,250,Boston,US,2024-03-12 09:14",
    "102,ANN,LEE,Ann.Lee@Example.com ,(415) 555-2671,ACME,CEO,250,Boston,US,2024-05-01 10:00",
    "103,Bob,Stone,bob@example.com,415-555-0100,Beta LLC,Engineer,12,Austin,US,2024-01-02 08:00",
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A home whose first run imports a landing file and whose second run has nothing new."""
    home = Home(tmp_path_factory.mktemp("dagster_run") / "home").ensure()
    landing = home.landing_dir / "t1" / "contacts"
    landing.mkdir(parents=True)
    write_csv(landing / "t1.csv", HUBSPOT_HEADER, ROWS)
    first = run_pipeline(home, None, AS_OF)
    second = run_pipeline(home, None, AS_OF)
    return home, first, second


def _plain_storage(home: Home) -> DagsterSqliteStorage:
    """Dagster's own SQLite storage over the same files (what an unconfigured instance uses)."""
    return DagsterSqliteStorage.from_local(str(home.dagster_home))


def test_both_runs_succeed(runs):
    _, first, second = runs
    assert (first.success, first.failures) == (True, [])
    assert (second.success, second.failures) == (True, [])


def test_dagsters_own_storage_reads_the_runs_and_their_events(runs):
    home, first, second = runs
    storage = _plain_storage(home)
    try:
        stored = {r.run_id: r.status for r in storage.run_storage.get_runs()}
        assert stored[first.run_ids["t1"]] == dg.DagsterRunStatus.SUCCESS
        assert stored[second.run_ids["t1"]] == dg.DagsterRunStatus.SUCCESS
        for run in (first, second):
            events = storage.event_log_storage.get_logs_for_run(run.run_ids["t1"])
            kinds = [e.dagster_event.event_type_value for e in events if e.dagster_event]
            assert kinds.count("ASSET_CHECK_EVALUATION") == len(ALL_CHECKS)
            assert "ASSET_MATERIALIZATION" in kinds and kinds[-1] == "PIPELINE_SUCCESS"
    finally:
        storage.dispose()


def test_every_check_passes_in_both_runs(runs):
    home, first, second = runs
    storage = _plain_storage(home)
    try:
        for run in (first, second):
            results = [
                e.dagster_event.event_specific_data
                for e in storage.event_log_storage.get_logs_for_run(run.run_ids["t1"])
                if e.dagster_event and e.dagster_event.event_type_value == "ASSET_CHECK_EVALUATION"
            ]
            assert {r.check_name for r in results} == {spec.name for c in ALL_CHECKS for spec in c.check_specs}
            assert all(r.passed for r in results)
    finally:
        storage.dispose()


def test_the_home_keeps_dagsters_own_storage_for_the_ui_and_the_daemon(runs):
    home, _, _ = runs
    settings = yaml.safe_load((home.dagster_home / "dagster.yaml").read_text())
    assert "storage" not in settings and settings["telemetry"] == {"enabled": False}
    os.environ["DAGSTER_HOME"] = str(home.dagster_home)
    with dg.DagsterInstance.get() as instance:  # what the webserver and the daemon open
        assert type(instance.event_log_storage) is SqliteEventLogStorage
        assert len(instance.get_runs()) == 2
        # runs from the UI, schedule and sensor: queued, one per tenant at a time
        assert type(instance.run_coordinator) is dg.QueuedRunCoordinator
        limits = instance.run_coordinator.get_run_queue_config().tag_concurrency_limits
        assert limits == [{"key": "dagster/partition", "value": {"applyLimitPerUniqueValue": True},
                           "limit": 1}]


def test_the_warehouse_is_closed_when_the_run_ends(runs):
    home, _, _ = runs
    # an open database instance with other settings would refuse this in the same process
    con = duckdb.connect(str(home.shard("t1")), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM core.contacts").fetchone()[0] == 2
    finally:
        con.close()


def test_a_run_in_process_uses_the_pooled_storage_and_no_compute_logs(tmp_path):
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\nretention: {}\n")
    overrides = in_process_overrides(tmp_path)
    assert overrides["storage"]["custom"]["class"] == HomeSqliteStorage.__name__
    assert overrides["compute_logs"]["class"] == "NoOpComputeLogManager"
    assert "retention" in yaml.safe_load((tmp_path / "dagster.yaml").read_text())


def test_storage_someone_configured_is_used_as_it_is(tmp_path):
    configured = "storage:\n  sqlite:\n    base_dir: /somewhere\n"
    (tmp_path / "dagster.yaml").write_text(configured)
    assert "storage" not in in_process_overrides(tmp_path)
    assert (tmp_path / "dagster.yaml").read_text() == configured


def test_a_home_that_named_the_pooled_storage_for_every_process_is_set_back(tmp_path):
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump({"telemetry": {"enabled": False},
                                                           "storage": POOLED}))
    assert in_process_overrides(tmp_path)["storage"] == POOLED
    assert yaml.safe_load((tmp_path / "dagster.yaml").read_text()) == {
        "telemetry": {"enabled": False}}


def test_the_audit_check_records_where_the_chain_verified(runs):
    home, _, _ = runs
    assert verified_heads(home) == audit_heads(home) and set(audit_heads(home)) == {"t1"}


def test_a_run_in_process_prints_to_its_terminal_and_keeps_no_copy_of_it(runs):
    home, _, _ = runs
    captured = [p for p in home.dagster_home.rglob("*") if p.suffix in (".out", ".err")]
    assert captured == []


def test_every_run_executes_in_one_process(tmp_path):
    """DuckDB admits one writing process per file: no step may run in a process of its own."""
    defs = build_definitions(Home(tmp_path / "home"))
    assert defs.resolve_job_def("refresh_everything").executor_def.name == "in_process"
    assert defs.resolve_implicit_global_asset_job_def().executor_def.name == "in_process"


def test_every_asset_and_check_is_partitioned_by_tenant(tmp_path):
    defs = build_definitions(Home(tmp_path / "home"))
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        assert graph.get(key).partitions_def == tenant_partitions, key
    assert all(spec.partitions_def == tenant_partitions for c in ALL_CHECKS for spec in c.check_specs)
    assert defs.resolve_job_def("refresh_everything").partitions_def == tenant_partitions
