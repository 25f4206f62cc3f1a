"""Invariant queries: the row accounting of a run's imports, scoped to that run."""

from __future__ import annotations

from datetime import datetime

from crm_pipeline.trust.invariants import processed_imports, unbalanced_imports
from crm_pipeline.warehouse import run

AT = datetime(2026, 1, 1, 12)


def _import(con, import_id: str, run_id: str, rows_in: int, accepted: int, kind: str = "contact"):
    run(con, "INSERT INTO raw.imports (tenant_id, import_id, kind, file_name, file_sha256, rows_in, "
             "rows_accepted, rows_merged, rows_quarantined, imported_at, processed_run_id) "
             "VALUES ('t1', $i, $k, 'f.csv', $i, $n, $a, 0, 0, $at, $r)",
        {"i": import_id, "k": kind, "n": rows_in, "a": accepted, "at": AT, "r": run_id})
    for row in range(1, rows_in + 1):
        run(con, "INSERT INTO raw.contact_rows (tenant_id, import_id, row_number) "
                 "VALUES ('t1', $i, $n)", {"i": import_id, "n": row})
    for row in range(1, accepted + 1):
        run(con, "INSERT INTO core.contact_sources (tenant_id, import_id, row_number, source_key, "
                 "contact_id, match_rule, linked_at) VALUES ('t1', $i, $n, $i || $n, 'c_1', 'new', $at)",
            {"i": import_id, "n": row, "at": AT})


def test_processed_imports_counts_the_runs_imports_by_kind(con):
    _import(con, "imp_a", "run-1", 2, 2)
    _import(con, "imp_b", "run-1", 1, 1, kind="activity")
    _import(con, "imp_c", "run-2", 1, 1)
    assert processed_imports(con, "run-1") == 2
    assert processed_imports(con, "run-1", "contact") == 1
    assert processed_imports(con, "run-3") == 0


def test_an_import_whose_rows_do_not_add_up_is_named(con):
    _import(con, "imp_ok", "run-1", 3, 3)
    _import(con, "imp_bad", "run-1", 3, 2)  # one row neither accepted, merged nor quarantined
    bad = unbalanced_imports(con, "run-1", "contact")
    assert bad["import_id"].to_list() == ["imp_bad"]
    assert bad.row(0, named=True)["raw_rows"] == 3 and bad.row(0, named=True)["placed_rows"] == 2


def test_only_the_runs_own_imports_are_counted(con):
    _import(con, "imp_old", "run-1", 3, 2)  # an earlier run's problem is that run's to report
    _import(con, "imp_new", "run-2", 2, 2)
    assert unbalanced_imports(con, "run-2", "contact").height == 0
    empty = unbalanced_imports(con, "run-3", "contact")
    assert empty.height == 0 and "placed_rows" in empty.columns
