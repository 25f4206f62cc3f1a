"""The pipeline's stages, one function per stage and tenant; Dagster assets are thin calls of these.

Each stage runs one tenant inside one transaction, so a failure leaves that tenant's previous state
and another tenant's bad data fails only its own part.
"""

from __future__ import annotations

import json
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date
from functools import partial
from pathlib import Path

import duckdb

from crm_pipeline.accounts.link import link_accounts
from crm_pipeline.accounts.value import value_accounts
from crm_pipeline.activities.process import process_activities
from crm_pipeline.contacts.changes_file import import_changes_file
from crm_pipeline.contacts.importer import normalize_import
from crm_pipeline.contacts.imports import close_import, pending_imports
from crm_pipeline.contacts.quarantine import quarantine_counts, write_error_file
from crm_pipeline.contacts.resolve.apply import apply_decision, resolve_tenant
from crm_pipeline.contacts.resolve.decide import Decision
from crm_pipeline.contacts.retention import RetentionDays, apply_retention
from crm_pipeline.errors import BadArgument, RefusedFile
from crm_pipeline.home import Home
from crm_pipeline.marts.refresh import refresh_marts
from crm_pipeline.marts.tenant_settings import tenant_settings
from crm_pipeline.report.files import write_report
from crm_pipeline.scoring.refresh import score_tenant
from crm_pipeline.tenants import Tenant, all_tenants, checked_tenant_id, get_tenant
from crm_pipeline.trust.audit import ChangeContext, chain_head
from crm_pipeline.trust.heads import update_heads
from crm_pipeline.trust.readonly import open_read_only
from crm_pipeline.trust.roles import Roles
from crm_pipeline.value.refresh import (
    backtest_recomputed,
    base_currency,
    prepare_value,
    refresh_value,
    write_value,
)
from crm_pipeline.value.tier_forecast import write_tier_forecast
from crm_pipeline.warehouse import run, transaction, utc_now
from crm_pipeline.workflows.refresh import refresh_work_queues

PIPELINE_ACTOR = "pipeline"


def parse_as_of(value: str | date | None) -> date:
    """The run's as-of date: given, or today (UTC)."""
    if value is None or value == "":
        return utc_now().date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(value)


def run_tenants(con: duckdb.DuckDBPyConnection, tenant: str | None) -> list[str]:
    """The tenants a run covers: the one named, else all."""
    if tenant:
        return [tenant] if get_tenant(con, tenant) else []
    return all_tenants(con)


def pipeline_context(home: Home, tenant_id: str, run_id: str) -> ChangeContext:
    return ChangeContext(tenant_id, run_id, PIPELINE_ACTOR, "system", home.key(), utc_now())


def start_run(con, run_id: str, tenants: list[str], as_of: date) -> None:
    """One audit.runs row per tenant, status running (a crash leaves it so, visibly)."""
    for t in tenants:
        run(
            con,
            "INSERT INTO audit.runs (run_id, tenant_id, started_at, status, as_of) "
            "VALUES ($r, $t, $at, 'running', $d) ON CONFLICT DO NOTHING",
            {"r": run_id, "t": t, "at": utc_now(), "d": as_of},
        )


def normalize_stage(con, home: Home, tenant_id: str, run_id: str) -> dict[str, int]:
    """Normalize and validate every pending contact import of the tenant into staging."""
    tenant: Tenant = get_tenant(con, tenant_id)
    counts: dict[str, int] = {}
    with transaction(con):
        for import_id in pending_imports(con, tenant_id, "contact"):
            if _already_staged(con, tenant_id, import_id):
                continue
            options = _import_options(con, tenant_id, import_id)
            by_reason = normalize_import(
                con, tenant_id=tenant_id, import_id=import_id,
                home_region=options.get("region") or tenant.home_country,
                key=home.key(), run_id=run_id, at=utc_now(), date_order=options.get("date_order"),
                tenant_column="tenant_id" in options.get("fields", {}),
            )
            for k, v in by_reason.items():
                counts[k] = counts.get(k, 0) + v
    return counts


def resolve_contexts(home: Home, tenants: list[str], run_id: str) -> dict[str, ChangeContext]:
    """Each tenant's change context for the resolve stage (decided ahead with `decisions_ahead`)."""
    return {t: pipeline_context(home, t, run_id) for t in tenants}


def resolve_stage(con, home: Home, tenant_id: str, run_id: str,
                  ahead: tuple[ChangeContext, Decision | None] | None = None) -> dict[str, int]:
    """Resolve staged rows into golden contacts and close each contact import's accounting.

    `ahead`: the tenant's context and the decision made with it beforehand (`decisions_ahead`)."""
    ctx, decision = ahead or (pipeline_context(home, tenant_id, run_id), None)
    totals = {"rows_in": 0, "accepted": 0, "merged": 0, "quarantined": 0}
    with transaction(con):
        placed = apply_decision(con, ctx, decision) if ahead else resolve_tenant(con, ctx)
        for import_id in pending_imports(con, tenant_id, "contact"):
            by_reason = quarantine_counts(con, tenant_id, import_id)
            counts = placed.get(import_id, {"accepted": 0, "merged": 0})
            quarantined = sum(by_reason.values())
            error_file = write_error_file(con, tenant_id, import_id,
                                          home.error_file(tenant_id, import_id))
            close_import(
                con, tenant_id=tenant_id, import_id=import_id, run_id=run_id,
                accepted=counts["accepted"], merged=counts["merged"], quarantined=quarantined,
                error_file=str(error_file) if error_file else None,
            )
            totals["accepted"] += counts["accepted"]
            totals["merged"] += counts["merged"]
            totals["quarantined"] += quarantined
            totals["rows_in"] += counts["accepted"] + counts["merged"] + quarantined
    return totals


def finish_run(con, home: Home, run_id: str, tenants: list[str], status: str = "success",
               message: str | None = None) -> None:
    """Close the run's audit.runs rows with the accounting and the audit chain head."""
    heads = {}
    for t in tenants:
        _, head = chain_head(con, t)
        heads[t] = head
        run(
            con,
            """
            UPDATE audit.runs AS r SET finished_at = $at, status = $s, message = $m,
                chain_head = $h,
                rows_in = coalesce(c.rows_in, 0), rows_accepted = coalesce(c.acc, 0),
                rows_merged = coalesce(c.mer, 0), rows_quarantined = coalesce(c.qua, 0),
                activities_in = coalesce(a.rows_in, 0), activities_accepted = coalesce(a.acc, 0),
                activities_merged = coalesce(a.mer, 0), activities_quarantined = coalesce(a.qua, 0)
            FROM (SELECT 1) AS one
            LEFT JOIN (SELECT sum(rows_in) AS rows_in, sum(rows_accepted) AS acc,
                              sum(rows_merged) AS mer, sum(rows_quarantined) AS qua
                       FROM raw.imports WHERE tenant_id = $t AND processed_run_id = $r
                         AND kind = 'contact') c ON true
            LEFT JOIN (SELECT sum(rows_in) AS rows_in, sum(rows_accepted) AS acc,
                              sum(rows_merged) AS mer, sum(rows_quarantined) AS qua
                       FROM raw.imports WHERE tenant_id = $t AND processed_run_id = $r
                         AND kind = 'activity') a ON true
            WHERE r.run_id = $r AND r.tenant_id = $t
            """,
            {"at": utc_now(), "s": status, "m": message, "h": head, "t": t, "r": run_id},
        )
    update_heads(home, heads)


def _already_staged(con, tenant_id: str, import_id: str) -> bool:
    """True when an earlier, interrupted run staged the import already (idempotent re-runs).
    Rows quarantined while the file was read (unparseable, or of erased people) do not count."""
    return bool(run(
        con,
        "SELECT 1 WHERE EXISTS (SELECT 1 FROM staging.contact_rows WHERE tenant_id = $t "
        "AND import_id = $i) OR EXISTS (SELECT 1 FROM quarantine.rows WHERE tenant_id = $t "
        "AND import_id = $i AND reason_code NOT IN ('unparseable_row', 'erased_subject'))",
        {"t": tenant_id, "i": import_id},
    ))


def _import_options(con, tenant_id: str, import_id: str) -> dict:
    """Options recorded with an import: its --region and the mapping's date order."""
    rows = run(con, "SELECT mapping FROM raw.imports WHERE tenant_id = $t AND import_id = $i",
               {"t": tenant_id, "i": import_id})
    if not rows or rows[0][0] is None:
        return {}
    return json.loads(rows[0][0])


def active_tenants(con, run_id: str, tenants: list[str]) -> list[str]:
    """The run's tenants that have not failed in an earlier stage of this run."""
    failed = {
        r[0] for r in run(con, "SELECT tenant_id FROM audit.runs WHERE run_id = $r AND status = 'failed'",
                          {"r": run_id})
    }
    return [t for t in tenants if t not in failed]


def mark_failed(con, run_id: str, tenant_id: str, message: str) -> None:
    """Record a tenant's failure; its later stages are skipped, other tenants go on."""
    run(
        con,
        "UPDATE audit.runs SET status = 'failed', finished_at = $at, message = $m "
        "WHERE run_id = $r AND tenant_id = $t",
        {"at": utc_now(), "m": one_line(message), "r": run_id, "t": tenant_id},
    )


def mark_run_failed(con, run_id: str, tenants: list[str], as_of: date, message: str) -> None:
    """Record a run that failed as failed for every tenant it covered, whatever step failed
    (a stage, a check, publishing after the commit): a tenant whose data was not published
    did not get this run. A tenant already recorded as failed keeps its own cause."""
    start_run(con, run_id, tenants, as_of)  # a run that failed before it recorded its start
    run(
        con,
        "UPDATE audit.runs SET status = 'failed', finished_at = coalesce(finished_at, $at), "
        "message = $m WHERE run_id = $r AND status <> 'failed'",
        {"at": utc_now(), "m": one_line(message), "r": run_id},
    )


def landing_changes_stage(con, home: Home, tenant_id: str) -> dict[str, int]:
    """Apply the changes files dropped in `landing/<T>/changes/` (after resolving, so a change
    can name a contact the run just created), each as `crm import changes` would; an applied
    file is removed (its lines are kept in the audit trail and the quarantine), a refused one
    renamed `*.refused`. Returns lines applied and quarantined."""
    totals = {"changes_applied": 0, "changes_quarantined": 0}
    for path in sorted((home.landing_dir / tenant_id / "changes").glob("*.jsonl")):
        try:
            result = import_changes_file(con, home, tenant_id, path)
        except RefusedFile:
            path.rename(path.with_name(path.name + ".refused"))
            continue
        quarantined = sum(result["quarantined"].values())
        if not result["already"]:
            totals["changes_applied"] += result["rows_in"] - quarantined
            totals["changes_quarantined"] += quarantined
        path.unlink()
    return totals


def one_line(message: str, limit: int = 500) -> str:
    """An error message as one line (its lines joined, spaces collapsed), shortened:
    audit.runs.message is read in a table; a traceback belongs in a log."""
    line = " ".join(str(message).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def accounts_stage(con, home: Home, tenant_id: str, run_id: str) -> dict[str, int]:
    """Accounts found from the contacts' business e-mail domains, and each contact linked to
    its account (or by an unambiguous company name), in one transaction with its audit rows."""
    with transaction(con):
        return link_accounts(con, pipeline_context(home, tenant_id, run_id))


def account_value_stage(con, home: Home, tenant_id: str, run_id: str, as_of: date) -> dict:
    """Accounts valued from this run's lifetime value, their tiers (audited) and the revenue
    forecast by tier, in one transaction."""
    with transaction(con):
        result = value_accounts(con, pipeline_context(home, tenant_id, run_id), as_of)
        result["marts.revenue_forecast_by_tier"] = write_tier_forecast(
            con, tenant_id, as_of, run_id, base_currency(con, tenant_id))
        return result


def activities_stage(con, home: Home, tenant_id: str, run_id: str, as_of: date) -> dict:
    """Link, validate and load every pending activity import of the tenant (and re-check the
    stored ones: a row moved to quarantine rewrites its import's error file too)."""
    tenant = get_tenant(con, tenant_id)
    ctx = pipeline_context(home, tenant_id, run_id)
    with transaction(con):
        result = process_activities(
            con, ctx, as_of=as_of, base_currency=tenant.base_currency,
            home_region=tenant.home_country, roles=Roles.for_tenant(home, tenant_id),
        )
        imports = dict.fromkeys(_processed_imports(con, tenant_id, run_id, "activity"))
        if result["requarantined"]:
            imports.update(dict.fromkeys(i for (i,) in run(
                con, "SELECT DISTINCT import_id FROM quarantine.rows WHERE tenant_id = $t "
                     "AND run_id = $r AND kind = 'activity' ORDER BY 1",
                {"t": tenant_id, "r": run_id})))
        for import_id in imports:
            path = write_error_file(con, tenant_id, import_id, home.error_file(tenant_id, import_id))
            if path:
                run(con, "UPDATE raw.imports SET error_file = $p WHERE tenant_id = $t AND import_id = $i",
                    {"p": str(path), "t": tenant_id, "i": import_id})
    return result


def retention_stage(con, home: Home, tenant_id: str, run_id: str, as_of: date) -> dict[str, int]:
    """Data minimization: the values of imports processed more than the tenant's retention
    before the run's as-of date are removed (raw rows, error files, quarantined values), each
    import audited (`crm_pipeline.contacts.retention`); counts for the run's metadata."""
    days = RetentionDays.from_settings(tenant_settings(con, tenant_id)["retention"])
    with transaction(con):
        return apply_retention(con, pipeline_context(home, tenant_id, run_id), home, as_of, days)


def marts_stage(con, tenant_id: str, as_of: date, run_id: str | None = None) -> dict:
    """Engagement, scores (the learned ones from crm_pipeline.scoring), lifecycle, segments (with
    history), retention risk and hygiene. `run_id` labels the run's rows of the model tables."""
    with transaction(con):
        return refresh_marts(con, tenant_id, as_of, partial(score_tenant, run_id=run_id))


def marts_and_value_stage(con, tenant_id: str, as_of: date, run_id: str) -> dict:
    """The marts refresh, then lifetime value, the forecast and its back-test from its segments.

    What the value tables need besides this run's segments is computed meanwhile on a cursor of
    its own, in one read transaction begun before the refresh: the customer summaries and the
    as-of fit first, then the back-test's refits, which go on while lifetime value and the
    forecast are computed from the refreshed segments and written. The worker sees the warehouse
    as it was before the refresh; the back-test's segments are those of dates before the as-of
    date, which the refresh does not change. Each part alone leaves a core idle much of the
    time."""
    cursor = con.cursor()
    prepared_future: Future = Future()

    def work():
        try:
            prepared = prepare_value(cursor, tenant_id, as_of, run_id)
            prepared_future.set_result(prepared)
            return backtest_recomputed(cursor, tenant_id, as_of, run_id, prepared)
        except BaseException as exc:
            if not prepared_future.done():
                prepared_future.set_exception(exc)
            raise
        finally:
            run(cursor, "ROLLBACK")  # it only read

    try:
        run(cursor, "BEGIN TRANSACTION")
        run(cursor, "SELECT count(*) FROM core.tenants")  # the snapshot starts at the first read
        with ThreadPoolExecutor(1, thread_name_prefix="value-prepare") as pool:
            recomputed = pool.submit(work)
            marts = marts_stage(con, tenant_id, as_of, run_id)  # on failure, the pool waits
            value = write_value(con, tenant_id, as_of, run_id, prepared_future.result(),
                                recomputed.result)
    finally:
        cursor.close()
    return {"marts": marts, "value": value}


def work_queue_stage(con, home: Home, tenant_id: str, as_of: date) -> dict:
    """The work queues (lead nurture, onboarding, retention), their history, steps and
    performance, from the marts this run refreshed (`crm_pipeline.workflows`). The tenant's roles
    registry says whose activities count as which step's evidence."""
    roles = Roles.for_tenant(home, tenant_id)
    agent_roles = {a.name: a.role for a in roles.agents.values()}
    with transaction(con):
        return refresh_work_queues(con, tenant_id, as_of, agent_roles, PIPELINE_ACTOR)


def value_stage(con, tenant_id: str, as_of: date, run_id: str) -> dict:
    """Lifetime value, the revenue forecast and its back-test, in one pass (`value`)."""
    return refresh_value(con, tenant_id, as_of, run_id)


def report_stage(con, home: Home, tenant_id: str) -> Path:
    """The tenant's HTML report (`published/reports/<T>.html`), from the tables the run just
    published, replaced atomically."""
    home.reports_dir.mkdir(parents=True, exist_ok=True)
    return write_report(con, tenant_id, home.report_file(tenant_id))


def report_from_extract(home: Home, tenant_id: str, as_of: date | None = None,
                        out: Path | None = None) -> Path:
    """The tenant's report made from its published snapshot (`crm report`, and after an
    erasure), written to `out` (default: `published/reports/<T>.html`)."""
    tenant_id = checked_tenant_id(tenant_id)
    path = home.extract(tenant_id)
    if not path.is_file():
        raise BadArgument(f"tenant {tenant_id!r} has no published snapshot: run "
                          f"`crm run --tenant {tenant_id}` first")
    if out is None:
        home.reports_dir.mkdir(parents=True, exist_ok=True)
    con = open_read_only(path, home)
    try:
        return write_report(con, tenant_id, out or home.report_file(tenant_id), as_of)
    finally:
        con.close()


def _processed_imports(con, tenant_id: str, run_id: str, kind: str) -> list[str]:
    return [r[0] for r in run(
        con,
        "SELECT import_id FROM raw.imports WHERE tenant_id = $t AND processed_run_id = $r AND kind = $k",
        {"t": tenant_id, "r": run_id, "k": kind},
    )]
