"""Contact normalization: each canonical field cleaned, validated and given a matching key.

The pipeline calls `normalize_contacts`, then `hygiene_issues` for the data-hygiene mart and
`identity_expr` to tell rows that still identify a person. Each field also has its own module
(`emails`, `phones`, `names`, `companies`, `countries`, `dates`, `fields`), usable alone.
"""

from crm_pipeline.contacts.normalize.contacts import (
    HYGIENE_FIELDS,
    OUTPUT_SCHEMA,
    hygiene_issues,
    identity_expr,
    normalize_contacts,
)

__all__ = [
    "HYGIENE_FIELDS",
    "OUTPUT_SCHEMA",
    "hygiene_issues",
    "identity_expr",
    "normalize_contacts",
]
