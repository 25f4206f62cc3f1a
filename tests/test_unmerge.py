"""`crm unmerge`: a source row split out of a golden contact for good, audited, and published."""

from __future__ import annotations

import pytest
from helpers import crm, working, write_csv, write_jsonl

from crm_pipeline.contacts.resolve.unmerge import unmerged_contact_id

AS_OF = "2026-11-15"
HEADER = ("Record ID,First Name,Last Name,Email,Phone Number,Company Name,City,Country/Region,"
          "Marketing contact status,Create Date")
ROWS = [
    "301,Ann,Lee,ann.lee@example.com,+1 415 555 2671,Acme Inc.,Boston,US,Marketing contact,2024-03-12 09:14",
    "302,Annie,Lee,ann.lee@example.com,,Other Co,Denver,US,Non-marketing contact,2024-06-01 10:00",
    "303,Bob,Stone,bob@example.com,,Beta LLC,Austin,US,,2024-01-02 08:00",
]


def q(home, sql, params=None):
    con = working(home)
    try:
        return con.execute(sql, params or {}).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    d = tmp_path_factory.mktemp("unmerge")
    home = d / "home"
    f = write_csv(d / "c.csv", HEADER, ROWS)
    acts = write_jsonl(d / "a.jsonl", [
        {"activity_id": "u1", "tenant_id": "t1", "type": "call", "occurred_at": "2026-11-10T10:00:00Z",
         "source_id": "302", "actor": "jane"},
        {"activity_id": "u2", "tenant_id": "t1", "type": "call", "occurred_at": "2026-11-11T10:00:00Z",
         "source_id": "301", "actor": "jane"},
    ])
    assert crm(home, "import", "contacts", f, "--tenant", "t1", "--no-run")[0] == 0
    assert crm(home, "import", "activities", acts, "--tenant", "t1", "--as-of", AS_OF)[0] == 0
    return home


@pytest.fixture(scope="module")
def split(home):
    cid, = q(home, "SELECT contact_id FROM core.contacts WHERE email = 'ann.lee@example.com'")[0]
    key, = q(home, "SELECT source_key FROM core.contact_sources WHERE source_id = '302'")[0]
    changes = q(home, "SELECT count(*) FROM audit.changes")[0][0]
    code, out, err = crm(home, "unmerge", "--tenant", "t1", "--contact", cid, "--source", key,
                         "--actor", "alice")
    assert code == 0, err
    return {"cid": cid, "key": key, "new": unmerged_contact_id("t1", key), "changes_before": changes}


def test_the_two_rows_had_merged_into_one_contact(home, split):
    assert q(home, "SELECT count(*) FROM core.contact_sources WHERE contact_id = $c "
             "OR contact_id = $n", {"c": split["cid"], "n": split["new"]}) == [(2,)]


def test_the_source_row_becomes_its_own_contact_and_the_old_one_is_rebuilt(home, split):
    rows = dict(q(home, "SELECT contact_id, first_name FROM core.contacts WHERE tenant_id = 't1' "
                  "AND contact_id IN ($c, $n)", {"c": split["cid"], "n": split["new"]}))
    assert rows == {split["cid"]: "Ann", split["new"]: "Annie"}
    assert q(home, "SELECT contact_id, match_rule FROM core.contact_sources WHERE source_key = $k",
             {"k": split["key"]}) == [(split["new"], "unmerged")]


def test_activities_of_the_split_row_move_with_it(home, split):
    assert dict(q(home, "SELECT activity_id, contact_id FROM core.activities ORDER BY 1")) == {
        "u1": split["new"], "u2": split["cid"]}


def test_unmerge_is_audited_and_the_chain_verifies(home, split, capsys):
    rows = q(home, "SELECT action, entity_id, actor FROM audit.changes WHERE change_id > $n "
             "ORDER BY change_id", {"n": split["changes_before"]})
    assert ("unmerge", split["cid"], "alice") in rows
    assert ("create", split["new"], "alice") in rows
    assert {r[2] for r in rows} == {"alice"}
    code, out, _ = crm(home, "audit", "verify", capsys=capsys)
    assert code == 0, out


def test_the_split_is_published_at_once(home, split, capsys):
    code, out, _ = crm(home, "sql", "select count(*) AS n from core.contacts", "--format", "csv",
                       capsys=capsys)
    assert out.splitlines() == ["n", "3"]
    code, out, _ = crm(home, "contact", "show", "--tenant", "t1", split["new"], capsys=capsys)
    assert code == 0 and "Annie" in out


def test_the_new_contact_starts_its_consent_history(home, split):
    assert q(home, "SELECT consent_status, previous_status, source FROM core.consent_history "
             "WHERE contact_id = $n", {"n": split["new"]}) == [("denied", None, f"unmerge:{split['key']}")]


def test_the_pair_is_never_merged_again_automatically(home, split, tmp_path):
    again = write_csv(tmp_path / "again.csv", HEADER, [
        "304,Ann,Lee,ann.lee@example.com,,Acme Inc.,Boston,US,,2025-01-02 08:00",
    ])
    assert crm(home, "import", "contacts", again, "--tenant", "t1", "--as-of", AS_OF)[0] == 0
    assert q(home, "SELECT count(*) FROM core.contacts WHERE contact_id IN ($c, $n)",
             {"c": split["cid"], "n": split["new"]}) == [(2,)]
    assert q(home, "SELECT count(*) FROM core.match_blocks WHERE source_key = $k",
             {"k": split["key"]}) == [(1,)]


def test_refusals_name_the_problem_and_change_nothing(home, split, capsys):
    changes = q(home, "SELECT count(*) FROM audit.changes")
    bob, only = q(home, "SELECT contact_id, source_key FROM core.contact_sources WHERE source_id = '303'")[0]
    cases = [
        (["--contact", bob, "--source", only], "only source"),
        (["--contact", split["cid"], "--source", "imp_x:1"], "is not a source"),
    ]
    for args, words in cases:
        code, _, err = crm(home, "unmerge", "--tenant", "t1", *args, capsys=capsys)
        assert code == 2 and words in err
    other = crm(home, "unmerge", "--tenant", "t2", "--contact", split["cid"], "--source", only,
                capsys=capsys)
    none = crm(home, "unmerge", "--tenant", "t2", "--contact", "c_none", "--source", only,
               capsys=capsys)
    assert other[0] == none[0] == 2
    assert other[2].replace(split["cid"], "X") == none[2].replace("c_none", "X")
    assert q(home, "SELECT count(*) FROM audit.changes") == changes
