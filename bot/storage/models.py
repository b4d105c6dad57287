"""SQLModel tables.

The schema itself is created and changed only by Alembic migrations
(``bot/storage/migrations``); these classes describe it for queries.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.storage.types import UTCDateTime


def utcnow() -> datetime:
    """Current time, aware UTC (a default for ``created_at`` columns)."""
    return datetime.now(UTC)


class Guild(SQLModel, table=True):
    """A Discord server (or the local console's pseudo-server) and its settings."""

    __tablename__ = "guilds"

    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    name: str = ""
    #: IANA time zone of this server: the daily quiz, "today" and streaks. None: the
    #: bot's default (``STUDY_TIMEZONE``). Set by /settings timezone or /settings daily-quiz.
    timezone: str | None = None
    #: Cap on new cards a member is shown per day here (reviews are not capped). None:
    #: the bot's default (``NEW_ITEMS_PER_DAY``). Set by /settings new-per-day.
    new_items_per_day: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # -- daily quiz (all off until an admin configures it) --
    daily_enabled: bool = False
    daily_channel_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    #: Local posting time "HH:MM" in ``timezone``.
    daily_time: str | None = Field(default=None, max_length=5)
    daily_questions: int = 1
    daily_deck: str | None = Field(default=None, max_length=64)
    daily_window_minutes: int = 60
    #: Members with this role may manage the server's questions (as does server-wide Manage
    #: Messages).
    moderator_role_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    #: FSRS desired retention (0.70–0.97) for answers given here, unless the member chose
    #: their own. None: the bot's default (``DESIRED_RETENTION``). Set by /settings retention.
    desired_retention: float | None = None


class User(SQLModel, table=True):
    """A member, identified by platform (``discord`` or ``local``) and their id there."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("platform", "external_id", name="uq_users_platform_ext"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    external_id: str = Field(max_length=64)
    display_name: str = Field(default="", max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    #: Accessibility: doubles this member's answer windows.
    extra_time: bool = False
    #: Opt-in DM reminders when reviews are due, at ``remind_time`` ("HH:MM") local time.
    remind_enabled: bool = False
    remind_time: str | None = Field(default=None, max_length=5)
    remind_timezone: str | None = Field(default=None, max_length=64)
    #: Local date ("YYYY-MM-DD") of the last reminder, so one goes out per day at most.
    last_reminded_on: str | None = Field(default=None, max_length=10)
    #: This member's own FSRS desired retention (0.70–0.97), in every server; it wins over
    #: the server's. None: the server's (else the bot's default). Set by /me retention.
    desired_retention: float | None = None


class Item(SQLModel, table=True):
    """A study item: bundled (``guild_id`` is None) or added by a server's moderators.

    ``payload`` is the validated item as JSON (see :func:`bot.core.content.item_to_dict`).
    Items are never deleted, only deactivated, so attempts keep their history.
    """

    __tablename__ = "items"
    __table_args__ = (
        Index("ix_items_scope", "guild_id", "deck", "active"),
        # Covering index: scope checks in the due queue never read the JSON payload.
        Index("ix_items_id_active_guild", "id", "active", "guild_id"),
        # The active items of one scope (bundled, or one server's) in deck order: the walk
        # that finds a member's next new item, and the count of a scope's items.
        Index("ix_items_guild_active_id", "guild_id", "active", "id"),
        # Choosing a random question of a scope, kind, deck and level from the index alone.
        Index("ix_items_pick", "guild_id", "active", "kind", "deck", "difficulty", "id"),
        # A server's imported items by where they came from (re-importing updates them).
        Index("ix_items_guild_source", "guild_id", "source_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    deck: str = Field(max_length=64)
    slug: str = Field(max_length=64)
    kind: str = Field(max_length=16)
    difficulty: str = Field(max_length=8)
    guild_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, ForeignKey("guilds.id"), nullable=True)
    )
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    content_hash: str = Field(max_length=64)
    #: The tags, case-folded, each between single spaces (``" a b "``), or ``""``; see
    #: :func:`bot.storage.tags.tags_text`.
    tags: str = Field(default="", max_length=1300)
    #: Where an imported item came from (``anki:<guid>:<card>``, ``text:<digest>``), or None.
    source_key: str | None = Field(default=None, max_length=200)
    active: bool = True
    created_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ReviewState(SQLModel, table=True):
    """A member's FSRS card for one item."""

    __tablename__ = "review_states"
    __table_args__ = (
        # A member's cards by due time (the due queue; covering, so no table reads).
        Index("ix_review_states_user_due_item", "user_id", "due", "item_id"),
        # A member's cards by first sight (today's new cards, against the daily cap).
        Index("ix_review_states_user_first_seen", "user_id", "first_seen_at"),
    )

    user_id: int = Field(foreign_key="users.id", primary_key=True)
    item_id: int = Field(foreign_key="items.id", primary_key=True)
    state: int = 1
    step: int | None = None
    stability: float | None = None
    difficulty: float | None = None
    due: datetime = Field(sa_type=UTCDateTime)
    last_review: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reps: int = 0
    lapses: int = 0
    first_seen_at: datetime = Field(sa_type=UTCDateTime)


class StudySession(SQLModel, table=True):
    """A multi-question run: a 10-question test, or a run limited to one tag."""

    __tablename__ = "study_sessions"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    kind: str = Field(max_length=16)
    deck: str | None = Field(default=None, max_length=64)
    #: The tag a tagged ``/review`` or ``/quiz`` run is limited to (case-folded), or None.
    tag: str | None = Field(default=None, max_length=60)
    item_ids: list[int] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Prompt(SQLModel, table=True):
    """One presentation of an item: what a button or typed answer refers to.

    ``user_id`` is None for a question open to everyone in a channel.
    """

    __tablename__ = "prompts"

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="items.id")
    user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    guild_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    mode: str = Field(max_length=16)
    session_id: int | None = Field(default=None, foreign_key="study_sessions.id", index=True)
    position: int | None = None
    presented_at: datetime = Field(sa_type=UTCDateTime)
    hint_shown_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revealed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Attempt(SQLModel, table=True):
    """One graded answer. Append-only; one row per member per prompt."""

    __tablename__ = "attempts"
    __table_args__ = (
        UniqueConstraint("prompt_id", "user_id", name="uq_attempts_prompt_user"),
        Index("ix_attempts_user_created", "user_id", "created_at"),
        Index("ix_attempts_item", "item_id"),
        Index("ix_attempts_guild_created", "guild_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    item_id: int = Field(foreign_key="items.id")
    prompt_id: int = Field(foreign_key="prompts.id")
    guild_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    mode: str = Field(max_length=16)
    answer: str = Field(default="", max_length=4000)
    correct: bool
    score: float = 0.0
    rating: int
    duration_ms: int = 0
    created_at: datetime = Field(sa_type=UTCDateTime)


class AuditEntry(SQLModel, table=True):
    """Who changed what in a server's question bank or settings, and when."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_guild_created", "guild_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = Field(sa_column=Column(BigInteger, ForeignKey("guilds.id"), nullable=False))
    #: The acting member (None once that member asked to be forgotten).
    actor_user_id: int | None = Field(default=None, foreign_key="users.id")
    #: e.g. ``question.add``, ``question.edit``, ``question.remove``, ``settings.daily``.
    action: str = Field(max_length=32)
    item_id: int | None = Field(default=None, foreign_key="items.id")
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class FormDraft(SQLModel, table=True):
    """A refused add/edit form, kept so its "Edit and retry" button works after a restart.

    Drafts are short-lived: :data:`bot.storage.bank.DRAFT_TTL` after ``created_at`` they
    are expired and deleted.
    """

    __tablename__ = "form_drafts"

    id: int | None = Field(default=None, primary_key=True)
    #: Who typed it (only they may reopen it).
    user_id: int = Field(foreign_key="users.id", index=True)
    guild_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    #: The question being edited, or None for a new one.
    item_id: int | None = Field(default=None)
    #: The form's fields as typed (:class:`bot.core.question_drafts.QuestionDraft`).
    fields: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class DailyQuiz(SQLModel, table=True):
    """One server's quiz for one local date. The unique key makes a double post impossible."""

    __tablename__ = "daily_quizzes"
    __table_args__ = (UniqueConstraint("guild_id", "local_date", name="uq_daily_quiz_guild_date"),)

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = Field(sa_column=Column(BigInteger, ForeignKey("guilds.id"), nullable=False))
    #: The server's local date "YYYY-MM-DD" this quiz belongs to.
    local_date: str = Field(max_length=10)
    #: ``posting`` → ``open`` → ``closed``; or ``skipped``.
    status: str = Field(default="posting", max_length=16)
    channel_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    message_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    item_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    prompt_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    scheduled_for: datetime = Field(sa_type=UTCDateTime)
    #: When a process claimed the day (a late post may claim long after ``scheduled_for``).
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    posted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closes_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Exam(SQLModel, table=True):
    """An exam date (``/exam``): a member's own in one server (or DMs), or a server-wide one.

    ``user_id`` None: the server's exam, set by a moderator, for every member without their
    own. ``user_id`` and ``set_by`` carry no foreign key (see migration 0010). Setting an
    exam replaces the old one of the same member and server (:mod:`bot.storage.exams`).
    """

    __tablename__ = "exams"
    __table_args__ = (
        Index("ix_exams_guild_user", "guild_id", "user_id"),
        Index("ix_exams_user", "user_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, ForeignKey("guilds.id"), nullable=True)
    )
    user_id: int | None = None
    #: The deck the plan covers; None: everything visible in the server.
    deck: str | None = Field(default=None, max_length=64)
    #: The exam's local date in the server's time zone.
    exam_on: date
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    #: The member who set it.
    set_by: int | None = None
