"""Desired retention: a member's own (``/me retention``) and the server's
(``/settings retention``), with the workload it means shown before saving.

A new value is never saved straight away: the reply first shows how many reviews a day it
means for a 500-card deck, against the usual 90% (an FSRS simulation of
:mod:`bot.core.simulation`, run in a worker thread and cached per value), with **Save** /
**Cancel** buttons. Their tokens carry the value (``dr:me:85``, ``dr:sv:85``, ``dr:no``),
so they still work after a restart; the adapter checks that whoever saves a server's value
may change server settings. The console asks "Type yes to save" instead.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from bot.core.learners import Learner
from bot.core.replies import Choice, ChoiceStyle, Reply, Tone
from bot.core.simulation import Workload, reviews_per_day
from bot.errors import BadInput, ExpiredAction
from bot.log import get_logger
from bot.services import _guilds
from bot.services.server_settings import ServerSettingsService, percent
from bot.services.study_context import FROM_MEMBER, FROM_SERVER, StudyContext

log = get_logger(__name__)

#: Token prefix of the Save / Cancel buttons under a retention preview.
RETENTION_PREFIX = "dr"
#: The values a member or a server may choose (whole percentages in between).
MIN_RETENTION = 0.70
MAX_RETENTION = 0.97
#: What the preview compares with.
BASELINE_RETENTION = 0.90
#: The deck size the preview speaks of.
PREVIEW_CARDS = 500
#: Words that clear a member's own value (back to the server's).
RESET_WORDS = frozenset({"reset", "default"})
RANGE_HINT = "Pick a retention between 70% and 97%, like 85, 85% or 0.85."
EXPIRED = "This button has expired. Run /me retention or /settings retention again."

#: Whose value a preview or a button is about: the member's own or the server's.
Scope = Literal["me", "server"]
_TOKEN = re.compile(rf"{RETENTION_PREFIX}:(?:(?P<scope>me|sv):(?P<percent>\d{{2}})|no)")


def parse_retention(text: str) -> float:
    """A typed retention as a fraction rounded to a whole percent: ``85``, ``85%`` and
    ``0.85`` are all 0.85. Anything else, or outside 70–97%, raises :class:`BadInput`."""
    cleaned = text.strip().removesuffix("%").strip()
    try:
        number = float(cleaned)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise BadInput(f"'{text.strip()[:20]}' isn't a retention. {RANGE_HINT}")
    if number > 1:
        number /= 100
    value = round(number * 100) / 100
    if not MIN_RETENTION <= value <= MAX_RETENTION:
        raise BadInput(f"{percent(value)} is out of range. {RANGE_HINT}")
    return value


@dataclass(frozen=True, slots=True)
class RetentionChoice:
    """A Save (``retention`` set, for ``scope``) or Cancel (``retention`` None) button."""

    scope: Scope
    retention: float | None

    def token(self) -> str:
        """``dr:me:85`` / ``dr:sv:85`` to save, ``dr:no`` to cancel."""
        if self.retention is None:
            return f"{RETENTION_PREFIX}:no"
        where = "me" if self.scope == "me" else "sv"
        return f"{RETENTION_PREFIX}:{where}:{round(self.retention * 100)}"

    @classmethod
    def parse(cls, token: str) -> RetentionChoice:
        """Read a token; :class:`ExpiredAction` when it is malformed or out of range."""
        match = _TOKEN.fullmatch(token)
        if match is None:
            raise ExpiredAction(EXPIRED)
        if match["scope"] is None:
            return cls("me", None)
        value = int(match["percent"]) / 100
        if not MIN_RETENTION <= value <= MAX_RETENTION:
            raise ExpiredAction(EXPIRED)
        return cls("me" if match["scope"] == "me" else "server", value)


def saves_server_setting(token: str) -> bool:
    """Whether a retention button saves the server's value (the adapter checks permission)."""
    return token.startswith(f"{RETENTION_PREFIX}:sv:")


class WorkloadEstimates:
    """Reviews a day at a retention for a :data:`PREVIEW_CARDS`-card deck, simulated once per
    value in a worker thread (``simulate`` is replaceable for tests)."""

    def __init__(self, simulate: Callable[[float], float] | None = None) -> None:
        self._simulate = simulate or self._reviews_per_day
        self._cache: dict[float, asyncio.Future[float]] = {}

    @staticmethod
    def _reviews_per_day(retention: float) -> float:
        return reviews_per_day(retention, cards=PREVIEW_CARDS)

    async def reviews(self, retention: float) -> float:
        """Mean reviews a day at ``retention`` (concurrent asks share one simulation)."""
        key = round(retention, 2)
        found = self._cache.get(key)
        if found is None or (found.done() and found.exception() is not None):
            found = asyncio.ensure_future(asyncio.to_thread(self._simulate, key))
            self._cache[key] = found
        return await asyncio.shield(found)

    async def workload(self, retention: float) -> Workload:
        """Reviews a day at ``retention`` and at the usual 90%."""
        mine, usual = await asyncio.gather(
            self.reviews(retention), self.reviews(BASELINE_RETENTION)
        )
        return Workload(retention, mine, usual)


def workload_sentence(work: Workload) -> str:
    """ "At 85% you'd do about 23 reviews a day for 500 cards, vs 30 at 90%."."""
    mine = f"At {percent(work.retention)} you'd do about {round(work.reviews_per_day)} reviews"
    if round(work.retention, 2) == BASELINE_RETENTION:
        return f"{mine} a day for {PREVIEW_CARDS} cards (the usual workload)."
    usual = round(work.baseline_reviews_per_day)
    return f"{mine} a day for {PREVIEW_CARDS} cards, vs {usual} at {percent(BASELINE_RETENTION)}."


class MemberSettingsService:
    """Shows, previews and saves desired retentions (a member's own and the server's).

    Saving a server's value goes through ``server_settings`` (which audits it); the adapter
    checks that the member may change server settings before calling :meth:`retention`
    with ``scope="server"`` or :meth:`act` on a :func:`saves_server_setting` token.
    """

    def __init__(
        self,
        context: StudyContext,
        *,
        server_settings: ServerSettingsService,
        workloads: WorkloadEstimates | None = None,
    ) -> None:
        self.context = context
        self.server_settings = server_settings
        self.workloads = workloads or WorkloadEstimates()

    async def retention(
        self, learner: Learner, text: str | None, *, scope: Scope, buttons: bool = True
    ) -> Reply:
        """``/me retention [value|reset]`` or ``/settings retention [value]``: no value shows
        the current one, ``reset`` clears the member's own, a value is previewed."""
        typed = (text or "").strip()
        if not typed:
            return await self.show(learner, scope)
        if typed.casefold() in RESET_WORDS:
            if scope == "me":
                return await self.save(learner, "me", None)
            raise BadInput(f"Type a value for the server. {RANGE_HINT}")
        value = parse_retention(typed)
        if scope == "server" and learner.guild_id is None:
            raise BadInput(_guilds.SERVER_ONLY)
        return await self.preview(learner, value, scope=scope, buttons=buttons)

    async def preview(
        self, learner: Learner, retention: float, *, scope: Scope, buttons: bool = True
    ) -> Reply:
        """The workload ``retention`` means, with Save / Cancel buttons (``buttons``)."""
        work = await self.workloads.workload(retention)
        current = await self._current_text(learner, scope)
        whose = "your" if scope == "me" else "this server's"
        text = (
            f"{workload_sentence(work)}\n"
            "Higher retention: you forget less but review more; lower: fewer reviews, "
            f"more forgetting.\nNow {whose} retention is {current}."
        )
        choices: tuple[Choice, ...] = ()
        if buttons:
            save = RetentionChoice(scope, retention).token()
            cancel = RetentionChoice(scope, None).token()
            choices = (
                Choice("save", f"Save {percent(retention)}", save, ChoiceStyle.PRIMARY),
                Choice("cancel", "Cancel", cancel),
            )
        footer = (
            "Yours applies in every server and wins over the server's."
            if scope == "me"
            else "Applies to members here who haven't chosen their own (/me retention)."
        )
        return Reply(
            title=f"Desired retention {percent(retention)}?",
            text=text,
            tone=Tone.INFO,
            footer=footer,
            choices=choices,
            private=True,
        )

    async def act(self, learner: Learner, token: str) -> Reply:
        """A click on Save / Cancel under a preview."""
        choice = RetentionChoice.parse(token)
        if choice.retention is None:
            return Reply(
                title="Nothing changed",
                text="The desired retention stays as it was.",
                tone=Tone.INFO,
                private=True,
            )
        return await self.save(learner, choice.scope, choice.retention)

    async def save(self, learner: Learner, scope: Scope, retention: float | None) -> Reply:
        """Store a (validated) value; None clears it. Cached retentions are refreshed."""
        if scope == "server":
            return await self.server_settings.set_retention(learner, retention)
        async with self.context.db.session() as session:
            user = await _guilds.member_of(session, learner)
            user.desired_retention = retention
            session.add(user)
            await session.commit()
        self.context.retentions.forget_member(learner)
        log.info("member %s set their retention to %s", learner.external_id, retention)
        if retention is None:
            effective = await self.context.retention_for(learner)
            return Reply(
                title="Desired retention reset",
                text=f"You follow {_source_text(effective.source)} again: "
                f"{percent(effective.value)}.",
                tone=Tone.SUCCESS,
                private=True,
            )
        return Reply(
            title=f"✅ Desired retention saved: {percent(retention)}",
            text=f"Your answers now aim for {percent(retention)} recall when a card comes "
            "back, in every server.",
            tone=Tone.SUCCESS,
            footer="Go back to the server's with /me retention reset.",
            private=True,
        )

    async def show(self, learner: Learner, scope: Scope) -> Reply:
        """The value that applies now and where it comes from."""
        current = await self._current_text(learner, scope)
        if scope == "me":
            text = f"Your desired retention is {current}."
            footer = "Change it with /me retention 85 (70–97), or /me retention reset."
        else:
            text = f"This server's desired retention is {current}."
            footer = "Admins change it with /settings retention 85 (70–97)."
        return Reply(title="Desired retention", text=text, footer=footer, private=True)

    async def _current_text(self, learner: Learner, scope: Scope) -> str:
        if scope == "me":
            effective = await self.context.retention_for(learner)
            return f"{percent(effective.value)} ({_source_text(effective.source)})"
        own = await self.server_settings.server_retention(learner)
        if own is None:
            return f"{percent(self.context.default_retention)} (the bot's default)"
        return f"{percent(own)} (set here)"


def _source_text(source: str) -> str:
    if source == FROM_MEMBER:
        return "your own choice"
    if source == FROM_SERVER:
        return "this server's setting"
    return "the bot's default"
