"""The demo on the embedded sample, checked against the sample's ground truth (data/sample/truth)."""

from __future__ import annotations

import shutil

import duckdb
import polars as pl
import pytest
from helpers import crm

from crm_pipeline.paths import SAMPLE_DIR


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("demo") / "home"
    code, _, _ = crm(home, "demo")
    assert code == 0
    return home


def query(home, sql: str) -> pl.DataFrame:
    con = duckdb.connect(str(home / "published" / "warehouse.duckdb"), read_only=True)
    try:
        return con.sql(sql).pl()
    finally:
        con.close()


def test_every_planted_bad_activity_line_gets_its_reason(demo_home):
    truth = pl.read_csv(SAMPLE_DIR / "truth" / "activity_traps.csv")
    quarantined = query(demo_home, """
        SELECT q.tenant_id, q.row_number AS line_number, q.reason_code FROM quarantine.rows q
        WHERE q.kind = 'activity'""")
    expected_q = truth.filter(~pl.col("expected").is_in(["merged", "accepted"]))
    got = quarantined.join(expected_q.select("tenant_id", "line_number", "expected"),
                           on=["tenant_id", "line_number"], how="full", coalesce=True)
    mismatches = got.filter(pl.col("reason_code").fill_null("") != pl.col("expected").fill_null(""))
    assert mismatches.height == 0, mismatches


def test_planted_accepted_and_redelivered_lines(demo_home):
    truth = pl.read_csv(SAMPLE_DIR / "truth" / "activity_traps.csv")
    accepted = truth.filter(pl.col("expected") == "accepted")
    stored = query(demo_home, "SELECT tenant_id, activity_id FROM core.activities")
    assert accepted.join(stored, on=["tenant_id", "activity_id"]).height == accepted.height
    merged = query(demo_home, "SELECT sum(rows_merged) AS n FROM raw.imports WHERE kind = 'activity'")
    assert merged["n"][0] == truth.filter(pl.col("expected") == "merged").height


def test_contact_quarantine_matches_the_truth(demo_home):
    truth = pl.read_csv(SAMPLE_DIR / "truth" / "contact_rows.csv", infer_schema=False).select(
        "tenant_id", pl.col("file").str.split("/").list.last().alias("file_name"),
        pl.col("row_number").cast(pl.Int64), "expected_quarantine",
    )
    got = query(demo_home, """
        SELECT q.tenant_id, i.file_name, q.row_number, q.reason_code, q.reason_detail
        FROM quarantine.rows q JOIN raw.imports i USING (tenant_id, import_id)
        WHERE q.kind = 'contact'""")
    joined = truth.join(got, on=["tenant_id", "file_name", "row_number"], how="full", coalesce=True)
    footers = joined.filter(pl.col("expected_quarantine").is_null()
                            & pl.col("reason_detail").str.contains("footer"))
    assert footers.height == 6  # the Salesforce report footers: 3 lines in each of two files
    wrong = joined.filter(
        pl.col("expected_quarantine").fill_null("") != pl.col("reason_code").fill_null("")
    ).join(footers, on=["tenant_id", "file_name", "row_number"], how="anti")
    assert wrong.height == 0, wrong


def test_every_import_balances_and_every_segment_is_populated(demo_home):
    imports = query(demo_home, "SELECT * FROM raw.imports")
    assert (imports["rows_in"] == imports["rows_accepted"] + imports["rows_merged"]
            + imports["rows_quarantined"]).all()
    sizes = query(demo_home, "SELECT tenant_id, segment, count(*) AS n FROM marts.contact_segments "
                  "GROUP BY ALL")
    segments = {"hot_leads", "existing_customers", "enterprise_prospects", "support_active",
                "cold_leads", "stale_records", "declining_engagement"}
    for tenant in ("acme_us", "brit_gb", "deutsch_de"):
        present = set(sizes.filter(pl.col("tenant_id") == tenant)["segment"].to_list())
        assert segments <= present, (tenant, segments - present)


def test_the_same_person_in_two_tenants_stays_two_contacts(demo_home):
    shared = query(demo_home, """
        SELECT email FROM core.contacts WHERE email IS NOT NULL
        GROUP BY email HAVING count(DISTINCT tenant_id) > 1""")
    assert shared.height > 0  # the sample plants such people
    per_tenant = query(demo_home, """
        SELECT email, count(*) AS n FROM core.contacts WHERE email IS NOT NULL
        GROUP BY tenant_id, email HAVING count(*) > 1""")
    assert per_tenant.height == 0


def test_unmerge_works_in_every_tenant_of_the_sample(demo_home, tmp_path, capsys):
    """Every tenant's activity log in the sample has malformed lines (quarantined, kept raw):
    unmerge reads the references of the activities' lines and must never parse those."""
    home = tmp_path / "home"
    shutil.copytree(demo_home, home)
    merged = query(home, """
        SELECT tenant_id, min(contact_id) AS contact_id,
               min_by(source_key, contact_id) AS source_key
        FROM (SELECT tenant_id, contact_id, max(source_key) AS source_key FROM core.contact_sources
              GROUP BY tenant_id, contact_id HAVING count(*) > 1)
        GROUP BY tenant_id ORDER BY tenant_id""")
    assert merged.height == 3
    for tenant, contact, source in merged.iter_rows():
        code, out, err = crm(home, "unmerge", "--tenant", tenant, "--contact", contact,
                             "--source", source, capsys=capsys)
        assert code == 0, err
        assert "now forms contact" in out
