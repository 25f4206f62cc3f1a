"""Contact normalization: each canonical field cleaned, validated and given a matching key.

The pipeline calls `normalize_contacts`, then `hygiene_issues` for the data-hygiene mart and
`identity_expr` to tell rows that still identify a person. Each field also has its own module
(`emails`, `phones`, `names`, `companies`, `countries`, `dates`, `fields`), usable alone.
"""
