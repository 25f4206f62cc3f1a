"""End to end: the CLI materializes the Dagster assets into a temporary warehouse."""

from __future__ import annotations

import pytest
from helpers import HUBSPOT_HEADER, crm, working, write_csv, write_jsonl

AS_OF = "2026-11-15"
ROWS_T1 = [
    "101,Ann,Lee,ann.lee@example.com,+1 415 555 2671,Acme Inc.,CEO,250,Boston,US,2024-03-12 09:14",
    "102,ANN,LEE,Ann.Lee@Example.com ,(415) 555-2671,ACME,CEO,250,Boston,US,2024-05-01 10:00",
    "103,Bob,Stone,bob@example.com,415-555-0100,Beta LLC,Engineer,12,Austin,US,2024-01-02 08:00",
    "104,Carol,Stone,carol@example.com,415-555-0100,Beta LLC,VP Sales,12,Austin,US,2024-01-02 08:00",
    "105,,,,,No Name Corp,,,,,",
    "106,Dan,Roe,dan@,n/a,,,,,US,2024-02-02 08:00",
]


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("e2e") / "home"


@pytest.fixture(scope="module")
def imported(home, tmp_path_factory):
    d = tmp_path_factory.mktemp("files")
    t1 = write_csv(d / "t1.csv", HUBSPOT_HEADER, ROWS_T1)
    t2 = write_csv(d / "t2.csv", HUBSPOT_HEADER, [
        "201,Ann,Lee,ann.lee@example.com,+44 20 7946 0958,Other Ltd,CFO,5,London,GB,2024-03-12 09:14",
    ])
    acts = write_jsonl(d / "t1.jsonl", [
        {"activity_id": "a1", "tenant_id": "t1", "type": "call", "occurred_at": "2026-11-10T10:00:00Z",
         "source_id": "101", "actor": "jane", "actor_kind": "user", "direction": "outbound"},
        {"activity_id": "a2", "tenant_id": "t1", "type": "purchase",
         "occurred_at": "2026-10-01T10:00:00+02:00", "email": "BOB@example.com", "actor": "pipeline",
         "actor_kind": "system", "amount": 120.5, "currency": "USD"},
        "this is not json",
        {"activity_id": "a4", "tenant_id": "t2", "type": "call", "occurred_at": "2026-11-10T10:00:00Z",
         "source_id": "101", "actor": "jane"},
    ])
    results = {
        "t1": crm(home, "import", "contacts", t1, "--tenant", "t1", "--as-of", AS_OF),
        "t2": crm(home, "import", "contacts", t2, "--tenant", "t2", "--region", "GB", "--as-of", AS_OF),
        "acts": crm(home, "import", "activities", acts, "--tenant", "t1", "--as-of", AS_OF),
    }
    return results, t1


def q(home, sql, params=None):
    con = working(home)
    try:
        return con.execute(sql, params or {}).fetchall()
    finally:
        con.close()


def test_imports_succeed(imported):
    results, _ = imported
    assert {k: v[0] for k, v in results.items()} == {"t1": 0, "t2": 0, "acts": 0}


def test_rows_in_equal_accepted_merged_quarantined(home, imported):
    rows = q(home, "SELECT tenant_id, kind, rows_in, rows_accepted, rows_merged, rows_quarantined "
             "FROM raw.imports ORDER BY tenant_id, kind")
    for _, _, rin, acc, mer, qua in rows:
        assert rin == acc + mer + qua
    t1 = [r for r in rows if r[0] == "t1" and r[1] == "contact"][0]
    assert t1[2:] == (6, 4, 1, 1)  # Ann twice (merged), Bob and Carol share a line: 2 contacts
    assert q(home, "SELECT reason_code FROM quarantine.rows WHERE tenant_id='t1' AND kind='contact'") == [
        ("missing_identity",)]


def test_golden_contacts_are_normalized_and_tenants_stay_apart(home, imported):
    t1 = q(home, "SELECT email, phone, email_status FROM core.contacts WHERE tenant_id='t1' ORDER BY email")
    assert ("ann.lee@example.com", "+14155552671", "valid") in t1
    assert (None, None, "invalid") in t1  # Dan: invalid email cleared, kept as a contact
    assert q(home, "SELECT count(*) FROM core.contacts WHERE tenant_id='t2'") == [(1,)]
    ann = q(home, "SELECT DISTINCT contact_id FROM core.contacts WHERE email='ann.lee@example.com'")
    assert len(ann) == 2  # same email in two tenants: two contacts


def test_every_contact_change_is_audited_and_runs_recorded(home, imported):
    creates = q(home, "SELECT count(*) FROM audit.changes WHERE action='create' AND entity='contact'")
    contacts = q(home, "SELECT count(*) FROM core.contacts")
    assert creates == contacts
    runs = q(home, "SELECT tenant_id, status, rows_in FROM audit.runs WHERE rows_in > 0 ORDER BY 1")
    assert ("t1", "success", 6) in runs and ("t2", "success", 1) in runs


def test_activities_link_and_quarantine_without_crossing_tenants(home, imported):
    acts = q(home, "SELECT activity_id FROM core.activities WHERE tenant_id='t1' ORDER BY 1")
    assert acts == [("a1",), ("a2",)]
    reasons = q(home, "SELECT reason_code FROM quarantine.rows WHERE kind='activity' ORDER BY row_number")
    assert reasons == [("unparseable_row",), ("tenant_mismatch",)]
    assert q(home, "SELECT occurred_at::VARCHAR FROM core.activities WHERE activity_id='a2'") == [
        ("2026-10-01 08:00:00",)]


def test_segments_and_value_tables_are_materialized(home, imported):
    for table in ("marts.engagement", "marts.lead_scores", "marts.contact_segments",
                  "marts.ltv_model", "marts.revenue_forecast", "marts.data_hygiene"):
        assert q(home, f"SELECT count(*) FROM {table}")[0][0] > 0, table


def test_contacts_are_linked_to_their_companys_account_within_their_tenant(home, imported):
    # Ann, Bob and Carol write from example.com: one account per tenant, named as most say
    assert q(home, "SELECT tenant_id, name, domain FROM core.accounts ORDER BY 1") == [
        ("t1", "Beta LLC", "example.com"), ("t2", "Other Ltd", "example.com")]
    assert q(home, "SELECT tenant_id, count(*), list(DISTINCT linked_by) FROM core.contact_accounts "
                   "JOIN core.accounts USING (tenant_id, account_id) GROUP BY 1 ORDER BY 1") == [
        ("t1", 3, ["email_domain"]), ("t2", 1, ["email_domain"])]
    # two accounts created, four links, and each account's first tier (after lifetime value)
    assert q(home, "SELECT count(*) FROM audit.changes WHERE entity IN ('account', 'contact_account')"
                   "") == [(8,)]
    assert q(home, "SELECT count(*) FROM audit.changes WHERE entity = 'account' "
                   "AND new LIKE '%\"tier\"%'") == [(2,)]


def test_reimporting_the_same_file_changes_nothing(home, imported, capsys):
    _, t1 = imported
    before = q(home, "SELECT (SELECT count(*) FROM core.contacts), (SELECT count(*) FROM audit.changes), "
               "(SELECT count(*) FROM raw.contact_rows)")
    code, out, _ = crm(home, "import", "contacts", t1, "--tenant", "t1", "--as-of", AS_OF, capsys=capsys)
    assert code == 0
    after = q(home, "SELECT (SELECT count(*) FROM core.contacts), (SELECT count(*) FROM audit.changes), "
              "(SELECT count(*) FROM raw.contact_rows)")
    assert before == after
    # raw and staged rows have no PRIMARY KEY: each (tenant, import, row) is there once by design.
    for table in ("raw.contact_rows", "staging.contact_rows"):
        assert q(home, f"SELECT count(*) FROM (SELECT tenant_id, import_id, row_number FROM {table} "
                       "GROUP BY ALL HAVING count(*) > 1)") == [(0,)], table


def test_sql_reads_the_snapshot_and_refuses_writes(home, imported, capsys):
    code, out, _ = crm(home, "sql", "select count(*) AS n from core.contacts", "--format", "csv",
                       capsys=capsys)
    assert code == 0 and out.splitlines() == ["n", "5"]
    for statement in ("delete from core.contacts", "create table x(a int)",
                      "attach '/tmp/other.duckdb' as o", "copy core.contacts to '/tmp/x.csv'",
                      "install httpfs"):
        code, _, err = crm(home, "sql", statement, capsys=capsys)
        assert code == 2, statement
        assert "read-only" in err
    assert q(home, "SELECT count(*) FROM core.contacts") == [(5,)]


def test_contact_show_resolves_within_the_tenant_only(home, imported, capsys):
    cid = q(home, "SELECT contact_id FROM core.contacts WHERE tenant_id='t1' AND email='ann.lee@example.com'")[0][0]
    code, out, _ = crm(home, "contact", "show", "--tenant", "t1", cid, capsys=capsys)
    assert code == 0 and "Ann" in out and "call" in out
    code_other, _, err_other = crm(home, "contact", "show", "--tenant", "t2", cid, capsys=capsys)
    code_none, _, err_none = crm(home, "contact", "show", "--tenant", "t2", "c_doesnotexist", capsys=capsys)
    assert code_other == code_none == 2
    assert err_other.replace(cid, "X") == err_none.replace("c_doesnotexist", "X")


def test_audit_verify_passes(home, imported, capsys):
    code, out, _ = crm(home, "audit", "verify", capsys=capsys)
    assert code == 0 and "verified" in out


def test_contact_explain_says_why_each_source_joined(home, imported, capsys):
    cid = q(home, "SELECT contact_id FROM core.contacts WHERE tenant_id='t1' AND email='ann.lee@example.com'")[0][0]
    code, out, _ = crm(home, "contact", "explain", "--tenant", "t1", cid, capsys=capsys)
    assert code == 0
    assert "created this contact" in out and "same email" in out


def test_consent_history_is_written_by_imports(home, imported):
    rows = q(home, "SELECT count(*) FROM core.consent_history WHERE tenant_id = 't1'")
    assert rows[0][0] >= 1
