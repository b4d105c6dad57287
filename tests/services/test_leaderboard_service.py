"""The leaderboard service: the board of one server and period, from answers in the database."""

from __future__ import annotations

import pytest

from bot.core.clock import FakeClock
from bot.core.leaderboard import Period
from bot.core.learners import Learner
from bot.errors import NotFound
from bot.services.leaderboard import LeaderboardService
from bot.services.study import StudyServices

GUILD = 42


def member(name: str, guild: int | None = GUILD) -> Learner:
    return Learner("discord", name.casefold(), name, guild_id=guild, guild_name="Study Hall")


async def answer_quiz(study: StudyServices, learner: Learner, *, right: bool) -> None:
    question = await study.practice.quiz(learner)
    item = next(
        i for i in study.context.items._items.values() if question.text.startswith(i.content.prompt)
    )
    correct = item.content.correct_index  # type: ignore[union-attr]
    option = correct if right else (correct + 1) % len(item.content.options)
    await study.actions.act(learner, question.choices[option].action)


async def test_board_ranks_members_of_this_server_in_the_period(
    study: StudyServices, clock: FakeClock
) -> None:
    ana, ben, cas = member("Ana"), member("Ben"), member("Cas")
    elsewhere = member("Dee", guild=7)
    for learner, right, wrong in ((ana, 2, 1), (ben, 3, 0), (cas, 2, 1), (elsewhere, 5, 0)):
        for _ in range(right):
            await answer_quiz(study, learner, right=True)
        for _ in range(wrong):
            await answer_quiz(study, learner, right=False)
    boards = LeaderboardService(study.context.db, clock=clock)
    reply = await boards.show(ana, "week")
    lines = reply.text.splitlines()
    assert [line.split(" — ")[0] for line in lines] == ["**1.** Ben", "**2.** Ana", "**2.** Cas"]
    assert "Dee" not in reply.text
    assert {f.name: f.value for f in reply.fields}["You"].startswith("#2 of 3")
    # A month later the week board is empty, the all-time board is not.
    clock.advance(days=8)
    assert "Nobody" in (await boards.show(ana, "week")).text
    assert "Ben" in (await boards.show(ana, Period.ALL)).text


async def test_deck_filter_checks_the_deck(study: StudyServices, clock: FakeClock) -> None:
    boards = LeaderboardService(study.context.db, clock=clock)
    await answer_quiz(study, member("Ana"), right=True)
    reply = await boards.show(member("Ana"), "all", "tensorflow-training-basics")
    assert "Ana" in reply.text and "tensorflow-training-basics" in reply.title
    with pytest.raises(NotFound):
        await boards.show(member("Ana"), "all", "no-such-deck")
