"""Reading contact files and mapping their headers to canonical fields."""

from crm_pipeline.contacts.ingest.files import RawTable, read_table
from crm_pipeline.contacts.ingest.headers import (
    CANONICAL_FIELDS,
    ColumnMapping,
    Source,
    canonical_rows,
    detect_vendor,
    resolve_mapping,
)

__all__ = [
    "CANONICAL_FIELDS",
    "ColumnMapping",
    "RawTable",
    "Source",
    "canonical_rows",
    "detect_vendor",
    "read_table",
    "resolve_mapping",
]
