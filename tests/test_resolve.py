"""Entity resolution on a real in-memory warehouse: rules, chaining, ids, aliases, unmerge, evidence."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime

import numpy as np
import polars as pl

from crm_pipeline.contacts.imports import register_import
from crm_pipeline.contacts.normalize.contacts import normalize_contacts
from crm_pipeline.contacts.resolve import train
from crm_pipeline.contacts.resolve.ahead import decisions_ahead
from crm_pipeline.contacts.resolve.apply import apply_decision, resolve_tenant
from crm_pipeline.contacts.resolve.cluster import EXACT, cluster_rows, unambiguous_links
from crm_pipeline.contacts.resolve.compare import FIELDS, compare_pairs, match_rows
from crm_pipeline.contacts.resolve.explain import explanation
from crm_pipeline.contacts.resolve.unmerge import unmerge_source
from crm_pipeline.trust.audit import ChangeContext
from crm_pipeline.warehouse import connect, create_tables, run

COLUMNS = ("source_id", "first_name", "last_name", "email", "phone", "company", "job_title", "city")


def stage(con, tenant: str, import_id: str, records: list[tuple], at: datetime) -> None:
    """Normalize records and stage them as one pending import."""
    frame = pl.DataFrame(
        [dict(zip(COLUMNS, r, strict=False)) for r in records], schema={c: pl.Utf8 for c in COLUMNS}
    )
    frame = frame.with_columns(pl.lit("US").alias("country")).with_row_index("row_number", offset=1)
    norm = normalize_contacts(frame, "US")
    staged = norm.select(
        pl.lit(tenant).alias("tenant_id"),
        pl.lit(import_id).alias("import_id"),
        pl.col("row_number").cast(pl.Int64),
        "source_id",
        pl.lit("test").alias("source_system"),
        "first_name",
        "last_name",
        "first_name_key",
        "last_name_key",
        "email",
        "email_local_base",
        "email_domain",
        "phone",
        "company",
        "company_key",
        "job_title",
        "city",
        "country",
        pl.lit("pending").alias("status"),
    )
    con.register("_s", staged)
    run(con, "INSERT INTO staging.contact_rows BY NAME SELECT * FROM _s")
    con.unregister("_s")
    register_import(
        con,
        tenant_id=tenant,
        import_id=import_id,
        kind="contact",
        file_name=import_id,
        file_sha256=import_id,
        rows_in=len(records),
        at=at,
    )


def contact_of(con, tenant: str = "t1") -> dict[str, str]:
    rows = run(
        con,
        "SELECT s.source_id, cs.contact_id FROM core.contact_sources cs "
        "JOIN staging.contact_rows s USING (tenant_id, import_id, row_number) "
        "WHERE cs.tenant_id = $t",
        {"t": tenant},
    )
    return dict(rows)


def resolve(con, ctx, tenant: str = "t1", at: datetime | None = None):
    return resolve_tenant(con, replace(ctx, tenant_id=tenant, at=at or ctx.at))


AT = datetime(2026, 1, 1, 12)
PEOPLE = [
    (
        "1",
        "Robert",
        "Quimby",
        "rob.quimby@acme.com",
        "+1 415 555 2671",
        "Acme Inc.",
        "CEO",
        "Boston",
    ),
    ("2", "Bob", "Quimby", "bquimby@gmail.com", None, "ACME", "CEO", "Boston"),  # nickname, fuzzy
    ("3", "Quimby", "Robert", None, "(415) 555-2671", "Acme", None, "Boston"),  # swapped
    ("4", "Ann", "Zellweger", "ann.z@gmial.com", None, None, None, None),
    ("5", "Ann", "Zellweger", "ann.z@gmail.com", "212-555-0199", "Beta LLC", "CFO", "Austin"),
    ("6", "Carol", "Stone", "carol@beta.com", "415-555-0100", "Beta LLC", "VP", "Austin"),
    (
        "7",
        "Dave",
        "Stone",
        "dave@beta.com",
        "415-555-0100",
        "Beta LLC",
        "VP",
        "Austin",
    ),  # same line
]


def test_exact_and_probabilistic_rules_find_each_variation(con, ctx):
    stage(con, "t1", "i1", PEOPLE, AT)
    counts = resolve(con, ctx)
    c = contact_of(con)
    assert c["1"] == c["2"] == c["3"]  # nickname + company, swapped names + phone
    assert c["4"] == c["5"]  # domain typo in the email
    assert c["6"] != c["7"]  # colleagues sharing the company's main line stay apart
    assert len({c[k] for k in c}) == 4
    assert counts == {"i1": {"accepted": 4, "merged": 3}}


def test_same_person_in_two_tenants_stays_two_contacts(con, ctx):
    stage(con, "t1", "i1", PEOPLE[:1], AT)
    stage(con, "t2", "i2", PEOPLE[:1], AT)
    resolve(con, ctx, "t1")
    resolve(con, ctx, "t2")
    assert contact_of(con, "t1")["1"] != contact_of(con, "t2")["1"]


def test_common_name_crowd_at_different_companies_stays_apart(con, ctx):
    companies = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay"]
    crowd = [
        (
            str(i),
            "Michael",
            "Smith",
            f"m.smith@{co.lower()}.com",
            f"+1 415 555 01{i:02d}",
            f"{co} Inc.",
            "Engineer",
            "Boston",
        )
        for i, co in enumerate(companies)
    ]
    crowd.append(("99", "Michael", "Smith", None, None, None, None, "Boston"))  # name only
    stage(con, "t1", "i1", crowd, AT)
    resolve(con, ctx)
    assert len(set(contact_of(con).values())) == 7


def test_a_weak_bridge_does_not_chain_two_groups():
    # Rows 0-1 and 2-3 are strong pairs; 1-2 is a link, but 0-2, 0-3 and 1-3 say different people.
    strong = {(0, 1): 25.0, (2, 3): 25.0, (1, 2): 11.0}

    def score(a, b):
        return np.array(
            [strong.get((min(x, y), max(x, y)), -20.0) for x, y in zip(a, b, strict=True)]
        )

    group = np.arange(4)
    final = cluster_rows(group, np.array([0, 2, 1]), np.array([1, 3, 2]), score)
    assert final[0] == final[1] and final[2] == final[3] and final[0] != final[2]


def test_a_weak_link_to_one_of_several_namesakes_who_differ_is_dropped():
    # Row 0 links weakly and equally to rows 1 and 2, who score as different people; row 3 links
    # strongly to row 1 and stays.
    a, b = np.array([0, 0, 1]), np.array([1, 2, 3])
    s = np.array([3.0, 3.5, 20.0])
    keep = unambiguous_links(np.arange(4), a, b, s, lambda x, y: np.full(len(x), -5.0))
    assert keep.tolist() == [False, False, True]
    agree = unambiguous_links(np.arange(4), a, b, s, lambda x, y: np.full(len(x), 5.0))
    assert agree.all()
    exact = unambiguous_links(np.arange(3), a[:2], b[:2], np.array([EXACT, 3.0]), lambda x, y: -5.0)
    assert exact[0]


def test_the_prior_of_a_match_falls_as_the_tenant_grows():
    model = train.default_model()
    assert model.prior(1_000_000) < model.prior(100_000) - 3 < model.prior(10_000) - 6


def test_email_typos_are_one_edit_but_two_providers_or_other_digits_are_two_mailboxes():
    staged = pl.DataFrame(
        {
            "first_name_key": ["ann"] * 6,
            "last_name_key": ["lee"] * 6,
            "email": ["annlee@gmail.com", "annlee@gmial.com", "annlee@mail.com",
                      "annlee7@gmail.com", "anlee@gmail.com", "annlee@acme.com"],
            **{c: pl.Series([None] * 6, dtype=pl.Utf8)
               for c in ("job_title", "city", "phone", "company_key")},
        }
    ).with_columns(
        pl.col("email").str.split("@").list.first().alias("email_local_base"),
        pl.col("email").str.split("@").list.last().alias("email_domain"),
    )  # fmt: skip
    levels, _ = compare_pairs(match_rows(staged), np.zeros(5, dtype=np.int64), np.arange(1, 6))
    email = levels[:, FIELDS.index("email")].tolist()
    # domain typo; provider vs provider: no evidence; digits differ; local typo; other domain
    assert email == [2, 0, 5, 3, 0]


def test_cluster_whose_members_all_agree_is_accepted_whole():
    group = np.arange(3)
    final = cluster_rows(
        group, np.array([0, 1]), np.array([1, 2]), lambda a, b: np.full(len(a), 15.0)
    )
    assert len(set(final.tolist())) == 1


def test_ids_are_stable_over_repeated_and_incremental_runs(con, ctx):
    stage(con, "t1", "i1", PEOPLE[:3] + PEOPLE[5:6], AT)
    resolve(con, ctx)
    first = contact_of(con)
    assert resolve(con, ctx) == {}  # nothing pending: nothing changes
    later = datetime(2026, 2, 1)
    stage(
        con,
        "t1",
        "i2",
        [
            ("8", "Rob", "Quimby", "ROB.QUIMBY@ACME.COM", None, None, None, None),
            ("9", "Carol", "Stone", "carol+news@beta.com", None, None, None, None),
        ],
        later,
    )
    counts = resolve(con, ctx, at=later)
    after = contact_of(con)
    assert {k: after[k] for k in first} == first
    assert after["8"] == first["1"] and after["9"] == first["6"]
    assert counts == {"i2": {"accepted": 0, "merged": 2}}


def test_incremental_run_gives_the_same_partition_as_a_full_run(con, ctx):
    stage(con, "t1", "i1", PEOPLE[:4], AT)
    resolve(con, ctx)
    stage(con, "t1", "i2", PEOPLE[4:], datetime(2026, 2, 1))
    resolve(con, ctx)
    incremental = contact_of(con)
    stage(con, "t9", "i1", PEOPLE, AT)
    resolve(con, ctx, "t9")
    full = contact_of(con, "t9")

    def partition(c):
        return sorted(sorted(k for k in c if c[k] == v) for v in set(c.values()))

    assert partition(incremental) == partition(full)


def test_a_row_joining_two_contacts_merges_them_and_the_older_id_survives(con, ctx):
    stage(con, "t1", "i1", [("1", "Ann", "Lee", "ann@x.com", None, None, None, None)], AT)
    resolve(con, ctx)
    stage(
        con,
        "t1",
        "i2",
        [("2", "Ann", "Lee", None, "415-555-2671", None, None, None)],
        datetime(2026, 1, 2),
    )
    resolve(con, ctx, at=datetime(2026, 1, 2))
    older, newer = contact_of(con)["1"], contact_of(con)["2"]
    if older == newer:  # name alone joined them already: nothing to merge in this set-up
        return
    stage(
        con,
        "t1",
        "i3",
        [("3", "Ann", "Lee", "ann@x.com", "415-555-2671", None, None, None)],
        datetime(2026, 1, 3),
    )
    resolve(con, ctx, at=datetime(2026, 1, 3))
    c = contact_of(con)
    assert c["1"] == c["2"] == c["3"] == older
    assert run(con, "SELECT alias_id, contact_id FROM core.contact_aliases") == [(newer, older)]


def test_evidence_records_every_link_with_similarities_and_explains_it(con, ctx):
    stage(con, "t1", "i1", PEOPLE[:3], AT)
    resolve(con, ctx)
    cid = contact_of(con)["1"]
    rows = run(
        con,
        "SELECT match_rule, match_score, similarities::VARCHAR FROM core.match_evidence "
        "WHERE contact_id = $c",
        {"c": cid},
    )
    assert len(rows) >= 2
    sims = [json.loads(r[2]) for r in rows]
    assert any(s["nickname"] for s in sims) and any(s["swapped_names"] for s in sims)
    assert all(0.0 < r[1] <= 1.0 for r in rows)
    words = explanation(con, "t1", cid)
    assert [s["match_rule"] for s in words["sources"]][0] == "new"
    assert all("why" in s for s in words["sources"])
    assert any("swapped" in s["why"] for s in words["sources"])


def test_unmerged_source_is_never_merged_back_by_a_probabilistic_link(con, ctx):
    stage(con, "t1", "i1", PEOPLE[:3], AT)
    resolve(con, ctx)
    cid = contact_of(con)["1"]
    new_id = unmerge_source(con, replace(ctx, actor="jane"), cid, "i1:2")
    assert contact_of(con)["2"] == new_id
    # Another record that matches both strongly arrives: the split pair stays apart.
    stage(
        con,
        "t1",
        "i2",
        [("8", "Bob", "Quimby", "bquimby@gmail.com", "+1 415 555 2671", "Acme", "CEO", "Boston")],
        datetime(2026, 2, 1),
    )
    resolve(con, ctx, at=datetime(2026, 2, 1))
    c = contact_of(con)
    assert c["2"] != c["1"]
    assert run(con, "SELECT count(*) FROM audit.changes WHERE action = 'unmerge'") == [(1,)]


def test_vectorised_new_contact_ids_equal_the_reference_formula():
    import polars as pl

    from crm_pipeline.contacts.resolve.decide import new_contact_id, new_contact_ids

    creators = pl.DataFrame({"import_id": ["imp_a", "imp_b"], "row_number": [1, 123456]})
    assert new_contact_ids("t1", creators).to_list() == [
        new_contact_id("t1", "imp_a", 1),
        new_contact_id("t1", "imp_b", 123456),
    ]


def test_a_few_new_rows_resolved_on_related_rows_only_give_the_full_result(con, ctx, monkeypatch):
    import crm_pipeline.contacts.resolve.decide as resolve_module
    from bench.resolve_generator import generate

    rows = generate(1500, seed=3, tenants=(("gen_us", "US"),))
    records = [tuple(r[c] for c in COLUMNS) for r in rows.iter_rows(named=True)]
    first, second = records[:-120], records[-120:]
    partitions = []
    calls = []
    real = resolve_module.related_rows
    monkeypatch.setattr(resolve_module, "related_rows", lambda *a: calls.append(1) or real(*a))
    for tenant, below in (("related", 1), ("whole", 10**9)):
        monkeypatch.setattr(resolve_module, "INCREMENTAL_BELOW", below)
        stage(con, tenant, "i1", first, AT)
        resolve(con, ctx, tenant)
        stage(con, tenant, "i2", second, datetime(2026, 2, 1))
        resolve(con, ctx, tenant, at=datetime(2026, 2, 1))
        placed = run(
            con,
            "SELECT s.import_id || ':' || s.row_number, cs.contact_id FROM core.contact_sources cs "
            "JOIN staging.contact_rows s USING (tenant_id, import_id, row_number) "
            "WHERE cs.tenant_id = $t",
            {"t": tenant},
        )
        groups: dict[str, list[str]] = {}
        for key, contact in placed:
            groups.setdefault(contact, []).append(key)
        partitions.append(sorted(sorted(g) for g in groups.values()))
    assert calls == [1]  # the first tenant's second import took the related-rows path
    assert partitions[0] == partitions[1]
    assert len(partitions[0]) < 1500  # duplicates were found, in both


def _three_tenants(con) -> dict:
    contexts = {}
    for n, tenant in enumerate(("t1", "t2", "t3")):
        stage(con, tenant, f"i{n}", PEOPLE[n:], AT)
        contexts[tenant] = ChangeContext(tenant, "run-1", "pipeline", "system", b"k", AT)
    return contexts


def _resolved(con) -> list[tuple]:
    return run(
        con,
        "SELECT cs.tenant_id, s.source_id, cs.contact_id, cs.match_rule, c.first_name "
        "FROM core.contact_sources cs JOIN staging.contact_rows s "
        "USING (tenant_id, import_id, row_number) JOIN core.contacts c "
        "ON c.tenant_id = cs.tenant_id AND c.contact_id = cs.contact_id ORDER BY ALL",
    )


def test_tenants_decided_ahead_on_a_worker_end_as_when_resolved_one_after_another(tmp_path):
    one_by_one = connect(tmp_path / "one.duckdb")
    ahead = connect(tmp_path / "ahead.duckdb")
    try:
        for c in (one_by_one, ahead):
            create_tables(c)
        contexts = _three_tenants(one_by_one)
        _three_tenants(ahead)
        for t, ctx in contexts.items():
            resolve_tenant(one_by_one, ctx)
        with decisions_ahead(ahead, contexts) as decided:
            for t, ctx in contexts.items():
                run(ahead, "BEGIN TRANSACTION")
                apply_decision(ahead, ctx, decided(t))
                run(ahead, "COMMIT")
        assert _resolved(ahead) == _resolved(one_by_one)
        assert len(_resolved(ahead)) == 7 + 6 + 5
        for table in ("core.match_evidence", "core.match_models", "audit.changes"):
            count = f"SELECT tenant_id, count(*) FROM {table} GROUP BY 1 ORDER BY 1"
            assert run(ahead, count) == run(one_by_one, count)
    finally:
        one_by_one.close()
        ahead.close()


def test_a_tenant_whose_decision_fails_fails_alone_and_the_others_are_written(con):
    contexts = _three_tenants(con)
    # A damaged stored model: reading it fails while deciding t2, on the worker thread.
    damaged = json.dumps({"version": train.MODEL_VERSION})
    run(con, "INSERT INTO core.match_models VALUES ('t2', 'old', $at, 1000, 10, $m)",
        {"at": AT, "m": damaged})
    failed = []
    with decisions_ahead(con, contexts) as decided:
        for t, ctx in contexts.items():
            try:
                apply_decision(con, ctx, decided(t))
            except KeyError:
                failed.append(t)
    assert failed == ["t2"]
    assert {r[0] for r in _resolved(con)} == {"t1", "t3"}
