"""Connection settings changed for a block of work are set back exactly, whatever happens."""

from __future__ import annotations

import pytest

from crm_pipeline.warehouse import run, unordered_inserts


def _preserving(con) -> bool:
    return run(con, "SELECT current_setting('preserve_insertion_order')")[0][0]


def test_unordered_inserts_lifts_the_order_for_the_block_only(con):
    assert _preserving(con)
    with unordered_inserts(con):
        assert not _preserving(con)
    assert _preserving(con)


def test_unordered_inserts_sets_the_order_back_after_an_error(con):
    with pytest.raises(RuntimeError), unordered_inserts(con):
        raise RuntimeError("a failed refresh")
    assert _preserving(con)


def test_unordered_inserts_keeps_an_order_already_lifted(con):
    run(con, "SET preserve_insertion_order = false")
    with unordered_inserts(con):
        pass
    assert not _preserving(con)
