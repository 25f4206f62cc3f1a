"""Dagster definitions of the Atlas CRM warehouse (thin wrappers over crm_pipeline)."""

import os

# The LTV optimizer makes many tiny BLAS calls: threads only add contention on 2 cores.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
