"""DuckDB's memory limit: capped for bulk appends, never raised, set back exactly."""

from __future__ import annotations

import pytest

from crm_pipeline.warehouse import connect, memory_capped, run


def limit(con) -> str:
    return run(con, "SELECT current_setting('memory_limit')")[0][0]


def test_capping_again_and_again_leaves_the_default_as_it_was(monkeypatch):
    monkeypatch.delenv("CRM_DUCKDB_MEMORY_LIMIT", raising=False)
    con = connect(":memory:")
    before = limit(con)
    for _ in range(12):
        with memory_capped(con, "1GB"):
            assert limit(con) == "953.6 MiB"
    assert limit(con) == before


@pytest.mark.parametrize(("configured", "inside", "after"), [
    ("512MB", "488.2 MiB", "488.2 MiB"),  # a lower configured limit is never raised
    ("4GB", "953.6 MiB", "3.7 GiB"),  # a higher one is capped, then set back from its source
])
def test_a_configured_limit_is_honoured(monkeypatch, configured, inside, after):
    monkeypatch.setenv("CRM_DUCKDB_MEMORY_LIMIT", configured)
    con = connect(":memory:")
    assert limit(con) == after
    with memory_capped(con, "1GB"):
        assert limit(con) == inside
    assert limit(con) == after
