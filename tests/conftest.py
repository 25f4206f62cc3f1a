"""Shared fixtures: a real in-memory warehouse with every table."""

from __future__ import annotations

import os
from datetime import datetime

import pytest
from hypothesis import HealthCheck, settings

from crm_pipeline.trust.audit import ChangeContext
from crm_pipeline.warehouse import connect, create_tables

# Tests never assert on timing: no per-example deadline, and no health check failing a property
# because a shared machine made its examples slow to generate.
settings.register_profile("crm", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("crm")

# No PNG preview of the report in the many runs of the suite (a browser start each); the tests
# of the preview and of the Dagster UI switch it on for their own runs.
os.environ["CRM_REPORT_PREVIEW"] = "0"


@pytest.fixture
def con():
    c = connect(":memory:")
    create_tables(c)
    yield c
    c.close()


@pytest.fixture
def ctx():
    return ChangeContext("t1", "run-1", "pipeline", "system", b"secret-key", datetime(2026, 1, 1, 12))
