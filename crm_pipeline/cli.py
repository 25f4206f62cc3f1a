"""The `crm` command: a thin shell over the library.

Exit status: 0 done; 2 refused (bad arguments, or a file that cannot be imported: one line on
stderr naming the file and the problem); 1 an internal error.
"""

from __future__ import annotations

import os

# The LTV optimizer makes many tiny BLAS calls: threads only add contention on 2 cores.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import importlib
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from .errors import BadArgument, CrmError
from .home import Home

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Atlas CRM warehouse: import, resolve, segment, value and audit CRM data.")
import_app = typer.Typer(no_args_is_help=True, help="Import contact exports and activity logs.")
contact_app = typer.Typer(no_args_is_help=True, help="Look at one contact.")
gdpr_app = typer.Typer(no_args_is_help=True, help="Right of access and right to erasure.")
audit_app = typer.Typer(no_args_is_help=True, help="The audit trail.")
app.add_typer(import_app, name="import")
app.add_typer(contact_app, name="contact")
app.add_typer(gdpr_app, name="gdpr")
app.add_typer(audit_app, name="audit")

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)
STATE: dict[str, Home] = {}

HomeOpt = Annotated[str | None, typer.Option("--home", help="CRM home (default $CRM_HOME or ./crm_home).")]
TenantOpt = Annotated[str, typer.Option("--tenant", help="Tenant id.")]


@app.callback()
def _root(home: HomeOpt = None) -> None:
    STATE["home"] = Home.resolve(home)


def _home() -> Home:
    return STATE.get("home") or Home.resolve()


def _launch():
    """The in-process Dagster launcher (kept out of crm_pipeline's imports: the library stays
    free of Dagster; only commands that run the pipeline load it)."""
    return importlib.import_module("dagster_defs.launch")


def _progress(message: str) -> None:
    err.print(f"[dim]… {message}[/dim]")


def _run(home: Home, tenant: str | None, as_of: str | None) -> None:
    from .commands import working_warehouse
    from .progress import set_reporter

    with working_warehouse(home):
        pass  # open (and create) the warehouse first: a damaged file fails here, at once

    set_reporter(_progress)
    try:
        outcome = _launch().run_pipeline(home, tenant, as_of)
    finally:
        set_reporter(None)
    if not outcome.success:
        raise RuntimeError("run " + outcome.run_id + " failed: " + "; ".join(outcome.failures))


@app.command("run")
def run_cmd(
    tenant: Annotated[str | None, typer.Option("--tenant", help="Only this tenant.")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="As-of date YYYY-MM-DD (default today).")] = None,
    home: HomeOpt = None,
) -> None:
    """Materialize every asset (all tenants unless one is named)."""
    from . import commands

    h = Home.resolve(home) if home else _home()
    as_of = commands.checked_as_of(as_of)
    with commands.locked(h):  # before opening the warehouse: a second writer waits here
        tenant = commands.checked_existing_tenant(h, tenant) if tenant else None
        _run(h, tenant, as_of)
        commands.print_run_summary(out, h, tenant)  # still locked: the next writer waits


@import_app.command("contacts")
def import_contacts(
    file: Annotated[Path, typer.Argument(help="Contact CSV exported from a CRM.")],
    tenant: TenantOpt = "",
    mapping: Annotated[Path | None, typer.Option("--mapping", help="MAP.yaml overriding header mapping.")] = None,
    region: Annotated[str | None, typer.Option("--region", help="Default phone region (ISO country).")] = None,
    no_run: Annotated[bool, typer.Option("--no-run", help="Stage only; run later.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would happen; change nothing.")] = False,
    as_of: Annotated[str | None, typer.Option("--as-of", help="As-of date of the run.")] = None,
    home: HomeOpt = None,
) -> None:
    """Import a contact CSV, then run the pipeline for that tenant."""
    from . import commands

    h = Home.resolve(home) if home else _home()
    if dry_run:
        commands.dry_run_contacts(out, h, file, tenant, mapping, region)
        return
    as_of = commands.checked_as_of(as_of)
    with commands.locked(h):
        import_id = commands.stage_contacts(h, file, tenant, mapping, region)
        if not no_run:
            _run(h, tenant.strip(), as_of)
        commands.print_import_report(out, h, tenant.strip(), import_id, ran=not no_run)


@import_app.command("activities")
def import_activities(
    file: Annotated[Path, typer.Argument(help="Activity log (JSON lines).")],
    tenant: TenantOpt = "",
    no_run: Annotated[bool, typer.Option("--no-run", help="Stage only; run later.")] = False,
    as_of: Annotated[str | None, typer.Option("--as-of", help="As-of date of the run.")] = None,
    home: HomeOpt = None,
) -> None:
    """Import an activity log, then run the pipeline for that tenant."""
    from . import commands

    h = Home.resolve(home) if home else _home()
    as_of = commands.checked_as_of(as_of)
    with commands.locked(h):
        import_id = commands.stage_activities(h, file, tenant)
        if not no_run:
            _run(h, tenant.strip(), as_of)
        commands.print_import_report(out, h, tenant.strip(), import_id, ran=not no_run)


@app.command("sql")
def sql_cmd(
    query: Annotated[str, typer.Argument(help="A read-only SQL query.")],
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    home: HomeOpt = None,
) -> None:
    """Run a read-only query on the published snapshot."""
    from .readonly import query_snapshot
    from .render import write_rows

    if fmt not in ("table", "csv", "json"):
        raise BadArgument(f"--format {fmt!r} is not one of table, csv, json")
    h = Home.resolve(home) if home else _home()
    columns, rows = query_snapshot(h, query)
    write_rows(out, columns, rows, fmt)


@contact_app.command("show")
def contact_show(
    contact_id: Annotated[str, typer.Argument(metavar="ID", help="Contact id (an alias works too).")],
    tenant: TenantOpt = "",
    fmt: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
    home: HomeOpt = None,
) -> None:
    """One contact's profile and activity timeline, newest first."""
    from .profile import contact_profile
    from .render import print_profile

    h = Home.resolve(home) if home else _home()
    _show(contact_profile(h, tenant, contact_id), fmt, print_profile)


@contact_app.command("explain")
def contact_explain(
    contact_id: Annotated[str, typer.Argument(metavar="ID", help="Contact id (an alias works too).")],
    tenant: TenantOpt = "",
    fmt: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
    home: HomeOpt = None,
) -> None:
    """Why each source record joined the contact, in plain words."""
    from .resolve.explain import explain_contact

    from .render import print_explanation

    h = Home.resolve(home) if home else _home()
    _show(explain_contact(h, tenant, contact_id), fmt, print_explanation)


def _show(doc: dict, fmt: str, printer) -> None:
    """A document as JSON on stdout (`--format json`) or printed for people."""
    if fmt == "json":
        sys.stdout.write(json.dumps(doc, indent=2, default=str, ensure_ascii=False) + "\n")
    else:
        printer(out, doc)


@app.command("unmerge")
def unmerge_cmd(
    tenant: TenantOpt = "",
    contact: Annotated[str, typer.Option("--contact", help="The golden contact.")] = "",
    source: Annotated[str, typer.Option("--source", help="SOURCE_KEY (import_id:row_number).")] = "",
    actor: Annotated[str, typer.Option("--actor", help="Who is unmerging.")] = "cli",
    home: HomeOpt = None,
) -> None:
    """Split a source record out of a golden contact, for good."""
    from . import commands

    h = Home.resolve(home) if home else _home()
    with commands.locked(h):
        new_id = commands.unmerge(h, tenant, contact, source, actor)
    out.print(f"source {source} now forms contact {new_id}; it will not be merged into {contact} again")


@gdpr_app.command("export")
def gdpr_export(
    tenant: TenantOpt = "",
    contact: Annotated[str, typer.Option("--contact", help="Contact id (an alias works too).")] = "",
    out_file: Annotated[Path | None, typer.Option("--out", help="Write the JSON here.")] = None,
    home: HomeOpt = None,
) -> None:
    """The person's complete data as JSON."""
    from .gdpr import export_subject

    h = Home.resolve(home) if home else _home()
    document = json.dumps(export_subject(h, tenant, contact), indent=2, default=str,
                          ensure_ascii=False)
    if out_file:
        out_file.write_text(document + "\n", encoding="utf-8")
        out.print(f"wrote {out_file}")
    else:
        sys.stdout.write(document + "\n")


@gdpr_app.command("erase")
def gdpr_erase(
    tenant: TenantOpt = "",
    contact: Annotated[str, typer.Option("--contact", help="Contact id (an alias works too).")] = "",
    actor: Annotated[str, typer.Option("--actor", help="Who requested the erasure.")] = "",
    home: HomeOpt = None,
) -> None:
    """Erase the person everywhere, and suppress them from later imports."""
    from . import commands

    h = Home.resolve(home) if home else _home()
    with commands.locked(h):
        summary = commands.erase(h, tenant, contact, actor)
    out.print(f"erased contact {summary['contact_id']}: {summary['rows_removed']} rows removed, "
              f"{summary['audit_rows_redacted']} audit rows redacted; later imports of this person "
              "are quarantined as erased_subject")


@audit_app.command("verify")
def audit_verify(
    tenant: Annotated[str | None, typer.Option("--tenant", help="Only this tenant's chain.")] = None,
    home: HomeOpt = None,
) -> None:
    """Check the audit trail's hash chain; exit 1 if broken."""
    from . import commands

    h = Home.resolve(home) if home else _home()
    if not h.warehouse.exists():
        commands.verify_audit(h, tenant)  # refuses: no warehouse yet
    with commands.locked(h):  # a run in progress holds the file: wait for it, then verify
        problems, checked, note = commands.verify_audit(h, tenant)
    if note:
        err.print(f"note: {note}", markup=False, soft_wrap=True)
    if problems:
        for p in problems:
            where = f"change {p.change_id}" if p.change_id is not None else "end of chain"
            owner = f"tenant {p.tenant_id}" if p.tenant_id is not None else "no tenant"
            err.print(f"audit chain of {owner} broken at {where}: {p.reason}", markup=False,
                      soft_wrap=True)
        raise typer.Exit(1)
    out.print(f"audit chain verified: {checked} changes")


@app.command("demo")
def demo_cmd(home: HomeOpt = None) -> None:
    """Build a fresh home from the sample in data/ and run everything; print a summary."""
    from . import commands

    h = Home.resolve(home) if home else _home()
    with commands.locked(h):
        as_of = commands.demo_stage(out, h)
        _run(h, None, as_of)
        commands.print_demo_summary(out, h)


def main(argv: list[str] | None = None) -> None:
    """Entry point: map errors to exit statuses (2 refused, 1 internal)."""
    if not (sys.argv[1:] if argv is None else argv):
        argv = ["--help"]  # a bare `crm` shows what it can do
    try:
        status = app(args=argv, standalone_mode=False)
        if isinstance(status, int) and status:  # click returns typer.Exit's code in this mode
            sys.exit(status)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(130)
    except typer.TyperException as exc:  # usage errors: bad or missing options and arguments
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        err.print(f"crm: {message}", markup=False)
        sys.exit(getattr(exc, "exit_code", 2) or 2)
    except CrmError as exc:
        err.print(f"crm: {exc}", markup=False, soft_wrap=True)
        sys.exit(2)
    except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence
        err.print(f"crm: internal error: {exc}", markup=False, soft_wrap=True)
        sys.exit(1)
    sys.exit(0)


if __name__ == "__main__":
    main()
