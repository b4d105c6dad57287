"""Members' own data: export it as JSON, or forget it after a confirmation (no discord).

Forgetting removes every row that belongs to the member and unlinks them from server data
(see :mod:`bot.storage.privacy` for the table-by-table list). It asks first: on Discord with
**Delete everything** / **Cancel** buttons whose tokens name the member who asked
(``fm:ok:<id>`` / ``fm:no:<id>``), so nobody else can confirm; in the console by typing
``/forget-me confirm``.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.core.clock import Clock, SystemClock
from bot.core.replies import Choice, ChoiceStyle, Reply, Tone, plural
from bot.errors import BadInput, ExpiredAction, NotYourQuestion
from bot.log import get_logger
from bot.storage import privacy as store
from bot.storage.db import Database

if TYPE_CHECKING:
    from bot.core.learners import Learner
    from bot.core.tutor import Tutor

log = get_logger(__name__)

#: Token prefix of the confirmation buttons.
TOKEN_PREFIX = "fm"
NOTHING_STORED = "I have no data about you — there's nothing to export or delete."
NOT_YOURS = "This button isn't for you. Use /forget-me to delete your own data."
_TOKEN = re.compile(rf"{TOKEN_PREFIX}:(?P<verb>ok|no):(?P<owner>[A-Za-z0-9_\-]{{1,64}})")


@dataclass(frozen=True, slots=True)
class DataExport:
    """A member's data as a JSON file, with a few counts for the message around it."""

    filename: str
    data: bytes
    attempts: int
    review_states: int

    def summary(self) -> Reply:
        """The private message that goes with the file."""
        return Reply(
            title="Your data",
            text=(
                "Here is everything I store about you: your profile, "
                f"{plural(self.attempts, 'answer')} and "
                f"{plural(self.review_states, 'review card')}, as JSON."
            ),
            tone=Tone.SUCCESS,
            footer="To delete it all, use /forget-me.",
            private=True,
        )


@dataclass(frozen=True, slots=True)
class ForgetChoice:
    """What a confirmation button says: go ahead (``confirmed``) or cancel, and for whom."""

    confirmed: bool
    owner: str

    def token(self) -> str:
        """``fm:ok:<owner>`` or ``fm:no:<owner>``."""
        return f"{TOKEN_PREFIX}:{'ok' if self.confirmed else 'no'}:{self.owner}"

    @classmethod
    def parse(cls, token: str) -> ForgetChoice:
        """Read a token; raises :class:`ExpiredAction` when it is malformed."""
        match = _TOKEN.fullmatch(token)
        if match is None:
            raise ExpiredAction("That button no longer works. Use /forget-me again.")
        return cls(confirmed=match["verb"] == "ok", owner=match["owner"])


class MemberData:
    """Export and forget one member's data."""

    def __init__(self, db: Database, *, clock: Clock | None = None) -> None:
        self.db = db
        self.clock: Clock = clock or SystemClock()

    async def export(self, learner: Learner) -> DataExport | None:
        """The member's data as a JSON file, or None when the bot stores nothing about them."""
        async with self.db.session() as session:
            user = await store.find_user(
                session, platform=learner.platform, external_id=learner.external_id
            )
            if user is None or user.id is None:
                return None
            data = await store.export_user(session, user_id=user.id)
        data["exported_at"] = self.clock.now().isoformat()
        blob = json.dumps(data, ensure_ascii=False, indent=2).encode()
        stamp = export_stamp(self.clock.now())
        log.info("exported member %s (%d bytes)", user.id, len(blob))
        return DataExport(
            filename=f"study-tutor-data-{stamp}.json",
            data=blob,
            attempts=len(data["attempts"]),
            review_states=len(data["review_states"]),
        )

    @staticmethod
    def confirmation(learner: Learner, *, buttons: bool = True) -> Reply:
        """The "are you sure?" message; ``buttons`` adds Delete everything / Cancel."""
        choices: tuple[Choice, ...] = ()
        if buttons:
            choices = (
                Choice(
                    "delete",
                    "Delete everything",
                    ForgetChoice(True, learner.external_id).token(),
                    style=ChoiceStyle.DANGER,
                ),
                Choice("cancel", "Cancel", ForgetChoice(False, learner.external_id).token()),
            )
        return Reply(
            title="Delete all your data?",
            text=(
                "This permanently deletes your answers, review progress, tests and profile "
                "in every server. It can't be undone. Want a copy first? Use /export-me."
            ),
            tone=Tone.WARNING,
            choices=choices,
            private=True,
        )

    async def forget(self, learner: Learner) -> Reply:
        """Delete everything stored about the member, now (the caller asked for confirmation)."""
        async with self.db.session() as session:
            user = await store.find_user(
                session, platform=learner.platform, external_id=learner.external_id
            )
            if user is None or user.id is None:
                return Reply(text=NOTHING_STORED, tone=Tone.INFO, private=True)
            report = await store.forget_user(session, user_id=user.id)
        answers = report.deleted.get("attempts", 0)
        return Reply(
            title="Your data is deleted",
            text=(
                f"Done — I deleted your profile, {plural(answers, 'answer')} and all your review "
                "progress. If you study again, you'll start fresh."
            ),
            tone=Tone.SUCCESS,
            private=True,
        )

    async def act(self, learner: Learner, token: str) -> Reply:
        """A click on Delete everything / Cancel; only the member who asked may click."""
        choice = ForgetChoice.parse(token)
        if choice.owner != learner.external_id:
            raise NotYourQuestion(NOT_YOURS)
        if not choice.confirmed:
            return Reply(
                title="Nothing deleted",
                text="Your data is untouched.",
                tone=Tone.INFO,
                private=True,
            )
        return await self.forget(learner)


#: A console command (same shape as :data:`bot.console.app.ConsoleCommand`).
ConsoleCommand = Callable[["Learner", list[str]], Awaitable[Reply]]


def console_commands(tutor: Tutor, *, export_dir: Path) -> dict[str, ConsoleCommand]:
    """``/export-me`` (writes a JSON file into ``export_dir``) and ``/forget-me [confirm]``."""
    member_data = MemberData(tutor.db, clock=tutor.clock)

    async def export_me(learner: Learner, words: list[str]) -> Reply:
        export = await member_data.export(learner)
        if export is None:
            return Reply(text=NOTHING_STORED, tone=Tone.INFO, private=True)
        safe = re.sub(r"[^A-Za-z0-9_-]", "_", learner.external_id)[:40] or "member"
        path = export_dir / f"{safe}-{export.filename}"
        await asyncio.to_thread(_write_file, path, export.data)
        summary = export.summary()
        return Reply(
            title=summary.title,
            text=f"{summary.text}\nSaved to {path}",
            tone=summary.tone,
            footer="To delete it all, type /forget-me.",
            private=True,
        )

    async def forget_me(learner: Learner, words: list[str]) -> Reply:
        if not words:
            asking = MemberData.confirmation(learner, buttons=False)
            return Reply(
                title=asking.title,
                text=f"{asking.text}\nType /forget-me confirm to go ahead.",
                tone=asking.tone,
                private=True,
            )
        if [w.casefold() for w in words] != ["confirm"]:
            raise BadInput(
                "Type /forget-me confirm to delete your data — or just carry on to keep it."
            )
        return await member_data.forget(learner)

    return {"/export-me": export_me, "/forget-me": forget_me}


def export_stamp(moment: datetime) -> str:
    """A file-name-safe timestamp (``20260105-090000``)."""
    return moment.strftime("%Y%m%d-%H%M%S")


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
