"""Roles: which agents may write which activity types and read which marts."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_pipeline.errors import CrmError
from crm_pipeline.roles import ACTIVITY_TYPES, Roles, mart_names

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
        ("mercer", "user", "purchase", True),
        ("billing", "system", "subscription_end", True),
        ("dana", "robot", "email", False),
    ],
)
def test_agents_are_limited_to_their_grants_and_everyone_else_is_not(
    actor, kind, activity_type, allowed
):
    assert ROLES.may_write(actor, kind, activity_type) is allowed


def test_a_listed_actor_without_a_kind_is_an_agent_else_a_user():
    assert ROLES.kind_of("Cheryl", None) == "agent"
    assert ROLES.kind_of("dana", "") == "user"
    assert ROLES.kind_of("cheryl", "system") == "system"


def test_marts_are_readable_by_granted_agents_users_and_the_system():
    assert ROLES.may_read("tina", "agent", "marts.customer_ltv")
    assert not ROLES.may_read("social_publisher", None, "customer_ltv")
    assert ROLES.may_read("social_publisher", None, "contact_segments")
    assert ROLES.may_read("dana", "user", "customer_ltv")
    assert not ROLES.may_read("unknown_bot", "agent", "engagement")


def test_the_default_file_grants_only_known_types_and_marts():
    grants = ROLES.write_grants()
    assert set(grants["type"]) <= set(ACTIVITY_TYPES)
    assert {a.name for a in ROLES.agents.values()} >= {"mercer", "cheryl", "binky", "tina"}
    for agent in ROLES.agents.values():
        assert agent.reads <= set(mart_names())


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["mercer", "Cheryl", "binky", "dana", None, " mercer "]),
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
        ({"agents": {"x": {"reads": ["secrets"]}}}, "unknown marts"),
        ({"roles": []}, "no 'agents' mapping"),
    ],
)
def test_a_roles_file_naming_unknown_things_is_refused(tmp_path, doc, problem):
    import yaml

    path = tmp_path / "roles.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(CrmError, match=problem):
        Roles.load(path)
