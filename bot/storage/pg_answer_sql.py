"""The statements of one answer, for the PostgreSQL lane (plain ``asyncpg``).

An answer is two statements inside one transaction (see :class:`bot.storage.pg_lane.PgLane`):

1. :func:`answer_facts` finds the member (creating the row on first sight), the prompt with
   its item, and the member's card for that item — one round trip;
2. :func:`write_answer` appends to the attempt log and, only when that row was new,
   upserts the card — one round trip, so a repeat answer writes nothing at all.

They write the same tables as the SQLModel classes in :mod:`bot.storage.models`, in the
types the migrations created: ``timestamptz`` (aware UTC datetimes), ``json`` (read as
text and parsed here), native booleans. The storage tests check that rows written here read
back identically through the models. asyncpg prepares each statement once per connection
(its statement cache), so later answers only bind and execute.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import asyncpg  # type: ignore[import-untyped]

from bot.core.answering import AnswerFacts, AttemptRow, PromptRow
from bot.core.clock import to_utc
from bot.core.scheduling import CARD_COLUMNS, CardState
from bot.errors import StorageError
from bot.storage.answer_rows import StaleRead

#: The member's id (found, or inserted on first sight), the prompt and its item, and the
#: member's card for that item. No row at all means another transaction inserted the same
#: new member at the same moment (the insert was skipped, and this statement's snapshot
#: predates that row); the caller asks again. Selecting before inserting keeps the ``users``
#: sequence from being spent on every answer by ``INSERT … ON CONFLICT``.
FACTS = """
WITH found AS (
    SELECT id, desired_retention FROM users
    WHERE platform = $1::varchar AND external_id = $2::varchar
), made AS (
    INSERT INTO users (platform, external_id, display_name, created_at)
    SELECT $1::varchar, $2::varchar, $3::varchar, $4::timestamptz
    WHERE NOT EXISTS (SELECT 1 FROM found)
    ON CONFLICT (platform, external_id) DO NOTHING
    RETURNING id, desired_retention
), member AS (
    SELECT id, desired_retention FROM found UNION ALL SELECT id, desired_retention FROM made
)
SELECT m.id,
       p.id, p.item_id, p.user_id, p.guild_id, p.mode, p.session_id, p.position,
       p.presented_at, p.revealed_at,
       i.deck, i.guild_id, i.payload::text, i.content_hash,
       {card_columns},
       COALESCE(m.desired_retention, g.desired_retention)
FROM member m
LEFT JOIN prompts p ON p.id = $5::integer
LEFT JOIN items i ON i.id = p.item_id
LEFT JOIN review_states rs ON rs.user_id = m.id AND rs.item_id = p.item_id
LEFT JOIN guilds g ON g.id = p.guild_id
""".format(card_columns=", ".join(f"rs.{name}" for name in CARD_COLUMNS))

#: The attempt (skipped when this member already answered this prompt) and, only if it was
#: stored, the card. The card is updated only if it is still the one the answer was decided
#: on (same ``reps``, which every review increments; NULL: there was no card, so any row
#: found now is newer). ``ON CONFLICT DO UPDATE`` checks that against the latest committed
#: row, so two answers of one member to the same item never overwrite each other's review.
WRITE = """
WITH attempt AS (
    INSERT INTO attempts (user_id, item_id, prompt_id, guild_id, mode, answer, correct, score,
                          rating, duration_ms, created_at)
    VALUES ($1::integer, $2::integer, $3::integer, $4::bigint, $5::varchar, $6::varchar,
            $7::boolean, $8::float8, $9::integer, $10::integer, $11::timestamptz)
    ON CONFLICT (prompt_id, user_id) DO NOTHING
    RETURNING id
), card AS (
    INSERT INTO review_states (user_id, item_id, state, step, stability, difficulty, due,
                               last_review, reps, lapses, first_seen_at)
    SELECT $1::integer, $2::integer, $12::integer, $13::integer, $14::float8, $15::float8,
           $16::timestamptz, $17::timestamptz, $18::integer, $19::integer, $11::timestamptz
    WHERE EXISTS (SELECT 1 FROM attempt)
    ON CONFLICT (user_id, item_id) DO UPDATE SET
        state = excluded.state, step = excluded.step, stability = excluded.stability,
        difficulty = excluded.difficulty, due = excluded.due,
        last_review = excluded.last_review, reps = excluded.reps, lapses = excluded.lapses
    WHERE review_states.reps = $20::integer
    RETURNING 1
)
SELECT (SELECT id FROM attempt), EXISTS (SELECT 1 FROM card)
"""

EARLIER = "SELECT answer, correct FROM attempts WHERE prompt_id = $1 AND user_id = $2"

#: Tries to find or create a member while other transactions race to create it (then the
#: whole answer is run again in a new transaction).
MEMBER_TRIES = 3


@dataclass(frozen=True, slots=True)
class Written:
    """What :func:`write_answer` did."""

    #: False: this member had already answered this prompt; nothing was written.
    attempt_stored: bool
    #: False (with ``attempt_stored``): the card changed since it was read; roll back.
    card_stored: bool


async def answer_facts(
    conn: asyncpg.Connection,
    *,
    platform: str,
    external_id: str,
    display_name: str,
    prompt_id: int,
    now: datetime,
) -> AnswerFacts:
    """The member (created on first sight), the prompt with its item, and their card."""
    for _ in range(MEMBER_TRIES):
        row = await conn.fetchrow(
            FACTS, platform, external_id, display_name[:100], to_utc(now), prompt_id
        )
        if row is not None:
            return _facts(row)
    raise StaleRead(f"member {platform}:{external_id} neither found nor created")


def _facts(row: asyncpg.Record) -> AnswerFacts:
    prompt: PromptRow | None = None
    if row[1] is not None:
        prompt = PromptRow(
            id=row[1],
            item_id=row[2],
            user_id=row[3],
            guild_id=row[4],
            mode=row[5],
            session_id=row[6],
            position=row[7],
            presented_at=to_utc(row[8]),
            revealed_at=to_utc(row[9]) if row[9] is not None else None,
            item_deck=row[10],
            item_guild_id=row[11],
            item_payload=json.loads(row[12]),
            item_hash=row[13],
        )
    card: CardState | None = None
    card_end = 14 + len(CARD_COLUMNS)
    if row[14] is not None:
        values = dict(zip(CARD_COLUMNS, list(row)[14:card_end], strict=True))
        values["due"] = to_utc(values["due"])
        if values["last_review"] is not None:
            values["last_review"] = to_utc(values["last_review"])
        card = CardState(**values)
    retention = row[card_end] if prompt is not None else None
    return AnswerFacts(
        user_id=row[0],
        prompt=prompt,
        card=card,
        retention=float(retention) if retention is not None else None,
    )


async def write_answer(
    conn: asyncpg.Connection,
    *,
    attempt: AttemptRow,
    state: CardState,
    read: CardState | None,
) -> Written:
    """Store the attempt and the member's new card ``state`` (``read``: the card before)."""
    created_at = to_utc(attempt.created_at)
    row = await conn.fetchrow(
        WRITE,
        attempt.user_id,
        attempt.item_id,
        attempt.prompt_id,
        attempt.guild_id,
        attempt.mode,
        attempt.answer,
        bool(attempt.correct),
        float(attempt.score),
        attempt.rating,
        attempt.duration_ms,
        created_at,
        state.state,
        state.step,
        state.stability,
        state.difficulty,
        to_utc(state.due),
        to_utc(state.last_review) if state.last_review is not None else None,
        state.reps,
        state.lapses,
        read.reps if read is not None else None,
    )
    if row is None:  # the statement always returns one row
        raise StorageError("Your answer could not be saved. Please try again.")
    return Written(attempt_stored=row[0] is not None, card_stored=bool(row[1]))


async def earlier_attempt(
    conn: asyncpg.Connection, *, prompt_id: int, user_id: int
) -> tuple[str, bool] | None:
    """(answer, correct) of the member's earlier answer to this prompt."""
    row = await conn.fetchrow(EARLIER, prompt_id, user_id)
    return (str(row[0]), bool(row[1])) if row is not None else None
