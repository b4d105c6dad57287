"""Data access for members' own data: find without creating, export, forget.

Each function takes the session first and keyword arguments after. :func:`forget_user`
commits its own single transaction (all or nothing); the others only read.

What forgetting a member does, table by table (:data:`DELETED_BY_USER` and
:data:`CLEARED_ON_FORGET` list every reference to ``users.id``; a test keeps them complete):

- ``attempts``, ``review_states``, ``prompts`` (their own), ``study_sessions``,
  ``form_drafts``, their own ``exams`` and the ``users`` row are deleted;
- ``audit_log.actor_user_id``, ``items.created_by`` and ``exams.set_by`` (a server-wide exam
  they set) are set to NULL: the server keeps the entry, the question and the exam, no
  longer linked to the member;
- server data (``guilds``, ``daily_quizzes``, shared prompts, other members' rows) stays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fsrs import State
from sqlalchemy import delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.log import get_logger
from bot.storage.models import (
    Attempt,
    AuditEntry,
    Exam,
    FormDraft,
    Item,
    Prompt,
    ReviewState,
    StudySession,
    User,
)

log = get_logger(__name__)

#: Export format version (bump when the JSON layout changes).
EXPORT_VERSION = 1
#: Tables whose rows belong to one member, deleted with them: (table, user column).
DELETED_BY_USER: tuple[tuple[str, str], ...] = (
    ("attempts", "user_id"),
    ("review_states", "user_id"),
    ("prompts", "user_id"),
    ("study_sessions", "user_id"),
    ("form_drafts", "user_id"),
    ("exams", "user_id"),
)
#: Columns pointing at a member from server data, set to NULL when they are forgotten.
CLEARED_ON_FORGET: tuple[tuple[str, str], ...] = (
    ("audit_log", "actor_user_id"),
    ("items", "created_by"),
    ("exams", "set_by"),
)


async def find_user(session: AsyncSession, *, platform: str, external_id: str) -> User | None:
    """The member's row if the bot has one (never creates it)."""
    statement = select(User).where(User.platform == platform, User.external_id == external_id)
    return (await session.exec(statement)).first()


@dataclass(frozen=True, slots=True)
class ForgetReport:
    """How many rows forgetting a member deleted or unlinked, by table."""

    deleted: dict[str, int] = field(default_factory=dict)
    unlinked: dict[str, int] = field(default_factory=dict)

    @property
    def total_deleted(self) -> int:
        """Rows deleted in all tables (the users row included)."""
        return sum(self.deleted.values())


async def forget_user(session: AsyncSession, *, user_id: int) -> ForgetReport:
    """Delete every row of the member and unlink them from server data, in one transaction.

    Commits on success; on any error the transaction is rolled back and nothing changes.
    """
    deleted: dict[str, int] = {}
    unlinked: dict[str, int] = {}
    try:
        # Children first: attempts point at prompts, prompts at study sessions.
        owned: tuple[tuple[Any, Any], ...] = (
            (Attempt, Attempt.user_id),
            (ReviewState, ReviewState.user_id),
            (Prompt, Prompt.user_id),
            (StudySession, StudySession.user_id),
            (FormDraft, FormDraft.user_id),
            (Exam, Exam.user_id),
        )
        for model, column in owned:
            result = await session.exec(delete(model).where(col(column) == user_id))
            deleted[str(model.__tablename__)] = int(result.rowcount or 0)
        linked: tuple[tuple[Any, Any], ...] = (
            (AuditEntry, AuditEntry.actor_user_id),
            (Item, Item.created_by),
            (Exam, Exam.set_by),
        )
        for model, column in linked:
            result = await session.exec(
                update(model).where(col(column) == user_id).values({column: None})
            )
            unlinked[str(model.__tablename__)] = int(result.rowcount or 0)
        result = await session.exec(delete(User).where(col(User.id) == user_id))
        deleted["users"] = int(result.rowcount or 0)
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    log.info("forgot member %s: deleted %s, unlinked %s", user_id, deleted, unlinked)
    return ForgetReport(deleted=deleted, unlinked=unlinked)


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _state_name(value: int) -> str:
    try:
        return State(value).name.lower()
    except ValueError:
        return str(value)


async def export_user(session: AsyncSession, *, user_id: int) -> dict[str, Any]:
    """Everything stored about the member, as JSON-ready data.

    ``profile`` (the users row), ``attempts`` (every answer, oldest first, with the item's
    deck and slug), ``review_states`` (the FSRS card per item), ``study_sessions`` and
    ``form_drafts`` (refused question forms kept for "Edit and retry") and ``exams`` (their
    own exam dates).
    Raises ``LookupError`` when the member has no row.
    """
    user = await session.get(User, user_id)
    if user is None:
        raise LookupError(f"no user {user_id}")
    profile = {
        "platform": user.platform,
        "external_id": user.external_id,
        "display_name": user.display_name,
        "created_at": _when(user.created_at),
        "extra_time": user.extra_time,
        "remind_enabled": user.remind_enabled,
        "remind_time": user.remind_time,
        "remind_timezone": user.remind_timezone,
        "last_reminded_on": user.last_reminded_on,
        "desired_retention": user.desired_retention,
    }
    attempt_rows = (
        await session.exec(
            select(Attempt, Item.deck, Item.slug)
            .join(Item, col(Item.id) == col(Attempt.item_id))
            .where(Attempt.user_id == user_id)
            .order_by(col(Attempt.created_at), col(Attempt.id))
        )
    ).all()
    attempts = [
        {
            "id": a.id,
            "created_at": _when(a.created_at),
            "guild_id": str(a.guild_id) if a.guild_id is not None else None,
            "deck": deck,
            "item": slug,
            "mode": a.mode,
            "answer": a.answer,
            "correct": a.correct,
            "score": a.score,
            "rating": a.rating,
            "duration_ms": a.duration_ms,
        }
        for a, deck, slug in attempt_rows
    ]
    state_rows = (
        await session.exec(
            select(ReviewState, Item.deck, Item.slug)
            .join(Item, col(Item.id) == col(ReviewState.item_id))
            .where(ReviewState.user_id == user_id)
            .order_by(col(ReviewState.item_id))
        )
    ).all()
    review_states = [
        {
            "deck": deck,
            "item": slug,
            "state": _state_name(r.state),
            "due": _when(r.due),
            "last_review": _when(r.last_review),
            "first_seen_at": _when(r.first_seen_at),
            "stability": r.stability,
            "difficulty": r.difficulty,
            "reps": r.reps,
            "lapses": r.lapses,
        }
        for r, deck, slug in state_rows
    ]
    runs = (
        await session.exec(
            select(StudySession)
            .where(StudySession.user_id == user_id)
            .order_by(col(StudySession.id))
        )
    ).all()
    study_sessions = [
        {
            "kind": run.kind,
            "deck": run.deck,
            "tag": run.tag,
            "questions": len(run.item_ids),
            "created_at": _when(run.created_at),
            "finished_at": _when(run.finished_at),
        }
        for run in runs
    ]
    drafts = (
        await session.exec(
            select(FormDraft).where(FormDraft.user_id == user_id).order_by(col(FormDraft.id))
        )
    ).all()
    form_drafts = [
        {
            "guild_id": str(d.guild_id),
            "item_id": d.item_id,
            "fields": d.fields,
            "created_at": _when(d.created_at),
        }
        for d in drafts
    ]
    own_exams = (
        await session.exec(select(Exam).where(Exam.user_id == user_id).order_by(col(Exam.id)))
    ).all()
    exams = [
        {
            "guild_id": str(e.guild_id) if e.guild_id is not None else None,
            "deck": e.deck,
            "exam_on": e.exam_on.isoformat(),
            "created_at": _when(e.created_at),
        }
        for e in own_exams
    ]
    return {
        "format": "study-tutor-export",
        "version": EXPORT_VERSION,
        "profile": profile,
        "attempts": attempts,
        "review_states": review_states,
        "study_sessions": study_sessions,
        "form_drafts": form_drafts,
        "exams": exams,
    }


@dataclass(frozen=True, slots=True)
class MemberCard:
    """One of a member's cards for ``/export-me``'s Anki package: the item and its state."""

    item: Item
    state: ReviewState
    #: The member's answers to the item: (when, rating 1–4, time taken in ms), oldest first.
    answers: tuple[tuple[datetime, int, int], ...]


async def member_cards(session: AsyncSession, *, user_id: int) -> list[MemberCard]:
    """The member's cards on active items with their answers, by deck then item."""
    pairs = (
        await session.exec(
            select(Item, ReviewState)
            .join(ReviewState, col(ReviewState.item_id) == col(Item.id))
            .where(ReviewState.user_id == user_id, col(Item.active).is_(True))
            .order_by(col(Item.deck), col(Item.id))
        )
    ).all()
    answers: dict[int, list[tuple[datetime, int, int]]] = {}
    rows = await session.exec(
        select(Attempt.item_id, Attempt.created_at, Attempt.rating, Attempt.duration_ms)
        .where(Attempt.user_id == user_id)
        .order_by(col(Attempt.created_at), col(Attempt.id))
    )
    for item_id, created_at, rating, duration in rows.all():
        answers.setdefault(item_id, []).append((created_at, rating, duration))
    return [
        MemberCard(item=item, state=state, answers=tuple(answers.get(state.item_id, ())))
        for item, state in pairs
    ]
