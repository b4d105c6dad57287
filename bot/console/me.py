"""``/me retention [value|reset]`` and ``/settings retention [value]`` in the offline console.

The console has no buttons: a new value is previewed (the workload it means), then the
console asks "Type yes to save" in a short :class:`~bot.console.dialog.Dialog`. The
console's user owns its local server, so they may change its settings too.
"""

from __future__ import annotations

from bot.console.app import ConsoleCommand
from bot.console.dialog import CANCEL_WORD, Dialog
from bot.console.render import render_reply
from bot.core.learners import Learner
from bot.core.replies import Reply, Tone
from bot.errors import BadInput
from bot.services.member_settings import (
    RESET_WORDS,
    MemberSettingsService,
    Scope,
    parse_retention,
)
from bot.services.server_settings import percent

ME_USAGE = "Type /me retention to see yours, /me retention 85 to change it, or /me retention reset."
SETTINGS_USAGE = (
    "The console has /settings retention: type it alone to see the server's, "
    "or /settings retention 85 to change it."
)
YES_WORDS = frozenset({"yes", "y"})
NO_WORDS = frozenset({"no", "n"})


class SaveRetentionDialog(Dialog):
    """The preview, then "Type yes to save": ``yes`` saves, ``no`` keeps the old value."""

    def __init__(
        self,
        service: MemberSettingsService,
        learner: Learner,
        preview: Reply,
        *,
        retention: float,
        scope: Scope,
    ) -> None:
        self.service = service
        self.learner = learner
        self.preview = preview
        self.retention = retention
        self.scope = scope
        self.purpose = f"changing the desired retention to {percent(retention)}"
        self._finished = False

    @property
    def finished(self) -> bool:
        """True once saved or declined."""
        return self._finished

    def opening(self) -> str:
        """The workload preview."""
        return render_reply(self.preview)

    def question(self) -> str:
        """Ask for the confirmation."""
        return (
            f"Type yes to save {percent(self.retention)}, "
            f"or no (or {CANCEL_WORD}) to keep it as it is."
        )

    async def take(self, line: str) -> Reply | None:
        """``yes`` saves, ``no`` changes nothing; anything else is asked again."""
        word = line.casefold()
        if word in YES_WORDS:
            self._finished = True
            return await self.service.save(self.learner, self.scope, self.retention)
        if word in NO_WORDS:
            self._finished = True
            return Reply(
                title="Nothing changed",
                text="The desired retention stays as it was.",
                tone=Tone.INFO,
                private=True,
            )
        raise BadInput(self.question())


async def _retention(
    service: MemberSettingsService, learner: Learner, words: list[str], scope: Scope
) -> Reply | Dialog:
    """No words: the current value; ``reset`` (members): cleared; a value: preview, confirm."""
    if len(words) > 1:
        raise BadInput(ME_USAGE if scope == "me" else SETTINGS_USAGE)
    typed = words[0] if words else None
    if typed is None or typed.casefold() in RESET_WORDS:
        return await service.retention(learner, typed, scope=scope)
    retention = parse_retention(typed)
    preview = await service.preview(learner, retention, scope=scope, buttons=False)
    return SaveRetentionDialog(service, learner, preview, retention=retention, scope=scope)


def me_commands(service: MemberSettingsService) -> dict[str, ConsoleCommand]:
    """``/me retention [value|reset]`` and ``/settings retention [value]``."""

    async def me(learner: Learner, words: list[str]) -> Reply | Dialog:
        if not words or words[0].casefold() != "retention":
            raise BadInput(ME_USAGE)
        return await _retention(service, learner, words[1:], "me")

    async def settings(learner: Learner, words: list[str]) -> Reply | Dialog:
        if not words or words[0].casefold() != "retention":
            raise BadInput(SETTINGS_USAGE)
        return await _retention(service, learner, words[1:], "server")

    return {"/me": me, "/settings": settings}
