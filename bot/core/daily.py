"""Rules of the daily quiz and review reminders, with time passed in (no discord, no scheduler).

Everything here is a pure function of its inputs, so tests can drive it with any "now":

* settings input: :func:`parse_hhmm`, :func:`parse_timezone`, :func:`timezone_choices`,
  :func:`validate_questions`, :func:`validate_window`, :func:`validate_new_per_day`;
* when a server's quiz runs: :func:`run_for_date` (DST-correct), :func:`next_run_after`,
  :func:`plan_run` (post on time, post late within the grace period, or skip);
* which questions to ask: :func:`item_scores`, :func:`select_daily_items`;
* answer windows, results ranking and the catch-up: :func:`answer_deadline`,
  :func:`results_time`, :func:`rank_scores`, :func:`catch_up_open`;
* the quiz's own wording: :func:`daily_question`, :func:`results_reply`, :func:`describe_run`;
* reminders: :func:`reminder_due`;
* what the daily-quiz service hands its adapters: :class:`GuildSchedule`,
  :class:`ScheduleOutcome`, :class:`DailyPost`, :class:`OpenQuiz`, :class:`QuizResults`.

A quiz belongs to the server's *local date* (the date its run was scheduled for), which is
the unique key in the database: one quiz per server per local date.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.core.replies import Reply
from bot.errors import BadInput

#: How late a missed quiz may still be posted (e.g. after a restart); later ones are skipped.
DEFAULT_GRACE = timedelta(hours=2)
MIN_QUESTIONS, MAX_QUESTIONS = 1, 10
MIN_WINDOW_MINUTES, MAX_WINDOW_MINUTES = 5, 720
MIN_NEW_PER_DAY, MAX_NEW_PER_DAY = 0, 1000
#: The time zone of a server that never chose one (the bot's own default may replace it).
DEFAULT_TIMEZONE = "UTC"
#: Discord shows at most this many autocomplete choices.
MAX_TIMEZONE_CHOICES = 25
#: Members count as active on a server if they answered there within this period.
ACTIVE_MEMBER_LOOKBACK = timedelta(days=14)
#: A question used in a server's daily quiz is not reused for this long (if the bank allows).
REPEAT_LOOKBACK_DAYS = 30
#: Extra-time members get this many times the normal answer window.
EXTRA_TIME_FACTOR = 2
#: How many places the results message lists.
TOP_PLACES = 3

_HHMM = re.compile(r"^\s*(\d{1,2})[:.h](\d{2})\s*$")


# -- settings input -------------------------------------------------------------------------


def parse_hhmm(text: str) -> time:
    """``"7:30"`` / ``"07:30"`` → ``time(7, 30)``; anything else raises :class:`BadInput`."""
    match = _HHMM.match(text or "")
    if match is not None:
        hour, minute = int(match[1]), int(match[2])
        if hour <= 23 and minute <= 59:
            return time(hour, minute)
    shown = (text or "").strip()[:20] or "(empty)"
    raise BadInput(f"'{shown}' isn't a time. Use 24-hour HH:MM, for example 08:30 or 19:00.")


def format_hhmm(moment: time) -> str:
    """``time(7, 5)`` → ``"07:05"`` (how times are stored)."""
    return f"{moment.hour:02d}:{moment.minute:02d}"


@lru_cache(maxsize=1)
def _zone_names() -> dict[str, str]:
    return {name.casefold(): name for name in available_timezones()}


def timezone_names() -> list[str]:
    """Every IANA time zone name known here, sorted (for autocomplete)."""
    return sorted(_zone_names().values())


def timezone_choices(typed: str, limit: int = MAX_TIMEZONE_CHOICES) -> list[str]:
    """Up to ``limit`` IANA names containing what was typed so far (case and spaces ignored)."""
    wanted = typed.casefold().strip().replace(" ", "_")
    return [name for name in timezone_names() if wanted in name.casefold()][:limit]


def parse_timezone(name: str) -> str:
    """The canonical IANA name for ``name`` (case-insensitive), or :class:`BadInput`."""
    wanted = (name or "").strip()
    canonical = _zone_names().get(wanted.casefold())
    if canonical is not None:
        try:
            ZoneInfo(canonical)
        except (ZoneInfoNotFoundError, ValueError):
            canonical = None
        else:
            return canonical
    shown = wanted[:40] or "(empty)"
    raise BadInput(
        f"I don't know the time zone '{shown}'. "
        "Use an IANA name such as Europe/Berlin, America/New_York or UTC."
    )


def validate_questions(count: int) -> int:
    """The number of questions per quiz, or :class:`BadInput` outside 1–10."""
    if not MIN_QUESTIONS <= count <= MAX_QUESTIONS:
        raise BadInput(f"Pick between {MIN_QUESTIONS} and {MAX_QUESTIONS} questions.")
    return count


def validate_window(minutes: int) -> int:
    """The answer window in minutes, or :class:`BadInput` outside 5–720."""
    if not MIN_WINDOW_MINUTES <= minutes <= MAX_WINDOW_MINUTES:
        raise BadInput(
            f"The answer window must be {MIN_WINDOW_MINUTES}–{MAX_WINDOW_MINUTES} minutes "
            "(up to 12 hours)."
        )
    return minutes


def validate_new_per_day(count: int) -> int:
    """The cap on new cards a member sees per day, or :class:`BadInput` outside 0–1000."""
    if not MIN_NEW_PER_DAY <= count <= MAX_NEW_PER_DAY:
        raise BadInput(
            f"New cards per day must be between {MIN_NEW_PER_DAY} and {MAX_NEW_PER_DAY} "
            "(0 means reviews only)."
        )
    return count


# -- when the quiz runs ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScheduledRun:
    """One planned quiz: the server's local date and the UTC instant it is due."""

    local_date: date
    at: datetime


def local_today(now: datetime, tz_name: str) -> date:
    """The calendar date at ``now`` in ``tz_name``."""
    return now.astimezone(ZoneInfo(tz_name)).date()


def run_for_date(local_date: date, at: time, tz_name: str) -> ScheduledRun:
    """When the quiz of ``local_date`` is due, as a UTC instant.

    DST: a local time that does not exist that day (the spring-forward gap, e.g. 02:30 in
    New York on the second Sunday of March) runs when the clocks have jumped, one gap
    later (03:30 local); a time that occurs twice (fall back) runs at its first occurrence.
    Either way there is exactly one run per local date.
    """
    tz = ZoneInfo(tz_name)
    # fold=0 reads a missing time with the offset before the jump, i.e. shifted forward.
    local = datetime.combine(local_date, at, tzinfo=tz).replace(fold=0)
    return ScheduledRun(local_date=local_date, at=local.astimezone(UTC))


def _runs_around(now: datetime, at: time, tz_name: str) -> list[ScheduledRun]:
    today = local_today(now, tz_name)
    return [run_for_date(today + timedelta(days=d), at, tz_name) for d in range(-2, 3)]


def next_run_after(now: datetime, at: time, tz_name: str) -> ScheduledRun:
    """The first run strictly after ``now``."""
    return next(run for run in _runs_around(now, at, tz_name) if run.at > now)


def latest_run_at_or_before(now: datetime, at: time, tz_name: str) -> ScheduledRun:
    """The most recent run at or before ``now``."""
    return [run for run in _runs_around(now, at, tz_name) if run.at <= now][-1]


class RunDecision(StrEnum):
    """What to do about the most recent scheduled run."""

    POST = "post"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class RunPlan:
    """The decision for the latest run (if it is recent) and when the next one is due."""

    latest: ScheduledRun | None
    decision: RunDecision | None
    next_run: ScheduledRun

    @property
    def post_now(self) -> ScheduledRun | None:
        """The run to post right now (on time or late), if any."""
        return self.latest if self.decision is RunDecision.POST else None

    @property
    def missed(self) -> ScheduledRun | None:
        """The run that was missed beyond the grace period, if any."""
        return self.latest if self.decision is RunDecision.SKIP else None


def missed_run_decision(now: datetime, scheduled_for: datetime, grace: timedelta) -> RunDecision:
    """Post a run that is due (or late by at most ``grace``); skip it when later than that."""
    return RunDecision.POST if now - scheduled_for <= grace else RunDecision.SKIP


def plan_run(now: datetime, at: time, tz_name: str, grace: timedelta = DEFAULT_GRACE) -> RunPlan:
    """What a server's schedule asks for at ``now`` (at start-up or when its job fires).

    The latest run within the last day is posted if it is at most ``grace`` late, else
    skipped; whether it was already posted is the database's business (the caller tries
    to claim that local date). ``next_run`` is the following run to schedule.
    """
    latest = latest_run_at_or_before(now, at, tz_name)
    next_run = next_run_after(now, at, tz_name)
    if now - latest.at >= timedelta(days=1):
        return RunPlan(latest=None, decision=None, next_run=next_run)
    return RunPlan(
        latest=latest, decision=missed_run_decision(now, latest.at, grace), next_run=next_run
    )


# -- picking questions ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MemberSchedule:
    """One active member's spaced-repetition view of the bank."""

    due: frozenset[int]
    seen: frozenset[int]

    def wants(self, item_id: int) -> bool:
        """The item is due for this member now, or they never saw it."""
        return item_id in self.due or item_id not in self.seen


def item_scores(candidates: Sequence[int], members: Sequence[MemberSchedule]) -> dict[int, int]:
    """For each candidate: how many active members have it due now or never saw it."""
    return {item: sum(1 for m in members if m.wants(item)) for item in candidates}


def select_daily_items(
    candidates: Sequence[int],
    members: Sequence[MemberSchedule],
    recently_used: Mapping[int, date],
    count: int,
    rng: random.Random | None = None,
) -> list[int]:
    """The ``count`` questions most useful to the most active members.

    Items used in this server's quizzes recently (``recently_used``: item → last local
    date it was asked) are avoided; when the bank is too small they come back, the ones
    asked longest ago first. Ties are broken by ``rng`` (shuffled) or bank order.
    """
    pool = list(dict.fromkeys(candidates))
    if rng is not None:
        rng.shuffle(pool)
    scores = item_scores(pool, members)
    fresh = [item for item in pool if item not in recently_used]
    fresh.sort(key=lambda item: -scores[item])
    chosen = fresh[:count]
    if len(chosen) < count:
        stale = [item for item in pool if item in recently_used]
        stale.sort(key=lambda item: (recently_used[item], -scores[item]))
        chosen.extend(stale[: count - len(chosen)])
    return chosen


# -- windows, results, catch-up -------------------------------------------------------------


def answer_deadline(posted_at: datetime, window: timedelta, *, extra_time: bool) -> datetime:
    """Until when a member may answer: the window, or twice it with extra time."""
    return posted_at + window * (EXTRA_TIME_FACTOR if extra_time else 1)


def results_time(posted_at: datetime, window: timedelta, *, extra_time_members: bool) -> datetime:
    """When the results go up: after the longest window anyone here can still use.

    Results reveal the answers, so with extra-time members on the server they wait until
    the extended window is over too.
    """
    return answer_deadline(posted_at, window, extra_time=extra_time_members)


def catch_up_open(now: datetime, quiz_local_date: date, tz_name: str) -> bool:
    """The catch-up of a quiz can be taken until the end of the quiz's local day."""
    return local_today(now, tz_name) == quiz_local_date


@dataclass(frozen=True, slots=True)
class MemberScore:
    """How one member did in one daily quiz."""

    user_id: int
    name: str
    correct: int
    answered: int


@dataclass(frozen=True, slots=True)
class Placing:
    """One place in the results; several members share it when tied."""

    place: int
    correct: int
    members: tuple[MemberScore, ...]


def rank_scores(scores: Sequence[MemberScore], places: int = TOP_PLACES) -> list[Placing]:
    """Top scorers by correct answers, with ties sharing a place (1, 1, 3 …).

    Members with no correct answer are not placed. At most ``places`` places are listed,
    with every member tied at the last one.
    """
    ordered = sorted(
        (s for s in scores if s.correct > 0), key=lambda s: (-s.correct, s.name.casefold())
    )
    placings: list[Placing] = []
    position = 0
    while position < len(ordered):
        correct = ordered[position].correct
        tied = tuple(s for s in ordered[position:] if s.correct == correct)
        place = position + 1
        if place > places:
            break
        placings.append(Placing(place=place, correct=correct, members=tied))
        position += len(tied)
    return placings


# -- reminders ------------------------------------------------------------------------------


def reminder_due(
    now: datetime, remind_at: time, tz_name: str, last_reminded_on: str | None
) -> date | None:
    """The member's local date if a reminder is due now, else None.

    Due once the local reminder time has passed today and no reminder went out today.
    """
    today = local_today(now, tz_name)
    if last_reminded_on == today.isoformat():
        return None
    if now < run_for_date(today, remind_at, tz_name).at:
        return None
    return today


# -- button tokens --------------------------------------------------------------------------

ANSWER_PREFIX = "dq"
#: A typed question's **Answer** button and its form: ``dt:<quiz>:<prompt>``.
TYPED_ANSWER_PREFIX = "dt"
CATCH_UP_PREFIX = "dc"


def answer_token(quiz_id: int, prompt_id: int, option: int) -> str:
    """Token of a live daily-quiz answer button: ``dq:<quiz>:<prompt>:<option>``."""
    return f"{ANSWER_PREFIX}:{quiz_id}:{prompt_id}:{option}"


def typed_answer_token(quiz_id: int, prompt_id: int) -> str:
    """Token of a live typed question's **Answer** button and form: ``dt:<quiz>:<prompt>``."""
    return f"{TYPED_ANSWER_PREFIX}:{quiz_id}:{prompt_id}"


def catch_up_token(quiz_id: int) -> str:
    """Token of the results message's **Catch up** button: ``dc:<quiz>``."""
    return f"{CATCH_UP_PREFIX}:{quiz_id}"


def _numbers(token: str, prefix: str, count: int) -> list[int] | None:
    parts = token.split(":")
    if len(parts) != count + 1 or parts[0] != prefix:
        return None
    if not all(part.isdigit() and len(part) <= 18 for part in parts[1:]):
        return None
    return [int(part) for part in parts[1:]]


def parse_answer_token(token: str) -> tuple[int, int, int] | None:
    """``dq:<quiz>:<prompt>:<option>`` → (quiz, prompt, option); None when malformed."""
    numbers = _numbers(token, ANSWER_PREFIX, 3)
    return (numbers[0], numbers[1], numbers[2]) if numbers else None


def parse_typed_answer_token(token: str) -> tuple[int, int] | None:
    """``dt:<quiz>:<prompt>`` → (quiz, prompt); None when malformed."""
    numbers = _numbers(token, TYPED_ANSWER_PREFIX, 2)
    return (numbers[0], numbers[1]) if numbers else None


def parse_catch_up_token(token: str) -> int | None:
    """``dc:<quiz>`` → quiz id; None when malformed."""
    numbers = _numbers(token, CATCH_UP_PREFIX, 1)
    return numbers[0] if numbers else None


# -- what the service hands its adapters ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class GuildSchedule:
    """A server's daily-quiz timing."""

    guild_id: int
    channel_id: int | None
    at: time
    timezone: str


@dataclass(frozen=True, slots=True)
class DailyPost:
    """A claimed quiz ready to be sent: one reply per question, in order."""

    quiz_id: int
    guild_id: int
    channel_id: int
    local_date: date
    questions: tuple[Reply, ...]


@dataclass(frozen=True, slots=True)
class OpenQuiz:
    """A posted quiz and when its results are due."""

    quiz_id: int
    guild_id: int
    channel_id: int | None
    closes_at: datetime


@dataclass(frozen=True, slots=True)
class QuizResults:
    """The results message of a closed quiz and where it goes."""

    quiz_id: int
    guild_id: int
    channel_id: int | None
    reply: Reply


@dataclass(frozen=True, slots=True)
class ScheduleOutcome:
    """What a schedule check did: maybe a quiz to post, and when to check next."""

    post: DailyPost | None
    next_run: ScheduledRun | None
