"""Asset checks beside the assets they guard: one query each, offending count as metadata."""

from __future__ import annotations

import warnings

import dagster as dg

from crm_pipeline.contacts.validation import (
    Activity,
    Contact,
    StagedContact,
    contacts_written_since,
    model_columns,
    validation_failures,
)
from crm_pipeline.trust.audit import chain_head, run_heads, verify_chain
from crm_pipeline.trust.heads import audit_heads, record_verified_heads, verified_heads
from crm_pipeline.trust.invariants import orphan_rows, processed_imports, unbalanced_imports
from crm_pipeline.warehouse import frame
from crm_pipeline.workflows.queue import queue_problems

from .assets import audit_runs, core_activities, core_contacts, staging_contact_rows
from .partitions import tenant_partitions
from .resources import CrmSettings, Warehouse, warehouse


def _tenant_rows(con, table: str, tenant_id: str, model, where: str = "true",
                 params: dict | None = None):
    columns = ", ".join(f'"{c}"' for c in model_columns(model))
    return frame(con, f"SELECT {columns} FROM {table} WHERE tenant_id = $t AND {where}",
                 {"t": tenant_id, **(params or {})})


def _check(asset):
    """A blocking check of one tenant partition of the asset (partitioned checks are a preview
    feature of Dagster 1.13: its warning says so once per definition, not to our users)."""

    def decorate(fn):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", dg.PreviewWarning)
            return dg.asset_check(asset=asset, blocking=True, partitions_def=tenant_partitions)(fn)

    return decorate


def _pandera_result(failures) -> dg.AssetCheckResult:
    """Counts per column and check only: failing values can be personal data, and Dagster's run
    storage is no place for them (erasure would have to chase them there)."""
    summary = failures.group_by("column", "check").len().sort("len", descending=True).head(20)
    return dg.AssetCheckResult(
        passed=failures.height == 0,
        metadata={
            "failures": failures.height,
            "by_column": dg.MetadataValue.md(_markdown(summary)) if failures.height else "none",
        },
    )


def _markdown(rows) -> str:
    header = "| " + " | ".join(rows.columns) + " |\n|" + "---|" * len(rows.columns) + "\n"
    body = "\n".join("| " + " | ".join(str(v) for v in r) + " |" for r in rows.iter_rows())
    return header + body


@_check(staging_contact_rows)
def staged_contacts_valid(context, crm: CrmSettings, duckdb: Warehouse) -> dg.AssetCheckResult:
    """Normalized rows awaiting resolution satisfy the staged-contact model."""
    t = context.partition_key
    with warehouse(duckdb, t) as con:
        rows = _tenant_rows(con, "staging.contact_rows", t, StagedContact, "status = 'pending'")
    return _pandera_result(validation_failures(StagedContact, rows))


@_check(core_contacts)
def contacts_valid(context, crm: CrmSettings, duckdb: Warehouse) -> dg.AssetCheckResult:
    """The golden contacts written since the last run's checks (by this run, or by a command
    such as unmerge or erasure) satisfy the contact model (E.164 phones, lower-case emails,
    known statuses); the primary key keeps ids unique. Contacts nothing touched were checked
    when they were written: a run that changes nothing re-reads nothing."""
    t = context.partition_key
    with warehouse(duckdb, t) as con:
        rows = _written_since(con, crm, t)
    return _pandera_result(validation_failures(Contact, rows))


def _written_since(con, crm: CrmSettings, tenant_id: str):
    return contacts_written_since(con, [tenant_id], verified_heads(crm.crm_home))


@_check(core_contacts)
def contact_rows_conserved(context, crm: CrmSettings, duckdb: Warehouse) -> dg.AssetCheckResult:
    """For every contact import of this run: rows in = accepted + merged + quarantined; and no
    row points at a missing contact (looked for when contacts or imports changed since the last
    run's checks: nothing else can make one)."""
    t = context.partition_key
    with warehouse(duckdb, t) as con:
        run_id = context.run.run_id
        bad = unbalanced_imports(con, run_id, "contact")
        changed = processed_imports(con, run_id) or _written_since(con, crm, t).height
        orphans = orphan_rows(con).height if changed else 0
    return dg.AssetCheckResult(
        passed=bad.height == 0 and orphans == 0,
        metadata={"unbalanced_imports": bad.height, "orphan_rows": orphans},
    )


@_check(core_activities)
def activity_rows_conserved(context, crm: CrmSettings, duckdb: Warehouse) -> dg.AssetCheckResult:
    """For every activity import of this run: lines in = accepted + merged + quarantined, the
    activities it loaded satisfy the activity model and point at existing contacts (earlier runs checked theirs: a run
    with no new lines does not re-read millions of activities)."""
    t = context.partition_key
    with warehouse(duckdb, t) as con:
        run_id = context.run.run_id
        bad = unbalanced_imports(con, run_id, "activity")
        loaded = ("import_id IN (SELECT import_id FROM raw.imports WHERE kind = 'activity' "
                  "AND processed_run_id = $run)")
        failures = validation_failures(
            Activity, _tenant_rows(con, "core.activities", t, Activity, loaded, {"run": run_id})
        )
        orphans = orphan_rows(con).height if processed_imports(con, run_id, "activity") else 0
    return dg.AssetCheckResult(
        passed=bad.height == 0 and failures.height == 0 and orphans == 0,
        metadata={"unbalanced_imports": bad.height, "model_failures": failures.height,
                  "orphan_rows": orphans},
    )


@_check(audit_runs)
def audit_chain_verifies(context, crm: CrmSettings, duckdb: Warehouse) -> dg.AssetCheckResult:
    """The audit trail's hash chain re-computes, up to the heads recorded outside the table.

    Rows up to where the chain last verified are not re-hashed (only their count and the
    verified row are re-checked): `crm audit verify` re-computes the whole chain."""
    home = crm.crm_home
    t = context.partition_key
    # Held to two heads kept outside the table: the head file's (this run has just rewritten
    # it) and the one the tenant's previous run recorded in audit.runs, so rows cut off before
    # this run are found even when the head file was lost or rewritten meanwhile.
    held = {k: v for k, v in audit_heads(home).items() if k == t}
    with warehouse(duckdb, t) as con:
        previous = run_heads(con, context.op_execution_context.run_id).get(t)
        heads = {t: tuple(dict.fromkeys(h for h in (held.get(t), previous) if h))}
        # The rows up to where the chain last verified are only re-counted when that is where
        # the previous run ended (the usual case); otherwise the chain is verified whole.
        verified = {k: h for k, h in verified_heads(home).items()
                    if k == t and previous in (None, h)}
        problems = verify_chain(con, home.key(), t, expected_heads=heads,
                                verified_heads=verified)
        current = chain_head(con, t)[1]
    if not problems:
        record_verified_heads(home, {t: current})
    return dg.AssetCheckResult(
        passed=not problems,
        metadata={"broken_chains": len(problems),
                  "first_problem": f"{problems[0].tenant_id} #{problems[0].change_id}: "
                                   f"{problems[0].reason}" if problems else "none"},
    )


@_check(dg.AssetKey(["marts", "work_queue"]))
def work_queue_sound(context, crm: CrmSettings, duckdb: Warehouse) -> dg.AssetCheckResult:
    """One open enrollment per workflow and contact, the queue equal to the open enrollments,
    every exit with its reason."""
    with warehouse(duckdb, context.partition_key) as con:
        problems = queue_problems(con, context.partition_key)
    return dg.AssetCheckResult(passed=not any(problems.values()), metadata=problems)


ALL_CHECKS = [staged_contacts_valid, contacts_valid, contact_rows_conserved,
              activity_rows_conserved, audit_chain_verifies, work_queue_sound]
