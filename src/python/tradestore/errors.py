"""The exceptions of tradestore: one class per status code of the C++ store.

Every error is a :class:`Error` with the absl status ``code`` and says
whether repeating the call is safe (``retryable``). ``CommitUnknown`` is the
one to handle with care: the write may have happened; look the trade up (by
id or client_order_id) before writing again. An insert with a
client_order_id is always safe to repeat.
"""

from __future__ import annotations


class Error(Exception):
    """A call to the store failed; ``code`` is the absl status code."""

    code: int = 2
    retryable: bool = False

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class Cancelled(Error):
    code = 1


class CommitUnknown(Error):
    """The commit's outcome could not be established: read before retrying."""

    code = 2


class InvalidArgument(Error, ValueError):
    """The input is bad (the message names the field and value); nothing
    changed."""

    code = 3


class DeadlineExceeded(Error):
    code = 4
    retryable = True


class NotFound(Error, LookupError):
    code = 5


class AlreadyExists(Error):
    """The id is taken by a different trade."""

    code = 6


class PermissionDenied(Error):
    """Authentication or authorisation failed (never retried)."""

    code = 7


class FailedPrecondition(Error):
    """Refused in the current state; nothing changed."""

    code = 9


class Aborted(Error):
    """A conflict with a concurrent writer; nothing changed."""

    code = 10
    retryable = True


class OutOfRange(InvalidArgument):
    """A value outside what the store keeps (DECIMAL(18,8), timestamps)."""

    code = 11


class Internal(Error):
    code = 13


class Unavailable(Error):
    """The store could not be reached within the deadline; nothing
    changed."""

    code = 14
    retryable = True


class DataLoss(Error):
    """A stored row cannot be read exactly; the message names it."""

    code = 15


_BY_CODE = {
    cls.code: cls
    for cls in (Cancelled, CommitUnknown, InvalidArgument, DeadlineExceeded,
                NotFound, AlreadyExists, PermissionDenied, FailedPrecondition,
                Aborted, OutOfRange, Internal, Unavailable, DataLoss)
}


def from_status(code: int, message: str) -> Error:
    """The exception for a failed absl status (used by the C++ module)."""
    return _BY_CODE.get(code, Error)(message, code)
