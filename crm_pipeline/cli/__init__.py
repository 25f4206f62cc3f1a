"""The `crm` command (`app`) and what its commands do (`commands`), how it prints (`render`,
`progress` reports from the library), its log files (`logfile`), the demo home (`demo_home`) and
the generated table reference (`docs`: `python -m crm_pipeline.cli.docs`)."""
