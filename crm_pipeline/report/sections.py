"""The report's sections: each one query's aggregate, a title stating what it shows, a chart
and the same numbers as a table (for screen readers, and for whoever wants the figures).

Every number comes from one query of `sql/report/` on the tenant's tables; nothing here walks
per-contact rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb

from crm_pipeline.report import charts
from crm_pipeline.sql import sql_text

TOP = 10  # rows of the top-customers and top-accounts tables
ENGAGEMENT_BINS = ["0", "1", "2–3", "4–7", "8–15", "16 or more"]


@dataclass
class Cell:
    """A value as shown, and as stored (`raw`, in the page as data-value, so a test or a
    script can compare it with the warehouse)."""

    shown: str
    raw: object = None
    numeric: bool = False


@dataclass
class Table:
    caption: str
    columns: list[str]
    rows: list[list[Cell]]


@dataclass
class Section:
    id: str
    heading: str
    title: str  # the finding
    chart: dict | None = None
    tables: list[Table] = field(default_factory=list)
    note: str | None = None
    extra_chart: dict | None = None  # a second chart of the same section


def rows(con: duckdb.DuckDBPyConnection, name: str, params: dict) -> list[dict]:
    """A `sql/report/` query's rows as dicts (only the parameters it names are bound)."""
    text = sql_text(f"report/{name}")
    cursor = con.execute(text, {k: v for k, v in params.items() if f"${k}" in text})
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def count(n) -> Cell:
    return Cell(f"{int(n or 0):,}", int(n or 0), True)


def money(x, currency: str) -> Cell:
    if x is None:
        return Cell("–", None, True)
    return Cell(f"{x:,.0f} {currency}", round(float(x), 2), True)


def share(x) -> Cell:
    return Cell("–" if x is None else f"{x:.0%}", None if x is None else round(float(x), 4), True)


def text(value) -> Cell:
    return Cell("" if value is None else str(value), value)


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def imports_section(con, p: dict) -> Section:
    files = rows(con, "import_funnel", p)
    reasons = rows(con, "quarantine_reasons", p)
    read = sum(f["read"] for f in files)
    quarantined = sum(f["quarantined"] for f in files)
    if not files:
        title = "No file has been imported yet"
    elif quarantined == 0:
        title = f"All {read:,} rows of {plural(len(files), 'file')} were imported"
    else:
        by_reason = _by(reasons, "reason_code", "rows")  # rows of an erased person are gone
        top = max(by_reason.items(), key=lambda kv: (kv[1], kv[0]))[0] if by_reason else None
        title = (f"{quarantined:,} of {read:,} rows read ({quarantined / read:.1%}) were "
                 "quarantined" + (f", most for {top}" if top else ""))
    stacked = [{"file": f["file_name"], "outcome": outcome, "rows": f[outcome]}
               for f in files for outcome in ("accepted", "merged", "quarantined")]
    table = Table("Rows per imported file", ["File", "Kind", "Read", "Accepted", "Merged",
                                             "Quarantined"],
                  [[text(f["file_name"]), text(f["kind"]), count(f["read"]),
                    count(f["accepted"]), count(f["merged"]), count(f["quarantined"])]
                   for f in files])
    by_reason = Table("Quarantined rows by file and reason", ["File", "Kind", "Reason", "Rows"],
                      [[text(r["file_name"]), text(r["kind"]), text(r["reason_code"]),
                        count(r["rows"])] for r in reasons])
    chart = charts.bar_chart(
        stacked, category="file", value="rows", category_title="File", value_title="Rows",
        color="outcome", color_title="Outcome", sort=[f["file_name"] for f in files],
        description="Rows of each imported file: accepted, merged into an existing record, "
                    "or quarantined") if files else None
    return Section("imports", "Imports", title, chart, [table, by_reason])


def hygiene_section(con, p: dict) -> Section:
    issues = rows(con, "hygiene", p)
    total = sum(r["records"] for r in issues)
    title = ("No data problem to review" if not issues else
             f"{total:,} data problems to review; the most common is {issues[0]['issue']} "
             f"({issues[0]['records']:,})")
    data = [{"issue": f"{r['issue']} ({r['field']})", "records": r["records"]} for r in issues]
    chart = charts.bar_chart(data, category="issue", value="records",
                             category_title="Issue (field)", value_title="Records",
                             description="Data problems by issue and field") if issues else None
    table = Table("Data problems by issue and field", ["Issue", "Field", "Records"],
                  [[text(r["issue"]), text(r["field"]), count(r["records"])] for r in issues])
    return Section("hygiene", "Data hygiene", title, chart, [table])


def segments_section(con, p: dict) -> Section:
    sizes = rows(con, "segment_sizes", p)
    days = sorted({r["day"] for r in sizes})
    last = {r["segment"]: r["members"] for r in sizes if r["day"] == days[-1]} if days else {}
    first = {r["segment"]: r["members"] for r in sizes if r["day"] == days[0]} if days else {}
    if not days:
        title = "No segment history yet"
    elif len(days) == 1:
        biggest = max(last, key=lambda s: (last[s], s))
        title = f"{biggest} is the largest segment ({last[biggest]:,} contacts)"
    else:
        moved = max(last, key=lambda s: (abs(last[s] - first.get(s, 0)), s))
        change = last[moved] - first.get(moved, 0)
        biggest = max(last, key=lambda s: (last[s], s))
        if change == 0:
            title = (f"No segment changed size since {days[0]:%Y-%m-%d}; {biggest} is the "
                     f"largest ({last[biggest]:,} contacts)")
        else:
            title = (f"{moved} {'grew' if change > 0 else 'shrank'} the most since "
                     f"{days[0]:%Y-%m-%d}: {first.get(moved, 0):,} to {last[moved]:,} contacts")
    data = [{"segment": r["segment"], "date": r["day"].isoformat(), "members": r["members"]}
            for r in sizes]
    chart = charts.line_chart(data, x="date", y="members", series="segment", x_title="Date",
                              y_title="Contacts", series_title="Segment",
                              description="Contacts in each segment over time"
                              ) if sizes else None
    table = Table("Contacts per segment on each date it changed", ["Segment", "Date", "Contacts"],
                  [[text(r["segment"]), text(r["day"].isoformat()), count(r["members"])]
                   for r in sizes])
    return Section("segments", "Segments over time", title, chart, [table])


def lifecycle_section(con, p: dict) -> Section:
    stages = rows(con, "lifecycle_stages", p)
    moves = rows(con, "lifecycle_flow", p)
    total = sum(s["contacts"] for s in stages)
    if not stages:
        title = "No lifecycle stage recorded yet"
    elif moves:
        top = moves[0]
        title = (f"The most common move was {top['from_stage']} to {top['to_stage']} "
                 f"({top['contacts']:,} contacts); {stages[0]['stage']} is the largest stage")
    else:
        title = (f"Most contacts are {stages[0]['stage']}s ({stages[0]['contacts']:,} of "
                 f"{total:,}); no contact has changed stage yet")
    if moves:
        chart = charts.heatmap(moves, x="to_stage", y="from_stage", value="contacts",
                               x_title="To stage", y_title="From stage", value_title="Contacts",
                               description="Contacts that moved from one lifecycle stage to "
                                           "another")
    elif stages:
        chart = charts.bar_chart(stages, category="stage", value="contacts",
                                 category_title="Stage", value_title="Contacts",
                                 description="Contacts in each lifecycle stage")
    else:
        chart = None
    tables = [Table("Contacts per lifecycle stage", ["Stage", "Contacts"],
                    [[text(s["stage"]), count(s["contacts"])] for s in stages])]
    if moves:
        tables.append(Table("Moves between stages", ["From", "To", "Contacts"],
                            [[text(m["from_stage"]), text(m["to_stage"]), count(m["contacts"])]
                             for m in moves]))
    return Section("lifecycle", "Lifecycle flow", title, chart, tables)


def engagement_section(con, p: dict) -> Section:
    bins = {r["bin"]: r["contacts"] for r in rows(con, "engagement_bins", p)}
    scores = {r["bin_start"]: r["contacts"] for r in rows(con, "lead_score_bins", p)}
    total = sum(bins.values())
    idle = bins.get(0, 0)
    engagement = [{"activities": label, "contacts": bins.get(i, 0)}
                  for i, label in enumerate(ENGAGEMENT_BINS)]
    score_labels = [f"{b}–{b + 9 if b < 90 else 100}" for b in range(0, 100, 10)]
    lead = [{"score": label, "contacts": scores.get(b, 0)}
            for b, label in zip(range(0, 100, 10), score_labels, strict=True)]
    scored = sum(scores.values())
    high = sum(v for b, v in scores.items() if b >= 70)
    title = (f"{idle / total:.0%} of contacts had no activity in the last 90 days; "
             f"{high:,} of {scored:,} score 70 or more" if total else "No engagement yet")
    engagement_chart = charts.histogram(
        engagement, bin_label="activities", value="contacts",
        bin_title="Activities in the last 90 days", value_title="Contacts",
        order=ENGAGEMENT_BINS, description="Contacts by activities in the last 90 days")
    score_chart = charts.histogram(
        lead, bin_label="score", value="contacts", bin_title="Lead score (0–100)",
        value_title="Contacts", order=score_labels, description="Contacts by lead score")
    tables = [
        Table("Contacts by activities in the last 90 days", ["Activities", "Contacts"],
              [[text(r["activities"]), count(r["contacts"])] for r in engagement]),
        Table("Contacts by lead score", ["Lead score", "Contacts"],
              [[text(r["score"]), count(r["contacts"])] for r in lead]),
    ]
    section = Section("engagement", "Engagement and lead scores", title, engagement_chart, tables)
    section.extra_chart = score_chart
    return section


def value_section(con, p: dict, currency: str) -> Section:
    bins = rows(con, "ltv_bins", p)
    alive = {r["bin"]: r["customers"] for r in rows(con, "p_alive_bins", p)}
    top = rows(con, "top_customers", p | {"n": TOP})
    totals = rows(con, "ltv_totals", p)[0]
    customers = int(totals["customers"] or 0)

    def label(b: int) -> str:
        return f"under 1 {currency}" if b < 0 else f"{10**b:,}–{10**(b + 1):,} {currency}"

    data = [{"value": label(r["bin"]), "customers": r["customers"]} for r in bins]
    order = [d["value"] for d in data]
    if customers:
        top_share = (sum(t["expected_clv_365d"] or 0 for t in top)
                     / (totals["expected_clv_365d"] or 1))
        title = (f"{customers:,} customers are expected to spend "
                 f"{totals['expected_clv_365d'] or 0:,.0f} {currency} in the next 365 days; "
                 f"the top {len(top)} bring {top_share:.0%}")
    else:
        title = "No customer has purchased yet"
    chart = charts.histogram(data, bin_label="value", value="customers",
                             bin_title=f"Expected value, next 365 days ({currency})",
                             value_title="Customers", order=order,
                             description="Customers by expected value over the next 365 days"
                             ) if data else None
    alive_labels = [f"{b / 10:.1f}–{(b + 1) / 10:.1f}" for b in range(10)]
    alive_data = [{"p_alive": lab, "customers": alive.get(b, 0)}
                  for b, lab in enumerate(alive_labels)]
    tables = [
        Table("Customers by expected value over the next 365 days",
              [f"Expected value ({currency})", "Customers", f"Total ({currency})"],
              [[text(label(r["bin"])), count(r["customers"]), money(r["value"], currency)]
               for r in bins]),
        Table(f"Top {TOP} customers by expected value",
              ["Contact", "Company", f"Revenue so far ({currency})",
               f"Expected, next 365 days ({currency})", "Probability still active",
               "Repeat purchases"],
              [[text(t["contact_id"]), text(t["company"]),
                money(t["historical_revenue"], currency), money(t["expected_clv_365d"], currency),
                share(t["p_alive"]), count(t["frequency"])] for t in top]),
        Table("Customers by probability of still being active", ["Probability", "Customers"],
              [[text(r["p_alive"]), count(r["customers"])] for r in alive_data]),
    ]
    section = Section("value", "Lifetime value", title, chart, tables)
    section.extra_chart = charts.histogram(
        alive_data, bin_label="p_alive", value="customers",
        bin_title="Probability the customer is still active", value_title="Customers",
        order=alive_labels, description="Customers by probability of still being active"
    ) if alive else None
    return section


def forecast_section(con, p: dict, currency: str) -> Section:
    months = rows(con, "forecast", p)
    ahead = [m for m in months if m["series"] == "forecast"]
    tested = [m for m in months if m["series"] == "back-test"]
    total = sum(m["expected_revenue"] for m in ahead)
    if ahead and (total > 0 or tested):
        inside = sum(m["revenue_low"] <= m["actual_revenue"] <= m["revenue_high"] for m in tested)
        title = (f"{total:,.0f} {currency} expected over the next {len(ahead)} months; "
                 f"in the back-test {inside} of {len(tested)} months fell inside the 80% "
                 "interval" if tested else
                 f"{total:,.0f} {currency} expected over the next {len(ahead)} months")
    else:
        title = "No revenue to forecast yet: no purchase so far"
    data = [{"series": m["series"], "month": m["period_start"].isoformat(),
             "expected": m["expected_revenue"], "low": m["revenue_low"],
             "high": m["revenue_high"], "actual": m["actual_revenue"]} for m in months]
    chart = charts.forecast_chart(
        data, currency=currency,
        description="Revenue per month: the forecast with its 80% interval, and the back-test's "
                    "forecasts beside the revenue that happened") if months else None
    table = Table("Revenue per month", ["Series", "Month", f"Expected ({currency})",
                                        f"80% low ({currency})", f"80% high ({currency})",
                                        f"Actual ({currency})"],
                  [[text(m["series"]), text(m["period_start"].isoformat()),
                    money(m["expected_revenue"], currency), money(m["revenue_low"], currency),
                    money(m["revenue_high"], currency), money(m["actual_revenue"], currency)]
                   for m in months])
    note = ("The back-test is the forecast as it was published one month ahead at the end of "
            "each earlier month, with only the data known then (its method and interval chosen "
            "then); black diamonds are the revenue that happened.")
    return Section("forecast", "Revenue forecast", title, chart, [table], note)


def accounts_section(con, p: dict) -> Section:
    top = rows(con, "top_accounts", p | {"n": TOP})
    totals = rows(con, "account_totals", p)[0]
    accounts = int(totals["accounts"] or 0)
    title = (f"{totals['engaged_90d']:,} of {accounts:,} accounts had activity in the last 90 "
             f"days; {totals['with_customers']:,} have a customer" if accounts
             else "No account yet")
    data = [{"account": a["name"], "contacts": a["engaged_contacts_90d"]} for a in top]
    chart = charts.bar_chart(data, category="account", value="contacts",
                             category_title="Account", value_title="Contacts active in 90 days",
                             sort=[a["name"] for a in top],
                             description="Accounts with the most contacts active in the last "
                                         "90 days") if top else None
    table = Table(f"Top {TOP} accounts by contacts active in the last 90 days",
                  ["Account", "Domain", "Contacts", "Active in 90 days", "Customers",
                   "Open leads", "Activities, 90 days", "Trend"],
                  [[text(a["name"]), text(a["domain"]), count(a["contacts"]),
                    count(a["engaged_contacts_90d"]), count(a["customers"]),
                    count(a["open_leads"]), count(a["activities_90d"]), text(a["trend"])]
                   for a in top])
    return Section("accounts", "Accounts", title, chart, [table])


def all_sections(con, tenant_id: str, as_of: date, currency: str) -> list[Section]:
    """Every section of the report, in reading order."""
    p = {"t": tenant_id, "d": as_of}
    return [
        imports_section(con, p), hygiene_section(con, p), segments_section(con, p),
        lifecycle_section(con, p), engagement_section(con, p), value_section(con, p, currency),
        forecast_section(con, p, currency), accounts_section(con, p),
    ]


def overview(con, tenant_id: str) -> dict:
    return rows(con, "overview", {"t": tenant_id})[0]


def _by(items: list[dict], key: str, value: str) -> dict:
    out: dict = {}
    for item in items:
        out[item[key]] = out.get(item[key], 0) + item[value]
    return out
