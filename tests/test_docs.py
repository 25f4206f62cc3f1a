"""docs/warehouse.md describes every table and column, from the same DDL the warehouse uses."""

from crm_pipeline.docs import DOC, rendered
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
