"""Console dialogs: a few typed lines in a row, the console's stand-in for Discord's forms.

A command may answer with a :class:`Dialog` instead of a reply. The console then shows
:meth:`Dialog.question`, hands every following line to :meth:`Dialog.take` until the dialog
says it is :attr:`~Dialog.finished`, and lets ``/cancel`` drop it at any point. It is line
based, so it works the same on a terminal and with piped input.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from bot.core.replies import Reply

#: Typed during a dialog to drop it (nothing it collected is saved).
CANCEL_WORD = "/cancel"


class Dialog(ABC):
    """A short conversation that takes over the next typed lines.

    :meth:`take` raises a :class:`~bot.errors.TutorError` for a bad line: the console shows
    its message and then the dialog's current question again, so nothing is half-done.
    """

    #: What the member is doing, for "Finish … first" and "Stopped …" ("adding a question").
    purpose = "this"

    @property
    @abstractmethod
    def finished(self) -> bool:
        """True once the dialog has done its work (or given up); the console drops it."""

    @property
    def collecting(self) -> bool:
        """True while a multi-line answer is being typed: the question isn't shown again."""
        return False

    def opening(self) -> str:
        """Shown once, before the first question (a heading); empty for none."""
        return ""

    @abstractmethod
    def question(self) -> str:
        """What to ask for now (shown at the start and after each finished answer)."""

    @abstractmethod
    async def take(self, line: str) -> Reply | None:
        """Use one typed line (already stripped); returns a reply to show, if any."""
