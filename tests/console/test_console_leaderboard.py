"""``/leaderboard`` in the console: typed words in, pages as commands to type."""

from __future__ import annotations

import pytest

from bot.console.leaderboard import leaderboard_commands, typed_page_hints
from bot.core.clock import FakeClock
from bot.core.leaderboard import LeaderRow, PageRequest, Period, leaderboard_reply, rank_rows
from bot.core.learners import Learner
from bot.core.replies import Reply
from bot.errors import BadInput
from bot.services.leaderboard import LeaderboardService
from bot.services.study import StudyServices


def row(user_id: int, correct: int, answered: int, name: str = "") -> LeaderRow:
    return LeaderRow(
        user_id=user_id, name=name or f"m{user_id}", correct=correct, answered=answered
    )


def test_console_pages_are_commands_to_type() -> None:
    ranked = rank_rows([row(n, 100 - n, 100) for n in range(1, 24)])
    middle = leaderboard_reply(ranked, PageRequest(Period.MONTH, 1, "basics"), viewer_id=None)
    typed = typed_page_hints(middle)
    assert typed.choices == ()
    assert "prev page: /leaderboard month basics 1" in (typed.footer or "")
    assert "next page: /leaderboard month basics 3" in (typed.footer or "")
    single = leaderboard_reply(ranked[:3], PageRequest(Period.ALL, 0), viewer_id=None)
    assert typed_page_hints(single) == single


async def answer_quiz(study: StudyServices, learner: Learner, *, right: bool) -> None:
    question = await study.practice.quiz(learner)
    item = next(
        i for i in study.context.items._items.values() if question.text.startswith(i.content.prompt)
    )
    correct = item.content.correct_index  # type: ignore[union-attr]
    option = correct if right else (correct + 1) % len(item.content.options)
    await study.actions.act(learner, question.choices[option].action)


async def test_console_leaderboard_ranks_local_profiles(
    study: StudyServices, alice: Learner, clock: FakeClock
) -> None:
    await answer_quiz(study, alice, right=True)
    boards = LeaderboardService(study.context.db, clock=clock, include_serverless=True)
    command = leaderboard_commands(boards)["/leaderboard"]
    reply: Reply = await command(alice, ["all"])
    assert "**1.** Alice" in reply.text
    with pytest.raises(BadInput):
        await command(alice, ["a", "b", "c"])
