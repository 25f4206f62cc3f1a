"""Scoped reads: `crm sql --tenant T` sees tenant T only; `--as AGENT` only what the agent's role
reads; each agent's published file holds exactly its grant, even to plain DuckDB."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from helpers import HUBSPOT_HEADER, crm, write_csv, write_jsonl

from crm_pipeline.trust.roles import PERSONAL_COLUMNS, Roles

AS_OF = "2026-11-15"
T1_EMAIL = "zed.quill@example.com"
T2_EMAIL = "ann.other@example.org"


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    d = tmp_path_factory.mktemp("agents")
    home = d / "home"
    t1 = write_csv(d / "t1.csv", HUBSPOT_HEADER, [
        f"1,Zed,Quill,{T1_EMAIL},+1 415 555 0101,Acme Inc,CTO,250,Boston,US,2024-01-02 08:00",
        "2,Bob,Stone,bob@example.com,,Acme Inc,CEO,250,Boston,US,2024-01-03 08:00",
    ])
    t2 = write_csv(d / "t2.csv", HUBSPOT_HEADER, [
        f"9,Ann,Other,{T2_EMAIL},+44 20 7946 0958,Other Ltd,CFO,5,London,GB,2024-03-12 09:14",
    ])
    acts = write_jsonl(d / "a.jsonl", [
        {"activity_id": "a1", "tenant_id": "t1", "type": "purchase", "amount": 10,
         "currency": "USD", "occurred_at": "2026-11-01T10:00:00Z", "source_id": "1",
         "actor": "pipeline"},
    ])
    assert crm(home, "import", "contacts", t1, "--tenant", "t1", "--no-run")[0] == 0
    assert crm(home, "import", "activities", acts, "--tenant", "t1", "--no-run")[0] == 0
    assert crm(home, "import", "contacts", t2, "--tenant", "t2", "--no-run")[0] == 0
    assert crm(home, "run", "--as-of", AS_OF)[0] == 0
    return home


def agent_file(home: Path, tenant: str, agent: str) -> Path:
    return home / "published" / "tenants" / tenant / "agents" / f"{agent}.duckdb"


def test_every_agent_of_the_registry_has_a_file_per_tenant_after_a_run(home):
    for tenant in ("t1", "t2"):
        names = {p.stem for p in (home / "published/tenants" / tenant / "agents").glob("*.duckdb")}
        assert names == set(Roles.load().agents)


def test_a_tenant_scoped_query_sees_only_that_tenants_rows_in_every_table(home, capsys):
    code, out, _ = crm(home, "sql", "--tenant", "t1", "--format", "json",
                       "select schema_name || '.' || table_name as t from duckdb_tables()",
                       capsys=capsys)
    assert code == 0
    tables = [r["t"] for r in json.loads(out)]
    assert "core.contacts" in tables and "audit.changes" in tables
    for table in tables:
        code, out, err = crm(home, "sql", "--tenant", "t1", "--format", "json",
                             f"select distinct tenant_id from {table}", capsys=capsys)
        assert code == 0, err
        assert {r["tenant_id"] for r in json.loads(out)} <= {"t1"}, table
    code, out, _ = crm(home, "sql", "--tenant", "t1", "--format", "csv",
                       "select email from core.contacts", capsys=capsys)
    assert T1_EMAIL in out and T2_EMAIL not in out
    # the analysts' view without --tenant still sees both
    code, out, _ = crm(home, "sql", "--format", "csv", "select email from core.contacts",
                       capsys=capsys)
    assert T1_EMAIL in out and T2_EMAIL in out


def test_a_tenant_scoped_query_cannot_attach_another_tenants_file(home, capsys):
    other = home / "published" / "tenants" / "t2.duckdb"
    code, _, err = crm(home, "sql", "--tenant", "t1",
                       f"select * from read_csv('{other}')", capsys=capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1


def test_an_agent_reads_its_grant(home, capsys):
    code, out, err = crm(home, "sql", "--tenant", "t1", "--as", "tina", "--format", "json",
                         "select count(*) as n from marts.customer_ltv", capsys=capsys)
    assert code == 0, err and json.loads(out)[0]["n"] >= 1
    code, out, _ = crm(home, "sql", "--tenant", "t1", "--as", "Cheryl", "--format", "csv",
                       "select email from core.contacts", capsys=capsys)
    assert code == 0 and T1_EMAIL in out and T2_EMAIL not in out


@pytest.mark.parametrize(("agent", "query", "named"), [
    ("tina", "select * from core.contacts", "core.contacts"),
    ("tina", "select * from marts.engagement", "marts.engagement"),
    ("social_publisher", "select count(*) from marts.lead_scores", "marts.lead_scores"),
    ("binky", "select * from audit.changes", "audit.changes"),
    ("binky", "select * from raw.contact_rows", "contact_rows"),
    ("mercer", "select email from core.contacts", "core.contacts.email"),
    ("mercer", "select c.phone from core.contacts c", "core.contacts.phone"),
    ("binky", "select original_value from marts.data_hygiene", "original_value"),
    ("cheryl", "with x as (select * from quarantine.rows) select * from x", "quarantine.rows"),
])
def test_a_read_outside_the_grant_is_refused_naming_the_table_and_the_agent(
        home, capsys, agent, query, named):
    code, out, err = crm(home, "sql", "--tenant", "t1", "--as", agent, query, capsys=capsys)
    assert code == 2, out
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "not_permitted" in lines[0]
    assert named in lines[0] and agent in lines[0]


def test_an_agent_reading_marts_only_gets_no_personal_columns(home, capsys):
    code, out, _ = crm(home, "sql", "--tenant", "t1", "--as", "mercer", "--format", "json",
                       "select * from core.contacts", capsys=capsys)
    assert code == 0
    row = json.loads(out)[0]
    assert "company" in row and not set(row) & PERSONAL_COLUMNS


@pytest.mark.parametrize(("args", "problem"), [
    (("--tenant", "t1", "--as", "nosuch_bot"), "not an agent"),
    (("--tenant", "t\u0456na_co", "--as", "tina"), "tenant"),
    (("--tenant", "nosuch", "--as", "tina"), "unknown tenant"),
    (("--as", "tina"), "needs --tenant"),
    (("--tenant", "t1", "--as", "t\u0456na"), "not an agent"),  # a look-alike of tina
])
def test_unknown_agents_and_tenants_are_refused(home, capsys, args, problem):
    code, _, err = crm(home, "sql", *args, "select 1", capsys=capsys)
    assert code == 2 and problem in err and len(err.strip().splitlines()) == 1


def _catalog(path: Path) -> dict[str, list[str]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute("SELECT schema_name || '.' || table_name, list(column_name) "
                           "FROM duckdb_columns() WHERE NOT internal GROUP BY 1").fetchall()
        views = con.execute("SELECT count(*) FROM duckdb_views() WHERE NOT internal").fetchone()[0]
    finally:
        con.close()
    assert views == 0
    return dict(rows)


def test_an_agents_file_opened_with_plain_duckdb_holds_exactly_its_grant(home):
    roles = Roles.load()
    for agent in roles.agents.values():
        catalog = _catalog(agent_file(home, "t1", agent.name))
        assert set(catalog) <= agent.reads, agent.name
        for table, columns in catalog.items():
            assert all(agent.may_read_column(c) for c in columns), (agent.name, table)
    assert set(_catalog(agent_file(home, "t1", "tina"))) == {
        "marts.customer_ltv", "marts.segment_ltv", "marts.ltv_model", "marts.revenue_forecast",
        "marts.forecast_backtest", "marts.forecast_accuracy", "marts.forecast_accuracy_summary",
        "marts.contact_segments"}


def test_an_agents_file_holds_no_byte_of_what_it_may_not_see(home):
    for agent in ("tina", "mercer", "binky", "social_publisher"):
        data = agent_file(home, "t1", agent).read_bytes()
        assert T1_EMAIL.encode() not in data and b"Quill" not in data, agent
        assert T2_EMAIL.encode() not in data
    assert T1_EMAIL.encode() in agent_file(home, "t1", "cheryl").read_bytes()
    assert T2_EMAIL.encode() not in agent_file(home, "t1", "cheryl").read_bytes()


def test_plain_duckdb_on_an_agents_file_cannot_reach_other_tables(home):
    con = duckdb.connect(str(agent_file(home, "t1", "tina")), read_only=True)
    try:
        for query in ("select * from core.contacts", "select * from audit.changes",
                      "select email from marts.customer_ltv"):
            with pytest.raises(duckdb.Error):
                con.execute(query).fetchall()
        # nothing in the file names another database: no view, no attached path
        assert con.execute("select count(*) from duckdb_databases() where not internal "
                           "and database_name <> current_database()").fetchone()[0] == 0
    finally:
        con.close()


def test_through_crm_sql_an_agent_cannot_attach_the_tenants_snapshot(home, capsys):
    extract = home / "published" / "tenants" / "t1.duckdb"
    for query in (f"attach '{extract}' as x", f"select * from read_parquet('{extract}')"):
        code, _, err = crm(home, "sql", "--tenant", "t1", "--as", "tina", query, capsys=capsys)
        assert code == 2 and len(err.strip().splitlines()) == 1


def test_role_list_shows_grants_and_a_tenants_own_file_changes_them(home, capsys):
    code, out, _ = crm(home, "role", "list", "--format", "json", capsys=capsys)
    doc = {a["agent"]: a for a in json.loads(out)}
    assert code == 0 and doc["cheryl"]["reads_personal"] and not doc["tina"]["reads_personal"]
    own = home / "tenants" / "t2" / "roles.yaml"
    own.write_text("agents:\n  tina:\n    role: cfo\n    reads: [marts.*, core.contacts]\n",
                   encoding="utf-8")
    try:
        code, out, _ = crm(home, "role", "list", "--tenant", "t2", "--format", "json",
                           capsys=capsys)
        tina = {a["agent"]: a for a in json.loads(out)}["tina"]
        assert "core.contacts" in tina["reads"] and "marts.engagement" in tina["reads"]
        assert crm(home, "run", "--tenant", "t2", "--as-of", AS_OF)[0] == 0
        assert "core.contacts" in _catalog(agent_file(home, "t2", "tina"))
        assert "core.contacts" not in _catalog(agent_file(home, "t1", "tina"))
    finally:
        own.unlink()
