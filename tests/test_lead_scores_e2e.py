"""End to end: a simulated tenant imported through the CLI, the Dagster assets materialized into a
temporary home, and the learned scores' tables filled (the rule's fallback is tested on the
library's functions: tests/test_lead_model.py)."""

from __future__ import annotations

import datetime
import json

import duckdb
import pytest
from helpers import crm, shard, working, write_csv, write_jsonl

from bench.lead_simulator import PROFILES, simulate

pytestmark = pytest.mark.slow
AS_OF = datetime.date(2026, 11, 16)
HEADER = ("Record ID,First Name,Last Name,Email,Company Name,Job Title,Industry,"
          "Number of Employees,Country/Region,Create Date")


def files(tmp, tenant: str, sim) -> tuple:
    rows = [
        f"{r['contact_id']},Pat,Doe{i},pat{i}@{tenant}.example.com,Firm {i},"
        f"{r['job_title'] or ''},{r['industry']},{r['company_size']},{r['country']},"
        f"{r['created_at']:%Y-%m-%d %H:%M}"
        for i, r in enumerate(sim.contacts.iter_rows(named=True))
    ]
    log = [
        {"activity_id": r["activity_id"], "tenant_id": tenant, "type": r["type"],
         "occurred_at": f"{r['occurred_at']:%Y-%m-%dT%H:%M:%S}Z", "source_id": r["contact_id"],
         "actor": "sim", **({"direction": r["direction"]} if r["direction"] else {}),
         **({"amount": r["amount"], "currency": "USD"} if r["amount"] is not None else {})}
        for r in sim.activities.iter_rows(named=True)
    ]
    return (write_csv(tmp / f"{tenant}.csv", HEADER, rows),
            write_jsonl(tmp / f"{tenant}.jsonl", log))


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lead_e2e")
    home = tmp / "home"
    sim = simulate(PROFILES["healthcare_smb"], AS_OF, seed=11, contacts=300)
    contacts, log = files(tmp, "learns", sim)
    assert crm(home, "import", "contacts", contacts, "--tenant", "learns", "--no-run")[0] == 0
    assert crm(home, "import", "activities", log, "--tenant", "learns", "--no-run",
               "--as-of", AS_OF.isoformat())[0] == 0
    # a small tenant: the thresholds lowered to what its history holds
    con = duckdb.connect(str(shard(home, "learns")))
    con.execute("UPDATE core.tenants SET settings = $s", {"s": json.dumps(
        {"learned_scores": {"min_conversions": 15, "min_holdout_conversions": 6}})})
    con.close()
    assert crm(home, "run", "--as-of", AS_OF.isoformat())[0] == 0
    return home


def q(home, sql, params=None):
    con = working(home)
    try:
        return con.execute(sql, params or {}).fetchall()
    finally:
        con.close()


def test_the_run_writes_its_model_rows_saying_which_score_is_used(home):
    rows = q(home, "SELECT tenant_id, score_method, retrained, auc_learned > auc_rule "
                   "FROM marts.lead_score_model")
    assert rows == [("learns", "learned", True, True)]
    runs = q(home, "SELECT DISTINCT m.run_id = r.run_id FROM marts.lead_score_model AS m "
                   "JOIN audit.runs AS r USING (tenant_id)")
    assert runs == [(True,)]
    assert q(home, "SELECT tenant_id, churn_method IN ('learned', 'rule') "
                   "FROM marts.retention_model") == [("learns", True)]
    assert q(home, "SELECT target FROM core.score_models ORDER BY 1") == [("churn",),
                                                                           ("conversion",)]


def test_the_learned_tenants_open_leads_have_probabilities_and_words(home):
    (learned, with_words, customers_rule), = q(home, """
        SELECT count(*) FILTER (WHERE s.score_method = 'learned'
                                AND s.conversion_probability BETWEEN 0 AND 1),
               count(*) FILTER (WHERE s.score_method = 'learned' AND len(s.top_factors) > 0),
               count(*) FILTER (WHERE s.score_method = 'rule'
                                AND l.stage IN ('customer', 'advocate', 'churned'))
        FROM marts.lead_scores AS s JOIN marts.lifecycle AS l USING (tenant_id, contact_id)
        WHERE s.tenant_id = 'learns'""")
    assert learned > 100 and with_words == learned and customers_rule > 0


def test_retention_risk_carries_the_churn_method_for_every_customer(home):
    methods = dict(q(home, "SELECT churn_method, count(*) FROM marts.retention_risk "
                           "WHERE tenant_id = 'learns' GROUP BY 1"))
    assert set(methods) <= {"learned", "rule"} and sum(methods.values()) > 0
    assert q(home, "SELECT count(*) FROM marts.retention_risk WHERE churn_method IS NULL "
                   "OR top_factors IS NULL") == [(0,)]


def test_the_published_snapshot_shows_the_model_table(home, capsys):
    snapshot = home / "published" / "warehouse.duckdb"
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        rows = con.execute("SELECT tenant_id, score_method, len(calibration) "
                           "FROM marts.lead_score_model ORDER BY 1").fetchall()
    finally:
        con.close()
    assert rows == [("learns", "learned", 10)]
    code, out, _ = crm(home, "sql", "--format", "json",
                       "SELECT tenant_id, score_method FROM marts.lead_score_model",
                       capsys=capsys)
    assert code == 0 and json.loads(out) == [{"tenant_id": "learns", "score_method": "learned"}]
