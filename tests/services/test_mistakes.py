"""``/review mistakes``: questions answered wrong lately come back until right twice in a row."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select

from bot.core.clock import FakeClock
from bot.core.content import MultipleChoice
from bot.core.learners import Learner
from bot.core.replies import Reply
from bot.services.study import StudyServices
from bot.storage.db import Database
from bot.storage.mistakes import MISTAKE_WINDOW
from bot.storage.models import Attempt, Item, ReviewState
from tests.study_helpers import choice_action as action
from tests.study_helpers import shown_item

SERVER = 4_200_000_001
OTHER_SERVER = 4_200_000_002


def member(name: str, guild_id: int | None = SERVER) -> Learner:
    return Learner(
        platform="discord", external_id=name, display_name=name.title(), guild_id=guild_id
    )


@pytest.fixture
def ana() -> Learner:
    """A member of :data:`SERVER`."""
    return member("ana")


async def answer(study: StudyServices, learner: Learner, reply: Reply, *, right: bool) -> Reply:
    """Answer a shown multiple-choice question right or wrong; the feedback."""
    content = study.context.items.of_row(await shown_item(study, reply)).content
    assert isinstance(content, MultipleChoice)
    index = content.correct_index if right else (content.correct_index + 1) % len(content.options)
    return await study.actions.act(learner, action(reply, "ABCDEF"[index]))


async def mcq_ids(db: Database) -> list[int]:
    async with db.session() as s:
        statement = select(col(Item.id)).where(Item.kind == "mcq").order_by(col(Item.id))
        return [i for i in (await s.exec(statement)).all() if i is not None]


async def miss(study: StudyServices, learner: Learner, item_id: int) -> None:
    """Answer item ``item_id`` wrong in a quiz."""
    question = await study.practice.present_item(learner, item_id, "quiz")
    await answer(study, learner, question, right=False)


async def test_a_wrong_answer_comes_back_until_it_is_right_twice_in_a_row(
    study: StudyServices, db: Database, ana: Learner, clock: FakeClock
) -> None:
    [first, *_] = await mcq_ids(db)
    await miss(study, ana, first)
    retry = await study.review.mistakes(ana)
    assert (await shown_item(study, retry)).id == first
    assert retry.private and retry.footer.startswith("Retry · 1 to go · missed once lately")
    clock.advance(minutes=5)
    feedback = await answer(study, ana, retry, right=True)
    assert "Correct" in feedback.title
    assert action(feedback, "next") == "nx:mistakes"
    assert feedback.choices[-1].label == "Next mistake"
    again = await study.actions.act(ana, action(feedback, "next"))
    assert (await shown_item(study, again)).id == first
    assert "right 1 of 2 in a row" in again.footer
    clock.advance(minutes=5)
    feedback = await answer(study, ana, again, right=True)
    done = await study.actions.act(ana, action(feedback, "next"))
    assert done.title == "No mistakes to retry" and not done.choices
    assert "Nothing to retry — you got everything right the last two times. 🎉" in done.text
    assert "/review" in done.text
    async with db.session() as s:
        modes = (await s.exec(select(Attempt.mode).order_by(col(Attempt.id)))).all()
        card = (await s.exec(select(ReviewState).where(ReviewState.item_id == first))).one()
    # Answers to mistakes are recorded and review the card like any other answer.
    assert list(modes) == ["quiz", "mistakes", "mistakes"]
    assert card.reps == 3


async def test_the_mistake_answered_longest_ago_comes_first(
    study: StudyServices, db: Database, ana: Learner, clock: FakeClock
) -> None:
    first, second, *_ = await mcq_ids(db)
    await miss(study, ana, first)
    clock.advance(minutes=1)
    await miss(study, ana, second)
    retry = await study.review.mistakes(ana)
    assert (await shown_item(study, retry)).id == first
    assert "2 to go" in retry.footer
    # Missed again: it goes to the back of the line, behind the other one.
    feedback = await answer(study, ana, retry, right=False)
    retry = await study.actions.act(ana, action(feedback, "next"))
    assert (await shown_item(study, retry)).id == second
    assert "missed once lately" in retry.footer
    feedback = await answer(study, ana, retry, right=True)
    retry = await study.actions.act(ana, action(feedback, "next"))
    assert (await shown_item(study, retry)).id == first
    assert "missed 2 times lately" in retry.footer


async def test_mistakes_belong_to_their_server_and_last_two_weeks(
    study: StudyServices, db: Database, ana: Learner, clock: FakeClock
) -> None:
    [first, *_] = await mcq_ids(db)
    await miss(study, ana, first)
    elsewhere = member("ana", OTHER_SERVER)
    assert (await study.review.mistakes(elsewhere)).title == "No mistakes to retry"
    assert (await study.review.mistakes(member("ana", None))).title == "No mistakes to retry"
    assert (await study.review.mistakes(member("bea"))).title == "No mistakes to retry"
    clock.advance(MISTAKE_WINDOW - timedelta(minutes=1))
    assert (await shown_item(study, await study.review.mistakes(ana))).id == first
    clock.advance(minutes=2)
    assert (await study.review.mistakes(ana)).title == "No mistakes to retry"


async def test_a_flashcard_rated_again_is_a_mistake(study: StudyServices, ana: Learner) -> None:
    card = await study.review.review(ana)
    revealed = await study.actions.act(ana, action(card, "reveal"))
    await study.actions.act(ana, action(revealed, "again"))
    retry = await study.review.mistakes(ana)
    assert "Flashcard" in retry.title and retry.footer.startswith("Retry")
    revealed = await study.actions.act(ana, action(retry, "reveal"))
    saved = await study.actions.act(ana, action(revealed, "good"))
    assert action(saved, "next") == "nx:mistakes"


async def test_stats_show_the_mistakes_to_retry(
    study: StudyServices, db: Database, ana: Learner
) -> None:
    first, second, third, *_ = await mcq_ids(db)
    for item_id in (first, second, third):
        await miss(study, ana, item_id)
    question = await study.practice.present_item(ana, first, "quiz")
    await answer(study, ana, question, right=True)
    summary = await study.stats.stats_summary(ana)
    assert summary.mistakes == 3  # one right answer is not yet two in a row
    question = await study.practice.present_item(ana, first, "review")
    await answer(study, ana, question, right=True)
    reply = await study.stats.stats(ana)
    fields = {f.name: f.value for f in reply.fields}
    assert fields["Mistakes to retry"] == "2"
    other = await study.stats.stats(member("bea"), member=ana)
    assert {f.name: f.value for f in other.fields}["Mistakes to retry"] == "2"
