"""The `crm` command: a thin shell over the library.

Exit status: 0 done; 2 refused (bad arguments, or a file that cannot be imported: one line on
stderr naming the file and the problem); 1 an internal error (one line; the details go to a log
file under <home>/logs whose path is printed). Warnings are one line each.
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
from typer.core import TyperCommand, TyperGroup

from crm_pipeline.errors import BadArgument, CrmError, RunFailed
from crm_pipeline.home import Home


def _no_type(ctx=None) -> None:
    return None


class _FlagsTakeNoValue:
    """typer's rich help prints a value type after every parameter, flags and --help included
    (`--help <bool>`, `FILE <path>`): a flag takes no value and an argument is named by its
    metavar, so they show none. Options that take a value name it with their metavar
    (`--tenant TENANT`), never typer's `<str>`."""

    def get_params(self, ctx):
        params = super().get_params(ctx)
        for param in params:
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""
            elif param.param_type_name == "argument":
                param.display_type_rich = _no_type
        return params


class _Command(_FlagsTakeNoValue, TyperCommand):
    pass


class _Group(_FlagsTakeNoValue, TyperGroup):
    pass


class _App(typer.Typer):
    """A typer app whose groups and commands show help as described in `_FlagsTakeNoValue`."""

    def __init__(self, **options):
        options.setdefault("no_args_is_help", True)
        super().__init__(cls=_Group, rich_markup_mode="rich", **options)

    def command(self, *args, **options):
        options.setdefault("cls", _Command)
        return super().command(*args, **options)


app = _App(add_completion=False, pretty_exceptions_enable=False,
           help="""Atlas CRM warehouse: import, resolve, segment, value and audit CRM data.

Every command works on one CRM home: [bold]--home PATH[/bold], else $CRM_HOME, else ./crm_home.
Exit status: 0 done, 2 refused (one line saying why), 1 internal error (one line; details in
a log file under the home).

[bold]Examples[/bold]

$ crm demo
$ crm import contacts hubspot.csv --tenant acme_us
$ crm run --tenant acme_us --as-of 2026-11-15
$ crm sql "select segment, count(*) from marts.contact_segments group by 1"
$ crm contact show --tenant acme_us c_0123456789abcdef
""")
import_app = _App(help="Import contact exports and activity logs.")
contact_app = _App(help="Look at one contact; create, edit, tag and delete contacts by hand.")
gdpr_app = _App(help="Right of access and right to erasure.")
audit_app = _App(help="The audit trail.")
account_app = _App(help="Accounts: the companies contacts work for.")
role_app = _App(help="Agents' roles: what each may read and write.")
segment_app = _App(help="Segments: lists of contacts, for other tools.")
tenant_app = _App(help="A tenant's settings: currency, thresholds, score weights.")
merge_app = _App(help="The merge review queue: source rows held back from a contact.")
app.add_typer(import_app, name="import")
app.add_typer(role_app, name="role")
app.add_typer(contact_app, name="contact")
app.add_typer(gdpr_app, name="gdpr")
app.add_typer(audit_app, name="audit")
app.add_typer(account_app, name="account")
app.add_typer(segment_app, name="segment")
app.add_typer(tenant_app, name="tenant")
app.add_typer(merge_app, name="merge")

# Values printed come from files and users: never read as markup or emoji codes (see render.py).
out = Console(highlight=False, markup=False, emoji=False, soft_wrap=True)  # paths stay whole
err = Console(stderr=True, highlight=False, markup=False, emoji=False, soft_wrap=True)
STATE: dict = {}

HomeOpt = Annotated[str | None, typer.Option(
    "--home", metavar="PATH", help="CRM home (default $CRM_HOME or ./crm_home).")]
TenantOpt = Annotated[str, typer.Option("--tenant", metavar="TENANT", help="Tenant id.")]
AsOfOpt = Annotated[str | None, typer.Option(
    "--as-of", metavar="YYYY-MM-DD",
    help="As-of date of the run (default today; from 1970-01-01 to ten years ahead).")]
ContactOpt = Annotated[str, typer.Option("--contact", metavar="ID",
                                         help="Contact id (an alias works too).")]
IdArg = Annotated[str, typer.Argument(metavar="ID", help="Contact id (an alias works too).")]
TextFormatOpt = Annotated[str, typer.Option("--format", metavar="text|json", help="text or json.")]


@app.callback()
def _root(home: HomeOpt = None) -> None:
    STATE["home"] = Home.resolve(home)
    _home()


def _home(home: str | None = None) -> Home:
    """The home of this command (--home, else the root's --home, else $CRM_HOME or ./crm_home),
    remembered so that errors name it and internal errors log into it."""
    if home or "home" not in STATE:
        STATE["home"] = Home.resolve(home)
    h = STATE["home"]
    if h.root.exists() and not h.root.is_dir():
        raise BadArgument(f"CRM home {h.root} is a file, not a folder: give --home a folder")
    return h


def _user_paths(*paths: Path | None) -> None:
    """Paths the user named: an OS error on one of them is refused (exit 2), not internal."""
    STATE.setdefault("paths", []).extend(Path(p) for p in paths if p is not None)


def _launch():
    """The in-process Dagster launcher (kept out of crm_pipeline's imports: the library stays
    free of Dagster; only commands that run the pipeline load it)."""
    return importlib.import_module("dagster_defs.launch")


def _progress(message: str) -> None:
    from crm_pipeline.cli.render import styled

    err.print(styled((f"… {message}", "dim")))


def _run(home: Home, tenant: str | None, as_of: str | None, report_preview: bool = True) -> None:
    """Run the pipeline for the tenant (whose lock the caller holds), or for every tenant (each
    run takes its tenant's lock). An import's run skips the report's PNG thumbnail (a browser
    start: seconds of a small import); `crm run` and Dagster's own runs render it."""
    from crm_pipeline.cli.commands import working_warehouse
    from crm_pipeline.progress import set_reporter

    if tenant:
        with working_warehouse(home, tenant):
            pass  # open (and create) the shard first: a damaged file fails here, at once

    set_reporter(_progress)
    try:
        outcome = _launch().run_pipeline(home, tenant, as_of, lock=not tenant,
                                         report_preview=report_preview)
    finally:
        set_reporter(None)
    if not outcome.success:
        raise RunFailed("run " + outcome.run_id + " failed: " + "; ".join(outcome.failures),
                        outcome.details)


@app.command("run")
def run_cmd(
    tenant: Annotated[str | None, typer.Option("--tenant", metavar="TENANT",
                                               help="Only this tenant.")] = None,
    as_of: AsOfOpt = None,
    home: HomeOpt = None,
) -> None:
    """Materialize every asset (all tenants unless one is named).

    Prints one summary per tenant: status and row accounting.

    [bold]Examples[/bold]

    $ crm run
    $ crm run --tenant acme_us --as-of 2026-11-15
    """
    from crm_pipeline.cli import commands

    h = _home(home)
    as_of = commands.checked_as_of(as_of)
    if not tenant:  # every tenant: each tenant's run takes its own lock
        with commands.locked(h):
            pass  # a home from before shards is migrated first
        _run(h, None, as_of)
        commands.print_run_summary(out, h, None)
        return
    with commands.locked(h, tenant):  # before opening the shard: a second writer waits here
        tenant = commands.checked_existing_tenant(h, tenant)
        _run(h, tenant, as_of)
        commands.print_run_summary(out, h, tenant)  # still locked: the next writer waits


@import_app.command("contacts")
def import_contacts(
    file: Annotated[Path, typer.Argument(
        metavar="FILE", help="Contact CSV or Excel workbook (.xlsx, .xls) exported from a CRM.")],
    tenant: TenantOpt,
    mapping: Annotated[Path | None, typer.Option(
        "--mapping", metavar="MAP.yaml",
        help="Header mapping overriding the recognised headers.")] = None,
    sheet: Annotated[str | None, typer.Option(
        "--sheet", metavar="NAME", help="The workbook's sheet to read (default: the first).")
    ] = None,
    region: Annotated[str | None, typer.Option(
        "--region", metavar="CC", help="Default phone region (two-letter country code).")] = None,
    drop_extra: Annotated[bool, typer.Option(
        "--drop-extra", help="Keep no unmapped column (data minimization).")] = False,
    no_run: Annotated[bool, typer.Option("--no-run", help="Stage only; run later.")] = False,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Show what would happen; change nothing.")] = False,
    as_of: AsOfOpt = None,
    home: HomeOpt = None,
) -> None:
    """Import a contact CSV or Excel workbook, then run the pipeline for that tenant.

    Prints rows read, accepted, merged and quarantined by reason, and the error file listing
    the quarantined rows.

    [bold]Examples[/bold]

    $ crm import contacts hubspot.csv --tenant acme_us
    $ crm import contacts kunden.csv --tenant deutsch_de --mapping map.yaml --region DE
    $ crm import contacts export.csv --tenant acme_us --dry-run
    $ crm import contacts hubspot-export.xlsx --tenant acme_us --sheet Contacts
    $ crm import contacts export.csv --tenant acme_us --drop-extra
    """
    from crm_pipeline.cli import commands

    h = _home(home)
    _user_paths(file, mapping)
    if dry_run:
        commands.dry_run_contacts(out, h, file, tenant, mapping, region, sheet)
        return
    as_of = commands.checked_as_of(as_of)
    with commands.locked(h, tenant):
        import_id = commands.stage_contacts(h, file, tenant, mapping, region, sheet, drop_extra)
        if not no_run:
            _run(h, tenant.strip(), as_of, report_preview=False)
        commands.print_import_report(out, h, tenant.strip(), import_id, ran=not no_run)


@import_app.command("activities")
def import_activities(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="Activity log (JSON lines).")],
    tenant: TenantOpt,
    no_run: Annotated[bool, typer.Option("--no-run", help="Stage only; run later.")] = False,
    check: Annotated[bool, typer.Option(
        "--check", help="Only check the lines against the format (docs/activities.md); "
        "import nothing. Exit 2 if a line is bad.")] = False,
    as_of: AsOfOpt = None,
    home: HomeOpt = None,
) -> None:
    """Import an activity log (JSON lines), then run the pipeline for that tenant.

    [bold]Examples[/bold]

    $ crm import activities events.jsonl --tenant acme_us
    $ crm import activities events.jsonl --tenant acme_us --no-run
    $ crm import activities events.jsonl --tenant acme_us --check
    """
    from crm_pipeline.cli import commands

    if check:
        _user_paths(file)
        raise typer.Exit(commands.check_activities(out, file, tenant))
    h = _home(home)
    _user_paths(file)
    as_of = commands.checked_as_of(as_of)
    with commands.locked(h, tenant):
        import_id = commands.stage_activities(h, file, tenant)
        if not no_run:
            _run(h, tenant.strip(), as_of, report_preview=False)
        commands.print_import_report(out, h, tenant.strip(), import_id, ran=not no_run)


@app.command("sql")
def sql_cmd(
    query: Annotated[str, typer.Argument(metavar="QUERY", help="A read-only SQL query.")],
    fmt: Annotated[str, typer.Option("--format", metavar="table|csv|json",
                                     help="table for people; csv or json for programs.")] = "table",
    limit: Annotated[int | None, typer.Option(
        "--limit", metavar="N", min=1,
        help="Show at most N rows (a table shows 50 unless told otherwise; csv and json all)."),
    ] = None,
    show_all: Annotated[bool, typer.Option("--all", help="Show every row as a table too.")] = False,
    tenant: Annotated[str | None, typer.Option(
        "--tenant", metavar="TENANT", help="Only this tenant (its own snapshot).")] = None,
    as_agent: Annotated[str | None, typer.Option(
        "--as", metavar="AGENT",
        help="Only what this agent's role may read (needs --tenant).")] = None,
    home: HomeOpt = None,
) -> None:
    """Run a read-only query on the published snapshot.

    Only SELECT and EXPLAIN are accepted. A table shows the first 50 rows and says how many
    were left out; csv and json print every row, values exactly as stored. With --tenant, the
    query reads that tenant's snapshot only; with --as too, that agent's own file (the tables
    its role reads; anything else is refused as not_permitted).

    [bold]Examples[/bold]

    $ crm sql "select segment, count(*) from marts.contact_segments group by 1"
    $ crm sql "select * from core.contacts" --all
    $ crm sql "select * from core.contacts" --format csv > contacts.csv
    $ crm sql --tenant acme_us --as tina "select * from marts.customer_ltv"
    """
    from crm_pipeline.cli.render import TABLE_ROWS, styled, write_rows
    from crm_pipeline.trust.readonly import query_as_agent, query_snapshot, query_tenant

    if fmt not in ("table", "csv", "json"):
        raise BadArgument(f"--format {fmt!r} is not one of table, csv, json")
    if show_all and limit is not None:
        raise BadArgument("give --limit N or --all, not both")
    if limit is None and not show_all and fmt == "table":
        limit = TABLE_ROWS
    if as_agent is not None and tenant is None:
        raise BadArgument("--as AGENT needs --tenant TENANT: an agent reads one tenant at a time")
    h = _home(home)
    if as_agent is not None:
        columns, rows = query_as_agent(h, tenant, as_agent, query)
    elif tenant is not None:
        columns, rows = query_tenant(h, tenant, query)
    else:
        columns, rows = query_snapshot(h, query)
    left_out = write_rows(out, columns, rows, fmt, limit)
    if left_out and fmt != "table":
        err.print(styled(f"crm: {left_out} more rows not written (--limit {limit})"))


@contact_app.command("show")
def contact_show(
    contact_id: IdArg,
    tenant: TenantOpt,
    fmt: TextFormatOpt = "text",
    home: HomeOpt = None,
) -> None:
    """One contact's profile (each value with its source and the rule that kept it) and
    activity timeline, newest first.

    [bold]Examples[/bold]

    $ crm contact show --tenant acme_us c_0123456789abcdef
    $ crm contact show --tenant acme_us c_0123456789abcdef --format json
    """
    from crm_pipeline.cli.render import print_profile
    from crm_pipeline.contacts.resolve.provenance import profile_with_origins

    h = _home(home)
    _show(profile_with_origins(h, tenant, contact_id), fmt, print_profile)


ActorOpt = Annotated[str, typer.Option(
    "--actor", metavar="NAME",
    help="Who makes the change: a person, or an agent of the roles registry (recorded).")]
FieldsArg = Annotated[list[str] | None, typer.Argument(
    metavar="FIELD=VALUE...", help="Fields to set, e.g. email=ann@example.com (empty clears).")]


def _field_values(pairs: list[str] | None) -> dict[str, str]:
    values = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise BadArgument(f"{pair!r} is not FIELD=VALUE (e.g. email=ann@example.com)")
        if name.strip().lower() in values:
            raise BadArgument(f"field {name.strip()!r} given twice")
        values[name.strip().lower()] = value
    return values


@contact_app.command("create")
def contact_create(
    tenant: TenantOpt,
    actor: ActorOpt,
    fields: FieldsArg = None,
    home: HomeOpt = None,
) -> None:
    """Create a contact by hand (prints its id); audited, its fields marked as set by hand.

    [bold]Examples[/bold]

    $ crm contact create --tenant acme_us --actor frank first_name=Ann email=ann@example.com
    """
    from crm_pipeline.cli import commands
    from crm_pipeline.cli.render import styled
    from crm_pipeline.contacts.edits import Change

    h = _home(home)
    result = commands.write_contact(h, tenant, Change("create", actor,
                                                      fields=_field_values(fields)))
    out.print(styled(result["contact_id"]))


@contact_app.command("set")
def contact_set(
    tenant: TenantOpt,
    contact: ContactOpt,
    actor: ActorOpt,
    fields: FieldsArg = None,
    home: HomeOpt = None,
) -> None:
    """Set fields of a contact by hand; audited; a hand-set value outranks later imports.

    [bold]Examples[/bold]

    $ crm contact set --tenant acme_us --contact c_0123456789abcdef --actor cheryl city=Boston
    """
    from crm_pipeline.cli import commands
    from crm_pipeline.cli.render import styled
    from crm_pipeline.contacts.edits import Change

    h = _home(home)
    result = commands.write_contact(h, tenant, Change("set", actor, contact_id=contact,
                                                      fields=_field_values(fields)))
    out.print(styled(f"contact {result['contact_id']}: "
                     f"{'updated' if result['changed'] else 'unchanged (same values)'}"))


@contact_app.command("tag")
def contact_tag(
    tenant: TenantOpt,
    contact: ContactOpt,
    actor: ActorOpt,
    add: Annotated[list[str] | None, typer.Option("--add", metavar="TAG",
                                                  help="Tag to add (repeatable).")] = None,
    remove: Annotated[list[str] | None, typer.Option("--remove", metavar="TAG",
                                                     help="Tag to remove (repeatable).")] = None,
    home: HomeOpt = None,
) -> None:
    """Add or remove tags of a contact; audited.

    [bold]Examples[/bold]

    $ crm contact tag --tenant acme_us --contact c_0123456789abcdef --actor cheryl --add vip
    """
    from crm_pipeline.cli import commands
    from crm_pipeline.cli.render import styled
    from crm_pipeline.contacts.edits import Change

    h = _home(home)
    result = commands.write_contact(h, tenant, Change("tag", actor, contact_id=contact,
                                                      add_tags=add or [], remove_tags=remove or []))
    out.print(styled(f"contact {result['contact_id']}: "
                     f"{'tags changed' if result['changed'] else 'tags unchanged'}"))


@contact_app.command("delete")
def contact_delete(
    tenant: TenantOpt,
    contact: ContactOpt,
    actor: ActorOpt,
    home: HomeOpt = None,
) -> None:
    """Delete a contact (not an erasure: the audit trail keeps its values); audited.

    [bold]Examples[/bold]

    $ crm contact delete --tenant acme_us --contact c_0123456789abcdef --actor dana
    """
    from crm_pipeline.cli import commands
    from crm_pipeline.cli.render import styled
    from crm_pipeline.contacts.edits import Change

    h = _home(home)
    result = commands.write_contact(h, tenant, Change("delete", actor, contact_id=contact))
    out.print(styled(f"deleted contact {result['contact_id']} (its values stay in the audit "
                     "trail; for erasure use crm gdpr erase)"))


@import_app.command("companies")
def import_companies_cmd(
    file: Annotated[Path, typer.Argument(metavar="FILE",
                                         help="Company file (CSV, .xlsx, .xls).")],
    tenant: TenantOpt,
    source: Annotated[str, typer.Option(
        "--source", metavar="NAME",
        help="Where the values come from (e.g. zoominfo, hubspot_companies): kept with each "
             "value, and what accounts.source_priority ranks.")],
    create: Annotated[bool, typer.Option(
        "--create", help="Create an account for a row that matches none (else quarantined).")
    ] = False,
    sheet: Annotated[str | None, typer.Option(
        "--sheet", metavar="NAME", help="The workbook's sheet (default the first).")] = None,
    home: HomeOpt = None,
) -> None:
    """Import a company or enrichment file (HubSpot Companies, Salesforce Accounts, Apollo,
    ZoomInfo, Clearbit...): rows matched to accounts by domain, then by name; every value kept
    with its source; the accounts' values chosen by the tenant's source priority (by default
    only blanks are filled); audited.

    [bold]Examples[/bold]

    $ crm import companies zoominfo.csv --tenant acme_us --source zoominfo
    $ crm import companies hubspot-companies.csv --tenant acme_us --source hubspot --create
    """
    from crm_pipeline.cli import commands

    h = _home(home)
    _user_paths(file)
    with commands.locked(h, tenant):
        result = commands.import_companies(h, file, tenant, source, create, sheet)
    commands.print_companies_report(out, file, tenant.strip(), result)


@import_app.command("signals")
def import_signals_cmd(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="Signals (JSON lines).")],
    tenant: TenantOpt,
    source: Annotated[str, typer.Option(
        "--source", metavar="NAME", help="Where the signals come from (e.g. archy, bombora).")],
    home: HomeOpt = None,
) -> None:
    """Import company signals (news, funding, hiring, intent...) as JSON lines, each linked to
    an account by domain, then by name; contacts of those accounts are flagged in
    marts.contact_signals at the next run.

    [bold]Examples[/bold]

    $ crm import signals news.jsonl --tenant acme_us --source archy
    """
    from crm_pipeline.cli import commands

    h = _home(home)
    _user_paths(file)
    with commands.locked(h, tenant):
        result = commands.import_signals(h, file, tenant, source)
    commands.print_signals_report(out, file, tenant.strip(), result)


@import_app.command("changes")
def import_changes_cmd(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="Changes (JSON lines).")],
    tenant: TenantOpt,
    home: HomeOpt = None,
) -> None:
    """Apply a JSON-lines file of contact changes (create, set, tag, delete, note), each line
    all or nothing; refused lines are quarantined with a reason code.

    [bold]Examples[/bold]

    $ crm import changes agent-changes.jsonl --tenant acme_us
    """
    from crm_pipeline.cli import commands

    h = _home(home)
    _user_paths(file)
    result = commands.import_changes(h, file, tenant)
    commands.print_changes_report(out, file, tenant.strip(), result)


@contact_app.command("explain")
def contact_explain(
    contact_id: IdArg,
    tenant: TenantOpt,
    fmt: TextFormatOpt = "text",
    home: HomeOpt = None,
) -> None:
    """Why each source record joined the contact, in plain words.

    [bold]Examples[/bold]

    $ crm contact explain --tenant acme_us c_0123456789abcdef
    """
    from crm_pipeline.cli.render import print_explanation
    from crm_pipeline.contacts.resolve.explain import explain_contact

    h = _home(home)
    _show(explain_contact(h, tenant, contact_id), fmt, print_explanation)


def _show(doc: dict, fmt: str, printer) -> None:
    """A document as JSON on stdout (`--format json`) or printed for people."""
    if fmt not in ("text", "json"):
        raise BadArgument(f"--format {fmt!r} is not one of text, json")
    if fmt == "json":
        sys.stdout.write(json.dumps(doc, indent=2, default=str, ensure_ascii=False) + "\n")
    else:
        printer(out, doc)


@app.command("backfill")
def backfill_cmd(
    tenant: TenantOpt,
    start: Annotated[str, typer.Option("--from", metavar="YYYY-MM-DD", help="First date.")],
    end: Annotated[str, typer.Option("--to", metavar="YYYY-MM-DD", help="Last date.")],
    every: Annotated[str, typer.Option("--every", metavar="day|week|month",
                                       help="Step between dates (at most 400 dates).")] = "week",
    home: HomeOpt = None,
) -> None:
    """Compute segment, lifecycle and workflow history as it was on past dates.

    History from --from is rebuilt by running the marts for each date in order (later history
    is run again after it); running it twice gives the same rows.

    [bold]Examples[/bold]

    $ crm backfill --tenant acme_us --from 2025-12-01 --to 2026-11-30 --every month
    """
    from crm_pipeline.cli import commands
    from crm_pipeline.cli.render import styled

    h = _home(home)
    with commands.locked(h, tenant):
        result = commands.backfill(h, tenant, start, end, every)
    later = len(result["later_dates"])
    out.print(styled(f"{len(result['dates'])} dates backfilled"
                     + (f" and {later} later dates run again" if later else "")
                     + f"; current marts as of {result['as_of']}"))
    for table, rows in result["rows"].items():
        out.print(styled(f"  {table}: {rows} rows from {start.strip()}"))


@app.command("unmerge")
def unmerge_cmd(
    tenant: TenantOpt,
    contact: Annotated[str, typer.Option("--contact", metavar="ID", help="The golden contact.")],
    source: Annotated[str, typer.Option("--source", metavar="SOURCE_KEY",
                                        help="The source record: import_id:row_number.")],
    actor: Annotated[str, typer.Option("--actor", metavar="NAME",
                                       help="Who is unmerging.")] = "cli",
    home: HomeOpt = None,
) -> None:
    """Split a source record out of a golden contact, for good.

    The source keys of a contact are listed by crm contact explain.

    [bold]Examples[/bold]

    $ crm unmerge --tenant acme_us --contact c_0123456789abcdef --source imp_2579ebfeaa050ed0:17
    """
    from crm_pipeline.cli import commands
    from crm_pipeline.cli.render import styled

    h = _home(home)
    with commands.locked(h, tenant):
        new_id = commands.unmerge(h, tenant, contact, source, actor)
    out.print(styled(f"source {source} now forms contact {new_id}; it will not be merged into "
                     f"{contact} again"))


@merge_app.command("accept")
def merge_accept(
    contact_id: IdArg,
    tenant: TenantOpt,
    actor: ActorOpt,
    row: Annotated[str | None, typer.Argument(
        metavar="[ROW]", help="The held source row (import_id:row_number).")] = None,
    all_rows: Annotated[bool, typer.Option(
        "--all", help="Every row held for this contact.")] = False,
    home: HomeOpt = None,
) -> None:
    """Accept a source row held for review (marts.merge_review): its values then take part in
    the contact's golden record; audited. crm unmerge splits it off instead.

    [bold]Examples[/bold]

    $ crm merge accept --tenant acme_us --actor jane c_0123456789abcdef imp_2579ebfeaa050ed0:17
    $ crm merge accept --tenant acme_us --actor jane c_0123456789abcdef --all
    """
    from crm_pipeline.cli import commands
    from crm_pipeline.cli.render import styled

    h = _home(home)
    accepted = commands.accept_merge(h, tenant, contact_id, row, all_rows, actor)
    out.print(styled(f"contact {contact_id}: accepted {', '.join(accepted)}"))


@account_app.command("show")
def account_show(
    account_id: Annotated[str, typer.Argument(metavar="ID", help="The account id (a_...).")],
    tenant: TenantOpt,
    fmt: TextFormatOpt = "text",
    home: HomeOpt = None,
) -> None:
    """An account: name, domains, fields, engagement and its contacts.

    [bold]Examples[/bold]

    $ crm account show --tenant acme_us a_0123456789abcdef
    $ crm account show --tenant acme_us a_0123456789abcdef --format json
    """
    from crm_pipeline.accounts.profile import account_profile
    from crm_pipeline.cli.render import print_account

    h = _home(home)
    _show(account_profile(h, tenant, account_id), fmt, print_account)


AccountOpt = Annotated[str, typer.Option("--account", metavar="ID", help="The account (a_...).")]
ActorOpt = Annotated[str, typer.Option("--actor", metavar="NAME", help="Who makes the change.")]


@account_app.command("merge")
def account_merge(
    tenant: TenantOpt,
    account: AccountOpt,
    into: Annotated[str, typer.Option("--into", metavar="ID", help="The account that stays.")],
    actor: ActorOpt,
    home: HomeOpt = None,
) -> None:
    """Merge an account into another (one company, several domains), for good; audited.

    Its domains and contacts move to the account that stays; its id stays an alias.
    crm account unmerge undoes it.

    [bold]Examples[/bold]

    $ crm account merge --tenant acme_us --account a_2222222222222222 --into a_1111111111111111 --actor jane
    """
    from crm_pipeline.cli import commands
    from crm_pipeline.cli.render import styled

    h = _home(home)
    with commands.locked(h, tenant):
        moved = commands.merge_account(h, tenant, account, into, actor)
    out.print(styled(f"account {account} merged into {into}: {moved} contacts moved"))


@account_app.command("unmerge")
def account_unmerge(
    tenant: TenantOpt,
    account: AccountOpt,
    actor: ActorOpt,
    home: HomeOpt = None,
) -> None:
    """Restore an account merged into another, with its domains; audited.

    Its contacts follow their domains at the next run.

    [bold]Examples[/bold]

    $ crm account unmerge --tenant acme_us --account a_2222222222222222 --actor jane
    """
    from crm_pipeline.cli import commands
    from crm_pipeline.cli.render import styled

    h = _home(home)
    with commands.locked(h, tenant):
        survivor = commands.unmerge_account(h, tenant, account, actor)
    out.print(styled(f"account {account} restored (it was merged into {survivor}); its contacts "
                     "follow their domains at the next run"))


@account_app.command("set")
def account_set(
    tenant: TenantOpt,
    account: AccountOpt,
    actor: ActorOpt,
    fields: Annotated[list[str] | None, typer.Argument(
        metavar="FIELD=VALUE...",
        help="name, website, industry, employees, annual_revenue, country, city, naics, sic, "
             "linkedin_url.")] = None,
    home: HomeOpt = None,
) -> None:
    """Set an account's company values by hand; audited. A value set by hand wins over every
    import and no import replaces it.

    [bold]Examples[/bold]

    $ crm account set --tenant acme_us --account a_0123456789abcdef --actor jane employees=250 industry=Software
    $ crm account set --tenant acme_us --account a_0123456789abcdef --actor jane "annual_revenue=EUR 5m"
    """
    from crm_pipeline.cli import commands
    from crm_pipeline.cli.render import styled

    h = _home(home)
    with commands.locked(h, tenant):
        changed = commands.set_account(h, tenant, account, actor, fields or [])
    out.print(styled(f"account {account}: " + ("updated" if changed else "already had these "
                                                                          "values")))


@gdpr_app.command("export")
def gdpr_export(
    tenant: TenantOpt,
    contact: ContactOpt,
    out_file: Annotated[Path | None, typer.Option(
        "--out", metavar="FILE",
        help="Write the JSON to this file (readable by you only).")] = None,
    home: HomeOpt = None,
) -> None:
    """The person's complete data as JSON (right of access).

    [bold]Examples[/bold]

    $ crm gdpr export --tenant acme_us --contact c_0123456789abcdef
    $ crm gdpr export --tenant acme_us --contact c_0123456789abcdef --out ann-lee.json
    """
    from crm_pipeline.cli import commands
    from crm_pipeline.cli.render import styled
    from crm_pipeline.contacts.gdpr import export_subject

    h = _home(home)
    _user_paths(out_file)
    if out_file:
        commands.checked_out_file(out_file)  # at the door: before the person's data is read
    document = json.dumps(export_subject(h, tenant, contact), indent=2, default=str,
                          ensure_ascii=False)
    if out_file:
        commands.write_private_file(out_file, document + "\n")
        out.print(styled(f"wrote {out_file}"))
    else:
        sys.stdout.write(document + "\n")


@gdpr_app.command("erase")
def gdpr_erase(
    tenant: TenantOpt,
    contact: ContactOpt,
    actor: Annotated[str, typer.Option("--actor", metavar="NAME",
                                       help="Who requested the erasure (recorded).")],
    home: HomeOpt = None,
) -> None:
    """Erase the person everywhere, and suppress them from later imports (right to erasure).

    [bold]Examples[/bold]

    $ crm gdpr erase --tenant acme_us --contact c_0123456789abcdef --actor dpo
    """
    from crm_pipeline.cli import commands
    from crm_pipeline.cli.render import styled

    h = _home(home)
    with commands.locked(h, tenant):
        summary = commands.erase(h, tenant, contact, actor)
    out.print(styled(f"erased contact {summary['contact_id']}: {summary['rows_removed']} rows "
                     f"removed, {summary['audit_rows_redacted']} audit rows redacted; later "
                     "imports of this person are quarantined as erased_subject"))


@audit_app.command("verify")
def audit_verify(
    tenant: Annotated[str | None, typer.Option("--tenant", metavar="TENANT",
                                               help="Only this tenant's chain.")] = None,
    home: HomeOpt = None,
) -> None:
    """Check the audit trail's hash chain; exit 1 if broken.

    [bold]Examples[/bold]

    $ crm audit verify
    $ crm audit verify --tenant acme_us
    """
    from crm_pipeline.cli import commands
    from crm_pipeline.cli.render import styled

    h = _home(home)
    if not h.tenant_ids() and not h.legacy_warehouse.exists():
        commands.verify_audit(h, tenant)  # refuses: no warehouse yet
    with commands.locked(h):  # runs in progress hold their shards: wait for them, then verify
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
    out.print(styled(f"audit chain verified: {checked} changes"))


@segment_app.command("export")
def segment_export_cmd(
    segment: Annotated[str, typer.Argument(metavar="SEGMENT", help="Segment name.")],
    tenant: TenantOpt,
    fmt: Annotated[str, typer.Option("--format", metavar="hubspot|salesforce|mailchimp|csv",
                                     help="The tool the file is for.")],
    out_file: Annotated[Path | None, typer.Option(
        "--out", metavar="FILE", help="Where to write (default ./<tenant>_<segment>_<format>.csv).")
    ] = None,
    actor: Annotated[str | None, typer.Option(
        "--actor", metavar="NAME", help="Who exports, for the audit trail (default: your login).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite FILE if it exists.")] = False,
    home: HomeOpt = None,
) -> None:
    """Write a segment as a file another tool re-imports as a static list; audited.

    Its own column names and the record ids it knows; contacts whose consent is denied are left
    out of outreach segments and of Mailchimp lists.

    [bold]Examples[/bold]

    $ crm segment export --tenant acme_us hot_leads --format hubspot --out hot.csv
    """
    from crm_pipeline.cli import commands

    h = _home(home)
    _user_paths(out_file)
    path, summary = commands.export_segment(h, tenant, segment, fmt, out_file, actor, force)
    left_out = ", ".join(f"{n} {why.replace('_', ' ')}" for why, n in summary["left_out"].items())
    out.print(f"{path}: {summary['rows']} contacts of {segment} (as of {summary['as_of']}) for "
              f"{summary['format']}" + (f", {summary['with_record_id']} with its record id"
                                         if summary["format"] != "csv" else "")
              + (f"; left out: {left_out}" if left_out else ""))


@tenant_app.command("show")
def tenant_show(tenant: TenantOpt, fmt: TextFormatOpt = "text", home: HomeOpt = None) -> None:
    """Every setting of the tenant, and whether it is the tenant's own or the default.

    [bold]Examples[/bold]

    $ crm tenant show --tenant acme_us
    """
    from crm_pipeline.cli import commands
    from crm_pipeline.cli.render import add_row, table

    rows = commands.tenant_settings_rows(_home(home), tenant)
    if fmt == "json":
        out.print(json.dumps({k: json.loads(v) for k, v, _ in rows}, indent=2,
                             ensure_ascii=False))
        return
    t = table("key", "value", "from", title=f"Settings of {tenant.strip()}")
    for row in rows:
        add_row(t, row)
    out.print(t)


@tenant_app.command("set")
def tenant_set(
    tenant: TenantOpt,
    pairs: Annotated[list[str], typer.Argument(
        metavar="KEY VALUE ...", help="Settings and their values (VALUE `default` resets).")],
    actor: Annotated[str | None, typer.Option(
        "--actor", metavar="NAME", help="Who changes them, for the audit (default: your login).")
    ] = None,
    home: HomeOpt = None,
) -> None:
    """Change tenant settings; checked, audited, read by the next run.

    Keys as `crm tenant show` lists them (a name one section holds may be given alone); lists as
    comma-separated words; a mapping as a JSON object, or one entry of it as KEY.ENTRY VALUE.
    Weights that must add up to 100 are set together.

    [bold]Examples[/bold]

    $ crm tenant set --tenant acme_us hot_days 7 --actor jane
    $ crm tenant set --tenant acme_us score_weights.role 25 score_weights.industry 5 --actor jane
    $ crm tenant set --tenant acme_us currency EUR --actor jane
    $ crm tenant set --tenant acme_us accounts.tiers.key_value 30000 --actor jane
    """
    from crm_pipeline.cli import commands

    if len(pairs) % 2:
        raise BadArgument(f"{pairs[-1]!r} has no value: give KEY VALUE pairs")
    result = commands.set_tenant_settings(_home(home), tenant,
                                          list(zip(pairs[::2], pairs[1::2], strict=True)), actor)
    if not result["changed"]:
        out.print("nothing changed (the same values)")
    for key, value in result["changed"].items():
        out.print(f"{key}: {json.dumps(result['previous'][key])} -> {json.dumps(value)} "
                  "(from the next run)")


@app.command("status")
def status_cmd(
    tenant: Annotated[str | None, typer.Option("--tenant", metavar="TENANT",
                                               help="Only this tenant.")] = None,
    fmt: TextFormatOpt = "text",
    home: HomeOpt = None,
) -> None:
    """The last runs per tenant (status, when, rows in/accepted/merged/quarantined, the cause
    of a failure), files waiting in the landing folder and the audit chain's state.

    [bold]Examples[/bold]

    $ crm status
    $ crm status --tenant acme_us --format json
    """
    from crm_pipeline.cli import commands

    h = _home(home)
    if fmt not in ("text", "json"):
        raise BadArgument(f"--format {fmt!r} is not one of text, json")
    docs = commands.status(h, tenant)
    if fmt == "json":
        sys.stdout.write(json.dumps(docs, indent=2, default=str) + "\n")
    else:
        commands.print_status(out, docs)


@app.command("queue")
def queue_cmd(
    tenant: TenantOpt,
    workflow: Annotated[str | None, typer.Option(
        "--workflow", metavar="WORKFLOW",
        help="lead_nurture, customer_onboarding or retention.")] = None,
    owner: Annotated[str | None, typer.Option(
        "--owner", metavar="AGENT", help="Only steps this agent (or role) owns.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only overdue steps.")] = False,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", metavar="YYYY-MM-DD",
        help="The queue's date; refused unless it is the last run's.")] = None,
    fmt: Annotated[str, typer.Option("--format", metavar="table|csv|json",
                                     help="table for people; csv or json for programs.")] = "table",
    home: HomeOpt = None,
) -> None:
    """The work queues: every open workflow enrollment at its current step, who owns it, what
    to do and by when, most urgent first (marts.work_queue of the last run).

    [bold]Examples[/bold]

    $ crm queue --tenant acme_us
    $ crm queue --tenant acme_us --workflow customer_onboarding --owner claire --overdue
    """
    from crm_pipeline.cli import commands
    from crm_pipeline.cli.render import write_rows

    if fmt not in ("table", "csv", "json"):
        raise BadArgument(f"--format {fmt!r} is not one of table, csv, json")
    columns, rows = commands.work_queue(_home(home), tenant, workflow, owner, overdue, as_of)
    if fmt == "table":  # what a person acts on; csv and json carry every column
        keep = [columns.index(c) for c in ("workflow", "contact_id", "step", "step_owner",
                                           "step_due_at", "overdue", "next_action")]
        columns, rows = [columns[i] for i in keep], [tuple(r[i] for i in keep) for r in rows]
    write_rows(out, columns, rows, fmt)


@role_app.command("list")
def role_list(
    tenant: Annotated[str | None, typer.Option(
        "--tenant", metavar="TENANT",
        help="With this tenant's own roles file (tenants/<T>/roles.yaml) laid over.")] = None,
    fmt: TextFormatOpt = "text",
    home: HomeOpt = None,
) -> None:
    """Every agent, its role and its grants: reads, personal data, edits, creates, writes.

    [bold]Examples[/bold]

    $ crm role list
    $ crm role list --tenant acme_us --format json
    """
    from crm_pipeline.cli.render import print_roles
    from crm_pipeline.tenants import checked_tenant_id
    from crm_pipeline.trust.roles import Roles

    h = _home(home)
    roles = Roles.for_tenant(h, checked_tenant_id(tenant)) if tenant else Roles.load()
    doc = [{"agent": a.name, "role": a.role, "reads": sorted(a.reads),
            "reads_personal": a.reads_personal, "edits": sorted(a.edits), "creates": a.creates,
            "writes": sorted(a.writes), "own_rows_only": a.own_rows_only}
           for a in sorted(roles.agents.values(), key=lambda a: a.name)]
    if fmt not in ("text", "json"):
        raise BadArgument(f"--format {fmt!r} is not one of text, json")
    if fmt == "json":
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        print_roles(out, doc)


@app.command("report")
def report_cmd(
    tenant: TenantOpt,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", metavar="YYYY-MM-DD",
        help="Cut the histories at this date (default: the latest run's as-of date).")] = None,
    out_file: Annotated[Path | None, typer.Option(
        "--out", metavar="FILE",
        help="Where to write the HTML (default HOME/published/reports/TENANT.html).")] = None,
    home: HomeOpt = None,
) -> None:
    """Write the tenant's report: one HTML file that opens offline, with charts and tables of
    imports, hygiene, segments, lifecycle, engagement, lifetime value, forecast and accounts.
    Every run writes it to HOME/published/reports/TENANT.html too.

    [bold]Examples[/bold]

    $ crm report --tenant acme_us
    $ crm report --tenant acme_us --as-of 2026-11-01 --out acme.html
    """
    from crm_pipeline.cli import commands
    from crm_pipeline.cli.render import styled

    h = _home(home)
    day = commands.checked_as_of(as_of)
    path = commands.write_tenant_report(h, tenant, day, out_file)
    out.print(styled(f"report for {tenant.strip()}: {path}"))


@app.command("demo")
def demo_cmd(
    force: Annotated[bool, typer.Option(
        "--force", help="Build in a home holding other data: its data is moved aside first "
                        "(to HOME/pre-demo-TIME/), never deleted.")] = False,
    home: HomeOpt = None,
) -> None:
    """Build a fresh home from the sample in data/ and run everything; print a summary.

    Only an empty home or a previous demo is rebuilt; a home holding anything else is refused
    unless --force. Files the demo did not create are never deleted.

    [bold]Examples[/bold]

    $ crm demo
    $ crm --home /tmp/demo demo
    $ crm demo --force
    """
    from crm_pipeline.cli import commands

    h = _home(home)
    with commands.locked(h):
        as_of = commands.demo_stage(out, h, force=force)
    _run(h, None, as_of)  # each tenant's run takes its own lock
    commands.finish_demo(h)
    commands.print_demo_summary(out, h)


@app.command("migrate")
def migrate_cmd(home: HomeOpt = None) -> None:
    """Split a home written before shards (one warehouse for every tenant) into one shard per
    tenant, keeping every row, id and audit chain; any other command does it first when needed.

    [bold]Examples[/bold]

    $ crm migrate
    """
    from crm_pipeline.cli.render import styled
    from crm_pipeline.trust.migrate import migrate_home

    h = _home(home)
    moved = migrate_home(h)
    out.print(styled(f"migrated {len(moved)} tenants into {h.tenants_dir}" if moved
                     else f"{h.root} needs no migration"))


def _say(message: str) -> None:
    """One line on stderr, values never read as markup, never wrapped."""
    from crm_pipeline.cli.render import shown

    err.print(shown(" ".join(message.split("\n"))), soft_wrap=True)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A warning as one line (`crm: warning: ...`), without the source line Python adds."""
    _say(f"crm: warning: {' '.join(str(message).split())}")


def _refused_path(exc: OSError) -> CrmError | None:
    """An OS error on a path the user named (the home, FILE, --mapping, --out), as a refusal."""
    from crm_pipeline.errors import path_problem

    if not isinstance(exc.filename, str | os.PathLike) or not exc.filename:
        return None
    failed = Path(exc.filename).absolute()
    home = STATE.get("home")
    named = [*STATE.get("paths", []), *([home.root] if home else [])]
    for path in named:
        path = path.absolute()
        if failed == path or path in failed.parents:
            return CrmError(f"{exc.filename}: {path_problem(exc)}")
    return None


def _internal_error(argv: list[str] | None, exc: BaseException) -> None:
    from crm_pipeline.cli.logfile import first_line, write_log

    home = STATE.get("home")
    log = write_log(home.root if home else None, sys.argv[1:] if argv is None else argv, exc)
    where = f"details in {log}" if log else "no log could be written"
    _say(f"crm: internal error: {first_line(exc)} ({where})")


def main(argv: list[str] | None = None) -> None:
    """Entry point: map errors to exit statuses (2 refused, 1 internal), one line each."""
    import warnings

    if not (sys.argv[1:] if argv is None else argv):
        argv = ["--help"]  # a bare `crm` shows what it can do
    STATE.clear()
    previous_showwarning = warnings.showwarning
    warnings.showwarning = _show_warning
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
        _say(f"crm: {message}")
        sys.exit(getattr(exc, "exit_code", 2) or 2)
    except CrmError as exc:
        _say(f"crm: {exc}")
        sys.exit(2)
    except BrokenPipeError:  # the reader went away (`crm sql ... | head`): nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    except OSError as exc:
        refused = _refused_path(exc)
        if refused is None:
            _internal_error(argv, exc)
            sys.exit(1)
        _say(f"crm: {refused}")
        sys.exit(2)
    except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence
        _internal_error(argv, exc)
        sys.exit(1)
    finally:
        warnings.showwarning = previous_showwarning
    sys.exit(0)


if __name__ == "__main__":
    main()
