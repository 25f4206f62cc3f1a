"""What the CLI's commands do, apart from parsing arguments: staging, reports, demo, trust."""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb
from rich.console import Console

from crm_pipeline.cli.render import add_row, styled, table
from crm_pipeline.errors import BadArgument, BadMapping, RefusedFile, WarehouseLocked, path_problem
from crm_pipeline.home import Home
from crm_pipeline.paths import SAMPLE_DIR
from crm_pipeline.tenants import checked_tenant_id, ensure_tenant
from crm_pipeline.trust.locking import write_lock
from crm_pipeline.warehouse import connect, create_tables, frame, run, utc_now
from crm_pipeline.yaml_docs import parsed_yaml

AS_OF_FIRST = date(1970, 1, 1)
AS_OF_YEARS_AHEAD = 10  # --as-of may be up to the end of the year ten years from today


@contextmanager
def locked(home: Home, tenant: str | None = None):
    """The tenant's write lock (or the whole home's), after migrating a home from before shards."""
    from crm_pipeline.trust.migrate import migrate_home

    home = usable_home(home)
    migrate_home(home)
    with write_lock(home, checked_tenant_id(tenant) if tenant is not None else None):
        yield


def usable_home(home: Home) -> Home:
    """The home, created if missing; refused in one line when it cannot be a folder to write in."""
    if home.root.exists() and not home.root.is_dir():
        raise BadArgument(f"CRM home {home.root} is a file, not a folder: give --home a folder")
    try:
        home.ensure()
    except OSError as exc:
        raise BadArgument(f"CRM home {home.root} cannot be set up: {exc.filename or home.root}: "
                          f"{path_problem(exc)}") from None
    if not os.access(home.root, os.W_OK | os.X_OK):
        raise BadArgument(f"CRM home {home.root}: permission denied (this user cannot write there)")
    return home


@contextmanager
def working_warehouse(home: Home, tenant: str, read_only: bool = False):
    """The tenant's working shard, for writers holding its lock (created if missing, unless
    read-only)."""
    home.ensure()
    path = home.shard(tenant)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = connect(path, read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise
        raise WarehouseLocked(f"{path}: another process has tenant {tenant}'s shard open; "
                              "readers must open the published snapshot instead") from None
    try:
        if not read_only:
            create_tables(con)
        yield con
    finally:
        con.close()


def checked_as_of(value: str | None) -> str | None:
    """The as-of date, refused unless YYYY-MM-DD from 1970-01-01 to ten years ahead (every
    stage computes dates around it: a year before for back-tests, a year after for forecasts)."""
    if value is None:
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise BadArgument(f"--as-of {value!r} is not a date: use YYYY-MM-DD") from None
    last = date(date.today().year + AS_OF_YEARS_AHEAD, 12, 31)
    if not AS_OF_FIRST <= day <= last:
        raise BadArgument(f"--as-of {value} is out of range: use a date from {AS_OF_FIRST} "
                          f"to {last}")
    return day.isoformat()


def write_tenant_report(home: Home, tenant: str, as_of: str | None, out: Path | None) -> Path:
    """`crm report`: the tenant's report from its published snapshot; a file or folder that
    cannot be written is refused with one line."""
    from crm_pipeline.pipeline import report_from_extract

    tenant = checked_existing_tenant(home, tenant)
    if out is not None and out.is_dir():
        raise BadArgument(f"--out {out} is a folder: name the HTML file to write")
    try:
        return report_from_extract(home, tenant, date.fromisoformat(as_of) if as_of else None,
                                   out.expanduser().resolve() if out else None)
    except OSError as exc:
        raise BadArgument(f"cannot write the report to {out or home.reports_dir}: "
                          f"{path_problem(exc)}") from None


def checked_existing_tenant(home: Home, tenant: str) -> str:
    tenant = checked_tenant_id(tenant)
    if tenant not in home.tenant_ids():
        raise BadArgument(f"tenant {tenant!r} has no data in {home.root}: import a file for it first")
    return tenant


def _checked_file(path: Path) -> Path:
    if not path.exists():
        raise RefusedFile(path, "no such file")
    if path.is_dir():
        raise RefusedFile(path, "is a folder, not a file")
    _check_readable(path, RefusedFile)
    return path


def _check_readable(path: Path, refusal) -> None:
    """Refuse a file this process cannot open (non-blocking: a FIFO must not hang the check)."""
    try:
        os.close(os.open(path, os.O_RDONLY | os.O_NONBLOCK))
    except OSError as exc:
        raise refusal(path, path_problem(exc)) from None


def _checked_mapping(mapping: Path | None) -> Path | None:
    if mapping is None:
        return None
    if not mapping.exists():
        raise BadArgument(f"{mapping}: mapping file not found")
    if mapping.is_dir():
        raise BadMapping(f"{mapping}: is a folder, not a mapping file")
    _check_readable(mapping, lambda p, problem: BadMapping(f"{p}: {problem}"))
    return mapping


def checked_out_file(path: Path) -> Path:
    """An output file the user named, refused at the door when it cannot be written there."""
    if path.is_dir():
        raise BadArgument(f"--out {path}: is a folder; give a file name, "
                          f"e.g. {path / 'export.json'}")
    folder = path.absolute().parent
    if not folder.is_dir():
        problem = "is not a folder" if folder.exists() else "does not exist"
        raise BadArgument(f"--out {path}: folder {folder} {problem}")
    if not os.access(path if path.exists() else folder, os.W_OK):
        raise BadArgument(f"--out {path}: permission denied")
    return path


def write_private_file(path: Path, text: str) -> None:
    """Write a file holding personal data, readable by its owner only when it is created."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as exc:
        raise BadArgument(f"--out {path}: {path_problem(exc)}") from None


def _checked_region(region: str | None) -> str | None:
    if region is None:
        return None
    if len(region.strip()) != 2 or not region.strip().isalpha():
        raise BadArgument(f"--region {region!r} is not a two-letter country code such as US or GB")
    return region.strip().upper()


def stage_contacts(home: Home, file: Path, tenant: str, mapping: Path | None,
                   region: str | None, sheet: str | None = None,
                   drop_extra: bool = False) -> str:
    """Read, check and register a contact file; nothing is written if the file is refused."""
    from crm_pipeline.contacts.importer import preview_contact_file, stage_contact_file

    tenant = checked_tenant_id(tenant)
    region = _checked_region(region)
    _checked_file(file)
    _checked_mapping(mapping)
    preview_contact_file(file, mapping, sheet)  # refuse before the warehouse is touched
    with working_warehouse(home, tenant) as con:
        ensure_tenant(con, tenant, home_country=region)
        result = stage_contact_file(con, tenant_id=tenant, path=file, at=utc_now(),
                                    mapping_file=mapping, region=region, key=home.key(),
                                    sheet=sheet, drop_extra=drop_extra)
    return result["import_id"]


def stage_activities(home: Home, file: Path, tenant: str) -> str:
    from crm_pipeline.activities.read import stage_activity_file

    tenant = checked_tenant_id(tenant)
    _checked_file(file)
    if tenant not in home.tenant_ids():
        raise BadArgument(f"tenant {tenant!r} has no contacts yet: import its contacts first")
    with working_warehouse(home, tenant) as con:
        result = stage_activity_file(con, tenant_id=tenant, path=file, at=utc_now())
    return result["import_id"]


def check_activities(out: Console, file: Path, tenant: str) -> int:
    """Print what `--check` found in an activity log; the exit status (2 if a line is bad)."""
    from crm_pipeline.activities.schema import check_activity_file

    tenant = checked_tenant_id(tenant)
    _checked_file(file)
    report = check_activity_file(file, tenant)
    out.print(styled((str(file), "bold"), f": {report.lines} lines checked, {report.valid} valid, "
                     f"{report.invalid} invalid (nothing imported)"))
    for code, n in sorted(report.by_reason.items()):
        out.print(styled(f"  {code}: {n}"))
    for number, code, detail in report.first_bad:
        out.print(styled(f"line {number}: {code}: {detail}"))
    if report.invalid > len(report.first_bad):
        out.print(styled(f"... and {report.invalid - len(report.first_bad)} more bad lines"))
    return 2 if report.invalid else 0


def dry_run_contacts(out: Console, home: Home, file: Path, tenant: str, mapping: Path | None,
                     region: str | None, sheet: str | None = None) -> None:
    """Detected encoding, delimiter, mapping, a few normalized rows and predicted counts."""
    from crm_pipeline.contacts.importer import preview_contact_file, published_home_country
    from crm_pipeline.contacts.normalize.contacts import identity_expr, normalize_contacts

    tenant = checked_tenant_id(tenant)
    region = _checked_region(region)
    _checked_file(file)
    _checked_mapping(mapping)
    read, cmap, rows = preview_contact_file(file, mapping, sheet)
    home_region = region or published_home_country(home, tenant) or "US"
    norm = normalize_contacts(rows, default_region=home_region)
    with_identity = norm.filter(identity_expr()).height
    out.print(styled((str(file), "bold"), " (dry run: nothing is changed)"))
    layout = (f"sheet {read.sheet!r} of an {read.encoding} workbook" if read.sheet
              else f"encoding {read.encoding}, delimiter {read.delimiter!r}")
    out.print(styled(f"{layout}, header on line {read.header_line}, looks like a {cmap.vendor} "
                     "export"))
    mt = table("column", "field", title="Mapping")
    for field, columns in cmap.describe()["fields"].items():
        for column in columns:
            name = column["column"] + " (inverted)" if isinstance(column, dict) else column
            add_row(mt, (name, field))
    for column in cmap.describe().get("extras", []):
        add_row(mt, (column, styled(("(kept as extra attribute)", "dim"))))
    out.print(mt)
    show = ["first_name", "last_name", "email", "phone", "company", "country"]
    nt = table(*show, title="First normalized rows")
    for r in norm.select(show).head(5).iter_rows():
        add_row(nt, r)
    out.print(nt)
    out.print(styled(f"predicted: {read.rows.height + read.unparseable.height} rows read, "
                     f"{read.unparseable.height} unparseable, {norm.height - with_identity} "
                     f"without identity, {with_identity} to accept or merge (duplicates are "
                     "found when run)"))


def print_import_report(out: Console, home: Home, tenant: str, import_id: str, ran: bool) -> None:
    with working_warehouse(home, tenant) as con:
        rows = run(con, "SELECT file_name, rows_in, rows_accepted, rows_merged, rows_quarantined, "
                   "error_file, processed_run_id FROM raw.imports WHERE tenant_id = $t AND import_id = $i",
                   {"t": tenant, "i": import_id})
        reasons = run(con, "SELECT reason_code, count(*) FROM quarantine.rows WHERE tenant_id = $t "
                      "AND import_id = $i GROUP BY 1 ORDER BY 1", {"t": tenant, "i": import_id})
    name, rows_in, acc, mer, qua, error_file, processed = rows[0]
    out.print(styled((name, "bold"), f" → tenant {tenant} (import {import_id})"))
    if processed is None:
        out.print(styled(f"rows read {rows_in}; staged, not yet run "
                         f"(run: crm run --tenant {tenant})"))
        return
    t = table("rows read", "accepted", "merged", "quarantined")
    add_row(t, (rows_in, acc, mer, qua))
    out.print(t)
    for code, n in reasons:
        out.print(styled(f"  quarantined {code}: {n}"))
    if error_file:
        out.print(styled(f"error file: {error_file}"))


def latest_runs(home: Home, tenants: list[str]) -> list[dict]:
    """Each tenant's latest run (from its shard: a failed run is never published)."""
    rows = []
    for t in tenants:
        with working_warehouse(home, t, read_only=True) as con:
            rows.extend(frame(con, """
                SELECT tenant_id, status, as_of, rows_in, rows_accepted, rows_merged,
                       rows_quarantined, activities_in, activities_accepted, activities_merged,
                       activities_quarantined, message
                FROM audit.runs ORDER BY started_at DESC LIMIT 1""").iter_rows(named=True))
    return rows


def print_run_summary(out: Console, home: Home, tenant: str | None) -> None:
    """One line per tenant of its latest run: status and row accounting."""
    for r in latest_runs(home, [tenant] if tenant else home.tenant_ids()):
        out.print(styled((r["tenant_id"], "bold"), f" {r['status']} (as of {r['as_of']})"))
        if r["rows_in"]:
            out.print(styled(f"  contact rows: {r['rows_in']} read, {r['rows_accepted']} accepted, "
                             f"{r['rows_merged']} merged, {r['rows_quarantined']} quarantined"))
        if r["activities_in"]:
            out.print(styled(f"  activity lines: {r['activities_in']} read, "
                             f"{r['activities_accepted']} accepted, {r['activities_merged']} "
                             f"merged, {r['activities_quarantined']} quarantined"))
        if r["message"]:
            out.print(styled(f"  {r['message']}"))


def demo_stage(out: Console, home: Home, force: bool = False) -> str:
    """A fresh demo from data/sample: every sample file staged; returns the sample's as-of date.
    Only an empty home or a previous demo is rebuilt, unless `force` (see demo_home.py)."""
    from crm_pipeline.activities.read import stage_activity_file
    from crm_pipeline.cli.demo_home import prepare_demo_home
    from crm_pipeline.contacts.importer import stage_contact_file

    manifest = parsed_yaml((SAMPLE_DIR / "manifest.yaml").read_text(encoding="utf-8"))
    moved = prepare_demo_home(home, manifest, force)
    if moved is not None:
        out.print(styled(f"moved this home's previous data to {moved} (a CRM home of its own: "
                         f"crm --home {moved} ...); nothing was deleted"))
    for t in manifest["tenants"]:
        with working_warehouse(home, t["tenant_id"]) as con:
            ensure_tenant(con, t["tenant_id"], home_country=t["home_country"],
                          base_currency=t["base_currency"], name=t.get("name"))
            for item in manifest["imports"]:
                if item["tenant_id"] != t["tenant_id"]:
                    continue
                path = SAMPLE_DIR / item["file"]
                out.print(styled((f"staging {item['file']} for {item['tenant_id']}", "dim")))
                if item["kind"] == "contacts":
                    stage_contact_file(con, tenant_id=item["tenant_id"], path=path, at=utc_now())
                else:
                    stage_activity_file(con, tenant_id=item["tenant_id"], path=path, at=utc_now())
    return str(manifest["as_of"])


def finish_demo(home: Home) -> None:
    """Record in the demo's marker what the finished demo created."""
    from crm_pipeline.cli.demo_home import record_demo_finished

    record_demo_finished(home)


def print_demo_summary(out: Console, home: Home) -> None:
    con = connect(home.snapshot, read_only=True)
    try:
        imports = frame(con, """
            SELECT tenant_id, kind, sum(rows_in) AS rows_in, sum(rows_accepted) AS accepted,
                   sum(rows_merged) AS merged, sum(rows_quarantined) AS quarantined
            FROM raw.imports GROUP BY ALL ORDER BY tenant_id, kind""")
        segments = frame(con, """
            SELECT tenant_id, segment, count(*) AS n FROM marts.contact_segments
            GROUP BY ALL ORDER BY tenant_id, segment""")
        ltv = frame(con, """
            SELECT m.tenant_id, m.model, m.customers, t.base_currency,
                   (SELECT sum(expected_clv_365d) FROM marts.customer_ltv c WHERE c.tenant_id = m.tenant_id) AS clv,
                   (SELECT sum(expected_revenue - coalesce(booked_revenue, 0))
                    FROM marts.revenue_forecast f
                     WHERE f.tenant_id = m.tenant_id AND f.segment = 'all') AS forecast
            FROM marts.ltv_model m JOIN core.tenants t USING (tenant_id)
            WHERE m.run_id = (SELECT run_id FROM audit.runs r WHERE r.tenant_id = m.tenant_id
                              ORDER BY started_at DESC LIMIT 1)
            ORDER BY m.tenant_id""")
        contacts = dict(run(con, "SELECT tenant_id, count(*) FROM core.contacts GROUP BY 1"))
        queues = frame(con, """
            SELECT tenant_id, workflow, count(*) AS open, count(*) FILTER (WHERE overdue) AS overdue
            FROM marts.work_queue GROUP BY ALL ORDER BY tenant_id, workflow""")
    finally:
        con.close()
    t = table("tenant", "file kind", "rows read", "accepted", "merged", "quarantined",
              title="Imports")
    for r in imports.iter_rows():
        add_row(t, r)
    out.print(t)
    tenants = sorted(contacts)
    seg_names = sorted(set(segments["segment"].to_list()))
    st = table("segment", *tenants, title="Segment sizes")
    sizes = {(a, b): n for a, b, n in segments.iter_rows()}
    add_row(st, (styled(("contacts", "bold")), *[contacts[t] for t in tenants]))
    for s in seg_names:
        add_row(st, (s, *[sizes.get((t, s), 0) for t in tenants]))
    out.print(st)
    lt = table("tenant", "model", "customers", "expected value, next 365 days",
               "forecast revenue, next 12 months", title="Lifetime value and forecast")
    for tenant, model, customers, cur, clv, fc in ltv.iter_rows():
        add_row(lt, (tenant, model, customers, f"{clv or 0:,.0f} {cur}", f"{fc or 0:,.0f} {cur}"))
    out.print(lt)
    qt = table("workflow", *tenants, title="Work queues (open, of which overdue)")
    counts = {(t, w): f"{n} ({o})" for t, w, n, o in queues.iter_rows()}
    for w in ("lead_nurture", "customer_onboarding", "retention"):
        add_row(qt, (w, *[counts.get((t, w), "0 (0)") for t in tenants]))
    out.print(qt)
    out.print(styled(f"tenant shards: {home.tenants_dir}\nsnapshot for analysts: {home.snapshot} "
                     "(try: .venv/bin/crm sql \"select * from marts.contact_segments limit 5\")"))
    for tenant in tenants:
        if home.report_file(tenant).is_file():
            out.print(styled(f"report for {tenant}: {home.report_file(tenant)} "
                             "(open it in a browser)"))


def unmerge(home: Home, tenant: str, contact: str, source: str, actor: str) -> str:
    from crm_pipeline.contacts.resolve.unmerge import unmerge_source
    from crm_pipeline.trust.audit import ChangeContext
    from crm_pipeline.trust.heads import record_chain_heads

    tenant = checked_tenant_id(tenant)
    if not contact or not source:
        raise BadArgument("give both --contact ID and --source SOURCE_KEY (see crm contact show)")
    with working_warehouse(home, tenant) as con:
        ctx = ChangeContext(tenant, f"unmerge-{utc_now():%Y%m%dT%H%M%S}", actor or "cli", "user",
                            home.key(), utc_now())
        new_id = unmerge_source(con, ctx, contact, source)
        record_chain_heads(con, home, [tenant])
        _republish(con, home, tenant)
    return new_id


def accept_merge(home: Home, tenant: str, contact: str, row: str | None, all_rows: bool,
                 actor: str) -> list[str]:
    """Accept held rows of a contact (crm merge accept): audited, then republished. A person
    may; an agent only when its role may create contacts (it then decides who a contact is)."""
    from crm_pipeline.contacts.edits import actor_context
    from crm_pipeline.contacts.resolve.review import accept_review
    from crm_pipeline.errors import NotPermitted
    from crm_pipeline.trust.heads import record_chain_heads
    from crm_pipeline.trust.roles import Roles

    tenant = checked_tenant_id(tenant)
    if bool(row) == all_rows:
        raise BadArgument("give the held row (import_id:row_number) or --all, not both "
                          "(see marts.merge_review)")
    with locked(home, tenant):
        tenant = checked_existing_tenant(home, tenant)
        roles = Roles.for_tenant(home, tenant)
        now = utc_now()
        ctx = actor_context(roles, tenant, actor, f"merge-accept-{now:%Y%m%dT%H%M%S%f}",
                            home.key(), now)
        if ctx.actor_kind == "agent" and not roles.may_create(ctx.actor):
            raise NotPermitted(f"agent {ctx.actor!r} may not accept merges: its role has no "
                               "creates: true")
        with working_warehouse(home, tenant) as con:
            accepted = accept_review(con, ctx, contact, row)
            record_chain_heads(con, home, [tenant])
            _republish(con, home, tenant)
    return accepted


def merge_account(home: Home, tenant: str, account: str, into: str, actor: str) -> int:
    """Contacts moved by merging `account` into `into` (audited, then republished)."""
    from crm_pipeline.accounts.manage import merge_accounts

    return _account_change(home, tenant, actor, "account-merge",
                           lambda con, ctx: merge_accounts(con, ctx, account, into))


def unmerge_account(home: Home, tenant: str, account: str, actor: str) -> str:
    """The account `account` had been merged into (audited, then republished)."""
    from crm_pipeline.accounts.manage import unmerge_account as restore

    return _account_change(home, tenant, actor, "account-unmerge",
                           lambda con, ctx: restore(con, ctx, account))


def _account_change(home: Home, tenant: str, actor: str, label: str, change,
                    own_transaction: bool = False):
    from crm_pipeline.trust.audit import ChangeContext
    from crm_pipeline.trust.heads import record_chain_heads
    from crm_pipeline.warehouse import transaction

    tenant = checked_tenant_id(tenant)
    if not actor or not actor.strip():
        raise BadArgument("give --actor NAME: account changes are recorded with who made them")
    if not home.shard(tenant).exists():
        raise BadArgument(f"unknown tenant {tenant!r}: {home.root} holds no data for it")
    with working_warehouse(home, tenant) as con:
        ctx = ChangeContext(tenant, f"{label}-{utc_now():%Y%m%dT%H%M%S}", actor.strip(), "user",
                            home.key(), utc_now())
        if own_transaction:
            result = change(con, ctx)
        else:
            with transaction(con):
                result = change(con, ctx)
        record_chain_heads(con, home, [tenant])
        _republish(con, home, tenant)
    return result


def erase(home: Home, tenant: str, contact: str, actor: str) -> dict:
    from crm_pipeline.contacts.gdpr import erase_subject

    tenant = checked_tenant_id(tenant)
    if not actor:
        raise BadArgument("give --actor NAME: erasures are recorded with who requested them")
    if not contact:
        raise BadArgument("give --contact ID")
    summary = erase_subject(home, tenant, contact, actor)
    if home.report_file(tenant).exists():  # the report is rewritten from the new snapshot
        from crm_pipeline.pipeline import report_from_extract

        try:
            report_from_extract(home, tenant)
        except BaseException:  # never leave the report made before the erasure behind
            home.report_file(tenant).unlink(missing_ok=True)
            raise
    return summary


def verify_audit(home: Home, tenant: str | None):
    """(problems, rows checked, note): the whole chain of every tenant (or one) re-computed,
    with every head recorded outside the rows (the head file's and the last run's in
    audit.runs) required to still be in it. The note says when the head file could not serve."""
    from crm_pipeline.trust.audit import run_heads, verify_chain

    tenants = home.tenant_ids()
    if not tenants:
        raise BadArgument(f"{home.root} has no warehouse yet: run crm demo or crm import first")
    if tenant is not None:
        tenant = checked_tenant_id(tenant)
        if tenant not in tenants:
            raise BadArgument(f"unknown tenant {tenant!r}: {home.root} holds no data for it")
    file_heads, note = _head_file_heads(home)
    problems, checked = [], 0
    for t in [tenant] if tenant else tenants:
        with working_warehouse(home, t, read_only=True) as con:
            recorded = run_heads(con)
            heads = {k: tuple(dict.fromkeys(h for h in (file_heads.get(k), recorded.get(k)) if h))
                     for k in {*file_heads, *recorded} if k == t}
            problems += verify_chain(con, home.key(), t, heads, heads_required=True)
            checked += run(con, "SELECT count(*) FROM audit.changes WHERE tenant_id = $t",
                           {"t": t})[0][0]
    return problems, checked, note if checked else None


def _head_file_heads(home: Home) -> tuple[dict[str, str], str | None]:
    """The heads in audit_head.json, and a note when the file is missing or unreadable (then
    the heads recorded in audit.runs stand in for it)."""
    import json

    path = home.audit_head_file
    if not path.exists():
        return {}, f"{path.name} is missing: checked against the heads recorded in audit.runs"
    try:
        heads = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        heads = None
    if not isinstance(heads, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in heads.items()):
        return {}, f"{path.name} is unreadable: checked against the heads recorded in audit.runs"
    return heads, None


def _republish(con, home: Home, tenant: str) -> None:
    from crm_pipeline.trust.publish import publish_all_tenants, publish_tenant

    publish_tenant(con, home, tenant)
    publish_all_tenants(home)



def write_contact(home: Home, tenant: str, change) -> dict:
    """One hand-made change (crm contact create/set/tag/delete), under the tenant's lock, in
    the working shard: audited and visible there at once; the published files follow at the
    next run."""
    from crm_pipeline.contacts.edits import actor_context, apply_change
    from crm_pipeline.trust.heads import record_chain_heads
    from crm_pipeline.trust.roles import Roles

    tenant = checked_tenant_id(tenant)
    with locked(home, tenant):
        tenant = checked_existing_tenant(home, tenant)
        roles = Roles.for_tenant(home, tenant)
        now = utc_now()
        ctx = actor_context(roles, tenant, change.actor, f"{change.op}-{now:%Y%m%dT%H%M%S%f}",
                            home.key(), now)
        with working_warehouse(home, tenant) as con:
            result = apply_change(con, roles, ctx, change)
            record_chain_heads(con, home, [tenant])
    return result


def acting_user(actor: str | None) -> str:
    """The actor named, else the login name of whoever runs the command (for the audit)."""
    import getpass

    named = (actor or "").strip()
    if named:
        return named
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (a bare container)
        raise BadArgument("who is acting cannot be told: name yourself with --actor") from None


def export_segment(home: Home, tenant: str, segment: str, fmt: str, out_file: Path | None,
                   actor: str | None, force: bool) -> tuple[Path, dict]:
    """Write a segment for another tool (crm segment export), audited as an export: the file
    appears under its name only once its audit row is committed."""
    import polars as pl

    from crm_pipeline.contacts.edits import actor_context
    from crm_pipeline.errors import NotPermitted
    from crm_pipeline.marts.segment_export import checked_format, segment_export, write_export
    from crm_pipeline.trust.audit import append_changes
    from crm_pipeline.trust.heads import record_chain_heads
    from crm_pipeline.trust.roles import Roles

    tenant = checked_tenant_id(tenant)
    fmt = checked_format(fmt)
    out_file = Path(out_file or f"{tenant}_{segment}_{fmt}.csv")
    if out_file.is_dir():
        raise BadArgument(f"{out_file}: is a folder; give a file name with --out")
    if out_file.exists() and not force:
        raise BadArgument(f"{out_file}: the file exists; choose another --out or add --force")
    if not out_file.parent.is_dir():
        raise BadArgument(f"{out_file}: no such folder {out_file.parent}")
    actor = acting_user(actor)
    with locked(home, tenant):
        tenant = checked_existing_tenant(home, tenant)
        roles = Roles.for_tenant(home, tenant)
        agent = roles.agent(actor)
        if agent is not None and not (agent.reads_personal
                                      and roles.may_read(actor, None, "contact_segments")):
            raise NotPermitted(f"agent {actor!r} may not export contacts: its role does not read "
                               "segments with personal data")
        now = utc_now()
        ctx = actor_context(roles, tenant, actor, f"export-{now:%Y%m%dT%H%M%S%f}", home.key(), now)
        with working_warehouse(home, tenant) as con:
            export = segment_export(con, tenant, segment, fmt)
            tmp, digest = write_export(export, out_file)
            try:
                run(con, "BEGIN TRANSACTION")
                append_changes(con, ctx, pl.DataFrame({
                    "action": ["export"], "entity": ["segment_export"], "entity_id": [segment],
                    "previous": [None], "new": [json.dumps(export.audit_new(out_file.name, digest),
                                                           sort_keys=True)],
                }, schema={"action": pl.Utf8, "entity": pl.Utf8, "entity_id": pl.Utf8,
                           "previous": pl.Utf8, "new": pl.Utf8}))
                run(con, "COMMIT")
            except BaseException:
                run(con, "ROLLBACK")
                tmp.unlink(missing_ok=True)
                raise
            tmp.replace(out_file)
            record_chain_heads(con, home, [tenant])
    return out_file, export.audit_new(out_file.name, digest)


def tenant_settings_rows(home: Home, tenant: str) -> list[tuple[str, str, str]]:
    """(key, value, set|default) of a tenant's settings, from its working shard (so a `set`
    shows at once; the run reads the same)."""
    from crm_pipeline.marts.tenant_config import settings_rows

    tenant = checked_existing_tenant(home, tenant)
    with working_warehouse(home, tenant, read_only=True) as con:
        return settings_rows(con, tenant)


def set_tenant_settings(home: Home, tenant: str, pairs: list[tuple[str, str]],
                        actor: str) -> dict:
    """Change settings (crm tenant set), checked whole, audited; the next run reads them. A new
    currency converts the stored amounts again in the same transaction."""
    import phonenumbers
    import polars as pl

    from crm_pipeline.activities.currency import load_rates
    from crm_pipeline.activities.rebase import reconverted_amounts
    from crm_pipeline.contacts.edits import actor_context
    from crm_pipeline.errors import NotPermitted
    from crm_pipeline.marts.tenant_config import settings_change, store_change
    from crm_pipeline.trust.audit import append_changes
    from crm_pipeline.trust.heads import record_chain_heads
    from crm_pipeline.trust.roles import Roles

    tenant = checked_tenant_id(tenant)
    actor = acting_user(actor)
    with locked(home, tenant):
        tenant = checked_existing_tenant(home, tenant)
        roles = Roles.for_tenant(home, tenant)
        if roles.is_agent(actor):
            raise NotPermitted(f"agent {actor!r} may not change tenant settings: ask a person")
        now = utc_now()
        ctx = actor_context(roles, tenant, actor, f"settings-{now:%Y%m%dT%H%M%S%f}", home.key(),
                            now)
        with working_warehouse(home, tenant) as con:
            change = settings_change(con, tenant, pairs,
                                     set(load_rates()["currency"].to_list()),
                                     set(phonenumbers.SUPPORTED_REGIONS))
            changed = {k: v for k, v in change.new.items() if change.previous.get(k) != v}
            if not changed:
                return {"changed": {}, "previous": {}}
            run(con, "BEGIN TRANSACTION")
            try:
                store_change(con, tenant, change)
                if "base_currency" in change.columns and "currency" in changed:
                    reconverted_amounts(con, tenant, change.columns["base_currency"])
                append_changes(con, ctx, pl.DataFrame({
                    "action": ["update"], "entity": ["tenant_settings"], "entity_id": [tenant],
                    "previous": [json.dumps({k: change.previous[k] for k in changed},
                                            sort_keys=True)],
                    "new": [json.dumps(changed, sort_keys=True)],
                }))
                run(con, "COMMIT")
            except BaseException:
                run(con, "ROLLBACK")
                raise
            record_chain_heads(con, home, [tenant])
    return {"changed": changed, "previous": {k: change.previous[k] for k in changed}}


def import_changes(home: Home, file: Path, tenant: str) -> dict:
    """A changes file applied line by line (crm import changes), under the tenant's lock."""
    from crm_pipeline.contacts.changes_file import import_changes_file
    from crm_pipeline.trust.heads import record_chain_heads

    tenant = checked_tenant_id(tenant)
    _checked_file(file)
    with locked(home, tenant):
        tenant = checked_existing_tenant(home, tenant)
        with working_warehouse(home, tenant) as con:
            result = import_changes_file(con, home, tenant, file)
            record_chain_heads(con, home, [tenant])
    return result


def print_changes_report(out: Console, file: Path, tenant: str, result: dict) -> None:
    out.print(styled((file.name, "bold"), f" → tenant {tenant} (import {result['import_id']})"))
    if result["already"]:
        out.print(styled("already imported: nothing changed"))
    quarantined = sum(result["quarantined"].values())
    t = table("lines", "applied", "quarantined")
    add_row(t, (result["rows_in"], result["rows_in"] - quarantined, quarantined))
    out.print(t)
    for code, n in result["quarantined"].items():
        out.print(styled(f"  quarantined {code}: {n}"))
    if result.get("error_file"):
        out.print(styled(f"error file: {result['error_file']}"))


STATUS_RUNS = 5  # runs shown per tenant


def tenant_status(home: Home, tenant: str) -> dict:
    """A tenant's last runs, imports not yet run, files waiting in its landing folder and the
    state of its audit chain. Read from its working shard (read-only); while a run holds the
    shard, from its published snapshot instead (which does not show the run in progress)."""
    from crm_pipeline.trust.audit import chain_head
    from crm_pipeline.trust.heads import audit_heads, verified_heads
    from crm_pipeline.trust.readonly import open_read_only

    source = "working shard"
    try:
        ctx = working_warehouse(home, tenant, read_only=True)
        con = ctx.__enter__()
    except WarehouseLocked:
        ctx, source = None, "published snapshot (a writer holds the working shard)"
        con = open_read_only(home.extract(tenant), home)
    try:
        runs = frame(con, """
            SELECT run_id, status, as_of, started_at, finished_at, rows_in, rows_accepted,
                   rows_merged, rows_quarantined, activities_in, activities_quarantined, message
            FROM audit.runs WHERE tenant_id = $t ORDER BY started_at DESC LIMIT $n""",
                     {"t": tenant, "n": STATUS_RUNS}).to_dicts()
        staged = frame(con, "SELECT import_id, kind, file_name, imported_at FROM raw.imports "
                            "WHERE tenant_id = $t AND processed_run_id IS NULL "
                            "ORDER BY imported_at", {"t": tenant}).to_dicts()
        last_id, head = chain_head(con, tenant)
        verified = verified_heads(home).get(tenant)
        verified_at = run(con, "SELECT change_id FROM audit.changes WHERE tenant_id = $t AND "
                               "hash = $h", {"t": tenant, "h": verified}) if verified else []
        recorded = audit_heads(home).get(tenant)
        recorded_at = run(con, "SELECT change_id FROM audit.changes WHERE tenant_id = $t AND "
                               "hash = $h", {"t": tenant, "h": recorded}) if recorded else []
    finally:
        if ctx is not None:
            ctx.__exit__(None, None, None)
        else:
            con.close()
    landing = sorted(str(p.relative_to(home.landing_dir))
                     for p in (home.landing_dir / tenant).glob("*/*") if p.is_file())
    return {
        "tenant_id": tenant, "read_from": source, "runs": runs, "staged_imports": staged,
        "landing_files": [p for p in landing if not p.endswith(".refused")],
        "refused_files": [p for p in landing if p.endswith(".refused")],
        "audit": {
            "changes": last_id, "head": head,
            "head_recorded": (recorded_at[0][0] if recorded_at else None) if recorded else None,
            "head_file_matches": recorded == head if recorded else None,
            "verified_through": verified_at[0][0] if verified_at else None,
        },
    }


def status(home: Home, tenant: str | None) -> list[dict]:
    tenants = home.tenant_ids()
    if tenant is not None:
        tenant = checked_tenant_id(tenant)
        if tenant not in tenants:
            raise BadArgument(f"unknown tenant {tenant!r}: {home.root} holds no data for it")
    if not tenants:
        raise BadArgument(f"{home.root} has no warehouse yet: run crm demo or crm import first")
    return [tenant_status(home, t) for t in ([tenant] if tenant else tenants)]


def print_status(out: Console, docs: list[dict]) -> None:
    for doc in docs:
        out.print(styled((doc["tenant_id"], "bold"), f"  (from its {doc['read_from']})"))
        for r in doc["runs"]:  # one line each: a table would wrap its causes
            finished = r["finished_at"] or r["started_at"]
            when = finished.strftime("%Y-%m-%d %H:%M") if finished else "?"
            line = (f"  {when} UTC  {r['status']}  as of {r['as_of']}  run {r['run_id'][:8]}: "
                    f"rows {r['rows_in'] or 0} in, {r['rows_accepted'] or 0} accepted, "
                    f"{r['rows_merged'] or 0} merged, {r['rows_quarantined'] or 0} quarantined")
            if r["status"] != "success" and r["message"]:
                line += f"; cause: {r['message']}"
            out.print(styled(line))
        for s in doc["staged_imports"]:
            out.print(styled(f"  staged, not yet run: {s['file_name']} ({s['kind']}, "
                             f"{s['import_id']})"))
        for f in doc["landing_files"]:
            out.print(styled(f"  waiting in landing/: {f}"))
        for f in doc["refused_files"]:
            out.print(styled(f"  refused in landing/: {f}"))
        a = doc["audit"]
        recorded = ("head recorded in audit_head.json" if a["head_file_matches"]
                    else "no head recorded yet" if a["head_file_matches"] is None
                    else f"recorded head at change {a['head_recorded']} (later changes not yet "
                         "recorded)" if a["head_recorded"] else "recorded head NOT in the chain: "
                         "run crm audit verify")
        verified = (f"verified through change {a['verified_through']}"
                    if a["verified_through"] else "not verified by a run yet")
        out.print(styled(f"  audit chain: {a['changes']} changes; {recorded}; {verified} "
                         "(crm audit verify checks all)"))


def import_companies(home: Home, file: Path, tenant: str, source: str, create: bool,
                     sheet: str | None = None) -> dict:
    """A company file matched to the tenant's accounts (crm import companies), under its lock;
    audited, then republished."""
    from crm_pipeline.accounts.companies_file import checked_source, import_companies_file

    source = checked_source(source)
    _checked_file(file)
    return _account_change(
        home, tenant, f"import:{source}", "company-import",
        lambda con, ctx: import_companies_file(
            con, ctx, file, source, create, lambda i: home.error_file(ctx.tenant_id, i), sheet),
        own_transaction=True)


def import_signals(home: Home, file: Path, tenant: str, source: str) -> dict:
    """A signals file linked to the tenant's accounts (crm import signals), under its lock."""
    from crm_pipeline.accounts.companies_file import checked_source
    from crm_pipeline.accounts.signals_file import import_signals_file

    source = checked_source(source)
    _checked_file(file)
    return _account_change(
        home, tenant, f"import:{source}", "signal-import",
        lambda con, ctx: import_signals_file(
            con, ctx, file, source, lambda i: home.error_file(ctx.tenant_id, i)),
        own_transaction=True)


def print_signals_report(out: Console, file: Path, tenant: str, result: dict) -> None:
    out.print(styled((file.name, "bold"), f" → tenant {tenant} (import {result['import_id']})"))
    if result["already"]:
        out.print(styled("already imported: nothing changed"))
    quarantined = sum(result["quarantined"].values())
    t = table("lines", "new signals", "merged (known already)", "quarantined")
    add_row(t, (result["rows_in"], result["accepted"], result["merged"], quarantined))
    out.print(t)
    for code, n in result["quarantined"].items():
        out.print(styled(f"  quarantined {code}: {n}"))
    if result.get("error_file"):
        out.print(styled(f"error file: {result['error_file']}"))
    out.print(styled("contacts are flagged in marts.contact_signals at the next run"))


def set_account(home: Home, tenant: str, account: str, actor: str, fields: list[str]) -> int:
    """Account fields set by hand (crm account set); audited, then republished."""
    from crm_pipeline.accounts.firmographics import set_by_hand
    from crm_pipeline.accounts.manage import resolved_account
    from crm_pipeline.tenants import get_tenant

    values = {}
    for item in fields or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise BadArgument(f"give fields as name=value, not {item!r}")
        values[name.strip()] = value.strip()
    if not values:
        raise BadArgument("give at least one field=value (e.g. industry=Software employees=250)")

    def change(con, ctx):
        found = resolved_account(con, ctx.tenant_id, account)
        return set_by_hand(con, ctx, found, values, get_tenant(con, ctx.tenant_id).base_currency)

    return _account_change(home, tenant, actor, "account-set", change)


def print_companies_report(out: Console, file: Path, tenant: str, result: dict) -> None:
    out.print(styled((file.name, "bold"), f" → tenant {tenant} (import {result['import_id']})"))
    if result["already"]:
        out.print(styled("already imported: nothing changed"))
    quarantined = sum(result["quarantined"].values())
    t = table("rows", "accepted", "merged", "quarantined", "accounts created", "accounts updated")
    add_row(t, (result["rows_in"], result["accepted"], result["merged"], quarantined,
                result["accounts_created"], result["accounts_updated"]))
    out.print(t)
    for code, n in result["quarantined"].items():
        out.print(styled(f"  quarantined {code}: {n}"))
    for code, n in result["problems"].items():
        out.print(styled(f"  values not used, {code}: {n} (kept in core.firmographics)"))
    for field, n in result["conflicts"].items():
        out.print(styled(f"  {n} account(s) given different {field} values in this file: "
                         "the rule picked one (crm account show lists them)"))
    if result.get("website_merges") or result.get("website_domains_added"):
        out.print(styled(f"  websites: {result.get('website_merges', 0)} account(s) merged into "
                         "the same-name account owning the website's domain, "
                         f"{result.get('website_domains_added', 0)} domain(s) added"))
    if result.get("error_file"):
        out.print(styled(f"error file: {result['error_file']}"))

def work_queue(home: Home, tenant: str, workflow: str | None, owner: str | None,
               overdue: bool, as_of: str | None) -> tuple[list[str], list[tuple]]:
    """The tenant's work queue from its published snapshot (`crm queue`)."""
    from crm_pipeline.trust.readonly import open_read_only
    from crm_pipeline.workflows.queue import queue_rows

    tenant = checked_existing_tenant(home, tenant)
    day = checked_as_of(as_of)
    path = home.extract(tenant)
    if not path.exists():
        raise BadArgument(f"tenant {tenant} has not been run yet: crm run --tenant {tenant}")
    con = open_read_only(path, home)
    try:
        return queue_rows(con, tenant, workflow.strip() if workflow else None,
                          owner.strip() if owner else None, overdue,
                          date.fromisoformat(day) if day else None)
    finally:
        con.close()


def _backfill_date(option: str, value: str) -> date:
    """A --from/--to date: YYYY-MM-DD, from 1970-01-01 to today (UTC); history has no future."""
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise BadArgument(f"{option} {value!r} is not a date: use YYYY-MM-DD") from None
    today = utc_now().date()
    if not AS_OF_FIRST <= day <= today:
        raise BadArgument(f"{option} {value} is out of range: history can be backfilled from "
                          f"{AS_OF_FIRST} to today ({today}), not for a future date")
    return day


def backfill(home: Home, tenant: str, start: str, end: str, every: str) -> dict:
    """`crm backfill`: the tenant's histories rebuilt from `start` (crm_pipeline.backfill), as
    one audit.runs run (as of the date its current marts end at), then republished as a run
    publishes (snapshot, analysts' snapshot, report). The caller holds the tenant's lock."""
    from crm_pipeline.backfill import backfill_dates, backfill_history
    from crm_pipeline.pipeline import PIPELINE_ACTOR, finish_run, report_stage, start_run
    from crm_pipeline.trust.roles import Roles

    first, last = _backfill_date("--from", start), _backfill_date("--to", end)
    backfill_dates(first, last, every)  # refused before the shard is opened
    tenant = checked_existing_tenant(home, tenant)
    roles = Roles.for_tenant(home, tenant)
    agent_roles = {a.name: a.role for a in roles.agents.values()}
    run_id = f"backfill-{utc_now():%Y%m%dT%H%M%S%f}"
    with working_warehouse(home, tenant) as con:
        result = backfill_history(con, tenant, first, last, every, run_id, agent_roles)
        start_run(con, run_id, [tenant], result["as_of"])
        message = (f"backfill {first} to {last} every {every}: {len(result['dates'])} dates"
                   + (f", then {len(result['later_dates'])} later dates of the history"
                      if result["later_dates"] else "") + f" (by {PIPELINE_ACTOR})")
        finish_run(con, home, run_id, [tenant], "success", message)
        _republish(con, home, tenant)
        report_stage(con, home, tenant)
    return {**result, "run_id": run_id}
