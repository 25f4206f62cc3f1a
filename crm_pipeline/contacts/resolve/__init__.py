"""Entity resolution: place every pending staged row in a golden contact.

Exact rules first, in order of strength: the same record of the same source system (re-exports),
the same normalized email, the same E.164 phone with compatible names (colleagues share a
company's main line, so a phone alone is not enough). Then probabilistic matching: candidate pairs
from several blocking keys (`blocking`), compared field by field (`compare`), weighted with m and u
estimated from the tenant's data (`train`, the tenant's model in `model`, pair scores in
`score`), linked at one default threshold, and clustered so that one weak link cannot chain
different people (`cluster`). `decide` makes a tenant's decision without writing; `apply` writes
it (`resolve_tenant` does both); `ahead` decides the next tenant while one is written.

Incremental: only pending rows are compared, against every row of the tenant; the sources of an
existing contact stay together, so ids are stable. When a new row joins several existing contacts
the oldest id survives and the others become aliases. Every accepted link is stored with its
evidence in core.match_evidence; a pair split by `crm unmerge` is never joined again.
"""
