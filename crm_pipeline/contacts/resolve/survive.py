"""Survivorship: the golden record of a contact from all of its source rows.

Each field keeps the value the rules of `field_choice` choose (source priority, then the value
seen in more rows up to a small edit, then the most complete and the most recent; the newest
for fields that change over time; hand-set values are put back by the caller), with one guard:
a source row that would replace two or more of the contact's established contact details
(email, phone, address) is held back, so one row (a look-alike of the person with an attacker's
phone and street, or a stale export) cannot take a contact over. A held row still joins the
contact (nothing is lost) but gives none of its contact details, and its other fields only fill
fields that are empty; it waits in marts.merge_review (`review`) until accepted or split off.
Likewise an email that can pass for another (`normalize.emails.confusable`) never replaces an
established one.

"Established" is what the contact's earlier sources, taken in import order, settled: the guard
is replayed from the first source on every time, so a run that adds a third source (or a rebuild)
decides as the run that first met the held row did (the guard compares with the newest
details, the replay's notion of established, not with the values survivorship kept).
"""

from __future__ import annotations

import re
import unicodedata

import duckdb
import polars as pl

from crm_pipeline.contacts.normalize.emails import confusable
from crm_pipeline.contacts.resolve.field_choice import build_picks, picked_columns
from crm_pipeline.contacts.store import CONTACT_FIELDS
from crm_pipeline.tenants import SURVIVING_FIELDS
from crm_pipeline.warehouse import frame, run

# Fields taken from the most recent source with a non-empty valid value: every golden field but
# those with a rule of their own below.
OWN_RULES = ("source_id", "tags", "notes", "consent_status", "created_at", "email_status",
             "phone_status", "extra")
LATEST_FIELDS = tuple(f for f in CONTACT_FIELDS if f not in OWN_RULES)
# Contact details one new source row may not replace several of at once (how to reach the
# person; a state or country spelled another way is no new detail).
GUARDED_FIELDS = ("email", "phone", "street", "city", "postcode")
MOST_REPLACED = 1  # a row replacing more of the established details than this is held back
HELD_SCHEMA = {"contact_id": pl.String, "import_id": pl.String, "row_number": pl.Int64,
               "held": pl.Boolean, "email_held": pl.Boolean}

# Every source row of the contacts in `_golden_ids`, with its recency as one number (the import's
# place, then the row's, without a sort) and its contact's number of sources.
_SOURCES = """
    imports AS (
        SELECT import_id,
               row_number() OVER (ORDER BY imported_at, import_id) AS import_rank
        FROM raw.imports WHERE tenant_id = $t
    ),
    sizes AS (
        SELECT cs.contact_id, count(*) AS _sources
        FROM core.contact_sources cs JOIN _golden_ids g USING (contact_id)
        WHERE cs.tenant_id = $t GROUP BY cs.contact_id
    ),
    src AS (
        SELECT s.*, cs.contact_id, i.import_rank * 4294967296 + s.row_number AS _rank,
               z._sources
        FROM staging.contact_rows s
        JOIN core.contact_sources cs USING (tenant_id, import_id, row_number)
        JOIN imports i USING (import_id)
        JOIN sizes z ON z.contact_id = cs.contact_id
        WHERE s.tenant_id = $t
    )"""
HELD_UPDATE = "held_update"


def golden_records(
    con: duckdb.DuckDBPyConnection,
    tenant_id: str,
    contact_ids: pl.Series,
    into: str | None = None,
) -> pl.DataFrame:
    """Golden rows for the given contacts from their sources in staging: each field chosen by
    the survivorship rules (`field_choice`), held rows (the module's guard, and rows waiting in
    marts.merge_review) giving no contact detail and only filling empty fields.

    Tags are unioned, notes kept from every source (distinct, in a stable order, so a re-run
    changes nothing), created_at is the earliest, consent the newest known status.
    A contact with one source (most) is that row, taken as it is; of the others, a field all
    sources agree on is taken in one aggregate, and only the fields where they differ go through
    the rules (a few percent of the values).
    With `into`, the rows go to that temporary table instead (a million golden rows then never
    leave DuckDB), the held source rows (`held_sources`) are returned and the temporary table
    `_golden_others` holds the emails and phones of the sources for `secondary`.
    """
    ids = pl.DataFrame({"contact_id": contact_ids.unique()})
    con.register("_golden_ids", ids)
    try:
        held = held_sources(con, tenant_id)
        con.register("_held", held)
        try:
            # The rows of contacts with several sources, read once: the choice and the
            # golden rows both need them.
            source_rows(con, tenant_id, 2)
            run(con, "CREATE OR REPLACE TEMP TABLE _survive_agg AS "
                     + _aggregate_query(guarded=held.height > 0))
            build_picks(con, tenant_id, disputed_only=True)
            query = _golden_query()
            if into:
                run(con, f"CREATE OR REPLACE TEMP TABLE {into} AS {query}", {"t": tenant_id})
                run(con, f"CREATE OR REPLACE TEMP TABLE _golden_others AS {_OTHERS}",
                    {"t": tenant_id})
                return held
            return frame(con, query + " ORDER BY contact_id", {"t": tenant_id})
        finally:
            con.unregister("_held")
            for table in ("_survive_pick", "_survive_agg", "_survive_src"):
                run(con, f"DROP TABLE IF EXISTS {table}")
    finally:
        con.unregister("_golden_ids")


def source_rows(con: duckdb.DuckDBPyConnection, tenant_id: str, min_sources: int) -> None:
    """Temp table `_survive_src`: the source rows of the contacts in `_golden_ids` that have at
    least `min_sources` sources, with their recency, their contact's number of sources and
    whether they are held (`_held` registered: held_sources' frame)."""
    run(con, f"""
        CREATE OR REPLACE TEMP TABLE _survive_src AS WITH {_SOURCES}
        SELECT src.*, coalesce(h.held, false) AS _held,
               coalesce(h.email_held, false) AS _email_held
        FROM src LEFT JOIN _held AS h USING (import_id, row_number)
        WHERE src._sources >= $n""", {"t": tenant_id, "n": min_sources})


# The emails and phones the sources give (candidates for secondary values): the rows of
# contacts with several sources (not held) and the single ones with further values.
_OTHERS = """
    SELECT s.contact_id, s.import_id, s.row_number, i.imported_at, s.email, s.phone,
           s.other_emails, s.other_phones
    FROM _survive_src AS s JOIN raw.imports AS i USING (tenant_id, import_id)
    WHERE NOT s._held
    UNION ALL
    SELECT cs.contact_id, s.import_id, s.row_number, i.imported_at, s.email, s.phone,
           s.other_emails, s.other_phones
    FROM staging.contact_rows AS s
    JOIN core.contact_sources AS cs USING (tenant_id, import_id, row_number)
    JOIN raw.imports AS i USING (tenant_id, import_id)
    WHERE s.tenant_id = $t AND (s.other_emails IS NOT NULL OR s.other_phones IS NOT NULL)
      AND cs.contact_id IN (SELECT contact_id FROM _golden_ids)
      AND cs.contact_id NOT IN (SELECT contact_id FROM _survive_agg)
    """


def _aggregate_query(guarded: bool) -> str:
    """One row per contact of `_survive_src`: every field's newest value (held rows giving no
    contact detail and only filling the fields no other source gives), the other columns'
    aggregates, and `_disputed`: the fields whose sources may differ. A field all its sources
    agree on keeps that value; the others are replaced by `_survive_pick`'s."""
    if guarded:
        latest = {f: _guarded_latest(f) for f in LATEST_FIELDS}
        found = ("bool_or(email IS NOT NULL AND NOT _held)",
                 "bool_or(phone IS NOT NULL AND NOT _held)")
    else:
        latest = {f: f"arg_max({f}, _rank) FILTER (WHERE {f} IS NOT NULL)" for f in LATEST_FIELDS}
        found = ("bool_or(email IS NOT NULL)", "bool_or(phone IS NOT NULL)")
    # Fields whose sources may differ (by hash; a NULL beside a value counts too, cheaper than
    # a filter per field): only these go through the rules.
    disputed = ", ".join(f"CASE WHEN min(hash({f})) <> max(hash({f})) THEN '{f}' END"
                         for f in SURVIVING_FIELDS)
    return (_aggregated(latest, *found)
            + f""",
               list_filter([{disputed}], lambda x: x IS NOT NULL) AS _disputed,
               bool_or(email_status = 'invalid') AS _email_invalid,
               bool_or(phone_status = 'invalid') AS _phone_invalid
        FROM _survive_src GROUP BY contact_id""")


def _aggregated(latest: dict[str, str], email_found: str, phone_found: str) -> str:
    """The select list folding several sources into one golden row."""
    fields = ",\n".join(f"{expr} AS {f}" for f, expr in latest.items())
    return f"""
        SELECT contact_id,
               arg_min(source_id, _rank) AS source_id,
               {fields},
               list_distinct(flatten(list(tags ORDER BY _rank) FILTER (WHERE tags IS NOT NULL)))
                   AS tags,
               string_agg(DISTINCT notes, '\n\n' ORDER BY notes)
                   FILTER (WHERE notes IS NOT NULL) AS notes,
               coalesce(arg_max(consent_status, _rank)
                            FILTER (WHERE consent_status <> 'unknown'), 'unknown')
                   AS consent_status,
               min(created_at) AS created_at,
               CASE WHEN {email_found} THEN 'valid'
                    WHEN bool_or(email_status = 'invalid') THEN 'invalid'
                    ELSE 'missing' END AS email_status,
               CASE WHEN {phone_found} THEN 'valid'
                    WHEN bool_or(phone_status = 'invalid') THEN 'invalid'
                    ELSE 'missing' END AS phone_status,
               arg_max(extra, _rank) FILTER (WHERE extra IS NOT NULL) AS extra"""


def _guarded_latest(f: str) -> str:
    """A field's newest value when some sources are held: held rows give no contact detail and
    only fill other fields no other source gives; a look-alike email gives way to another."""
    newest = f"arg_max({f}, _rank) FILTER (WHERE {f} IS NOT NULL AND NOT _held"
    if f == "email":
        return (f"coalesce({newest} AND NOT _email_held), "
                f"arg_max({f}, _rank) FILTER (WHERE {f} IS NOT NULL AND NOT _held))")
    if f in GUARDED_FIELDS:
        return f"{newest})"
    return f"coalesce({newest}), arg_max({f}, _rank) FILTER (WHERE {f} IS NOT NULL))"


def _golden_query() -> str:
    """One golden row per contact: a single source as it is; several from `_survive_agg`, the
    fields their sources dispute from `_survive_pick` (a value there is never NULL: a field
    without a row there is one all sources agree on, or none gives)."""
    def value(f: str) -> str:
        if f == "company_key":
            return "CASE WHEN k._company_row IS NULL THEN a.company_key ELSE cr.company_key END"
        if f == "phone_type":
            return "CASE WHEN k._phone_row IS NULL THEN a.phone_type ELSE pr.phone_type END"
        return f"coalesce(k.{f}, a.{f})" if f in SURVIVING_FIELDS else f"a.{f}"

    chosen = ", ".join(f"{value(f)} AS {f}" for f in LATEST_FIELDS)
    return f"""
        WITH {_SOURCES},
        picks AS (SELECT {picked_columns()} FROM _survive_pick AS p GROUP BY p.contact_id),
        multi AS (
            SELECT a.contact_id, a.source_id, {chosen},
                   a.tags, a.notes, a.consent_status, a.created_at, a.email_status,
                   a.phone_status, a.extra, a._email_invalid, a._phone_invalid
            FROM _survive_agg AS a
            LEFT JOIN picks AS k USING (contact_id)
            LEFT JOIN _survive_src AS cr
              ON cr.import_id = k._company_import AND cr.row_number = k._company_row
            LEFT JOIN _survive_src AS pr
              ON pr.import_id = k._phone_import AND pr.row_number = k._phone_row
        )
        SELECT contact_id, source_id, {", ".join(LATEST_FIELDS)},
               list_distinct(tags) AS tags, notes,
               CASE WHEN consent_status <> 'unknown' THEN consent_status
                    ELSE 'unknown' END AS consent_status,
               created_at,
               CASE WHEN email IS NOT NULL THEN 'valid'
                    WHEN email_status = 'invalid' THEN 'invalid'
                    ELSE 'missing' END AS email_status,
               CASE WHEN phone IS NOT NULL THEN 'valid'
                    WHEN phone_status = 'invalid' THEN 'invalid'
                    ELSE 'missing' END AS phone_status,
               extra
        FROM src WHERE _sources = 1
        UNION ALL
        SELECT contact_id, source_id, {", ".join(LATEST_FIELDS)}, tags, notes, consent_status,
               created_at,
               CASE WHEN email IS NOT NULL THEN 'valid'
                    WHEN _email_invalid THEN 'invalid' ELSE 'missing' END AS email_status,
               CASE WHEN phone IS NOT NULL THEN 'valid'
                    WHEN _phone_invalid THEN 'invalid' ELSE 'missing' END AS phone_status,
               extra
        FROM multi
        """


def held_sources(con: duckdb.DuckDBPyConnection, tenant_id: str) -> pl.DataFrame:
    """Source rows of the contacts in `_golden_ids` that are held back: `held` (gives no
    contact detail, only fills empty other fields) or `email_held` (its look-alike email does not
    replace the established one), with their contact. Rows waiting in marts.merge_review are
    held; accepted ones never are. Only contacts whose sources disagree on two or more details,
    or on an email with characters outside ASCII, are replayed, in Python; one aggregate finds
    them, and they are few."""
    reviewed = frame(
        con,
        """
        SELECT cs.contact_id, r.import_id, r.row_number, r.status
        FROM marts.merge_review AS r
        JOIN core.contact_sources AS cs USING (tenant_id, import_id, row_number)
        SEMI JOIN _golden_ids AS g ON g.contact_id = cs.contact_id
        WHERE r.tenant_id = $t AND r.status IN ('open', 'accepted')
        """,
        {"t": tenant_id},
    )
    # Two or more distinct values of a detail, compared by hash (integers aggregate faster than
    # text; a collision would only spare a contact the replay, at odds of one in 2**64).
    varies = {f: f"coalesce(min(hash(s.{f})) FILTER (WHERE s.{f} IS NOT NULL) "
                 f"<> max(hash(s.{f})) FILTER (WHERE s.{f} IS NOT NULL), false)"
              for f in GUARDED_FIELDS}
    differs = " + ".join(f"{v}::INT" for v in varies.values())
    disputed = frame(
        con,
        f"""
        WITH shared AS (  -- contacts with more than one source: only they can hold a row back
            SELECT contact_id FROM core.contact_sources JOIN _golden_ids USING (contact_id)
            WHERE tenant_id = $t GROUP BY contact_id HAVING count(*) > 1
        )
        SELECT cs.contact_id
        FROM core.contact_sources cs
        SEMI JOIN shared USING (contact_id)
        JOIN staging.contact_rows s USING (tenant_id, import_id, row_number)
        WHERE cs.tenant_id = $t
        GROUP BY cs.contact_id
        HAVING {differs} > {MOST_REPLACED}
            OR ({varies["email"]} AND bool_or(strlen(s.email) <> length(s.email)))
        """,
        {"t": tenant_id},
    )
    waiting = reviewed.filter(pl.col("status") == "open").select(
        "contact_id", "import_id", "row_number", pl.lit(True).alias("held"),
        pl.lit(False).alias("email_held")).cast(HELD_SCHEMA)
    if disputed.height == 0:
        return waiting
    con.register("_disputed", disputed)
    try:
        rows = frame(
            con,
            f"""
            WITH imports AS (
                SELECT import_id,
                       row_number() OVER (ORDER BY imported_at, import_id) AS import_rank
                FROM raw.imports WHERE tenant_id = $t
            )
            SELECT cs.contact_id, s.import_id, s.row_number,
                   {", ".join(f"s.{f}" for f in GUARDED_FIELDS)},
                   -- the mailbox: plus tags and the dots Gmail ignores make no other address
                   CASE WHEN s.email_local_base IS NOT NULL AND s.email_domain IS NOT NULL
                        THEN s.email_local_base || '@' || s.email_domain
                        ELSE s.email END AS _mailbox
            FROM core.contact_sources cs
            JOIN _disputed d USING (contact_id)
            JOIN staging.contact_rows s USING (tenant_id, import_id, row_number)
            JOIN imports i ON i.import_id = s.import_id
            WHERE cs.tenant_id = $t
            ORDER BY cs.contact_id, i.import_rank, s.row_number
            """,
            {"t": tenant_id},
        )
    finally:
        con.unregister("_disputed")
    rows = rows.with_columns(confusable(rows["email"]).alias("_confusable")).join(
        reviewed.select("import_id", "row_number", pl.col("status").alias("_review")),
        on=["import_id", "row_number"], how="left", maintain_order="left")
    held, email_held = _replayed(rows)
    replayed = rows.select(
        "contact_id", "import_id", "row_number", pl.Series("held", held),
        pl.Series("email_held", email_held),
    ).filter(pl.col("held") | pl.col("email_held")).cast(HELD_SCHEMA)
    return pl.concat([replayed, waiting.join(replayed, on=["import_id", "row_number"],
                                             how="anti")])


def _replayed(rows: pl.DataFrame) -> tuple[list[bool], list[bool]]:
    """The guard replayed over each contact's sources, oldest first (rows sorted so). A row
    waiting for review is held; an accepted one is never held (its details become
    established)."""
    held, email_held = [], []
    established: dict[str, str] = {}
    email_confusable = False
    contact = None
    keys = rows.select(
        "contact_id",
        *[pl.col("_mailbox" if f == "email" else f).cast(pl.String) for f in GUARDED_FIELDS],
        "_confusable", "_review",
    ).iter_rows()
    for contact_id, *values, is_confusable, review in keys:
        details = {f: _key(f, v) for f, v in zip(GUARDED_FIELDS, values, strict=True)
                   if v is not None}
        if contact_id != contact:
            contact, established = contact_id, {}
            email_confusable = False
        replaced = sum(1 for f, v in details.items() if established.get(f, v) != v)
        is_held = review == "open" or (replaced > MOST_REPLACED and review != "accepted")
        look_alike = (
            not is_held and is_confusable and "email" in established
            and not email_confusable and established["email"] != details.get("email")
        )
        held.append(is_held)
        email_held.append(look_alike)
        if is_held:
            continue
        if look_alike:
            details.pop("email")
        elif "email" in details:
            email_confusable = bool(is_confusable)
        established.update(details)
    return held, email_held


def _key(field: str, value: str) -> str:
    """A detail as compared: an address's case, spacing, punctuation and common abbreviations
    (`Street`/`St.`) do not make it another value; emails (as mailboxes) and phones are
    normalized already and compared as they are."""
    if field in ("email", "phone"):
        return value
    folded = unicodedata.normalize("NFKC", value).casefold()
    words = (_ABBREVIATIONS.get(w, w) for w in _WORDS.findall(folded))
    return "".join(w[:-4] if w.endswith("strasse") else w for w in words) or folded


_WORDS = re.compile(r"\w+")
_ABBREVIATIONS = {
    "street": "st", "avenue": "ave", "av": "ave", "road": "rd", "drive": "dr", "boulevard": "blvd",
    "lane": "ln", "court": "ct", "place": "pl", "square": "sq", "highway": "hwy", "parkway": "pkwy",
    "terrace": "ter", "suite": "ste", "apartment": "apt", "floor": "fl", "north": "n",
    "south": "s", "east": "e", "west": "w",
}


def flag_held_rows(con: duckdb.DuckDBPyConnection, tenant_id: str, held: pl.DataFrame,
                   placed: pl.DataFrame) -> None:
    """Record the rows placed now whose contact details were held back (`held_update`, field
    `record`) in staging.field_issues, so marts.data_hygiene lists them for review."""
    rows = held.filter(pl.col("held")).join(
        placed.select("import_id", pl.col("row_number").cast(pl.Int64)),
        on=["import_id", "row_number"], how="semi",
    )
    if rows.height == 0:
        return
    issues = rows.select(
        pl.lit(tenant_id).alias("tenant_id"), "import_id", "row_number",
        pl.lit("record").alias("field"), pl.lit(None, pl.String).alias("original_value"),
        pl.lit(HELD_UPDATE).alias("issue"),
    )
    con.register("_held_issues", issues)
    try:
        run(con, "INSERT INTO staging.field_issues BY NAME SELECT * FROM _held_issues")
    finally:
        con.unregister("_held_issues")
