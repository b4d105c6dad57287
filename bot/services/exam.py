"""``/exam``: an exam date, a countdown and a plan to be ready for it.

A member sets their own exam in a server (or in DMs); a moderator can set one for the whole
server, which every member without their own sees. The plan comes from
:func:`bot.core.exam_plan.plan_exam`: new cards a day so every card in scope is seen in
time, and reviews brought forward so each card's predicted recall on the exam day is at
least the member's desired retention. Dates are local days in the server's time zone.
Who may set a server-wide exam is the adapter's check (moderators), as for the question bank.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.clock import local_date
from bot.core.exam_plan import ExamPlan, plan_exam
from bot.core.learners import Learner
from bot.core.replies import Reply, ReplyField, Tone, plural
from bot.core.scheduling import CardState
from bot.errors import BadInput
from bot.log import get_logger
from bot.services.study_context import StudyContext, user_id_of
from bot.storage import exams as store
from bot.storage.guild_settings import server_retention
from bot.storage.member_settings import member_retention
from bot.storage.models import Exam

log = get_logger(__name__)

#: The furthest ahead an exam may be set.
MAX_DAYS_AHEAD = 366
#: Days with brought-forward reviews listed in the plan.
DAYS_LISTED = 3
DATE_HELP = "Type it like 2027-01-15, 15 Jan or Jan 15."
SET_HINT = "Set one with /exam set date:2027-01-15 (a deck is optional)."
SERVER_ONLY = "A server-wide exam needs a server. In DMs, /exam set sets your own exam."
_MONTHS = {
    name.casefold(): number
    for names in (calendar.month_name, calendar.month_abbr)
    for number, name in enumerate(names)
    if name
}
_ISO = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")


def _month_day(words: list[str]) -> tuple[int, int, int | None]:
    """(month, day, year or None) from ``15 Jan``, ``Jan 15``, ``15 January 2027``."""
    if len(words) not in (2, 3):
        raise BadInput(DATE_HELP)
    first, second = words[0], words[1]
    if first.isdigit() and second.casefold() in _MONTHS:
        month, day = _MONTHS[second.casefold()], int(first)
    elif second.isdigit() and first.casefold() in _MONTHS:
        month, day = _MONTHS[first.casefold()], int(second)
    else:
        raise BadInput(DATE_HELP)
    year = None
    if len(words) == 3:
        if not (words[2].isdigit() and len(words[2]) == 4):
            raise BadInput(DATE_HELP)
        year = int(words[2])
    return month, day, year


def _next_occurrence(month: int, day: int, today: date) -> date:
    """The first ``day month`` on or after ``today`` (29 Feb: the next leap year's)."""
    for year in range(today.year, today.year + 5):
        try:
            found = date(year, month, day)
        except ValueError:
            continue
        if found >= today:
            return found
    raise BadInput(DATE_HELP)


def parse_exam_date(text: str, today: date) -> date:
    """The exam day a member typed: ``2027-01-15``, ``15 Jan`` or ``Jan 15`` (the next one).

    Raises :class:`BadInput` for text that is not a date, a past date or one more than a
    year ahead.
    """
    cleaned = " ".join((text or "").replace(",", " ").replace(".", " ").split())
    try:
        if _ISO.match(cleaned):
            year, month, day = (int(part) for part in cleaned.split("-"))
            found = date(year, month, day)
        else:
            month, day, year_given = _month_day(cleaned.split())
            if year_given is None:
                found = _next_occurrence(month, day, today)
            else:
                found = date(year_given, month, day)
    except (BadInput, ValueError):
        shown = cleaned[:40] or "nothing"
        raise BadInput(f"I couldn't read '{shown}' as a date. {DATE_HELP}") from None
    if found < today:
        raise BadInput(f"{day_label(found)} {found.year} has passed. Pick a date from today on.")
    if (found - today).days > MAX_DAYS_AHEAD:
        raise BadInput("That's more than a year away. Pick a date within the next 12 months.")
    return found


def day_label(day: date) -> str:
    """``Fri 15 Jan``."""
    return f"{day:%a} {day.day} {day:%b}"


def countdown(exam_on: date, today: date) -> str:
    """``Exam in 12 days — Fri 15 Jan`` (``tomorrow``, ``today`` when that close)."""
    left = (exam_on - today).days
    when = {0: "today", 1: "tomorrow"}.get(left, f"in {left} days")
    return f"Exam {when} — {day_label(exam_on)}"


@dataclass(frozen=True, slots=True)
class ExamView:
    """The exam that applies to a member where they are, and their plan for it."""

    exam: Exam
    today: date
    #: None once the exam has passed.
    active: ActivePlan | None

    @property
    def server_wide(self) -> bool:
        """True when this is the server's exam, not the member's own."""
        return self.exam.user_id is None


@dataclass(frozen=True, slots=True)
class ActivePlan:
    """An upcoming exam, the member's plan for it and the cards it was made from."""

    exam: Exam
    #: Planned from the cards unseen at the start of today, so today's quota holds all day.
    plan: ExamPlan
    cards: Mapping[int, CardState]
    #: Cards in scope never seen, and those first seen today.
    unseen: int
    new_today: int

    @property
    def new_left_today(self) -> int:
        """New cards the plan still asks for today."""
        return max(0, min(self.unseen, self.plan.new_per_day - self.new_today))


async def target_for(ctx: StudyContext, session: AsyncSession, learner: Learner) -> float:
    """The member's effective desired retention (as :meth:`StudyContext.retention_for`),
    read inside the caller's session when it is not cached."""
    cached = ctx.retentions.get(learner)
    if cached is not None:
        return cached.value
    own = await member_retention(
        session, platform=learner.platform, external_id=learner.external_id
    )
    if own is not None:
        return own
    server = await server_retention(session, guild_id=learner.guild_id)
    return ctx.default_retention if server is None else server


async def plan_for(
    ctx: StudyContext,
    session: AsyncSession,
    learner: Learner,
    user_id: int,
    exam: Exam,
    today: date,
) -> ActivePlan:
    """The member's plan for ``exam`` (not passed) from their cards in its scope."""
    guild_id = learner.guild_id
    cards = await store.exam_cards(session, user_id=user_id, guild_id=guild_id, deck=exam.deck)
    unseen = await store.count_unseen_in(
        session, user_id=user_id, guild_id=guild_id, deck=exam.deck
    )
    timezone, _new_per_day = await ctx.study_preferences(session, learner)
    new_today = await store.count_new_in(
        session,
        user_id=user_id,
        guild_id=guild_id,
        deck=exam.deck,
        since=ctx.today_start(timezone),
    )
    target = await target_for(ctx, session, learner)
    plan = plan_exam(today, exam.exam_on, cards, unseen + new_today, target=target)
    return ActivePlan(exam, plan, cards, unseen, new_today)


async def active_plan(
    ctx: StudyContext, session: AsyncSession, learner: Learner, user_id: int
) -> ActivePlan | None:
    """The plan for the member's upcoming exam here, or None (no exam, or it has passed)."""
    timezone, _new_per_day = await ctx.study_preferences(session, learner)
    today = local_date(ctx.now(), timezone)
    exam = await store.effective_exam(session, guild_id=learner.guild_id, user_id=user_id)
    if exam is None or exam.exam_on < today:
        return None
    return await plan_for(ctx, session, learner, user_id, exam, today)


class ExamService:
    """Sets, shows and clears exams, and plans for them."""

    def __init__(self, context: StudyContext) -> None:
        self.context = context

    async def _today(self, session: AsyncSession, learner: Learner) -> date:
        timezone, _new_per_day = await self.context.study_preferences(session, learner)
        return local_date(self.context.now(), timezone)

    async def set(
        self,
        learner: Learner,
        date_text: str,
        deck: str | None = None,
        *,
        server_wide: bool = False,
    ) -> Reply:
        """Set the member's own exam here (``server_wide``: the server's, for moderators)."""
        if server_wide and learner.guild_id is None:
            raise BadInput(SERVER_ONLY)
        ctx = self.context
        async with ctx.db.session() as session:
            today = await self._today(session, learner)
            exam_on = parse_exam_date(date_text, today)
            deck, _difficulty = await ctx.check_filters(session, learner, deck, None)
            user = await ctx.member(session, learner)
            user_id = user_id_of(user)
            await store.replace_exam(
                session,
                guild_id=learner.guild_id,
                user_id=None if server_wide else user_id,
                deck=deck,
                exam_on=exam_on,
                set_by=user_id,
                now=ctx.now(),
            )
            await session.commit()
        log.info(
            "exam set for %s in guild %s by user %d",
            "the server" if server_wide else "a member",
            learner.guild_id,
            user_id,
        )
        scope = f"deck {deck}" if deck else "every deck here"
        if server_wide:
            return Reply(
                title="📅 Server exam set",
                text=(
                    f"{countdown(exam_on, today)} ({scope}), for everyone here. Members see "
                    "their countdown and plan with /exam; their own /exam set wins over it."
                ),
                tone=Tone.SUCCESS,
                footer="Remove it with /exam clear server:true.",
                private=True,
            )
        view = await self.view(learner)
        shown = exam_reply(view) if view is not None else Reply(text="")
        return Reply(
            title=f"📅 Exam set · {countdown(exam_on, today)}",
            text=shown.text,
            fields=shown.fields,
            tone=Tone.SUCCESS,
            footer="See the plan again with /exam. Remove it with /exam clear.",
            private=True,
        )

    async def show(self, learner: Learner) -> Reply:
        """The countdown and today's plan, privately (a hint to set one when none is set)."""
        view = await self.view(learner)
        if view is None:
            return Reply(
                title="No exam set",
                text=f"You have no exam here. {SET_HINT}",
                tone=Tone.INFO,
                private=True,
            )
        return exam_reply(view)

    async def view(self, learner: Learner) -> ExamView | None:
        """The exam that applies to the member here and the plan for it (None: no exam)."""
        ctx = self.context
        async with ctx.db.session() as session:
            today = await self._today(session, learner)
            user = await ctx.member(session, learner)
            user_id = user_id_of(user)
            await session.commit()
            exam = await store.effective_exam(session, guild_id=learner.guild_id, user_id=user_id)
            if exam is None:
                return None
            if exam.exam_on < today:
                return ExamView(exam, today, None)
            active = await plan_for(self.context, session, learner, user_id, exam, today)
        return ExamView(exam, today, active)

    async def clear(self, learner: Learner, *, server_wide: bool = False) -> Reply:
        """Remove the member's own exam here (``server_wide``: the server's)."""
        if server_wide and learner.guild_id is None:
            raise BadInput(SERVER_ONLY)
        ctx = self.context
        async with ctx.db.session() as session:
            user_id = user_id_of(await ctx.member(session, learner))
            removed = await store.delete_exam(
                session, guild_id=learner.guild_id, user_id=None if server_wide else user_id
            )
            await session.commit()
        whose = "The server's exam" if server_wide else "Your exam"
        if not removed:
            return Reply(
                title="Nothing to clear",
                text=f"{'This server has' if server_wide else 'You have'} no exam set here. "
                + SET_HINT,
                tone=Tone.INFO,
                private=True,
            )
        return Reply(
            title="Exam cleared",
            text=f"{whose} is removed. {SET_HINT}",
            tone=Tone.SUCCESS,
            private=True,
        )


def exam_reply(view: ExamView) -> Reply:
    """The ``/exam`` reply: countdown, scope, today's numbers and the plan ahead."""
    exam = view.exam
    footer = (
        "Set for the whole server by a moderator · /exam set makes your own"
        if view.server_wide
        else "Your own exam · /exam clear removes it"
    )
    active = view.active
    if active is None:
        return Reply(
            title=f"Exam was on {day_label(exam.exam_on)}",
            text=f"That exam has passed — I hope it went well! {SET_HINT}",
            tone=Tone.INFO,
            footer=footer,
            private=True,
        )
    scope = f"Deck {exam.deck}" if exam.deck else "Every deck here"
    plan = active.plan
    new_today = active.new_left_today
    pulled_today = len(plan.pulled_due_by(view.today))
    today_line = (
        f"Today: {plural(new_today, 'new card')} and {plural(pulled_today, 'review')} brought "
        "forward, on top of your due reviews. /review serves them."
    )
    fields = [ReplyField("New cards", _new_cards_text(active))]
    fields.append(ReplyField("Reviews brought forward", _pulled_text(plan)))
    if plan.warning:
        fields.append(ReplyField("Heads-up", plan.warning))
    return Reply(
        title=f"📅 {countdown(exam.exam_on, view.today)}",
        text=f"{scope} · aiming for {round(plan.target * 100)}% recall on exam day.\n{today_line}",
        fields=tuple(fields),
        tone=Tone.INFO,
        footer=footer,
        private=True,
    )


def _new_cards_text(active: ActivePlan) -> str:
    plan = active.plan
    if not active.unseen:
        return "You've seen every card in scope."
    if plan.too_late:
        return f"All {active.unseen} left today."
    return (
        f"{plural(plan.new_per_day, 'new card')} a day until {day_label(plan.cutoff)} "
        f"({active.unseen} not seen yet)."
    )


def _pulled_text(plan: ExamPlan) -> str:
    per_day = plan.pulled_per_day()
    if not per_day:
        return "None needed: every card holds until exam day."
    listed = ", ".join(f"{day_label(day)}: {count}" for day, count in per_day[:DAYS_LISTED])
    more = len(per_day) - DAYS_LISTED
    tail = f" and {plural(more, 'more day')}" if more > 0 else ""
    return f"{plural(len(plan.pulled), 'card')} in all — {listed}{tail}."


def nearest_exam_day(exams: Iterable[Exam], today: date) -> date | None:
    """The member's next exam day from ``today`` on: in each server their own exam wins over
    the server's (as in ``/exam``)."""
    applying: dict[int | None, Exam] = {}
    for exam in exams:
        current = applying.get(exam.guild_id)
        if current is None or (current.user_id is None and exam.user_id is not None):
            applying[exam.guild_id] = exam
    upcoming = [exam.exam_on for exam in applying.values() if exam.exam_on >= today]
    return min(upcoming, default=None)


async def exam_reminder_line(
    session: AsyncSession, *, user_id: int, guild_ids: Iterable[int], today: date
) -> str | None:
    """``Exam in 12 days — Fri 15 Jan`` for the daily reminder, or None without an exam."""
    exams = await store.member_exams(session, user_id=user_id, guild_ids=guild_ids)
    found = nearest_exam_day(exams, today)
    if found is None:
        return None
    return countdown(found, today) + ". Type /exam for today's plan."
