"""docs/warehouse.md describes every table and column, from the same DDL the warehouse uses."""

from crm_pipeline.cli.docs import DOC, rendered
from crm_pipeline.warehouse import connect, create_tables


def test_warehouse_doc_is_up_to_date_with_the_ddl():
    text = DOC.read_text(encoding="utf-8")
    assert rendered(text) == text, "docs/warehouse.md is stale: run `make docs`"


def test_every_table_and_column_has_a_comment():
    con = connect(":memory:")
    create_tables(con)
    missing = con.execute(
        "SELECT schema_name || '.' || table_name || '.' || column_name FROM duckdb_columns() "
        "WHERE schema_name IN ('raw','quarantine','staging','core','marts','audit','gdpr') "
        "AND (comment IS NULL OR comment = '') "
        "UNION ALL SELECT schema_name || '.' || table_name FROM duckdb_tables() "
        "WHERE comment IS NULL OR comment = ''"
    ).fetchall()
    assert missing == []


def test_every_table_has_tenant_id():
    con = connect(":memory:")
    create_tables(con)
    without = con.execute(
        "SELECT schema_name || '.' || table_name FROM duckdb_tables() t WHERE NOT EXISTS ("
        "SELECT 1 FROM duckdb_columns() c WHERE c.schema_name = t.schema_name "
        "AND c.table_name = t.table_name AND c.column_name = 'tenant_id')"
    ).fetchall()
    assert without == []


def test_a_warehouse_made_by_an_older_version_gets_the_new_columns(tmp_path):
    con = connect(tmp_path / "old.duckdb")
    create_tables(con)
    con.execute("ALTER TABLE staging.contact_rows DROP COLUMN other_phones").fetchall()
    con.execute("INSERT INTO core.tenants VALUES ('t1', NULL, 'US', 'USD', NULL, now())").fetchall()
    con.close()
    con = connect(tmp_path / "old.duckdb")
    create_tables(con)
    cols = [r[0] for r in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = 'contact_rows' "
        "AND schema_name = 'staging'").fetchall()]
    assert "other_phones" in cols
    assert con.execute("SELECT count(*) FROM core.tenants").fetchone()[0] == 1
