"""Contacts created and edited by hand, by people and agents: one change at a time, all or nothing.

A change (create, set, tag, delete, note) is checked whole before anything is written: the actor
against the roles registry (its kind comes from there, never from the input), the fields against
the editable ones, every value through the same normalizers as an import (an email without a
domain is refused, not stored empty), the contact within the tenant only (another tenant's id is
answered like an id that never existed). Then it is written through the one audited write path
(`contacts.store`) in one transaction: contact, audit rows, hand-set marks, consent history and
notes commit together or not at all. Hand-set fields are marked (`core.manual_fields`) and a run
keeps them whatever later imports say.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import polars as pl

from crm_pipeline.contacts.consent import record_consent_changes
from crm_pipeline.contacts.normalize.contacts import normalize_contacts
from crm_pipeline.contacts.normalize.fields import tags as normalize_tags
from crm_pipeline.contacts.store import (
    CONTACT_FIELDS,
    add_contact_notes,
    delete_contacts,
    mark_manual_fields,
    set_contact_fields,
    upsert_contacts,
)
from crm_pipeline.errors import CrmError, UnknownContact
from crm_pipeline.tenants import get_tenant
from crm_pipeline.trust.audit import ChangeContext
from crm_pipeline.trust.roles import EDITABLE_FIELDS, Roles
from crm_pipeline.warehouse import frame, run, transaction

OPS = ("create", "set", "tag", "delete", "note")
NOTE_MAX_CHARS = 20_000
# Fields whose normalizer reports a problem as `<field>_issue`.
CHECKED_FIELDS = ("email", "phone", "country", "birthdate", "company_size")


class BadChange(CrmError):
    """A change that cannot be applied, with the reason code a changes file quarantines it by."""

    def __init__(self, reason: str, message: str):
        self.reason = reason
        super().__init__(message)


@dataclass
class Change:
    """One operation on one contact, as a command or a changes line gives it."""

    op: str
    actor: str | None
    contact_id: str | None = None
    fields: dict[str, object] = field(default_factory=dict)
    add_tags: list[str] = field(default_factory=list)
    remove_tags: list[str] = field(default_factory=list)
    note: str | None = None
    at: datetime | None = None  # when it happened (notes); the write's own time is now


def _refused(exc: CrmError) -> BadChange:
    reason = getattr(exc, "reason", None)
    if reason is None:
        reason = "unknown_contact" if isinstance(exc, UnknownContact) else "invalid_value"
    return BadChange(reason, str(exc))


def actor_context(roles: Roles, tenant_id: str, actor: str | None, run_id: str, key: bytes,
                  at: datetime) -> ChangeContext:
    """The write's context: the actor's kind from the registry; a missing actor or one that
    only looks like an agent (or the pipeline) is refused."""
    if actor is None or not str(actor).strip():
        raise BadChange("missing_actor", "no actor: every write names who makes it (--actor "
                                         "NAME, or \"actor\" in a changes line)")
    actor = str(actor).strip()
    looks = roles.lookalike(actor)
    if looks is not None:
        raise BadChange("actor_not_permitted",
                        f"actor_not_permitted: {actor!r} only looks like {looks!r}; writes as "
                        "a look-alike name are refused")
    kind = roles.kind_of(actor)
    if kind == "agent":
        actor = roles.agent(actor).name  # the registry's name: `Cheryl` is recorded as cheryl
    if kind == "system":
        raise BadChange("actor_not_permitted", f"actor_not_permitted: {actor!r} is the "
                                               "pipeline itself; a hand-made change names a "
                                               "person or an agent")
    return ChangeContext(tenant_id, run_id, actor, kind, key, at)


def _check_permitted(roles: Roles, ctx: ChangeContext, change: Change) -> None:
    who = f"{ctx.actor_kind} {ctx.actor}"
    if change.op in ("create", "delete") and not roles.may_create(ctx.actor):
        raise BadChange("actor_not_permitted",
                        f"actor_not_permitted: {who} may not {change.op} contacts (its role "
                        "has no creates: true)")
    wanted = set(change.fields)
    if change.op == "tag" or "tags" in wanted:
        wanted.add("tags")
    if change.op == "note":
        wanted.add("notes")
    refused = sorted(f for f in wanted if not roles.may_edit(ctx.actor, f))
    if refused:
        raise BadChange("actor_not_permitted",
                        f"actor_not_permitted: {who} may not edit {', '.join(refused)} (not in "
                        "its role's edits)")


def normalized_values(fields: dict[str, object], region: str) -> dict[str, object]:
    """Field values through the import's normalizers; an unknown field or a value its
    normalizer rejects is refused (`unknown_field`, `invalid_value`). An empty value clears."""
    unknown = sorted(set(fields) - set(EDITABLE_FIELDS))
    if unknown:
        raise BadChange("unknown_field", f"unknown field {unknown[0]!r}: a contact's editable "
                                         f"fields are {', '.join(EDITABLE_FIELDS)}")
    raw = {}
    for name, value in fields.items():
        if isinstance(value, list) and name == "tags":
            value = ";".join(str(v) for v in value)
        if value is not None and not isinstance(value, str | int | float):
            raise BadChange("invalid_value", f"{name}: give a text value, not {value!r}")
        raw[name] = None if value is None or str(value).strip() == "" else str(value)
    if not raw:
        return {}
    given = pl.DataFrame({"row_number": [1], **{k: [v] for k, v in raw.items()}},
                         schema={"row_number": pl.Int64, **{k: pl.String for k in raw}})
    norm = normalize_contacts(given, default_region=region).row(0, named=True)
    values: dict[str, object] = {}
    for name, value in raw.items():
        issue = norm.get(f"{name}_issue") if name in CHECKED_FIELDS else None
        if value is not None and (issue or norm.get(name) in (None, [], "")):
            raise BadChange("invalid_value", f"{name}={value!r} is not valid ({issue or 'empty'}"
                                             "): nothing was changed")
        values[name] = norm.get(name) if value is not None else None
        if name == "email":
            values["email_status"] = "valid" if value is not None else "missing"
        elif name == "phone":
            values["phone_status"] = "valid" if value is not None else "missing"
            values["phone_type"] = norm.get("phone_type") if value is not None else None
        elif name == "company":
            values["company_key"] = norm.get("company_key")
    return values


def _contact(con: duckdb.DuckDBPyConnection, tenant_id: str, contact_id: str | None) -> dict:
    """The tenant's contact of this id (or alias), as a row; another tenant's id is unknown."""
    if not contact_id or not str(contact_id).strip():
        raise BadChange("unknown_contact", "no contact id: give --contact ID "
                                           "(or \"contact_id\" in a changes line)")
    rows = frame(con, f"""
        SELECT contact_id, {", ".join(CONTACT_FIELDS)} FROM core.contacts
        WHERE tenant_id = $t AND contact_id = coalesce(
            (SELECT contact_id FROM core.contacts WHERE tenant_id = $t AND contact_id = $c),
            (SELECT contact_id FROM core.contact_aliases WHERE tenant_id = $t AND alias_id = $c
             LIMIT 1))""", {"t": tenant_id, "c": str(contact_id).strip()})
    if rows.height == 0:
        raise BadChange("unknown_contact", f"no contact {contact_id!r} in tenant {tenant_id!r}: "
                                           "check the id")
    return rows.row(0, named=True)


def _new_contact_id(ctx: ChangeContext, values: dict) -> str:
    text = json.dumps([ctx.tenant_id, ctx.run_id, ctx.actor, ctx.at.isoformat(), values],
                      default=str, sort_keys=True)
    return "c_" + hashlib.sha256(("manual|" + text).encode()).hexdigest()[:16]


def _note_id(ctx: ChangeContext, contact_id: str, at: datetime, body: str) -> str:
    text = "\x1f".join([ctx.tenant_id, contact_id, ctx.actor, at.isoformat(), body, ctx.run_id])
    return "n_" + hashlib.sha256(text.encode()).hexdigest()[:16]


def _consent(con, ctx: ChangeContext, before: dict, values: dict) -> None:
    if "consent_status" not in values:
        return
    schema = {"contact_id": pl.String, "consent_status": pl.String}
    old = pl.DataFrame([before] if before else [], schema=schema)
    new = pl.DataFrame([{"contact_id": values["contact_id"],
                         "consent_status": values["consent_status"]}], schema=schema)
    record_consent_changes(con, ctx, old, new, source=f"manual:{ctx.actor_kind}:{ctx.actor}")


def apply_change(con: duckdb.DuckDBPyConnection, roles: Roles, ctx: ChangeContext,
                 change: Change) -> dict:
    """Check one change whole, then write it in one transaction; returns what it did
    ({op, contact_id, changed}). Raises BadChange (nothing written) when refused."""
    if change.op not in OPS:
        raise BadChange("unknown_op", f"unknown op {change.op!r}: use one of {', '.join(OPS)}")
    _check_permitted(roles, ctx, change)
    tenant = get_tenant(con, ctx.tenant_id)
    region = (tenant.home_country if tenant else None) or "US"
    try:
        values = normalized_values(change.fields, region)
        if change.op in ("tag",):
            tags = [t for raw in (*change.add_tags, *change.remove_tags) for t in _tag_list(raw)]
            if not tags:
                raise BadChange("invalid_value", "give --add TAG or --remove TAG")
        if change.op == "note" and not (change.note or "").strip():
            raise BadChange("invalid_value", "a note needs its text (\"note\" or --text)")
        if change.op == "note" and len(change.note) > NOTE_MAX_CHARS:
            raise BadChange("invalid_value", f"a note holds at most {NOTE_MAX_CHARS} characters")
        if change.op in ("set",) and not values:
            raise BadChange("invalid_value", "nothing to set: give field=value")
        current = None if change.op == "create" else _contact(con, ctx.tenant_id,
                                                               change.contact_id)
    except BadChange:
        raise
    except CrmError as exc:
        raise _refused(exc) from None
    with transaction(con):
        return _write(con, ctx, change, values, current)


def _write(con, ctx: ChangeContext, change: Change, values: dict, current: dict | None) -> dict:
    op = change.op
    if op == "create":
        if not any(values.get(f) for f in ("first_name", "last_name", "email", "phone")):
            raise BadChange("missing_identity", "a contact needs a name, an email or a phone")
        row = {f: values.get(f) for f in CONTACT_FIELDS}
        row["created_at"] = ctx.at
        row["consent_status"] = row["consent_status"] or "unknown"
        for status in ("email_status", "phone_status"):
            row[status] = row[status] or "missing"
        contact_id = _new_contact_id(ctx, values)
        row["contact_id"] = contact_id
        upsert_contacts(con, ctx, pl.DataFrame([row], schema=_contact_schema(con)))
        mark_manual_fields(con, ctx, _marks(contact_id, change.fields))
        _consent(con, ctx, {}, {"contact_id": contact_id, **values})
        return {"op": op, "contact_id": contact_id, "changed": 1}
    contact_id = current["contact_id"]
    if op == "delete":
        n = delete_contacts(con, ctx, [contact_id])
        run(con, "DELETE FROM core.manual_fields WHERE tenant_id = $t AND contact_id = $c",
            {"t": ctx.tenant_id, "c": contact_id})
        return {"op": op, "contact_id": contact_id, "changed": n}
    if op == "note":
        at = change.at or ctx.at
        notes = pl.DataFrame({"note_id": [_note_id(ctx, contact_id, at, change.note)],
                              "contact_id": [contact_id], "noted_at": [at],
                              "body": [change.note.strip()]},
                             schema={"note_id": pl.String, "contact_id": pl.String,
                                     "noted_at": pl.Datetime("us"), "body": pl.String})
        add_contact_notes(con, ctx, notes)
        return {"op": op, "contact_id": contact_id, "changed": 1}
    if op == "tag":
        tags = list(current["tags"] or [])
        add = [t for raw in change.add_tags for t in _tag_list(raw)]
        remove = {t.casefold() for raw in change.remove_tags for t in _tag_list(raw)}
        tags = [t for t in tags if t.casefold() not in remove]
        tags += [t for t in add if t.casefold() not in {x.casefold() for x in tags}]
        values = {"tags": tags}
        marked = {"tags": tags}
    else:
        marked = change.fields
    update = {"contact_id": contact_id, **values}
    schema = {k: v for k, v in _contact_schema(con).items() if k in update}
    result = set_contact_fields(con, ctx, pl.DataFrame([update], schema=schema))
    mark_manual_fields(con, ctx, _marks(contact_id, marked))
    _consent(con, ctx, {"contact_id": contact_id, "consent_status": current["consent_status"]},
             update)
    return {"op": op, "contact_id": contact_id, "changed": result["updated"]}


def _tag_list(raw: str) -> list[str]:
    return list(normalize_tags(pl.Series([raw], dtype=pl.String)).to_list()[0] or [])


def _marks(contact_id: str, fields) -> pl.DataFrame:
    return pl.DataFrame({"contact_id": [contact_id] * len(fields), "field": sorted(fields)},
                        schema={"contact_id": pl.String, "field": pl.String})


def _contact_schema(con) -> dict[str, pl.DataType]:
    """Polars types of core.contacts' fields (a one-row frame of Nones needs them)."""
    empty = frame(con, f"SELECT contact_id, {', '.join(CONTACT_FIELDS)} FROM core.contacts "
                       "LIMIT 0")
    return dict(empty.schema)


def parse_change_line(line: str, tenant_id: str) -> Change:
    """One line of a changes file as a Change (refused with a reason code when it is not one)."""
    try:
        doc = json.loads(line, object_pairs_hook=_no_repeats)
    except ValueError as exc:
        raise BadChange("unparseable_row", f"not a JSON object: {exc}") from None
    if not isinstance(doc, dict):
        raise BadChange("unparseable_row", "not a JSON object")
    if doc.get("tenant_id") not in (None, tenant_id):
        raise BadChange("tenant_mismatch", f"the line is for tenant {doc.get('tenant_id')!r}, "
                                           f"the import for {tenant_id!r}")
    op = str(doc.get("op") or "").strip().lower()
    fields = doc.get("fields") or {}
    if not isinstance(fields, dict):
        raise BadChange("unparseable_row", "\"fields\" must be an object of field: value")
    at = None
    if doc.get("at") is not None:
        try:
            at = datetime.fromisoformat(str(doc["at"]).replace("Z", "+00:00"))
        except ValueError:
            raise BadChange("bad_timestamp", f"at={doc['at']!r} is not an ISO 8601 time") from None
        if at.tzinfo is None:
            raise BadChange("bad_timestamp", f"at={doc['at']!r} has no time zone")
        at = at.astimezone(UTC).replace(tzinfo=None)
    add = fields.pop("add", None) if op == "tag" else None
    remove = fields.pop("remove", None) if op == "tag" else None
    note = fields.pop("note", None) if op == "note" else None
    note = note if note is not None else doc.get("note") if op == "note" else None
    return Change(op=op, actor=doc.get("actor"), contact_id=doc.get("contact_id"),
                  fields=fields if op in ("create", "set") else {},
                  add_tags=_as_list(add), remove_tags=_as_list(remove),
                  note=None if note is None else str(note), at=at)


def _as_list(value) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _no_repeats(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("a key is repeated")
    return dict(pairs)
