"""Who may write which activity types and read which marts (`data/reference/roles.yaml`).

Only agents are restricted: users and the system write every type and read every mart, as the
people and processes that run the CRM. An agent is named by the file; a line that gives no
actor_kind is an agent's when its actor is listed, otherwise a user's. The grants also come as
small frames so that a whole batch is checked with one join instead of a call per line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl
import yaml

from .errors import CrmError
from .paths import REFERENCE_DIR, SQL_DIR

ROLES_FILE = REFERENCE_DIR / "roles.yaml"
ACTOR_KINDS = ("user", "agent", "system")
# The activity vocabulary (CONTRACT.md): what a grant can name.
ACTIVITY_TYPES = (
    "email", "call", "meeting", "support", "purchase", "webinar", "download", "form_submission",
    "subscription_start", "subscription_end", "email_bounce", "refund",
)


def mart_names() -> tuple[str, ...]:
    """Tables of the `marts` schema, from their DDL files (a grant can name only these)."""
    return tuple(sorted(p.stem for p in (SQL_DIR / "tables" / "marts").glob("*.sql")))


@dataclass(frozen=True)
class Agent:
    """One agent's grants."""

    name: str
    role: str
    writes: frozenset[str]
    reads: frozenset[str]


@dataclass(frozen=True)
class Roles:
    """The agents and their grants; everyone else is unrestricted."""

    agents: dict[str, Agent]

    @classmethod
    def load(cls, path: Path | str | None = None) -> Roles:
        """Roles from a YAML file (the project's default when None), checked before use."""
        path = Path(path) if path else ROLES_FILE
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise CrmError(
                f"{path}: cannot read the roles file ({exc}): fix or restore it"
            ) from exc
        return cls.from_dict(doc, source=str(path))

    @classmethod
    def from_dict(cls, doc: dict, source: str = "roles") -> Roles:
        """Roles from an already-parsed document `{agents: {name: {role, writes, reads}}}`."""
        entries = doc.get("agents") if isinstance(doc, dict) else None
        if not isinstance(entries, dict):
            raise CrmError(f"{source}: no 'agents' mapping: list each agent under 'agents:'")
        marts = set(mart_names())
        agents = {}
        for name, entry in entries.items():
            entry = entry or {}
            writes = frozenset(str(t).strip().lower() for t in entry.get("writes") or [])
            reads = frozenset(str(m).strip().lower() for m in entry.get("reads") or [])
            bad_types = sorted(writes - set(ACTIVITY_TYPES))
            if bad_types:
                raise CrmError(
                    f"{source}: agent {name!r} may write unknown activity types {bad_types}: "
                    f"use only {', '.join(ACTIVITY_TYPES)}"
                )
            bad_marts = sorted(reads - marts)
            if bad_marts:
                raise CrmError(
                    f"{source}: agent {name!r} may read unknown marts {bad_marts}: "
                    f"use only {', '.join(sorted(marts))}"
                )
            key = str(name).strip().lower()
            agents[key] = Agent(key, str(entry.get("role") or key), writes, reads)
        return cls(agents)

    def is_agent(self, actor: str | None) -> bool:
        return actor is not None and actor.strip().lower() in self.agents

    def kind_of(self, actor: str | None, actor_kind: str | None) -> str:
        """The actor's kind: as given, else agent when listed here, else user."""
        if actor_kind and actor_kind.strip():
            return actor_kind.strip().lower()
        return "agent" if self.is_agent(actor) else "user"

    def may_write(self, actor: str | None, actor_kind: str | None, activity_type: str) -> bool:
        """Whether this actor may log an activity of this type."""
        kind = self.kind_of(actor, actor_kind)
        if kind in ("user", "system"):
            return True
        if kind != "agent" or not actor:
            return False
        agent = self.agents.get(actor.strip().lower())
        return agent is not None and activity_type.strip().lower() in agent.writes

    def may_read(self, actor: str | None, actor_kind: str | None, mart: str) -> bool:
        """Whether this actor may read a mart (`engagement` or `marts.engagement`)."""
        kind = self.kind_of(actor, actor_kind)
        if kind in ("user", "system"):
            return True
        if kind != "agent" or not actor:
            return False
        agent = self.agents.get(actor.strip().lower())
        return agent is not None and mart.strip().lower().removeprefix("marts.") in agent.reads

    def agents_frame(self) -> pl.DataFrame:
        """Agent names (lower case), for joins."""
        return pl.DataFrame({"actor": sorted(self.agents)}, schema={"actor": pl.String})

    def write_grants(self) -> pl.DataFrame:
        """Every allowed (agent, activity type) pair, for joins."""
        pairs = sorted((a.name, t) for a in self.agents.values() for t in a.writes)
        return pl.DataFrame(
            {"actor": [p[0] for p in pairs], "type": [p[1] for p in pairs]},
            schema={"actor": pl.String, "type": pl.String},
        )

    def permitted(self, frame: pl.DataFrame) -> pl.Series:
        """`may_write` over a frame of actor, actor_kind, type: one join, no call per row."""
        frame = frame.select(pl.col("actor", "actor_kind", "type").cast(pl.String))
        actor = pl.col("actor").str.strip_chars().str.to_lowercase()
        given = pl.col("actor_kind").str.strip_chars().str.to_lowercase()
        agents = self.agents_frame()["actor"]
        kind = (
            pl.when(given.is_not_null() & (given != ""))
            .then(given)
            .when(actor.is_in(agents.implode()))
            .then(pl.lit("agent"))
            .otherwise(pl.lit("user"))
        )
        grants = self.write_grants().with_columns(pl.lit(True).alias("_granted"))
        keyed = frame.select(
            kind.alias("_kind"),
            actor.alias("actor"),
            pl.col("type").str.strip_chars().str.to_lowercase().alias("type"),
        ).join(grants, on=["actor", "type"], how="left", maintain_order="left")
        return keyed.select(
            (
                pl.col("_kind").is_in(["user", "system"])
                | ((pl.col("_kind") == "agent") & pl.col("_granted").fill_null(False))
            ).alias("permitted")
        )["permitted"]
