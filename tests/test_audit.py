from dataclasses import replace
from datetime import datetime

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_pipeline.trust.audit import (
    GENESIS,
    ChangeContext,
    append_changes,
    chain_hash,
    chain_head,
    content_line,
    json_text,
    verify_chain,
)
from crm_pipeline.warehouse import connect, create_tables, run


def _append(con, ctx, n, entity_prefix="c"):
    changes = pl.DataFrame({
        "action": ["create"] * n,
        "entity": ["contact"] * n,
        "entity_id": [f"{entity_prefix}{i}" for i in range(n)],
        "previous": [None] * n,
        "new": [json_text({"email": f"p{i}@x.com"}) for i in range(n)],
    }, schema_overrides={"previous": pl.Utf8})
    append_changes(con, ctx, changes)


def test_chain_of_appends_verifies_and_links(con, ctx):
    _append(con, ctx, 3)
    _append(con, ctx, 2, "d")
    assert verify_chain(con, ctx.key) == []
    rows = run(con, "SELECT change_id, prev_hash, hash FROM audit.changes ORDER BY change_id")
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0][1] == GENESIS
    assert all(rows[i][1] == rows[i - 1][2] for i in range(1, 5))
    assert chain_head(con, "t1") == (5, rows[-1][2])


def test_tenants_have_separate_chains(con, ctx):
    _append(con, ctx, 2)
    _append(con, replace(ctx, tenant_id="t2"), 2)
    assert chain_head(con, "t2")[0] == 2
    assert verify_chain(con, ctx.key) == []


@pytest.mark.parametrize(
    "tamper, reason",
    [
        ("UPDATE audit.changes SET new = '{\"email\":\"evil@x.com\"}' WHERE change_id = 2", "digest"),
        ("UPDATE audit.changes SET actor = 'mallory' WHERE change_id = 2", "hash does not match"),
        ("UPDATE audit.changes SET \"at\" = \"at\" + INTERVAL 1 DAY WHERE change_id = 3", "hash"),
        ("DELETE FROM audit.changes WHERE change_id = 2", "deleted"),
        ("UPDATE audit.changes SET change_id = CASE change_id WHEN 2 THEN 3 ELSE 2 END "
         "WHERE change_id IN (2, 3)", "prev_hash"),
    ],
)
def test_tampering_is_detected(con, ctx, tamper, reason):
    _append(con, ctx, 4)
    run(con, tamper)
    problems = verify_chain(con, ctx.key)
    assert len(problems) == 1
    assert reason in problems[0].reason


def test_truncation_is_detected_with_the_head_kept_outside(con, ctx):
    _append(con, ctx, 4)
    head = chain_head(con, "t1")[1]
    run(con, "DELETE FROM audit.changes WHERE change_id = 4")
    assert verify_chain(con, ctx.key) == []  # the table alone cannot tell
    problems = verify_chain(con, ctx.key, expected_heads={"t1": head})
    assert problems and "cut off" in problems[0].reason


def _erase(con, ctx, entity_id):
    """What `crm gdpr erase` leaves in the trail: an erase row, then the entity's values redacted."""
    append_changes(con, ctx, pl.DataFrame({
        "action": ["erase"], "entity": ["contact"], "entity_id": [entity_id],
        "previous": [json_text({"email": "p@x.com"})], "new": [None]},
        schema_overrides={"new": pl.Utf8}))
    run(con, "UPDATE audit.changes SET new = NULL, previous = NULL, redacted = true "
             "WHERE entity_id = $e", {"e": entity_id})


def test_redacted_values_keep_the_chain_verifiable(con, ctx):
    _append(con, ctx, 3)
    _erase(con, ctx, "c1")
    assert run(con, "SELECT count(*) FROM audit.changes WHERE redacted") == [(2,)]
    assert verify_chain(con, ctx.key) == []


def test_wrong_key_fails_value_digests(con, ctx):
    _append(con, ctx, 1)
    assert verify_chain(con, b"other-key")


@settings(max_examples=40)
@given(
    at=st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)),
    actor=st.text(min_size=1, max_size=12),
    entity_id=st.text(min_size=1, max_size=12),
    value=st.text(max_size=30),
)
def test_sql_verification_agrees_with_the_python_definition(at, actor, entity_id, value):
    """Rows are checked in DuckDB; `content_line` and `chain_hash` are the definition."""
    con = connect(":memory:")
    create_tables(con)
    ctx = ChangeContext("t1", "run-1", actor, "user", b"secret-key", at)
    changes = pl.DataFrame({
        "action": ["create", "update"], "entity": ["contact"] * 2,
        "entity_id": [entity_id, entity_id + "x"],
        "previous": [None, json_text({"v": value})], "new": [json_text({"v": value}), None],
    }, schema_overrides={"previous": pl.Utf8, "new": pl.Utf8})
    append_changes(con, ctx, changes)
    columns = ("change_id, tenant_id, run_id, actor, actor_kind, action, entity, entity_id, "
               '"at", previous_digest, new_digest, prev_hash, hash')
    prev = GENESIS
    for values in run(con, f"SELECT {columns} FROM audit.changes ORDER BY change_id"):
        row = dict(zip([c.strip().strip('"') for c in columns.split(",")], values, strict=True))
        assert row["prev_hash"] == prev
        prev = chain_hash(prev, content_line(row))
        assert row["hash"] == prev
    assert verify_chain(con, ctx.key) == []
    run(con, "UPDATE audit.changes SET actor = actor || '!' WHERE change_id = 2")
    assert [(p.change_id, p.reason) for p in verify_chain(con, ctx.key)] == [
        (2, "hash does not match the row's content")]
    con.close()


def test_a_verified_head_limits_the_check_to_the_rows_after_it(con, ctx):
    _append(con, ctx, 3)
    verified = {"t1": chain_head(con, "t1")[1]}
    _append(con, ctx, 2, "d")
    assert verify_chain(con, ctx.key, verified_heads=verified) == []
    run(con, "UPDATE audit.changes SET actor = 'mallory' WHERE change_id = 4")
    assert [p.change_id for p in verify_chain(con, ctx.key, verified_heads=verified)] == [4]


def test_rows_changed_before_a_verified_head_wait_for_the_full_verification(con, ctx):
    _append(con, ctx, 3)
    verified = {"t1": chain_head(con, "t1")[1]}
    run(con, "UPDATE audit.changes SET actor = 'mallory' WHERE change_id = 2")
    assert verify_chain(con, ctx.key, verified_heads=verified) == []  # trusted: not re-hashed
    assert [p.change_id for p in verify_chain(con, ctx.key)] == [2]


@pytest.mark.parametrize("tamper", [
    "DELETE FROM audit.changes WHERE change_id = 2",  # fewer rows before the verified head
    "UPDATE audit.changes SET hash = 'x' WHERE change_id = 3",  # the verified head moved
    "DELETE FROM audit.changes WHERE change_id = 3",  # ... or vanished
])
def test_a_verified_head_that_no_longer_holds_means_a_full_verification(con, ctx, tamper):
    _append(con, ctx, 4)
    verified = {"t1": run(con, "SELECT hash FROM audit.changes WHERE change_id = 3")[0][0]}
    run(con, tamper)
    assert verify_chain(con, ctx.key, verified_heads=verified)


def test_a_row_numbered_zero_or_below_is_named(con, ctx):
    _append(con, ctx, 3)
    run(con, "INSERT INTO audit.changes SELECT * REPLACE (0 AS change_id) FROM audit.changes "
             "WHERE change_id = 2")
    assert [p.change_id for p in verify_chain(con, ctx.key)] == [0]


def test_rows_cut_off_after_a_verified_head_are_found_though_an_earlier_row_holds_the_head(con, ctx):
    _append(con, ctx, 8)
    verified = {"t1": run(con, "SELECT hash FROM audit.changes WHERE change_id = 4")[0][0]}
    head = chain_head(con, "t1")[1]
    run(con, "UPDATE audit.changes SET hash = $h WHERE change_id = 2", {"h": head})
    run(con, "DELETE FROM audit.changes WHERE change_id >= 7")
    problems = verify_chain(con, ctx.key, expected_heads={"t1": head}, verified_heads=verified)
    assert problems and "cut off" in problems[0].reason
