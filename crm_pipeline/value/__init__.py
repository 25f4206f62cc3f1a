"""Customer value: lifetime value (`ltv`), the revenue forecast (`forecast`) and its back-test
(`backtest`), from segment memberships (`memberships`), refreshed in one pass (`refresh`)."""
