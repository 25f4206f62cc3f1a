"""stage_activity_file: whole-file refusals, import identity, and lines kept with their numbers."""

from __future__ import annotations

import codecs
import json
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_pipeline.activities import read
from crm_pipeline.activities.read import stage_activity_file
from crm_pipeline.contacts.imports import import_id_for
from crm_pipeline.errors import RefusedFile
from crm_pipeline.warehouse import connect, create_tables, run

AT = datetime(2024, 6, 1, 12)
GOOD = json.dumps({"activity_id": "a1", "tenant_id": "t1", "type": "email",
                   "occurred_at": "2024-05-01T10:00:00Z", "contact_id": "c1"})


def counts(con) -> tuple[int, int]:
    return (run(con, "SELECT count(*) FROM raw.imports")[0][0],
            run(con, "SELECT count(*) FROM raw.activity_events")[0][0])


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "empty"),
        (b"\n  \n\r\n", "only blank lines"),
        (GOOD.encode() + b"\n\x00\x01\x02\x89PNG\n", "binary"),
        (GOOD.encode() + b"\ncaf\xe9 au lait\n", "not valid utf-8"),
        (b"id,type\n1,email\n[1, 2]\n\"text\"\n", "no line is a JSON object"),
    ],
    ids=["empty", "blank", "binary", "undecodable", "no_json_object"],
)
def test_an_unreadable_file_is_refused_and_changes_nothing(con, tmp_path, content, problem):
    path = tmp_path / "log.jsonl"
    path.write_bytes(content)
    with pytest.raises(RefusedFile) as refused:
        stage_activity_file(con, tenant_id="t1", path=path, at=AT)
    assert problem in refused.value.problem
    assert refused.value.path == str(path)
    assert counts(con) == (0, 0)


def test_a_missing_file_is_refused(con, tmp_path):
    with pytest.raises(RefusedFile):
        stage_activity_file(con, tenant_id="t1", path=tmp_path / "nope.jsonl", at=AT)


def test_a_new_file_is_registered_with_its_non_blank_lines(con, tmp_path):
    path = tmp_path / "log.jsonl"
    content = f"{GOOD}\r\n\r\nnot json\n{GOOD}".encode()
    path.write_bytes(content)
    result = stage_activity_file(con, tenant_id="t1", path=path, at=AT)
    sha = __import__("hashlib").sha256(content).hexdigest()
    assert result == {"import_id": import_id_for("t1", "activity", sha),
                      "already_imported": False, "rows_in": 3}
    assert run(con, "SELECT line_number, line FROM raw.activity_events ORDER BY 1") == [
        (1, GOOD), (3, "not json"), (4, GOOD)
    ]
    assert run(con, "SELECT kind, file_name, file_sha256, rows_in, processed_run_id "
                    "FROM raw.imports") == [("activity", "log.jsonl", sha, 3, None)]


def test_the_same_file_again_is_recognised_and_changes_nothing(con, tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text(GOOD + "\n", encoding="utf-8")
    first = stage_activity_file(con, tenant_id="t1", path=path, at=AT)
    again = stage_activity_file(con, tenant_id="t1", path=path, at=AT)
    assert again["already_imported"] is True
    assert again["import_id"] == first["import_id"]
    assert counts(con) == (1, 1)
    other_tenant = stage_activity_file(con, tenant_id="t2", path=path, at=AT)
    assert other_tenant["already_imported"] is False


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_a_byte_order_mark_names_the_encoding(con, tmp_path, encoding):
    path = tmp_path / "log.jsonl"
    text = GOOD.replace("email", "émail") + "\n"
    path.write_bytes(text.encode(encoding))
    stage_activity_file(con, tenant_id="t1", path=path, at=AT)
    assert run(con, "SELECT line FROM raw.activity_events") == [(text.strip(),)]
    assert codecs.lookup(run(con, "SELECT encoding FROM raw.imports")[0][0]).name == \
        codecs.lookup(encoding).name


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(st.one_of(st.just(GOOD), st.just(""), st.just("  "),
                             st.text(alphabet="{}[]\"é漢 x", max_size=12)), min_size=1,
                   max_size=25),
    chunk=st.integers(min_value=1, max_value=64),
    final_newline=st.booleans(),
)
def test_lines_keep_their_numbers_whatever_the_chunk_size(monkeypatch, lines, chunk,
                                                          final_newline):
    monkeypatch.setattr(read, "CHUNK_BYTES", chunk)
    frames = list(read._chunks(_write(lines, final_newline), "utf-8"))
    got = [(n, s) for f in frames for n, s in f.iter_rows()]
    assert got == [(i, s) for i, s in enumerate(lines, 1) if s.strip()]


def _write(lines, final_newline):
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / "log.jsonl"
    path.write_bytes(("\n".join(lines) + ("\n" if final_newline else "")).encode())
    return path


def test_a_file_refused_halfway_leaves_nothing_behind(tmp_path, monkeypatch):
    monkeypatch.setattr(read, "CHUNK_BYTES", 64)
    con = connect(":memory:")
    create_tables(con)
    path = tmp_path / "log.jsonl"
    path.write_bytes((GOOD + "\n").encode() * 5 + b"\x00binary tail\n")
    with pytest.raises(RefusedFile):
        stage_activity_file(con, tenant_id="t1", path=path, at=AT)
    assert counts(con) == (0, 0)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(st.one_of(st.just(GOOD), st.just(""), st.sampled_from([" ", "\t", "\u3000 "]),
                             st.text(alphabet="{}[]\",\\é漢 x\t\u00a0\u2028", max_size=12)),
                   min_size=1, max_size=25),
    final_newline=st.booleans(),
)
def test_duckdb_reads_a_plain_file_into_the_same_lines_as_python(lines, final_newline):
    path = _write(lines, final_newline)
    sha, plain = read._fingerprint(path)
    assert plain and sha == __import__("hashlib").sha256(path.read_bytes()).hexdigest()
    con = connect(":memory:")
    create_tables(con)
    read._read_directly(con, path)
    appended = read._append_read_lines(con, "t1", "imp")
    direct = run(con, "SELECT line_number, line FROM raw.activity_events ORDER BY 1")
    expected = [(n, s) for f in read._chunks(path, "utf-8") for n, s in f.iter_rows()]
    assert (appended, direct) == (len(expected), expected)
    con.close()


@pytest.mark.parametrize(
    ("content", "plain"),
    [(b'{"a": 1}\n\t{"b": 2}\n', True), (b'{"a": 1}\r\n', False), (b'{"a": "x\x01"}\n', False)],
    ids=["plain", "carriage_return", "control_byte"],
)
def test_only_a_file_without_control_bytes_but_tab_and_line_feed_is_read_by_duckdb(
    tmp_path, content, plain
):
    path = tmp_path / "log.jsonl"
    path.write_bytes(content)
    assert read._fingerprint(path)[1] is plain


def test_a_plain_file_of_blank_lines_or_without_objects_is_refused_too(con, tmp_path):
    for content, problem in ((b" \n\t\n\n", "only blank lines"), (b"[1]\n2\n", "no line is")):
        path = tmp_path / "log.jsonl"
        path.write_bytes(content)
        with pytest.raises(RefusedFile) as refused:
            stage_activity_file(con, tenant_id="t1", path=path, at=AT)
        assert problem in refused.value.problem
    assert counts(con) == (0, 0)
