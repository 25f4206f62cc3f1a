"""Roles: which agents may write which activity types and read which marts."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_pipeline.errors import CrmError
from crm_pipeline.trust.roles import ACTIVITY_TYPES, Roles, readable_tables

ROLES = Roles.load()


@pytest.mark.parametrize(
    ("actor", "kind", "activity_type", "allowed"),
    [
        ("mercer", "agent", "email", True),
        ("mercer", "agent", "form_submission", True),
        ("mercer", "agent", "purchase", False),
        ("mercer", None, "support", False),
        ("MERCER", "Agent", "call", True),
        ("cheryl", None, "support", True),
        ("cheryl", "agent", "meeting", False),
        ("binky", "agent", "purchase", False),
        ("tina", "agent", "purchase", False),
        ("social_publisher", "agent", "email", False),
        ("someone_new", "agent", "email", False),
        (None, "agent", "email", False),
        ("dana", None, "refund", True),
        # the kind comes from the registry: a declared kind that disagrees is refused
        ("mercer", "user", "purchase", False),
        ("tina", "system", "email", False),
        ("tina", "User", "email", False),
        ("billing", "system", "subscription_end", False),
        ("dana", "User", "refund", True),
        ("pipeline", "system", "subscription_end", True),
        ("Pipeline", None, "purchase", True),
        ("dana", "robot", "email", False),
        # a name that only looks like an agent's or the system's is neither, nor a person
        ("t\u0456na", None, "email", False),
        ("t\u0456na", "user", "email", False),
        ("\u0422INA", None, "email", False),
        ("p\u0456peline", "system", "purchase", False),
        # the same name, folded (full-width letters, case, invisible characters): the agent
        ("\uff54\uff49\uff4e\uff41", None, "email", False),
        ("CHER\u200bYL", None, "support", True),
    ],
)
def test_agents_are_limited_to_their_grants_and_everyone_else_is_not(
    actor, kind, activity_type, allowed
):
    assert ROLES.may_write(actor, kind, activity_type) is allowed


def test_the_kind_comes_from_the_registry_never_from_the_line():
    assert ROLES.kind_of("Cheryl", None) == "agent"
    assert ROLES.kind_of("dana", "") == "user"
    assert ROLES.kind_of("cheryl", "system") == "agent"
    assert ROLES.kind_of("dana", "system") == "user"
    assert ROLES.kind_of("pipeline", None) == "system"
    assert ROLES.kind_of(None, "system") == "user"


def test_the_system_actor_is_the_pipelines_own_name():
    from crm_pipeline.pipeline import PIPELINE_ACTOR
    from crm_pipeline.trust.roles import SYSTEM_ACTOR

    assert SYSTEM_ACTOR == PIPELINE_ACTOR


def test_a_lookalike_name_is_named_with_the_agent_it_imitates():
    assert ROLES.lookalike("t\u0456na") == "tina"
    assert ROLES.lookalike("m\u0435rcer") == "mercer"
    assert ROLES.lookalike("p\u0456peline") == "pipeline"
    assert ROLES.lookalike("tina") is None and ROLES.lookalike("TINA") is None
    assert ROLES.lookalike("jane.rep") is None


def test_marts_are_readable_by_granted_agents_users_and_the_system():
    assert ROLES.may_read("tina", "agent", "marts.customer_ltv")
    assert not ROLES.may_read("social_publisher", None, "customer_ltv")
    assert ROLES.may_read("social_publisher", None, "contact_segments")
    assert ROLES.may_read("dana", "user", "customer_ltv")
    assert not ROLES.may_read("unknown_bot", "agent", "engagement")
    # a kind claimed, or a name that only looks like an agent's, reads nothing
    assert not ROLES.may_read("social_publisher", "user", "customer_ltv")
    assert not ROLES.may_read("t\u0456na", None, "engagement")


def test_the_default_file_grants_only_known_types_and_marts():
    grants = ROLES.write_grants()
    assert set(grants["type"]) <= set(ACTIVITY_TYPES)
    assert {a.name for a in ROLES.agents.values()} >= {"mercer", "cheryl", "binky", "tina"}
    for agent in ROLES.agents.values():
        assert agent.reads <= set(readable_tables())


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["mercer", "Cheryl", "binky", "dana", None, " mercer ", "pipeline",
                             "t\u0456na", "\u0422INA", "\uff4d\uff45\uff52\uff43\uff45\uff52"]),
            st.sampled_from(["agent", "user", "system", "robot", None, ""]),
            st.sampled_from([*ACTIVITY_TYPES, "Email"]),
        ),
        max_size=30,
    )
)
def test_the_vectorised_check_agrees_with_may_write(rows):
    frame = pl.DataFrame(rows, schema=["actor", "actor_kind", "type"], orient="row")
    expected = [ROLES.may_write(a, k, t) for a, k, t in rows]
    assert ROLES.permitted(frame).to_list() == expected


@pytest.mark.parametrize(
    ("doc", "problem"),
    [
        ({"agents": {"x": {"writes": ["telegram"]}}}, "unknown activity types"),
        ({"agents": {"x": {"reads": ["secrets"]}}}, "unknown table"),
        ({"agents": {"x": {"reads": ["audit.changes"]}}}, "unknown table"),
        ({"agents": {"x": {"reads": ["raw.*"]}}}, "unknown table"),
        ({"agents": {"x": {"edits": ["contact_id"]}}}, "unknown fields"),
        ({"agents": {"x": {"creates": "yes"}}}, "creates must be true or false"),
        ({"roles": []}, "no 'agents' mapping"),
        ({"agents": {"tina": {}, "t\u0456na": {}}}, "looks like 'tina'"),
        ({"agents": {"Tina": {}, "TINA": {}}}, "looks like 'tina'"),
        ({"agents": {"p\u0456peline": {}}}, "the pipeline itself"),
    ],
)
def test_a_roles_file_naming_unknown_things_is_refused(tmp_path, doc, problem):
    import yaml

    path = tmp_path / "roles.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(CrmError, match=problem):
        Roles.load(path)


def test_reads_name_tables_and_groups_and_personal_columns_are_a_grant_of_their_own():
    binky, cheryl, tina = (ROLES.agent(n) for n in ("binky", "cheryl", "tina"))
    assert "marts.revenue_forecast" in binky.reads and "core.contacts" not in binky.reads
    assert "core.contacts" in cheryl.reads and cheryl.reads_personal
    assert not binky.may_read_column("email") and binky.may_read_column("company")
    assert cheryl.may_read_column("email")
    assert tina.reads >= {"marts.customer_ltv", "marts.contact_segments"}


def test_edits_and_creates_bind_agents_only():
    assert ROLES.may_edit("cheryl", "email") and not ROLES.may_edit("tina", "email")
    assert ROLES.may_edit("dana", "email")  # a person
    assert not ROLES.may_edit("t\u0456na", "email")  # a look-alike of an agent
    assert ROLES.may_create("frank") and not ROLES.may_create("cheryl")
    assert ROLES.may_create("dana")


def test_a_tenants_own_file_replaces_an_agent_entry_whole(tmp_path):
    from crm_pipeline.home import Home
    from crm_pipeline.trust.roles import tenant_roles_file

    home = Home(tmp_path)
    path = tenant_roles_file(home, "t1")
    path.parent.mkdir(parents=True)
    path.write_text("agents:\n  tina:\n    reads: [marts.*]\n    reads_personal: false\n"
                    "  newbot:\n    reads: [contact_segments]\n", encoding="utf-8")
    roles = Roles.for_tenant(home, "t1")
    assert "marts.engagement" in roles.agent("tina").reads
    assert roles.agent("newbot").reads == {"marts.contact_segments"}
    assert roles.agent("cheryl") == ROLES.agent("cheryl")
    assert Roles.for_tenant(home, "t2") == ROLES
