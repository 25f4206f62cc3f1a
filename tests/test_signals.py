"""Company signals: lines linked to accounts like company rows, bad lines quarantined with their
reason, re-deliveries merged, and the accounts' contacts flagged on the run's as-of window."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helpers import HUBSPOT_HEADER, crm, working, write_csv, write_jsonl

AS_OF = "2026-11-15"
CONTACTS = [
    "1,Ann,Lee,ann@acme.com,,Acme Inc.,CEO,,Boston,US,2024-03-12 09:14",
    "2,Bob,Stone,bob@acme.com,,Acme Inc.,CFO,,Boston,US,2024-03-12 09:14",
    "3,Cleo,Brandt,cleo@initech.de,,Initech GmbH,Buyer,,Berlin,DE,2024-03-12 09:14",
]


def _signal(**fields) -> dict:
    return {"domain": "acme.com", "kind": "funding", "title": "Acme raises $20M",
            "occurred_at": "2026-11-10T08:00:00Z", **fields}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    d = tmp_path_factory.mktemp("signals")
    home = d / "home"
    assert crm(home, "import", "contacts", write_csv(d / "c.csv", HUBSPOT_HEADER, CONTACTS),
               "--tenant", "t1", "--as-of", AS_OF)[0] == 0
    assert crm(home, "import", "contacts", write_csv(d / "o.csv", HUBSPOT_HEADER, [
        "1,Olga,Other,olga@acme.com,,Acme Inc.,CEO,,Oslo,NO,2024-03-12 09:14"]),
        "--tenant", "t2", "--as-of", AS_OF)[0] == 0
    return home


@pytest.fixture
def home(built, tmp_path):
    return Path(shutil.copytree(built, tmp_path / "home"))


def _rows(home, sql: str) -> list[tuple]:
    con = working(home)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _import(home, path, capsys=None, tenant="t1"):
    return crm(home, "import", "signals", str(path), "--tenant", tenant, "--source", "archy",
               capsys=capsys)


def test_every_line_is_stored_merged_or_quarantined_with_its_reason(home, tmp_path, capsys):
    path = write_jsonl(tmp_path / "s.jsonl", [
        _signal(url="https://news.example/acme"),
        _signal(company="Initech", domain=None, kind="hiring", title="Initech hires"),
        _signal(url="https://news.example/acme"),         # the same signal again: merged
        "not json",                                        # unparseable_row
        "[1, 2]",                                          # unparseable_row
        _signal(domain=None),                              # missing_identity
        _signal(kind="gossip"),                            # unknown_signal_kind
        _signal(title=" "),                                # unparseable_row (no title)
        _signal(occurred_at="2026-11-10T08:00:00"),        # bad_timestamp (no zone)
        _signal(domain="unknown-firm.com"),                # unknown_account (never created)
        _signal(domain="gmail.com", company=None),         # free-mail is no company: bad_domain
        _signal(url="javascript:alert(1)", title="Acme opens Oslo office", kind="expansion"),
    ])
    code, out, err = _import(home, path, capsys)
    assert code == 0, err
    (rows_in, accepted, merged, quarantined), = _rows(
        home, "SELECT rows_in, rows_accepted, rows_merged, rows_quarantined FROM raw.imports "
              "WHERE kind = 'signal'")
    assert (rows_in, accepted, merged, quarantined) == (12, 3, 1, 8)
    reasons = dict(_rows(home, "SELECT row_number, reason_code FROM quarantine.rows "
                               "WHERE kind = 'signal'"))
    assert reasons == {4: "unparseable_row", 5: "unparseable_row", 6: "missing_identity",
                       7: "unknown_signal_kind", 8: "unparseable_row", 9: "bad_timestamp",
                       10: "unknown_account", 11: "bad_domain"}
    stored = _rows(home, "SELECT a.domain, s.kind, s.url FROM core.account_signals s "
                         "JOIN core.accounts a USING (tenant_id, account_id) ORDER BY s.kind")
    assert stored == [("acme.com", "expansion", None),  # a non-web URL is not kept
                      ("acme.com", "funding", "https://news.example/acme"),
                      ("initech.de", "hiring", None)]
    # the same file again changes nothing; another file re-delivering a signal merges it
    assert "already imported" in _import(home, path, capsys)[1]
    again = write_jsonl(tmp_path / "again.jsonl", [_signal(url="https://news.example/acme")])
    assert _import(home, again)[0] == 0
    assert _rows(home, "SELECT count(*) FROM core.account_signals") == [(3,)]


def test_contacts_are_flagged_within_the_window_of_the_as_of_date(home, tmp_path):
    path = write_jsonl(tmp_path / "s.jsonl", [
        _signal(),                                                        # 5 days before
        _signal(title="Old news", occurred_at="2026-09-01"),              # 75 days before
        _signal(title="Tomorrow's news", occurred_at="2026-11-16T09:00:00Z"),  # after as-of
        _signal(signal_id="sig-7", title="Acme's CEO on stage", kind="news",
                occurred_at="2026-11-15"),                                # that day
    ])
    assert _import(home, path)[0] == 0
    assert crm(home, "run", "--tenant", "t1", "--as-of", AS_OF)[0] == 0
    flagged = _rows(home, """
        SELECT c.email, s.title, s.age_days, s.account_tier FROM marts.contact_signals s
        JOIN core.contacts c USING (tenant_id, contact_id) ORDER BY 1, 3""")
    assert flagged == [("ann@acme.com", "Acme's CEO on stage", 0, "standard"),
                       ("ann@acme.com", "Acme raises $20M", 5, "standard"),
                       ("bob@acme.com", "Acme's CEO on stage", 0, "standard"),
                       ("bob@acme.com", "Acme raises $20M", 5, "standard")]
    # tenants apart: t2's contact at acme.com sees none of t1's signals
    assert crm(home, "run", "--tenant", "t2", "--as-of", AS_OF)[0] == 0
    assert _rows(home, "SELECT count(*) FROM marts.contact_signals WHERE tenant_id = 't2'") == [
        (0,)]
    # a longer window (tenant setting) reaches the old news
    from crm_pipeline.home import Home
    from crm_pipeline.warehouse import connect

    con = connect(Home.resolve(str(home)).shard("t1"))
    try:
        con.execute("UPDATE core.tenants SET settings = $s",
                    {"s": json.dumps({"accounts": {"signal_days": 90}})})
    finally:
        con.close()
    assert crm(home, "run", "--tenant", "t1", "--as-of", AS_OF)[0] == 0
    assert _rows(home, "SELECT count(DISTINCT signal_id) FROM marts.contact_signals") == [(3,)]


@pytest.mark.parametrize("content, problem", [
    (b"", "holds no signal"),
    (b"\n\n", "holds no signal"),
    (b"\xff\xfe\x00bad", "not UTF-8"),
])
def test_a_file_that_cannot_be_read_is_refused_whole(home, tmp_path, capsys, content, problem):
    path = tmp_path / "s.jsonl"
    path.write_bytes(content)
    code, _, err = _import(home, path, capsys)
    assert code == 2 and problem in err and "s.jsonl" in err
    assert _rows(home, "SELECT count(*) FROM raw.imports WHERE kind = 'signal'") == [(0,)]
