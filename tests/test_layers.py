"""The library stays free of Dagster; the Definitions load."""

import subprocess
import sys

from crm_pipeline.paths import REPO_ROOT


def test_importing_every_library_module_loads_no_dagster():
    code = (
        "import importlib, pkgutil, sys, crm_pipeline\n"
        "for m in pkgutil.walk_packages(crm_pipeline.__path__, 'crm_pipeline.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('dagster', 'dagster_duckdb', 'dagster_defs'))\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr


def test_no_source_line_in_the_library_imports_dagster():
    offenders = [
        str(p) for p in (REPO_ROOT / "crm_pipeline").rglob("*.py")
        if any(line.strip().startswith(("import dagster", "from dagster"))
               for line in p.read_text(encoding="utf-8").splitlines())
    ]
    assert offenders == []


def test_definitions_load_with_every_asset_check_schedule_and_sensor(tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_HOME", str(tmp_path / "home"))
    from crm_pipeline.home import Home
    from dagster_defs.definitions import build_definitions

    defs = build_definitions(Home.resolve(tmp_path / "home"))
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    for expected in ("raw/contact_rows", "staging/contact_rows", "core/contacts", "core/activities",
                     "marts/contact_segments", "marts/customer_ltv", "marts/revenue_forecast",
                     "audit/runs", "published/snapshot"):
        assert expected in keys
    assert defs.resolve_job_def("refresh_everything") is not None
    assert defs.resolve_schedule_def("daily_refresh").cron_schedule == "0 2 * * *"
    assert defs.resolve_sensor_def("landing_files") is not None
    assert len(list(graph.asset_check_keys)) >= 5


def test_module_level_definitions_object_loads():
    result = subprocess.run(
        [sys.executable, "-c", "from dagster_defs.definitions import defs; "
         "defs.resolve_asset_graph(); print('ok')"],
        capture_output=True, text=True, cwd=REPO_ROOT,
    )
    assert result.returncode == 0, result.stderr
