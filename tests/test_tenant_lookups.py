"""Issue 7: a reference to another tenant's contact id is answered exactly like a reference to an id
that never existed, by every command that looks a contact up (`crm contact show/explain`,
`crm gdpr export/erase`, `crm unmerge`): same exit status, same words, no change; and the one
look-up they share (`profile.resolve_contact_id`) resolves aliases within the tenant only."""

from __future__ import annotations

import dataclasses
import hashlib

import duckdb
import polars as pl
import pytest
from helpers import HUBSPOT_HEADER, crm, shard, working, write_csv

from crm_pipeline.contacts.profile import resolve_contact_id
from crm_pipeline.contacts.store import CONTACT_FIELDS, merge_contacts, upsert_contacts

AS_OF = "2026-11-15"
T1_ROWS = ["1,Ann,Lee,ann@example.com,+1 415 555 2671,Acme,CEO,250,Boston,US,2024-03-12 09:14",
           "2,Bo,Chen,bo@example.com,,Beta,,,,US,2024-03-12 09:14"]
T2_ROWS = ["7,Carla,Mendes,carla@example.com,+1 212 555 0142,Gamma,CTO,40,New York,US,2024-01-02",
           "7,Carla,Mendes,carla.m@example.com,+1 212 555 0142,Gamma,CTO,40,New York,US,2024-02-02"]


def _absent_like(cid: str) -> str:
    """A never-existing id of the same shape (`c_` and 16 hex digits)."""
    return cid[:2] + hashlib.sha256(f"absent|{cid}".encode()).hexdigest()[: len(cid) - 2]


COMMANDS = {
    "contact show": lambda cid, source: ["contact", "show", "--tenant", "t1", cid],
    "contact show json": lambda cid, source: ["contact", "show", "--tenant", "t1", cid,
                                              "--format", "json"],
    "contact explain": lambda cid, source: ["contact", "explain", "--tenant", "t1", cid],
    "gdpr export": lambda cid, source: ["gdpr", "export", "--tenant", "t1", "--contact", cid],
    "gdpr erase": lambda cid, source: ["gdpr", "erase", "--tenant", "t1", "--contact", cid,
                                       "--actor", "dpo"],
    "unmerge": lambda cid, source: ["unmerge", "--tenant", "t1", "--contact", cid,
                                    "--source", source],
}


def _state(path) -> tuple:
    """What a refused command must not change: contacts, sources, aliases, audit rows."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return tuple(
            con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
            for t in ("core.contacts", "core.contact_sources", "core.contact_aliases",
                      "audit.changes", "gdpr.suppressions")
        )
    finally:
        con.close()


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    d = tmp_path_factory.mktemp("lookups")
    home = d / "home"
    t1 = write_csv(d / "t1.csv", HUBSPOT_HEADER, T1_ROWS)
    t2 = write_csv(d / "t2.csv", HUBSPOT_HEADER, T2_ROWS)
    assert crm(home, "import", "contacts", t1, "--tenant", "t1", "--no-run")[0] == 0
    assert crm(home, "import", "contacts", t2, "--tenant", "t2", "--no-run")[0] == 0
    assert crm(home, "run", "--as-of", AS_OF)[0] == 0
    con = working(home)
    try:
        cid, source = con.execute(
            "SELECT contact_id, min(source_key) FROM core.contact_sources WHERE tenant_id = 't2' "
            "GROUP BY ALL"
        ).fetchone()
        every_id = {r[0] for r in con.execute("SELECT contact_id FROM core.contacts").fetchall()}
    finally:
        con.close()
    absent = _absent_like(cid)
    assert absent not in every_id and len(absent) == len(cid)
    return {"home": home, "cid": cid, "source": source, "absent": absent}


@pytest.mark.slow
def test_the_other_tenants_id_is_real_for_its_own_tenant(home, capsys):
    code, out, _ = crm(home["home"], "contact", "show", "--tenant", "t2", home["cid"],
                       "--format", "json", capsys=capsys)
    assert code == 0 and home["cid"] in out and "Carla" in out


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS)
def test_another_tenants_id_is_answered_exactly_like_an_id_that_never_existed(home, command,
                                                                              capsys):
    cid, absent, args = home["cid"], home["absent"], COMMANDS[command]
    before = _state(shard(home["home"], "t1"))
    other = crm(home["home"], *args(cid, home["source"]), capsys=capsys)
    never = crm(home["home"], *args(absent, home["source"]), capsys=capsys)
    assert other[0] == never[0] == 2
    assert other[1] == never[1] == ""
    assert other[2].replace(cid, absent) == never[2]
    assert other[2].startswith("crm: no contact ") and "'t1'" in other[2]
    assert _state(shard(home["home"], "t1")) == before


SCHEMA = {f: pl.String for f in CONTACT_FIELDS} | {
    "contact_id": pl.String, "company_size": pl.Int64, "birthdate": pl.Date,
    "created_at": pl.Datetime("us"), "tags": pl.List(pl.String),
}


def _contacts(*ids: str) -> pl.DataFrame:
    return pl.DataFrame([dict.fromkeys(CONTACT_FIELDS) | {"contact_id": i, "email": f"{i}@x.com"}
                         for i in ids], schema=SCHEMA)


def test_an_alias_resolves_within_its_own_tenant_only(con, ctx):
    t2 = dataclasses.replace(ctx, tenant_id="t2")
    upsert_contacts(con, ctx, _contacts("c_survivor", "c_retired"))
    merge_contacts(con, ctx,
                   pl.DataFrame({"alias_id": ["c_retired"], "contact_id": ["c_survivor"]}))
    upsert_contacts(con, t2, _contacts("c_own"))
    assert resolve_contact_id(con, "t1", "c_retired") == "c_survivor"
    assert resolve_contact_id(con, "t1", "c_survivor") == "c_survivor"
    for other_tenants in ("c_retired", "c_survivor"):
        assert resolve_contact_id(con, "t2", other_tenants) is None
    assert resolve_contact_id(con, "t2", "c_own") == "c_own"
    assert resolve_contact_id(con, "t1", "c_own") is None


def test_an_id_taken_in_two_tenants_resolves_to_each_tenants_own_contact(con, ctx):
    t2 = dataclasses.replace(ctx, tenant_id="t2")
    upsert_contacts(con, ctx, _contacts("c_a", "c_b"))
    merge_contacts(con, ctx, pl.DataFrame({"alias_id": ["c_b"], "contact_id": ["c_a"]}))
    upsert_contacts(con, t2, _contacts("c_b"))  # t2's own contact bears t1's alias id
    assert resolve_contact_id(con, "t2", "c_b") == "c_b"
    assert resolve_contact_id(con, "t1", "c_b") == "c_a"
