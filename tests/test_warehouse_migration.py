"""Opening a warehouse an older version created: its tables are brought to the current DDL."""

from __future__ import annotations

import duckdb
import pytest

from crm_pipeline.sql import table_files
from crm_pipeline.warehouse import connect, create_tables, run


def _old_lead_scores_ddl() -> str:
    """marts.lead_scores as versions before 0.4 created it: with a primary key."""
    path = next(p for p in table_files() if p.name == "lead_scores.sql" and p.parent.name == "marts")
    create = path.read_text(encoding="utf-8").split(");", 1)[0]
    return create.rstrip() + ",\n    PRIMARY KEY (tenant_id, contact_id)\n)"


def _primary_keys(con) -> set[tuple[str, str]]:
    return set(run(con, "SELECT schema_name, table_name FROM duckdb_constraints() "
                        "WHERE constraint_type = 'PRIMARY KEY'"))


def test_a_table_whose_key_was_dropped_is_rebuilt_without_it_keeping_rows_and_comments(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    con = connect(path)
    create_tables(con)
    run(con, "DROP TABLE marts.lead_scores")
    run(con, _old_lead_scores_ddl())
    columns = [c for (c,) in run(con, "SELECT column_name FROM duckdb_columns() WHERE "
                                      "schema_name = 'marts' AND table_name = 'lead_scores'")]
    for n in range(3):
        run(con, f"INSERT INTO marts.lead_scores VALUES ({_row(columns, n)})")
    assert ("marts", "lead_scores") in _primary_keys(con)
    con.close()

    con = connect(path)
    create_tables(con)
    assert ("marts", "lead_scores") not in _primary_keys(con)
    assert run(con, "SELECT contact_id FROM marts.lead_scores ORDER BY 1") == [("c0",), ("c1",), ("c2",)]
    comment = run(con, "SELECT comment FROM duckdb_tables() WHERE schema_name = 'marts' "
                       "AND table_name = 'lead_scores'")[0][0]
    assert comment.startswith("Lead score")
    assert not run(con, "SELECT 1 FROM duckdb_tables() WHERE table_name LIKE '%keyed'")
    keys_before = _primary_keys(con)
    create_tables(con)  # current now: nothing to do, nothing changes
    assert _primary_keys(con) == keys_before
    con.close()


def _row(columns: list[str], n: int) -> str:
    def value(column: str) -> str:
        if column == "tenant_id":
            return "'t1'"
        if column == "contact_id":
            return f"'c{n}'"
        if column == "as_of":
            return "DATE '2026-01-01'"
        if column == "top_factors":  # a list (added with the learned scores)
            return "['1']"
        return "1"

    return ", ".join(value(c) for c in columns)


_CATALOG_VIEWS = {
    "schemas": "SELECT schema_name, comment FROM duckdb_schemas() WHERE database_name = $db",
    "tables": "SELECT schema_name, table_name, comment, has_primary_key, check_constraint_count, "
              "sql FROM duckdb_tables() WHERE database_name = $db",
    "columns": "SELECT schema_name, table_name, column_name, column_index, data_type, "
               "column_default, is_nullable, comment FROM duckdb_columns() "
               "WHERE database_name = $db",
    "constraints": "SELECT schema_name, table_name, constraint_type, constraint_text, expression, "
                   "constraint_column_names FROM duckdb_constraints() WHERE database_name = $db",
    "views": "SELECT schema_name, view_name, sql FROM duckdb_views() "
             "WHERE database_name = $db AND NOT internal",
    "indexes": "SELECT schema_name, table_name, index_name, sql FROM duckdb_indexes() "
               "WHERE database_name = $db",
}


def _catalog(con, db: str) -> dict[str, list]:
    return {name: sorted(map(repr, con.execute(query + " ORDER BY ALL", {"db": db}).fetchall()))
            for name, query in _CATALOG_VIEWS.items()}


def test_a_new_database_copied_from_the_reference_is_the_ddls_own(tmp_path):
    """create_tables copies an empty database from the process's reference: schemas, tables,
    columns, defaults, keys and comments exactly as the DDL files make them."""
    by_ddl = connect(":memory:")
    for path in table_files():
        by_ddl.execute(path.read_text(encoding="utf-8"))
    expected = _catalog(by_ddl, "memory")
    for target in (":memory:", tmp_path / "shard.duckdb"):
        con = connect(target)
        create_tables(con)
        db = con.execute("SELECT current_database()").fetchone()[0]
        assert _catalog(con, db) == expected
        assert not [d for (d,) in con.execute("SELECT database_name FROM duckdb_databases() "
                                              "WHERE NOT internal").fetchall() if d != db]
        con.close()
    reopened = connect(tmp_path / "shard.duckdb")
    with pytest.raises(duckdb.ConstraintException):  # its constraints hold
        run(reopened, "INSERT INTO core.tenants (tenant_id) VALUES ('t1')")
    assert run(reopened, "SELECT count(*) FROM core.tenants") == [(0,)]
