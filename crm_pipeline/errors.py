"""The project's exception hierarchy: one type per failure a user can meet.

The CLI turns every `CrmError` into exit status 2 with its one-line message; anything else
is an internal error (exit 1).
"""

import errno


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


class NotPermitted(CrmError):
    """An agent asked to read a table or column outside its role's grant (reason not_permitted)."""

    reason = "not_permitted"


class ActorNotPermitted(CrmError):
    """An actor asked to write what its role does not grant (reason actor_not_permitted)."""

    reason = "actor_not_permitted"


class WarehouseLocked(CrmError):
    """Another process is writing to this CRM home."""


class RunFailed(Exception):
    """A pipeline run ended with failed steps or checks: an internal error (exit 1), shown as
    one line; `details` (each failure's full error) go to the log file."""

    def __init__(self, message: str, details: list[str] | None = None):
        self.details = list(details or [])
        super().__init__(message)


def path_problem(exc: OSError) -> str:
    """An OS error on a path in words, without the errno: `permission denied`, `is a folder`."""
    words = {
        "EACCES": "permission denied", "EPERM": "operation not permitted",
        "EISDIR": "is a folder, not a file", "ENOTDIR": "a part of the path is not a folder",
        "ENOENT": "no such file or folder", "EROFS": "read-only file system",
        "ENOSPC": "no space left on the device", "EEXIST": "already exists",
        "ENAMETOOLONG": "name too long", "ELOOP": "too many symbolic links",
    }
    name = errno.errorcode.get(exc.errno or 0, "")
    return words.get(name) or (exc.strerror or str(exc)).lower()
