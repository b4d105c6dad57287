"""Server leaderboards: periods, ranking with ties, pages, tokens and the reply.

Pure rules and value types (no I/O, no database, no discord); the board itself is built by
:class:`bot.services.leaderboard.LeaderboardService`.

Ranking rules
    Members are ordered by **correct answers** in the period (more first), then by
    **accuracy** (higher first; for equal correct answers that means fewer answers). Members
    with the same correct answers *and* the same number of answers are tied and share a
    rank (standard competition ranking: 1, 2, 2, 4); tied members are listed by name.

Periods
    ``week`` and ``month`` are rolling windows of the last 7 and 30 days (24-hour days up
    to now, not calendar weeks or months); ``all`` is every answer.

Scope
    One server's answers (``attempts.guild_id``). Outside a server the answers given
    outside any server by members of the same platform. The offline console is a server of
    its own (:data:`bot.console.app.LOCAL_GUILD_ID`) whose board also counts its members'
    answers from before it was one (``include_serverless``), so none of them drop off.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from fractions import Fraction

from bot.core.replies import Choice, ChoiceStyle, Reply, ReplyBuilder, Tone
from bot.errors import BadInput, ExpiredAction

#: Rows per leaderboard page.
PAGE_SIZE = 10
#: Token prefix of the page buttons (``lb:<period>:<page>:<deck or ->``).
TOKEN_PREFIX = "lb"
_DECK_IN_TOKEN = re.compile(r"[A-Za-z0-9_\-]{1,64}")


class Period(StrEnum):
    """How far back a leaderboard looks."""

    WEEK = "week"
    MONTH = "month"
    ALL = "all"

    @property
    def days(self) -> int | None:
        """Length of the rolling window in days (None: all time)."""
        return {Period.WEEK: 7, Period.MONTH: 30, Period.ALL: None}[self]

    @property
    def label(self) -> str:
        """How the period is named in replies."""
        return {
            Period.WEEK: "last 7 days",
            Period.MONTH: "last 30 days",
            Period.ALL: "all time",
        }[self]

    @classmethod
    def parse(cls, value: str | None) -> Period:
        """``week``/``month``/``all`` (case-insensitive; empty means ``week``)."""
        text = (value or "week").strip().casefold()
        try:
            return cls(text)
        except ValueError:
            raise BadInput("The period must be week, month or all.") from None


def period_start(period: Period, now: datetime) -> datetime | None:
    """The first instant counted for ``period`` (a rolling window), or None for all time."""
    days = period.days
    return None if days is None else now - timedelta(days=days)


@dataclass(frozen=True, slots=True)
class LeaderRow:
    """One member's figures in the period."""

    user_id: int
    name: str
    correct: int
    answered: int

    @property
    def accuracy_percent(self) -> int:
        """Correct answers as a whole-number percentage."""
        return round(100 * self.correct / self.answered) if self.answered else 0


@dataclass(frozen=True, slots=True)
class RankedRow:
    """A member's place on the leaderboard."""

    rank: int
    row: LeaderRow


def merge_rows(rows: Iterable[LeaderRow]) -> list[LeaderRow]:
    """One row per member, adding up the figures of their rows (from several scopes)."""
    merged: dict[int, LeaderRow] = {}
    for row in rows:
        seen = merged.get(row.user_id)
        merged[row.user_id] = (
            row
            if seen is None
            else LeaderRow(
                user_id=row.user_id,
                name=seen.name or row.name,
                correct=seen.correct + row.correct,
                answered=seen.answered + row.answered,
            )
        )
    return list(merged.values())


def _order_key(row: LeaderRow) -> tuple[int, Fraction, int, str, int]:
    accuracy = Fraction(row.correct, row.answered) if row.answered else Fraction(0)
    return (-row.correct, -accuracy, row.answered, row.name.casefold(), row.user_id)


def rank_rows(rows: Sequence[LeaderRow]) -> list[RankedRow]:
    """Order members by the ranking rules (module docstring) and number them; ties share."""
    ranked: list[RankedRow] = []
    previous: tuple[int, int] | None = None
    for position, row in enumerate(sorted(rows, key=_order_key), start=1):
        tie = (row.correct, row.answered)
        rank = ranked[-1].rank if ranked and tie == previous else position
        ranked.append(RankedRow(rank=rank, row=row))
        previous = tie
    return ranked


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a ranked leaderboard (``number`` is 0-based)."""

    entries: tuple[RankedRow, ...]
    number: int
    count: int
    total: int

    @property
    def has_previous(self) -> bool:
        """Whether there is a page before this one."""
        return self.number > 0

    @property
    def has_next(self) -> bool:
        """Whether there is a page after this one."""
        return self.number + 1 < self.count


def paginate(ranked: Sequence[RankedRow], page: int, *, size: int = PAGE_SIZE) -> Page:
    """Page ``page`` (0-based, clamped to the pages that exist) of ``ranked``."""
    count = max(1, -(-len(ranked) // size))
    number = min(max(page, 0), count - 1)
    start = number * size
    return Page(
        entries=tuple(ranked[start : start + size]), number=number, count=count, total=len(ranked)
    )


def find_member(ranked: Sequence[RankedRow], user_id: int) -> RankedRow | None:
    """The member's place, if they answered in the period."""
    return next((entry for entry in ranked if entry.row.user_id == user_id), None)


@dataclass(frozen=True, slots=True)
class PageRequest:
    """What a page button asks for."""

    period: Period
    page: int
    deck: str | None = None

    def token(self) -> str:
        """``lb:<period>:<page>:<deck or ->``."""
        return f"{TOKEN_PREFIX}:{self.period.value}:{self.page}:{self.deck or '-'}"

    @classmethod
    def parse(cls, token: str) -> PageRequest:
        """Read a token made by :meth:`token`; raises :class:`ExpiredAction` when malformed."""
        parts = token.split(":", 3)
        try:
            prefix, period, page, deck = parts
            if prefix != TOKEN_PREFIX or not page.isdigit():
                raise ValueError(token)
            return cls(period=Period(period), page=int(page), deck=None if deck == "-" else deck)
        except ValueError:
            raise ExpiredAction("That button no longer works. Try /leaderboard again.") from None


def _name(row: LeaderRow) -> str:
    return row.name.strip() or f"Member {row.user_id}"


def _line(entry: RankedRow) -> str:
    row = entry.row
    answers = "answer" if row.answered == 1 else "answers"
    return (
        f"**{entry.rank}.** {_name(row)} — {row.correct} correct · "
        f"{row.accuracy_percent}% of {row.answered} {answers}"
    )


def leaderboard_reply(
    ranked: Sequence[RankedRow],
    request: PageRequest,
    *,
    viewer_id: int | None,
) -> Reply:
    """The leaderboard page as a private reply, with Prev/Next buttons and the viewer's rank.

    Buttons are left out when the deck name cannot travel in a button (an unusual name).
    """
    page = paginate(ranked, request.page)
    where = f" · {request.deck}" if request.deck else ""
    out = ReplyBuilder(
        title=f"Leaderboard{where} · {request.period.label}",
        tone=Tone.INFO,
        private=True,
    )
    if not ranked:
        out.text = "Nobody has answered anything here in this period yet. Start with /quiz!"
        return out.build()
    out.text = "\n".join(_line(entry) for entry in page.entries)
    mine = find_member(ranked, viewer_id) if viewer_id is not None else None
    if mine is None:
        out.add_field("You", "No answers in this period yet — try /quiz or /review.")
    else:
        out.add_field("You", f"#{mine.rank} of {len(ranked)} — {_line(mine).split(' — ', 1)[1]}")
    out.footer = (
        f"Page {page.number + 1} of {page.count} · ranked by correct answers, then accuracy"
    )
    buttons_fit = request.deck is None or _DECK_IN_TOKEN.fullmatch(request.deck) is not None
    if buttons_fit and page.has_previous:
        previous = PageRequest(request.period, page.number - 1, request.deck)
        out.choices.append(Choice("prev", "◀ Prev", previous.token()))
    if buttons_fit and page.has_next:
        following = PageRequest(request.period, page.number + 1, request.deck)
        out.choices.append(Choice("next", "Next ▶", following.token(), style=ChoiceStyle.PRIMARY))
    return out.build()
