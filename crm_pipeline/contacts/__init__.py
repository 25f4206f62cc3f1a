"""Contacts: files read (`ingest`), normalized (`normalize`) and staged (`importer`, `imports`,
`quarantine`, `validation`), resolved into golden contacts (`resolve`) written through one audited
path (`store`, `consent`); a contact's profile (`profile`); GDPR export and erasure (`gdpr`,
`gdpr_files`, `redaction`)."""
