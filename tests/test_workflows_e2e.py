"""Work queues end to end: `crm run` (through Dagster) fills them, `crm queue` prints them,
and each agent's published file holds the queue rows its role lets it see."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from helpers import HUBSPOT_HEADER, crm, shard, write_csv, write_jsonl

AS_OF = "2026-11-15"


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    d = tmp_path_factory.mktemp("queues")
    home = d / "home"
    contacts = write_csv(d / "t1.csv", HUBSPOT_HEADER, [
        "1,Zed,Quill,zed@example.com,,Acme Inc,CTO,250,Boston,US,2024-01-02 08:00",
        "2,Bob,Stone,bob@example.com,,Acme Inc,CEO,250,Boston,US,2024-01-03 08:00",
        "3,Cy,Lane,cy@example.com,,Beta LLC,Analyst,5,Boston,US,2024-01-03 08:00",
    ])
    acts = write_jsonl(d / "a.jsonl", [
        {"activity_id": "p1", "tenant_id": "t1", "type": "purchase", "amount": 10,
         "currency": "USD", "occurred_at": "2026-11-01T10:00:00Z", "source_id": "1",
         "actor": "pipeline"},
        {"activity_id": "p2", "tenant_id": "t1", "type": "purchase", "amount": 10,
         "currency": "USD", "occurred_at": "2026-11-14T10:00:00Z", "source_id": "2",
         "actor": "pipeline"},
        {"activity_id": "w2", "tenant_id": "t1", "type": "email", "direction": "outbound",
         "occurred_at": "2026-11-14T12:00:00Z", "source_id": "2", "actor": "cheryl"},
        {"activity_id": "f3", "tenant_id": "t1", "type": "form_submission",
         "occurred_at": "2026-11-10T12:00:00Z", "source_id": "3", "actor": "frank"},
    ])
    assert crm(home, "import", "contacts", contacts, "--tenant", "t1", "--no-run")[0] == 0
    assert crm(home, "import", "activities", acts, "--tenant", "t1", "--no-run")[0] == 0
    assert crm(home, "run", "--as-of", AS_OF)[0] == 0
    return home


def queue(home: Path, capsys, *args) -> tuple[int, list[dict], str]:
    code, out, err = crm(home, "queue", "--tenant", "t1", "--format", "json", *args,
                         capsys=capsys)
    return code, (json.loads(out) if code == 0 else []), err


def test_a_run_fills_the_queues_and_crm_queue_prints_them(home, capsys):
    code, rows, _ = queue(home, capsys)
    assert code == 0
    steps = {(r["workflow"], r["step"], r["step_owner"], r["overdue"]) for r in rows}
    # zed bought on Nov 1, no welcome email: overdue since Nov 3; bob got his: the call is next
    assert ("customer_onboarding", "welcome_email", "cheryl", True) in steps
    assert ("customer_onboarding", "onboarding_call", "claire", False) in steps
    assert any(r["workflow"] == "lead_nurture" for r in rows)
    assert all(r["next_action"] for r in rows)


def test_crm_queue_filters(home, capsys):
    _, mine, _ = queue(home, capsys, "--owner", "Claire")
    assert {r["step_owner"] for r in mine} == {"claire"}
    _, late, _ = queue(home, capsys, "--overdue")
    assert late and all(r["overdue"] for r in late)
    _, onboarding, _ = queue(home, capsys, "--workflow", "customer_onboarding", "--as-of", AS_OF)
    assert {r["workflow"] for r in onboarding} == {"customer_onboarding"}
    code, out, _ = crm(home, "queue", "--tenant", "t1", capsys=capsys)  # a table for people
    assert code == 0 and "rows" in out


@pytest.mark.parametrize("args, problem", [
    (["--workflow", "nurture"], "is not one of lead_nurture"),
    (["--as-of", "2026-11-14"], "queue is as of 2026-11-15"),
    (["--as-of", "soon"], "is not a date"),
])
def test_crm_queue_refuses_in_one_line(home, capsys, args, problem):
    code, _, err = queue(home, capsys, *args)
    assert code == 2 and problem in err and "Traceback" not in err


def test_an_unknown_tenant_is_refused(home, capsys):
    code, _, err = crm(home, "queue", "--tenant", "nobody", capsys=capsys)
    assert code == 2 and "nobody" in err


def _owners(home: Path, agent: str) -> set[str]:
    path = home / "published" / "tenants" / "t1" / "agents" / f"{agent}.duckdb"
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {r[0] for r in con.execute("SELECT step_owner FROM marts.work_queue").fetchall()}
    finally:
        con.close()


def test_agents_whose_role_says_so_see_only_their_own_queue_rows(home):
    assert _owners(home, "claire") == {"claire"}
    assert _owners(home, "cheryl") == {"cheryl"}
    assert _owners(home, "mercer") <= {"mercer"}
    assert {"claire", "cheryl"} <= _owners(home, "binky")  # reads every mart, every row


def test_a_second_run_of_the_same_date_changes_no_history(home):
    def snapshot():
        con = duckdb.connect(str(shard(home, "t1")), read_only=True)
        try:
            return {t: con.execute(f"SELECT * FROM marts.{t} ORDER BY ALL").fetchall()
                    for t in ("work_queue_history", "work_queue_steps", "workflow_eligibility")}
        finally:
            con.close()

    before = snapshot()
    assert crm(home, "run", "--as-of", AS_OF)[0] == 0
    assert snapshot() == before


def test_own_rows_only_is_a_flag_of_the_roles_file():
    from crm_pipeline.errors import CrmError
    from crm_pipeline.trust.roles import Roles

    roles = Roles.from_dict({"agents": {"ava": {"role": "support", "reads": ["work_queue"],
                                                "own_rows_only": True}}})
    assert roles.agent("ava").row_owners() == ("ava", "support")
    assert Roles.from_dict({"agents": {"bo": {"reads": []}}}).agent("bo").row_owners() is None
    with pytest.raises(CrmError, match="own_rows_only must be true or false"):
        Roles.from_dict({"agents": {"ava": {"own_rows_only": "yes"}}})


def test_role_list_says_who_sees_only_its_own_queue_rows(home, capsys):
    code, out, _ = crm(home, "role", "list", "--format", "json", capsys=capsys)
    doc = {a["agent"]: a for a in json.loads(out)}
    assert code == 0 and doc["claire"]["own_rows_only"] and not doc["binky"]["own_rows_only"]
