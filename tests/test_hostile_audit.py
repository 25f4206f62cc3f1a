"""Hostile edits of the audit trail and its recorded heads, each named by `crm audit verify`.

Issue 13, items 5 and 6: the `redacted` flag used to rewrite or hide values, rows appended with
NULL in a chained column, rows cut off the end once the head file is gone, an unknown tenant.
Each attack runs on a copy of one real home whose trail holds an erasure of a contact with an
alias (the case a redaction check must still accept).
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime

import duckdb
import polars as pl
import pytest
from helpers import HUBSPOT_HEADER, crm, shard, write_csv

from crm_pipeline.trust.audit import ChangeContext, append_changes, json_text, verify_chain

AS_OF = "2026-11-15"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """t1: contacts, a merge (an alias) and the erasure of the merged contact; t2: contacts."""
    d = tmp_path_factory.mktemp("hostile_audit")
    home = d / "home"
    f1 = write_csv(d / "f1.csv", HUBSPOT_HEADER, [
        "101,Ann,Lee,ann.lee@example.com,+1 415 555 2671,Acme,CEO,250,Boston,US,2024-03-12 09:14",
        "103,Bob,Stone,bob@example.com,415-555-0100,Beta,Engineer,12,Austin,US,2024-01-02 08:00",
        "104,Eve,Moss,eve@example.com,,Eta LLC,Analyst,12,Austin,US,2024-01-02 08:00",
        "105,Ivy,Lark,eve.moss@example.org,+1 212 555 0142,Zeta,Buyer,3,Reno,US,2024-01-02 08:00",
    ])
    f2 = write_csv(d / "f2.csv", HUBSPOT_HEADER, [  # joins 104 and 105: a merge, an alias
        "104,Eve,Moss,eve.moss@example.org,,Eta LLC,Analyst,12,Austin,US,2024-01-02 08:00",
    ])
    assert crm(home, "import", "contacts", f1, "--tenant", "t1", "--no-run")[0] == 0
    assert crm(home, "import", "contacts", f1, "--tenant", "t2", "--no-run")[0] == 0
    assert crm(home, "run", "--as-of", AS_OF)[0] == 0
    assert crm(home, "import", "contacts", f2, "--tenant", "t1", "--as-of", AS_OF)[0] == 0
    con = duckdb.connect(str(shard(home, "t1")), read_only=True)
    alias, survivor = con.execute("SELECT alias_id, contact_id FROM core.contact_aliases "
                                  "WHERE tenant_id = 't1'").fetchone()
    con.close()
    erase = ("gdpr", "erase", "--tenant", "t1", "--contact", survivor, "--actor", "dpo")
    assert crm(home, *erase)[0] == 0
    return {"home": home, "alias": alias, "erased": survivor}


@pytest.fixture
def copy(built, tmp_path):
    """A copy of the built home to attack."""
    target = tmp_path / "home"
    shutil.copytree(built["home"], target, ignore=shutil.ignore_patterns("dagster", "published"))
    return target


def _sql(home, *statements, params=None, tenant="t1"):
    con = duckdb.connect(str(shard(home, tenant)))
    try:
        for statement in statements:
            con.execute(statement, params or {}).fetchall()
    finally:
        con.close()


def _one(home, query, params=None, tenant="t1"):
    con = duckdb.connect(str(shard(home, tenant)), read_only=True)
    try:
        return con.execute(query, params or {}).fetchone()
    finally:
        con.close()


def _verify(home, capsys, *args):
    code, out, err = crm(home, "audit", "verify", *args, capsys=capsys)
    return code, out, " ".join(err.split())


def test_an_erasure_of_a_contact_with_an_alias_verifies(built, capsys):
    """The alias's rows are redacted too; the erasure is found through gdpr.suppressions."""
    redacted = _one(built["home"], "SELECT count(*) FILTER (entity_id = $a), "
                    "count(*) FILTER (entity_id = $e) FROM audit.changes WHERE redacted",
                    {"a": built["alias"], "e": built["erased"]})
    assert redacted[0] >= 1 and redacted[1] >= 1
    code, out, err = _verify(built["home"], capsys)
    assert code == 0 and "verified" in out and err == ""


# --- item 5: the `redacted` flag -------------------------------------------------------------

NOT_ERASED = ("(SELECT min(change_id) FROM audit.changes WHERE tenant_id = 't1' AND NOT redacted "
              "AND new IS NOT NULL)")
ERASED = "(SELECT min(change_id) FROM audit.changes WHERE tenant_id = 't1' AND redacted)"
REDACTION_ATTACKS = {
    "a value rewritten behind the flag": (
        "UPDATE audit.changes SET redacted = true, new = '{\"email\":\"evil@example.com\"}' "
        f"WHERE tenant_id = 't1' AND change_id = {NOT_ERASED}", "marked redacted but new holds"),
    "a redacted value put back, rewritten": (
        "UPDATE audit.changes SET new = '{\"email\":\"evil@example.com\"}' "
        f"WHERE tenant_id = 't1' AND change_id = {ERASED}", "marked redacted but new holds"),
    "values hidden without an erasure": (
        "UPDATE audit.changes SET redacted = true, previous = NULL, new = NULL "
        f"WHERE tenant_id = 't1' AND change_id = {NOT_ERASED}", "no erasure of its entity"),
    "the erasure record of an alias removed": (
        "DELETE FROM gdpr.suppressions WHERE tenant_id = 't1' AND kind = 'contact'",
        "no erasure of its entity"),
    "the flag nulled to skip the digest check": (
        "UPDATE audit.changes SET redacted = NULL, new = '{\"email\":\"evil@example.com\"}' "
        f"WHERE tenant_id = 't1' AND change_id = {NOT_ERASED}", "redacted is NULL"),
}


@pytest.mark.parametrize("attack", sorted(REDACTION_ATTACKS))
def test_the_redacted_flag_cannot_rewrite_or_hide_values(copy, capsys, attack):
    statement, reason = REDACTION_ATTACKS[attack]
    if "redacted = NULL" in statement:
        _sql(copy, "ALTER TABLE audit.changes ALTER COLUMN redacted DROP NOT NULL")
    _sql(copy, statement)
    code, _, err = _verify(copy, capsys)
    assert code == 1
    assert "tenant t1" in err and reason in err
    assert crm(copy, "audit", "verify", "--tenant", "t2", capsys=capsys)[0] == 0


def test_a_redaction_an_erasure_accounts_for_only_if_it_comes_before_it(con, ctx):
    """Rows written after an entity's erasure cannot be hidden by pointing at that erasure."""
    rows = pl.DataFrame({"action": ["create", "erase", "create"], "entity": ["contact"] * 3,
                         "entity_id": ["c1", "c1", "c1"],
                         "previous": [None, json_text({"v": 1}), None],
                         "new": [json_text({"v": 1}), None, json_text({"v": 2})]})
    append_changes(con, ctx, rows)
    con.execute("UPDATE audit.changes SET previous = NULL, new = NULL, redacted = true "
                "WHERE change_id <= 2").fetchall()
    assert verify_chain(con, ctx.key) == []
    con.execute("UPDATE audit.changes SET new = NULL, redacted = true "
                "WHERE change_id = 3").fetchall()
    problems = verify_chain(con, ctx.key)
    assert [(p.change_id, "no erasure" in p.reason) for p in problems] == [(3, True)]


def test_an_alias_is_tied_to_its_erasure_only_by_the_keyed_digest(con, ctx):
    """A suppression row written without the home's secret does not account for a redaction."""
    rows = pl.DataFrame({"action": ["create", "create", "merge", "erase"],
                         "entity": ["contact"] * 4,
                         "entity_id": ["c1", "c2", "c2", "c1"],
                         "previous": [None, None, json_text({"v": 2}), json_text({"v": 1})],
                         "new": [json_text({"v": 1}), json_text({"v": 2}),
                                 json_text({"merged_into": "c1"}), None]})
    append_changes(con, ctx, rows)
    con.execute("UPDATE audit.changes SET previous = NULL, new = NULL, redacted = true").fetchall()
    suppress = ("INSERT INTO gdpr.suppressions VALUES ('t1', {digest}, 'contact', 'c1', "
                "TIMESTAMP '2026-01-02', 'dpo')")
    con.execute(suppress.format(digest="sha256('c2')")).fetchall()
    assert [p.change_id for p in verify_chain(con, ctx.key)] == [2]
    con.execute(suppress.format(digest="sha256($k || 'c2')"), {"k": ctx.key.hex()}).fetchall()
    assert verify_chain(con, ctx.key) == []


# --- item 6: NULL in a chained column ---------------------------------------------------------

# The hash as the verifier computed it before: NULLs folded away, so an appended row with NULL
# in a chained column could be given a hash that matched.
_OLD_HASH = """sha256(prev_hash || chr(30) || concat_ws(
    chr(31), tenant_id, change_id::VARCHAR, coalesce(run_id, ''), actor, actor_kind, action,
    entity, entity_id, strftime("at", '%Y-%m-%dT%H:%M:%S.%f'),
    coalesce(previous_digest, ''), coalesce(new_digest, '')))"""

NULLED = ["change_id", "tenant_id", "run_id", "actor", "actor_kind", "action", "entity",
          "entity_id", "at", "redacted", "prev_hash", "hash", "previous_digest and new_digest"]


@pytest.mark.parametrize("column", NULLED)
def test_a_row_appended_with_null_in_a_chained_column_is_named(copy, capsys, column):
    nulled = column.split(" and ")
    drop = [f'ALTER TABLE audit.changes ALTER COLUMN "{c}" DROP NOT NULL' for c in nulled
            if c not in ("run_id", "previous_digest", "new_digest")]
    # A copy of t1's last row, chained after it, with the column NULL and the hash the old
    # verifier would have accepted.
    last = "(SELECT max(change_id) FROM audit.changes WHERE tenant_id = 't1')"
    nulls = ", ".join(f'"{c}" = NULL' for c in nulled if c != "hash")
    if "previous_digest" in nulled:
        nulls += ", previous = NULL, new = NULL"
    _sql(copy, *drop,
         "CREATE TEMP TABLE forged AS SELECT * REPLACE (change_id + 1 AS change_id, "
         f"hash AS prev_hash) FROM audit.changes WHERE tenant_id = 't1' AND change_id = {last}",
         f"UPDATE forged SET {nulls}" if nulls else "SELECT 1",
         f"UPDATE forged SET hash = coalesce({_OLD_HASH}, repeat('f', 64))",
         "UPDATE forged SET hash = NULL" if column == "hash" else "SELECT 1",
         "INSERT INTO audit.changes SELECT * FROM forged")
    code, _, err = _verify(copy, capsys)
    assert code == 1
    assert f"{column} {'are' if ' and ' in column else 'is'} NULL" in err
    owner = "no tenant" if column == "tenant_id" else "tenant t1"
    assert f"audit chain of {owner} broken" in err
    assert crm(copy, "audit", "verify", "--tenant", "t2", capsys=capsys)[0] == 0


# --- item 6: rows cut off the end with the head file gone -------------------------------------

# Cut t2's chain back to before the head its last run recorded in audit.runs.
CUT_PAST_LAST_RUN = ("DELETE FROM audit.changes WHERE tenant_id = 't2' AND change_id >= ("
                     "SELECT change_id FROM audit.changes WHERE tenant_id = 't2' AND hash = ("
                     "SELECT arg_max(chain_head, finished_at) FROM audit.runs "
                     "WHERE tenant_id = 't2' AND chain_head IS NOT NULL)) - 1")


@pytest.mark.parametrize("damage", ["deleted", "unreadable", "not a mapping"])
def test_rows_cut_off_are_found_by_the_heads_in_audit_runs_when_the_head_file_is_gone(
        copy, capsys, damage):
    head_file = copy / "audit_head.json"
    if damage == "deleted":
        head_file.unlink()
    else:
        head_file.write_text("{not json" if damage == "unreadable" else "[1, 2]", encoding="utf-8")
    code, out, err = _verify(copy, capsys)
    assert code == 0 and "verified" in out
    assert "audit_head.json is" in err and "audit.runs" in err
    _sql(copy, CUT_PAST_LAST_RUN, tenant="t2")
    code, _, err = _verify(copy, capsys)
    assert code == 1 and "tenant t2 broken at end of chain" in err and "cut off" in err
    assert "tenant t1" not in err


@pytest.mark.parametrize("recorded", ["NULL", "repeat('0', 64)"])  # none, or the empty chain's
def test_a_chain_with_no_head_recorded_anywhere_does_not_verify(copy, capsys, recorded):
    (copy / "audit_head.json").unlink()
    _sql(copy, f"UPDATE audit.runs SET chain_head = {recorded} WHERE tenant_id = 't1'")
    code, _, err = _verify(copy, capsys)
    assert code == 1 and "tenant t1" in err and "no head of this chain is recorded" in err
    assert "tenant t2" not in err


def test_the_head_file_and_the_last_run_are_both_held_to(copy, capsys):
    """A head file rewritten to an older head does not hide rows cut off after the last run."""
    older = _one(copy, "SELECT hash FROM audit.changes WHERE tenant_id = 't2' AND change_id = 1",
                 tenant="t2")[0]
    heads = json.loads((copy / "audit_head.json").read_text(encoding="utf-8"))
    (copy / "audit_head.json").write_text(json.dumps(heads | {"t2": older}), encoding="utf-8")
    _sql(copy, CUT_PAST_LAST_RUN, tenant="t2")
    code, _, err = _verify(copy, capsys)
    assert code == 1 and "tenant t2" in err and "cut off" in err


def test_the_runs_check_falls_back_to_audit_runs_for_tenants_the_head_file_lacks(copy, capsys):
    """After the head file is lost, t2's next run still fails on its cut chain (each tenant's
    run verifies its own shard's chain, held to the head its last run recorded)."""
    (copy / "audit_head.json").unlink()
    _sql(copy, CUT_PAST_LAST_RUN, tenant="t2")
    code, _, err = crm(copy, "run", "--tenant", "t2", "--as-of", AS_OF, capsys=capsys)
    assert code == 1 and "audit_chain_verifies" in err


def test_a_run_after_the_head_file_was_lost_or_damaged_succeeds_and_records_it(copy, capsys):
    (copy / "audit_head.json").write_text("{not json", encoding="utf-8")
    assert crm(copy, "run", "--tenant", "t2", "--as-of", AS_OF, capsys=capsys)[0] == 0
    assert set(json.loads((copy / "audit_head.json").read_text(encoding="utf-8"))) == {"t2"}
    code, out, err = _verify(copy, capsys)
    assert code == 0 and "verified" in out and err == ""


# --- item 6: unknown tenant -------------------------------------------------------------------

@pytest.mark.parametrize("tenant", ["nosuch", "bad id!"])
def test_verifying_an_unknown_tenant_is_refused(built, capsys, tenant):
    code, out, err = crm(built["home"], "audit", "verify", "--tenant", tenant, capsys=capsys)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "tenant" in err and "Traceback" not in err


def test_a_known_tenant_with_no_changes_yet_verifies(tmp_path, capsys):
    home = tmp_path / "home"
    f = write_csv(tmp_path / "f.csv", HUBSPOT_HEADER,
                  ["1,Ann,Lee,ann@example.com,,Acme,CEO,5,Boston,US,2024-03-12 09:14"])
    assert crm(home, "import", "contacts", f, "--tenant", "t1", "--no-run")[0] == 0
    code, out, _ = crm(home, "audit", "verify", "--tenant", "t1", capsys=capsys)
    assert code == 0 and "verified: 0 changes" in out


def test_rows_after_a_verified_head_with_null_change_id_are_checked(con, ctx):
    """The run's check (from the verified head on) reads rows without a change_id too."""
    rows = pl.DataFrame({"action": ["create"] * 3, "entity": ["contact"] * 3,
                         "entity_id": ["c1", "c2", "c3"], "previous": [None] * 3,
                         "new": [json_text({"v": i}) for i in range(3)]},
                        schema_overrides={"previous": pl.Utf8})
    append_changes(con, ctx, rows)
    head = con.execute("SELECT hash FROM audit.changes WHERE change_id = 3").fetchall()[0][0]
    later = ChangeContext("t1", "run-2", "pipeline", "system", ctx.key, datetime(2026, 1, 2))
    append_changes(con, later, rows.with_columns(pl.col("entity_id") + "x"))
    con.execute("ALTER TABLE audit.changes ALTER COLUMN change_id DROP NOT NULL").fetchall()
    con.execute("UPDATE audit.changes SET change_id = NULL WHERE change_id = 6").fetchall()
    problems = verify_chain(con, ctx.key, verified_heads={"t1": head})
    assert [(p.change_id, "change_id is NULL" in p.reason) for p in problems] == [(None, True)]
