"""Consent history: every change of consent_status is kept with its source and time."""

from __future__ import annotations

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from crm_pipeline.contacts.consent import consent_changes, record_consent_changes, stored_consent
from crm_pipeline.warehouse import run

STATUS = st.sampled_from(["granted", "denied", "unknown", None])


def _frame(pairs):
    return pl.DataFrame({"contact_id": [p[0] for p in pairs], "consent_status": [p[1] for p in pairs]},
                        schema={"contact_id": pl.Utf8, "consent_status": pl.Utf8})


def test_new_and_changed_statuses_are_changes_unchanged_and_cleared_are_not():
    before = _frame([("a", "granted"), ("b", "granted"), ("c", "denied")])
    after = _frame([("a", "granted"), ("b", "denied"), ("c", None), ("d", "unknown")])
    got = consent_changes(before, after).sort("contact_id")
    assert got.rows() == [("b", "granted", "denied"), ("d", None, "unknown")]


@given(st.dictionaries(st.sampled_from("abcdef"), STATUS), st.dictionaries(st.sampled_from("abcdef"), STATUS))
def test_a_change_is_recorded_exactly_when_a_status_differs(old, new):
    before = _frame([(k, v) for k, v in old.items() if v is not None])
    after = _frame(list(new.items()))
    got = {r[0]: (r[1], r[2]) for r in consent_changes(before, after).rows()}
    expected = {k: (old.get(k), v) for k, v in new.items() if v is not None and old.get(k) != v}
    assert got == expected


def test_changes_are_written_with_source_time_and_run(con, ctx):
    run(con, "INSERT INTO core.contacts (tenant_id, contact_id, consent_status, first_seen_at, "
        "updated_at) VALUES ('t1', 'c_1', 'granted', now(), now())")
    before = stored_consent(con, "t1", ["c_1", "c_2"])
    after = _frame([("c_1", "denied"), ("c_2", "granted")])
    assert record_consent_changes(con, ctx, before, after, source="import:imp_1") == 2
    rows = run(con, "SELECT contact_id, previous_status, consent_status, source, changed_at, run_id "
               "FROM core.consent_history ORDER BY contact_id")
    assert rows == [("c_1", "granted", "denied", "import:imp_1", ctx.at, "run-1"),
                    ("c_2", None, "granted", "import:imp_1", ctx.at, "run-1")]
    # The same state again records nothing: the history holds changes, not states.
    assert record_consent_changes(con, ctx, _frame([("c_1", "denied"), ("c_2", "granted")]),
                                  after, source="x") == 0


def test_a_source_column_names_each_rows_source(con, ctx):
    after = _frame([("c_1", "granted")]).with_columns(pl.lit("import:imp_9:4").alias("source"))
    record_consent_changes(con, ctx, _frame([]), after, source="fallback")
    assert run(con, "SELECT source FROM core.consent_history") == [("import:imp_9:4",)]
