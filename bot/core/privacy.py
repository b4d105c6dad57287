"""Members' own data: the export's value type, the forget-me confirmation and its tokens.

Forgetting removes every row that belongs to the member and unlinks them from server data
(see :mod:`bot.storage.privacy` for the table-by-table list). It asks first: on Discord with
**Delete everything** / **Cancel** buttons whose tokens name the member who asked
(``fm:ok:<id>`` / ``fm:no:<id>``), so nobody else can confirm; in the console by typing
``/forget-me confirm``.

Pure rules and value types (no I/O, no database, no discord); exporting and forgetting are
done by :class:`bot.services.privacy.PrivacyService`.
"""

from __future__ import annotations

import itertools
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from bot.core.learners import Learner
from bot.core.replies import Choice, ChoiceStyle, Reply, Tone, plural
from bot.errors import ExpiredAction

#: Token prefix of the confirmation buttons.
TOKEN_PREFIX = "fm"
NOTHING_STORED = "I have no data about you — there's nothing to export or delete."
NOT_YOURS = "This button isn't for you. Use /forget-me to delete your own data."
_TOKEN = re.compile(rf"{TOKEN_PREFIX}:(?P<verb>ok|no):(?P<owner>[A-Za-z0-9_\-]{{1,64}})")


@dataclass(frozen=True, slots=True)
class DataExport:
    """A member's data as a JSON file (and their cards as an Anki package), with a few counts
    for the message around it."""

    filename: str
    data: bytes
    attempts: int
    review_states: int
    #: The member's cards with their scheduling, as an ``.apkg`` Anki opens (None: no cards).
    deck_filename: str | None = None
    deck_data: bytes | None = None

    def summary(self) -> Reply:
        """The private message that goes with the file(s)."""
        text = (
            "Here is everything I store about you: your profile, "
            f"{plural(self.attempts, 'answer')} and "
            f"{plural(self.review_states, 'review card')}, as JSON."
        )
        if self.deck_data is not None:
            text += (
                " Your cards are also in an Anki package: open it in Anki (File → Import, "
                'tick "Import any learning progress") to keep studying them there.'
            )
        return Reply(
            title="Your data",
            text=text,
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


#: Export stamps end in a serial (six hex digits), counted up per stamp from a random
#: start: no two stamps of one process are equal, two processes' only by a 1-in-16-million
#: chance.
_SERIAL_SPAN = 16**6
_STAMP_SERIALS = itertools.count(secrets.randbelow(_SERIAL_SPAN))


def export_stamp(moment: datetime) -> str:
    """A file-name-safe timestamp with a serial, never repeated (``20260105-090000-3fa2c1``).

    Exports and import reports are named by it; two in the same second (or at the same
    frozen clock) get different names, so neither overwrites the other.
    """
    serial = next(_STAMP_SERIALS) % _SERIAL_SPAN
    return f"{moment.strftime('%Y%m%d-%H%M%S')}-{serial:06x}"


def forget_confirmation(learner: Learner, *, buttons: bool = True) -> Reply:
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
