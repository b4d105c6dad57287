"""A daily-quiz rush: 500 members × 20 answers at once, with double clicks.

Every answer is recorded exactly once; each member's score and the leaderboard are exactly
what the answers given imply.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from itertools import pairwise

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from bot.core.leaderboard import LeaderRow, rank_rows
from bot.core.learners import Learner
from bot.core.replies import Reply
from bot.errors import AlreadyAnswered
from bot.services.study import StudyServices
from bot.storage import crud
from bot.storage.leaderboard import leaderboard_rows
from bot.storage.models import Attempt

pytestmark = pytest.mark.slow

MEMBERS = 500
QUESTIONS = 20
GUILD = 4242


def correct_letter(study: StudyServices, reply: Reply) -> str:
    for item in study.context.items._items.values():
        if reply.text.startswith(item.content.prompt):
            return "ABCDEF"[item.content.correct_index]  # type: ignore[union-attr]
    raise AssertionError("unknown question")


async def test_rush_of_answers_with_double_clicks(study: StudyServices) -> None:
    rng = random.Random(11)
    members = [
        Learner("discord", str(900_000 + n), f"member{n:03d}", guild_id=GUILD)
        for n in range(MEMBERS)
    ]
    questions = [await study.practice.quiz(members[0], shared=True) for _ in range(QUESTIONS)]
    expected_correct: Counter[str] = Counter()
    clicks: list[tuple[Learner, str]] = []
    for question in questions:
        right = correct_letter(study, question)
        letters = [c.key for c in question.choices if len(c.key) == 1]
        for member in members:
            picked = rng.choice(letters)
            token = question.choice_for(picked).action  # type: ignore[union-attr]
            clicks.append((member, token))
            if rng.random() < 0.1:  # a double click: the same button again at once
                clicks.append((member, token))
            expected_correct[member.external_id] += picked == right
    rng.shuffle(clicks)
    double_clicks = len(clicks) - MEMBERS * QUESTIONS

    results = await asyncio.gather(
        *(study.actions.act(member, token) for member, token in clicks), return_exceptions=True
    )

    refused = [r for r in results if isinstance(r, AlreadyAnswered)]
    unexpected = [r for r in results if isinstance(r, BaseException) and r not in refused]
    assert not unexpected, unexpected[:3]
    assert len(refused) == double_clicks
    async with study.context.db.session() as session:
        stored = (await session.exec(select(func.count()).select_from(Attempt))).one()
        duplicates = (
            await session.exec(
                select(Attempt.prompt_id, Attempt.user_id)
                .group_by(col(Attempt.prompt_id), col(Attempt.user_id))
                .having(func.count() > 1)
            )
        ).all()
        rows = await leaderboard_rows(session, guild_id=GUILD, platform="discord")
        scores = {}
        for member in members:
            user = await crud.get_or_create_user(
                session, platform="discord", external_id=member.external_id
            )
            scores[member.external_id] = await crud.attempt_totals(session, user_id=user.id or 0)
    assert stored == MEMBERS * QUESTIONS and duplicates == []
    for member in members:
        assert scores[member.external_id] == (QUESTIONS, expected_correct[member.external_id])

    ranked = rank_rows([LeaderRow(*row) for row in rows])
    assert len(ranked) == MEMBERS
    by_name = {entry.row.name: entry for entry in ranked}
    for member in members:
        assert by_name[member.display_name].row.correct == expected_correct[member.external_id]
    # Ranks follow the correct counts exactly, ties sharing a rank.
    best = max(expected_correct.values())
    leaders = {m.display_name for m in members if expected_correct[m.external_id] == best}
    assert {e.row.name for e in ranked if e.rank == 1} == leaders
    for earlier, later in pairwise(ranked):
        assert earlier.row.correct >= later.row.correct
        assert (earlier.rank == later.rank) == (earlier.row.correct == later.row.correct)
