"""Who may write which activity types, read which tables and edit which contact fields
(`data/reference/roles.yaml`, overridable per tenant by `tenants/<T>/roles.yaml` in the home).

The kind of an actor comes from the registry, never from what a line declares: a name listed
under `agents` is an agent and may do only what its role grants; the pipeline itself
(`SYSTEM_ACTOR`) is the system; anyone else is a person (a user), who writes every type and reads
every mart. Names are compared folded (NFKC, case, invisible characters), and a name that only
*looks like* an agent's or the system's (a Cyrillic `і` in `tіna`) is refused rather than taken
for a person with full rights. A kind a line declares must agree with the registry's, or the
line is refused. The grants also come as small frames so that a whole batch is checked with
one join instead of a call per line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import yaml

from crm_pipeline.errors import CrmError
from crm_pipeline.home import Home
from crm_pipeline.paths import REFERENCE_DIR, SQL_DIR
from crm_pipeline.trust.confusables import confusable, folded
from crm_pipeline.yaml_docs import parsed_yaml

ROLES_FILE = REFERENCE_DIR / "roles.yaml"
ACTOR_KINDS = ("user", "agent", "system")
# The pipeline's own name as an actor (its audit rows and the lines it logs).
SYSTEM_ACTOR = "pipeline"
ACTORS_SCHEMA = {"actor": pl.String, "kind": pl.String, "agent": pl.String,
                 "lookalike": pl.String}
# The activity vocabulary (CONTRACT.md): what a grant can name.
ACTIVITY_TYPES = (
    "email", "call", "meeting", "support", "purchase", "webinar", "download", "form_submission",
    "subscription_start", "subscription_end", "email_bounce", "refund",
)


# Schemas whose tables a `reads` grant may name; raw rows, staging, quarantine, the audit trail
# and the suppression list are never an agent's to read.
READABLE_SCHEMAS = ("core", "marts")
# Columns holding personal data, in any readable table: an agent sees them only with
# `reads_personal: true` (without it they are left out of its file, and a query naming them is
# refused as not_permitted).
PERSONAL_COLUMNS = frozenset({
    "source_id", "first_name", "last_name", "email", "phone", "street", "city", "postcode",
    "birthdate", "notes", "extra", "original_value", "subject", "body",
})
# Contact fields an `edits` grant may name (besides `tags` and `notes`): what a person types
# into a CRM. Derived fields (statuses, match keys) and ids are the pipeline's.
EDITABLE_FIELDS = (
    "first_name", "last_name", "email", "phone", "company", "job_title", "industry",
    "company_size", "street", "city", "postcode", "state", "country", "birthdate", "tags",
    "notes", "lifecycle_stage", "consent_status",
)


def mart_names() -> tuple[str, ...]:
    """Tables of the `marts` schema, from their DDL files (a grant can name only these)."""
    return tuple(sorted(p.stem for p in (SQL_DIR / "tables" / "marts").glob("*.sql")))


def readable_tables() -> tuple[str, ...]:
    """Every table a `reads` grant can name, qualified (`core.contacts`, `marts.engagement`)."""
    return tuple(sorted(
        f"{schema}.{p.stem}" for schema in READABLE_SCHEMAS
        for p in (SQL_DIR / "tables" / schema).glob("*.sql")
    ))


def table_columns(qualified: str) -> tuple[str, ...]:
    """Columns of a warehouse table (`core.contacts`), from its DDL file; () when unknown."""
    schema, _, table = qualified.partition(".")
    path = SQL_DIR / "tables" / schema / f"{table}.sql"
    if not table or not path.is_file():
        return ()
    text = path.read_text(encoding="utf-8").split(";", 1)[0]
    return tuple(re.findall(r"^\s+([a-z_][a-z0-9_]*)\s+[A-Z]", text, flags=re.MULTILINE))


def warehouse_tables() -> tuple[str, ...]:
    """Every table of the warehouse, qualified (what a refusal can name)."""
    return tuple(sorted(f"{p.parent.name}.{p.stem}" for p in (SQL_DIR / "tables").glob("*/*.sql")))


def expand_reads(names, source: str = "roles", agent: str = "?") -> frozenset[str]:
    """A `reads` list as qualified table names: `engagement` is `marts.engagement`,
    `marts.*` every mart, `core.contacts` itself; anything else is refused."""
    known = readable_tables()
    out = set()
    for raw in names or []:
        name = str(raw).strip().lower()
        if name.endswith(".*") and name[:-2] in READABLE_SCHEMAS:
            out.update(t for t in known if t.startswith(name[:-1]))
            continue
        qualified = name if "." in name else f"marts.{name}"
        if qualified not in known:
            raise CrmError(
                f"{source}: agent {agent!r} may read unknown table {raw!r}: name a table of "
                f"{' or '.join(READABLE_SCHEMAS)} (e.g. marts.engagement, core.contacts) or a "
                "group such as marts.*"
            )
        out.add(qualified)
    return frozenset(out)


def tenant_roles_file(home: Home, tenant_id: str) -> Path:
    """The tenant's own roles file in the home: its agents replace the default file's entries
    of the same name, and add to them."""
    return home.shard_dir(tenant_id) / "roles.yaml"


@dataclass(frozen=True)
class Agent:
    """One agent's grants."""

    name: str
    role: str
    writes: frozenset[str]
    reads: frozenset[str]  # qualified table names: marts.engagement, core.contacts
    reads_personal: bool = False
    edits: frozenset[str] = frozenset()  # contact fields, `tags`, `notes`
    creates: bool = False
    description: str = ""
    own_rows_only: bool = False  # tables with a step_owner column: only its own steps' rows

    def row_owners(self) -> tuple[str, ...] | None:
        """The step_owner values whose rows it sees (its name and role), or None for all."""
        return (self.name, self.role.lower()) if self.own_rows_only else None

    def may_read_column(self, column: str) -> bool:
        return self.reads_personal or column.lower() not in PERSONAL_COLUMNS


def _read_yaml(path: Path) -> dict:
    try:
        return parsed_yaml(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise CrmError(f"{path}: cannot read the roles file ({exc}): fix or restore it") from exc


@dataclass(frozen=True)
class Roles:
    """The agents and their grants; everyone else is unrestricted."""

    agents: dict[str, Agent]

    @classmethod
    def load(cls, path: Path | str | None = None) -> Roles:
        """Roles from a YAML file (the project's default when None), checked before use."""
        path = Path(path) if path else ROLES_FILE
        return cls.from_dict(_read_yaml(path), source=str(path))

    @classmethod
    def for_tenant(cls, home: Home, tenant_id: str) -> Roles:
        """The default roles with the tenant's own file (`tenants/<T>/roles.yaml`) laid over
        them: an agent named there replaces the default entry of that name whole."""
        override = tenant_roles_file(home, tenant_id)
        if not override.is_file():
            return cls.load()
        doc = _read_yaml(ROLES_FILE)
        extra = _read_yaml(override)
        entries = extra.get("agents") if isinstance(extra, dict) else None
        if not isinstance(entries, dict):
            raise CrmError(f"{override}: no 'agents' mapping: list each agent under 'agents:'")
        merged = {folded(str(k)): v for k, v in (doc.get("agents") or {}).items()}
        merged.update({folded(str(k)): v for k, v in entries.items()})
        return cls.from_dict({"agents": merged}, source=f"{ROLES_FILE} + {override}")

    @classmethod
    def from_dict(cls, doc: dict, source: str = "roles") -> Roles:
        """Roles from an already-parsed document `{agents: {name: {role, writes, reads}}}`."""
        entries = doc.get("agents") if isinstance(doc, dict) else None
        if not isinstance(entries, dict):
            raise CrmError(f"{source}: no 'agents' mapping: list each agent under 'agents:'")
        agents = {}
        for name, entry in entries.items():
            entry = entry or {}
            if not isinstance(entry, dict):
                raise CrmError(f"{source}: agent {name!r} is not a mapping of role, writes, "
                               "reads, reads_personal, edits, creates")
            writes = frozenset(str(t).strip().lower() for t in entry.get("writes") or [])
            reads = expand_reads(entry.get("reads"), source, str(name))
            edits = frozenset(str(f).strip().lower() for f in entry.get("edits") or [])
            bad_types = sorted(writes - set(ACTIVITY_TYPES))
            if bad_types:
                raise CrmError(
                    f"{source}: agent {name!r} may write unknown activity types {bad_types}: "
                    f"use only {', '.join(ACTIVITY_TYPES)}"
                )
            bad_fields = sorted(edits - set(EDITABLE_FIELDS))
            if bad_fields:
                raise CrmError(
                    f"{source}: agent {name!r} may edit unknown fields {bad_fields}: "
                    f"use only {', '.join(EDITABLE_FIELDS)}"
                )
            for flag in ("reads_personal", "creates", "own_rows_only"):
                if not isinstance(entry.get(flag, False), bool):
                    raise CrmError(f"{source}: agent {name!r}: {flag} must be true or false")
            key = folded(str(name))
            if not key:
                raise CrmError(f"{source}: an agent has an empty name: name every agent")
            for other in [*agents, SYSTEM_ACTOR]:
                if confusable(key, other):
                    raise CrmError(
                        f"{source}: agent {name!r} looks like {other!r}"
                        f"{' (the pipeline itself)' if other == SYSTEM_ACTOR else ''}: "
                        "give every agent a name that cannot be mistaken for another"
                    )
            agents[key] = Agent(key, str(entry.get("role") or key), writes, reads,
                                bool(entry.get("reads_personal", False)), edits,
                                bool(entry.get("creates", False)),
                                str(entry.get("description") or ""),
                                bool(entry.get("own_rows_only", False)))
        return cls(agents)

    def agent(self, actor: str | None) -> Agent | None:
        """The registry's agent of that name (folded), or None."""
        return self.agents.get(folded(actor)) if actor else None

    def is_agent(self, actor: str | None) -> bool:
        return actor is not None and folded(actor) in self.agents

    def lookalike(self, actor: str | None) -> str | None:
        """The agent (or the system's name) this actor only looks like, or None: `tіna` with a
        Cyrillic і looks like the agent `tina` but is not that name."""
        if actor is None:
            return None
        name = folded(actor)
        if name in self.agents or name == SYSTEM_ACTOR:
            return None
        return next((k for k in [*self.agents, SYSTEM_ACTOR] if confusable(actor, k)), None)

    def kind_of(self, actor: str | None, actor_kind: str | None = None) -> str:
        """The actor's kind from the registry: agent when listed, system for the pipeline
        itself, else user. What a line declares (`actor_kind`) never changes it."""
        if actor is None or not folded(actor):
            return "user"
        name = folded(actor)
        if name in self.agents:
            return "agent"
        return "system" if name == SYSTEM_ACTOR else "user"

    def _declared_agrees(self, actor: str | None, actor_kind: str | None) -> bool:
        """A declared kind is only checked: blank, or the registry's kind (any case)."""
        declared = (actor_kind or "").strip().lower()
        return declared == "" or declared == self.kind_of(actor)

    def _grants(self, actor: str | None, actor_kind: str | None) -> Agent | bool:
        """True for unrestricted (a person, the system), an Agent, or False (refused)."""
        if not self._declared_agrees(actor, actor_kind) or self.lookalike(actor):
            return False
        kind = self.kind_of(actor)
        return self.agents[folded(actor)] if kind == "agent" else True

    def may_write(self, actor: str | None, actor_kind: str | None, activity_type: str) -> bool:
        """Whether this actor may log an activity of this type (a declared kind that disagrees
        with the registry, or a look-alike name, may not)."""
        grants = self._grants(actor, actor_kind)
        if isinstance(grants, Agent):
            return activity_type.strip().lower() in grants.writes
        return grants

    def may_read(self, actor: str | None, actor_kind: str | None, mart: str) -> bool:
        """Whether this actor may read a table (`engagement` is `marts.engagement`)."""
        grants = self._grants(actor, actor_kind)
        if isinstance(grants, Agent):
            name = mart.strip().lower()
            return (name if "." in name else f"marts.{name}") in grants.reads
        return grants

    def may_edit(self, actor: str | None, what: str) -> bool:
        """Whether this actor may set a contact field (or `tags`, `notes`): a person may edit
        everything; an agent what its `edits` names; a look-alike name nothing."""
        grants = self._grants(actor, None)
        if isinstance(grants, Agent):
            return what.strip().lower() in grants.edits
        return grants

    def may_create(self, actor: str | None) -> bool:
        """Whether this actor may create a contact (an agent needs `creates: true`)."""
        grants = self._grants(actor, None)
        return grants.creates if isinstance(grants, Agent) else grants

    def actors_frame(self, actors: pl.Series) -> pl.DataFrame:
        """(actor, kind, agent, lookalike) for each distinct actor name, for joins: the
        registry's kind, the agent's registry name, and the name it only looks like."""
        names = actors.cast(pl.String).drop_nulls().unique().sort().to_list()
        rows = [
            (a, self.kind_of(a), folded(a) if self.is_agent(a) else None, self.lookalike(a))
            for a in names
        ]
        return pl.DataFrame(rows, schema=ACTORS_SCHEMA, orient="row")

    def agents_frame(self) -> pl.DataFrame:
        """Agent names (folded), for joins."""
        return pl.DataFrame({"actor": sorted(self.agents)}, schema={"actor": pl.String})

    def write_grants(self) -> pl.DataFrame:
        """Every allowed (agent, activity type) pair, for joins."""
        pairs = sorted((a.name, t) for a in self.agents.values() for t in a.writes)
        return pl.DataFrame(
            {"actor": [p[0] for p in pairs], "type": [p[1] for p in pairs]},
            schema={"actor": pl.String, "type": pl.String},
        )

    def permitted(self, frame: pl.DataFrame) -> pl.Series:
        """`may_write` over a frame of actor, actor_kind, type: names are looked up once per
        distinct actor, then joined; no call per row."""
        frame = frame.select(pl.col("actor", "actor_kind", "type").cast(pl.String))
        actors = self.actors_frame(frame["actor"])
        grants = self.write_grants().rename({"actor": "agent"}).with_columns(
            pl.lit(True).alias("_granted")
        )
        declared = pl.col("actor_kind").str.strip_chars().str.to_lowercase()
        keyed = (
            frame.join(actors, on="actor", how="left", nulls_equal=False, maintain_order="left")
            .with_columns(
                pl.col("kind").fill_null("user"),
                pl.col("type").str.strip_chars().str.to_lowercase(),
            )
            .join(grants, on=["agent", "type"], how="left", maintain_order="left")
        )
        agrees = declared.is_null() | (declared == "") | (declared == pl.col("kind"))
        return keyed.select(
            (
                agrees
                & pl.col("lookalike").is_null()
                & ((pl.col("kind") != "agent") | pl.col("_granted").fill_null(False))
            ).alias("permitted")
        )["permitted"]
