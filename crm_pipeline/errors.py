"""The project's exception hierarchy: one type per failure a user can meet.

The CLI turns every `CrmError` into exit status 2 with its one-line message; anything else
is an internal error (exit 1).
"""


class CrmError(Exception):
    """A problem the user can fix; the message is one sentence naming the thing and the fix."""


class RefusedFile(CrmError):
    """A whole input file cannot be imported; nothing was changed."""

    def __init__(self, path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class BadArgument(CrmError):
    """A command-line argument or option is invalid."""


class BadMapping(CrmError):
    """A column mapping file is invalid or does not fit the file it maps."""


class UnknownContact(CrmError):
    """No contact of this tenant has the given id (another tenant's ids are never revealed)."""


class ReadOnlyViolation(CrmError):
    """A query tried to change the published snapshot, which is read-only."""


class WarehouseLocked(CrmError):
    """Another process is writing to this CRM home."""
