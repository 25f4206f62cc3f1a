"""Activities: activity logs read (`read`), validated (`validate`, amounts converted by
`currency`), linked to golden contacts (`link`), loaded (`process`) and re-checked (`recheck`)."""
