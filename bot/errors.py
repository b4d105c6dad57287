"""Domain errors: each carries a short, friendly message that adapters show as-is.

One handler per adapter turns these into replies; anything else is an unexpected error,
logged with an id.
"""

from __future__ import annotations


class TutorError(Exception):
    """Base class for errors a member should see. ``str(error)`` is the friendly message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(TutorError):
    """Something the member asked for does not exist (deck, question, session)."""


class BadInput(TutorError):
    """The member's input is invalid; the message says what is allowed."""


class NotYourQuestion(TutorError):
    """A member clicked a button that belongs to someone else's question."""


class AlreadyAnswered(TutorError):
    """The member already answered this question."""


class ExpiredAction(TutorError):
    """A button or command refers to something that no longer exists or is malformed."""


class PermissionDenied(TutorError):
    """The member lacks the permission for this action."""


class Busy(TutorError):
    """A shared resource (the training pool, the database) is busy; try again shortly."""


class StorageError(TutorError):
    """The database cannot be opened or written (corrupt, locked, read-only)."""


class ContentError(TutorError):
    """The content directory or a deck is missing or broken."""
