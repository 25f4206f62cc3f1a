"""Shared fixtures: a real in-memory warehouse with every table."""

from __future__ import annotations

from datetime import datetime

import pytest

from crm_pipeline.audit import ChangeContext
from crm_pipeline.warehouse import connect, create_tables


@pytest.fixture
def con():
    c = connect(":memory:")
    create_tables(c)
    yield c
    c.close()


@pytest.fixture
def ctx():
    return ChangeContext("t1", "run-1", "pipeline", "system", b"secret-key", datetime(2026, 1, 1, 12))
