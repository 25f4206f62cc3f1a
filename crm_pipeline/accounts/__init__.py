"""Accounts: the companies a tenant's contacts work for, resolved from their e-mail domains and
company names, and the links between contacts and accounts.

Modules: `domains` (registrable domains and which are free-mail, disposable or excluded), `link`
(the run's step: accounts found or created, contacts linked, every change audited).
"""
