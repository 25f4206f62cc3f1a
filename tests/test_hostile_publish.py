"""Hostile homes and readers against publishing: a home path that is not plain ASCII SQL, readers
that spill to disk and are killed, a published folder that cannot take the new snapshot, a run
that fails after its commit. Publishing never collides with a reader, names and paths never
enter SQL as raw text, and a run that failed is recorded as failed."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pytest
from helpers import HUBSPOT_HEADER, crm, shard, working, write_csv
from hypothesis import given
from hypothesis import strategies as st

from crm_pipeline.errors import BadArgument
from crm_pipeline.home import Home
from crm_pipeline.sql import quote_ident, quote_literal
from crm_pipeline.trust.publish import TEMP_PREFIX, publish_all_tenants, publish_tenant
from crm_pipeline.trust.readonly import open_read_only
from crm_pipeline.warehouse import connect, create_tables, run

AS_OF = "2026-11-15"
PYTHON = sys.executable
HOSTILE_HOME = ("o'brien hömé", "crm")  # a quote, a space and non-ASCII letters
SPILL = "SELECT * FROM range(2000000) r(x) ORDER BY hash(x)"  # more than 32MB to sort

# A reader opened the product's way: it spills (memory capped low), says where, then waits.
PRODUCT_READER = f"""
import sys
from crm_pipeline.home import Home
from crm_pipeline.trust.readonly import open_read_only
home = Home.resolve(sys.argv[1])
con = open_read_only(home.snapshot, home)
con.execute({SPILL!r}).fetchmany(1)
print(con.execute("SELECT current_setting('temp_directory')").fetchone()[0], flush=True)
sys.stdin.readline()
"""

# An analyst's own DuckDB on the snapshot: DuckDB's defaults, spill folder `<file>.tmp`.
PLAIN_READER = f"""
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True, config={{"memory_limit": "32MB"}})
con.execute("SET enable_progress_bar = false")  # it would write to stdout, which the test reads
con.execute({SPILL!r}).fetchmany(1)
print("spilled", flush=True)
sys.stdin.readline()
"""


def rows(start: int, n: int) -> list[str]:
    return [f"{i},First{i},Last{i},person{i}@example.com,,Co {i},Role,10,Boston,US,2024-01-02 08:00"
            for i in range(start, start + n)]


def runs(home: Path) -> list[tuple]:
    """audit.runs of the working file, oldest first: (run_id, tenant, status, message)."""
    con = working(home)
    try:
        return con.execute("SELECT run_id, tenant_id, status, message FROM audit.runs "
                           "ORDER BY started_at, tenant_id").fetchall()
    finally:
        con.close()


def last_run(home: Path) -> dict[str, tuple[str, str | None]]:
    """{tenant: (status, message)} of each tenant's latest run (tenants run side by side, each
    its own run)."""
    return {t: (s, m) for _, t, s, m in runs(home)}


def leftovers(home: Path) -> list[Path]:
    return sorted(p for p in (home / "published").rglob("*") if p.name.startswith(TEMP_PREFIX))


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    """A home of two tenants (so extracts are copied table by table through ATTACH) at a path
    with a quote, a space and non-ASCII letters."""
    d = tmp_path_factory.mktemp("hostile_publish")
    home = d.joinpath(*HOSTILE_HOME)
    for tenant, first in (("t1", 1), ("t2", 100)):
        f = write_csv(d / f"{tenant}.csv", HUBSPOT_HEADER, rows(first, 3))
        code, _, _ = crm(home, "import", "contacts", f, "--tenant", tenant, "--as-of", AS_OF)
        assert code == 0
    return home


# --- item 3: SQL built from a path -----------------------------------------------------------

@given(st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))))
def test_quoted_literals_and_names_read_back_exactly(text):
    con = duckdb.connect()
    assert con.execute(f"SELECT {quote_literal(text)}").fetchone()[0] == text
    assert con.execute(f"SELECT 1 AS {quote_ident(text or 'x')}").description[0][0] == (text or "x")
    con.close()


@pytest.mark.parametrize("quote", [quote_literal, quote_ident])
def test_a_nul_never_reaches_sql(quote):
    with pytest.raises(BadArgument, match="NUL"):
        quote("a\x00'; DROP TABLE core.contacts; --")


def test_a_home_path_with_a_quote_a_space_and_non_ascii_imports_publishes_and_reads(home, capsys):
    assert home.name == "crm" and "'" in str(home) and "ö" in str(home)
    assert {s for _, _, s, _ in runs(home)} == {"success"}
    published = home / "published"
    assert (published / "warehouse.duckdb").is_file()
    assert {p.name for p in (published / "tenants").iterdir() if p.is_file()} == {
        "t1.duckdb", "t2.duckdb"}
    assert {p.name for p in (published / "tenants").iterdir() if p.is_dir()} == {"t1", "t2"}
    assert (published / "tenants" / "t1" / "agents" / "tina.duckdb").is_file()
    code, out, err = crm(home, "sql", "select tenant_id, count(*) AS n from core.contacts "
                         "group by 1 order by 1", "--format", "csv", capsys=capsys)
    assert code == 0, err
    assert out.split() == ["tenant_id,n", "t1,3", "t2,3"]
    code, out, err = crm(home, "contact", "show", "--tenant", "t2", _contact_id(home, "t2"),
                         capsys=capsys)
    assert code == 0, err
    assert "tenant t2" in out and "First10" in out
    assert leftovers(home) == []


def _contact_id(home: Path, tenant: str) -> str:
    con = duckdb.connect(str(home / "published" / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute("SELECT min(contact_id) FROM core.contacts WHERE tenant_id = $t",
                           {"t": tenant}).fetchone()[0]
    finally:
        con.close()


def _small_warehouse(root: Path) -> tuple[Home, dict[str, duckdb.DuckDBPyConnection]]:
    """A home of two tenants, each in its shard (connections open for writing)."""
    home = Home.resolve(root).ensure()
    cons = {}
    for t in ("t1", "t2"):
        home.shard_dir(t).mkdir(parents=True)
        cons[t] = con = connect(home.shard(t))
        create_tables(con)
        run(con, "INSERT INTO core.tenants (tenant_id, home_country, base_currency, created_at) "
            "VALUES ($t, 'US', 'USD', now())", {"t": t})
    return home, cons


def _publish(home: Home, cons: dict) -> None:
    for t, con in cons.items():
        publish_tenant(con, home, t)
    publish_all_tenants(home)


def _close(cons: dict) -> None:
    for con in cons.values():
        con.close()


def test_a_logical_snapshot_and_extracts_publish_under_a_hostile_path(tmp_path):
    """The table-by-table copies (while an erasure awaits compaction, and every extract of a
    home of several tenants) ATTACH a file whose path is in the home."""
    home, cons = _small_warehouse(tmp_path.joinpath("it's \"quoted\"; --", "crm"))
    home.compaction_pending("t1").touch()
    try:
        _publish(home, cons)
    finally:
        _close(cons)
    for path, tenants in ((home.snapshot, ["t1", "t2"]), (home.extract("t1"), ["t1"])):
        check = duckdb.connect(str(path), read_only=True)
        assert [t for t, in check.execute("SELECT tenant_id FROM core.tenants ORDER BY 1")
                .fetchall()] == tenants
        check.close()
    assert leftovers(home.root) == []


# --- item 2: a reader can block publishing for good -----------------------------------------

def test_an_outside_readers_spill_folder_beside_each_file_never_blocks_publishing(tmp_path):
    home, cons = _small_warehouse(tmp_path / "crm")
    try:
        _publish(home, cons)
        blockers = []
        for path in (home.snapshot, home.extract("t1")):
            folder = path.with_name(path.name + ".tmp")  # DuckDB's default spill folder
            folder.mkdir()
            (folder / "duckdb_temp_4242_0_owner").write_bytes(b"x")
            blockers.append(folder)
        run(cons["t1"], "INSERT INTO core.tenants (tenant_id, home_country, base_currency, "
            "created_at) VALUES ('t3', 'US', 'USD', now())")
        _publish(home, cons)
    finally:
        _close(cons)
    check = duckdb.connect(str(home.snapshot), read_only=True)
    assert check.execute("SELECT count(*) FROM core.tenants").fetchone()[0] == 3
    check.close()
    for folder in blockers:  # a reader's folder is its own: left alone
        assert (folder / "duckdb_temp_4242_0_owner").read_bytes() == b"x"
    assert leftovers(home.root) == []


def test_what_an_interrupted_publish_left_is_removed_and_a_live_ones_kept(tmp_path):
    home, cons = _small_warehouse(tmp_path / "crm")
    gone = subprocess.run([PYTHON, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    dead_pid = int(gone.stdout)
    published = home.published_dir
    dead = published / f"{TEMP_PREFIX}{dead_pid}-00ff.duckdb"
    dead_wal = published / f"{TEMP_PREFIX}{dead_pid}-00ff.duckdb.wal"
    live = published / f"{TEMP_PREFIX}{os.getppid()}-00ff.duckdb"  # the test runner's parent
    legacy = published / "warehouse.duckdb.tmp"  # an older version's temporary file
    reader_folder = published / "tenants" / "t1.duckdb.tmp"
    reader_folder.mkdir(parents=True)
    for path in (dead, dead_wal, live, legacy):
        path.write_bytes(b"half a snapshot")
    try:
        _publish(home, cons)
    finally:
        _close(cons)
    assert not dead.exists() and not dead_wal.exists() and not legacy.exists()
    assert live.exists() and reader_folder.is_dir()


def test_a_product_reader_has_bounded_memory_and_a_spill_folder_of_its_own(home, monkeypatch):
    con = open_read_only(home / "published" / "warehouse.duckdb", Home.resolve(home))
    try:
        memory, spill, spill_max = con.execute(
            "SELECT current_setting('memory_limit'), current_setting('temp_directory'), "
            "current_setting('max_temp_directory_size')").fetchone()
        number, unit = memory.split()
        assert float(number) * {"MiB": 1, "GiB": 1024}[unit] <= 1024  # 1GB unless configured
        assert Path(spill).parent == home / "tmp" and Path(spill).name.startswith("crm-reader-")
        assert spill_max.endswith("GiB")
        with pytest.raises(duckdb.Error):  # the configuration is locked
            con.execute("SET temp_directory = 'elsewhere'")
        with pytest.raises(duckdb.Error):
            con.execute("SET memory_limit = '100GB'")
        with pytest.raises(duckdb.Error):  # no files but its own
            con.execute(f"ATTACH {quote_literal(home / 'warehouse.duckdb')} AS w (READ_ONLY)")
    finally:
        con.close()


def test_a_reader_limit_that_is_not_a_size_is_refused_in_one_line(home, capsys, monkeypatch):
    monkeypatch.setenv("CRM_READER_MEMORY_LIMIT", "lots")
    code, _, err = crm(home, "sql", "select 1", capsys=capsys)
    assert code == 2
    assert "CRM_READER_MEMORY_LIMIT" in err and len(err.strip().splitlines()) == 1


def _spilling_reader(script: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "CRM_READER_MEMORY_LIMIT": "32MB"}
    reader = subprocess.Popen([PYTHON, "-c", script, *args], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    guard = threading.Timer(600, reader.kill)  # never hang the suite (a limit, not a timing)
    guard.start()
    try:
        line = reader.stdout.readline().strip()
    finally:
        guard.cancel()
    assert line, reader.stderr.read()
    reader.first_line = line
    return reader


def test_readers_that_spill_and_are_killed_never_block_the_next_runs(home, capsys):
    """The issue's case: a reader of the snapshot spills to `published/warehouse.duckdb.tmp/`
    and is killed, so the folder stays; and a product reader killed while it spills."""
    snapshot = home / "published" / "warehouse.duckdb"
    plain = _spilling_reader(PLAIN_READER, str(snapshot))
    product = _spilling_reader(PRODUCT_READER, str(home))
    product_spill = Path(product.first_line)
    assert (snapshot.parent / "warehouse.duckdb.tmp").is_dir()  # DuckDB's own default
    assert product_spill.parent == home / "tmp" and product_spill.is_dir()  # never published/
    for reader in (plain, product):
        reader.kill()
        reader.wait()
    assert (snapshot.parent / "warehouse.duckdb.tmp").is_dir() and product_spill.is_dir()

    code, _, err = crm(home, "run", "--as-of", AS_OF, capsys=capsys)
    assert code == 0, err
    assert {s for s, _ in last_run(home).values()} == {"success"}
    # The outside reader's folder is its own and stays, so every later run meets it: no run fails.
    assert (snapshot.parent / "warehouse.duckdb.tmp").is_dir()
    assert not product_spill.exists()  # a killed reader's spill is removed by the next publish
    code, out, err = crm(home, "sql", "select count(*) AS n from audit.runs", "--format", "csv",
                         capsys=capsys)
    assert code == 0, err
    assert leftovers(home) == []


# --- item 3: a run that failed is recorded as failed ------------------------------------------

def test_a_publish_that_fails_after_the_commit_records_the_run_failed(home, capsys):
    snapshot = home / "published" / "warehouse.duckdb"
    kept = snapshot.with_name("kept.duckdb")
    snapshot.rename(kept)
    snapshot.mkdir()  # a real obstacle: the new snapshot cannot take the name
    try:
        code, _, err = crm(home, "run", "--as-of", AS_OF, capsys=capsys)
        assert code != 0
        recorded = last_run(home)
        assert set(recorded) == {"t1", "t2"}
        for status, message in recorded.values():
            assert status == "failed"
            assert message.startswith("publish: ") and str(snapshot) in message
            assert "\n" not in message and TEMP_PREFIX not in message
        assert leftovers(home) == []
    finally:
        snapshot.rmdir()
        kept.rename(snapshot)
    code, _, err = crm(home, "run", "--as-of", AS_OF, capsys=capsys)
    assert code == 0, err
    assert {s for s, _ in last_run(home).values()} == {"success"}


def test_a_check_that_fails_after_the_commit_records_the_run_failed(tmp_path, capsys):
    """The blocking audit check runs after audit.runs said success: the run must still end
    recorded as failed, naming the check."""
    home = tmp_path / "crm"
    f = write_csv(tmp_path / "a.csv", HUBSPOT_HEADER, rows(1, 2))
    assert crm(home, "import", "contacts", f, "--tenant", "t1", "--as-of", AS_OF)[0] == 0
    con = duckdb.connect(str(shard(home, "t1")))
    con.execute("UPDATE audit.changes SET hash = repeat('0', 64) WHERE change_id = "
                "(SELECT max(change_id) FROM audit.changes)")
    con.close()
    code, _, _ = crm(home, "run", "--as-of", AS_OF, capsys=capsys)
    assert code != 0
    (status, message), = last_run(home).values()
    assert status == "failed"
    assert "audit_chain_verifies" in message and "\n" not in message


def test_a_failed_tenant_keeps_its_own_cause(tmp_path):
    """Marking a run failed never overwrites the cause a tenant's stage recorded."""
    from datetime import date

    from crm_pipeline.pipeline import mark_failed, mark_run_failed, start_run

    con = connect(":memory:")
    create_tables(con)
    start_run(con, "r1", ["t1", "t2"], date(2026, 11, 15))
    mark_failed(con, "r1", "t1", "resolve: first line\n  second line")
    mark_run_failed(con, "r1", ["t1", "t2", "t3"], date(2026, 11, 15), "audit__runs: t1 failed")
    got = dict((t, (s, m)) for t, s, m in run(
        con, "SELECT tenant_id, status, message FROM audit.runs ORDER BY 1"))
    con.close()
    assert got == {"t1": ("failed", "resolve: first line second line"),
                   "t2": ("failed", "audit__runs: t1 failed"),
                   "t3": ("failed", "audit__runs: t1 failed")}


def test_no_sql_of_the_package_puts_a_path_or_name_in_quotes_by_hand():
    """ATTACH/COPY/COMMENT with a path or name go through bound parameters or
    crm_pipeline.sql.quote_literal/quote_ident (gdpr.py is checked by its own tests)."""
    root = Path(__file__).resolve().parent.parent
    offenders = []
    for path in [*root.glob("crm_pipeline/**/*.py"), *root.glob("dagster_defs/*.py")]:
        if path.name == "gdpr.py":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            hand = ("'{" in line or "\"{" in line.replace('f"{', "")) and (
                "ATTACH" in line or "COPY" in line or "COMMENT ON" in line or "FROM \"" in line)
            if hand:
                offenders.append(f"{path.relative_to(root)}:{n}: {line.strip()}")
    assert offenders == []
