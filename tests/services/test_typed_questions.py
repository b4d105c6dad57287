"""Typed questions through the study services and the daily quiz, on a temporary database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlmodel import col, select

from bot.core.clock import FakeClock
from bot.core.content import Deck, Typed
from bot.core.deck_files import DeckLibrary
from bot.core.learners import Learner
from bot.core.replies import Reply
from bot.errors import AlreadyAnswered, BadInput, ExpiredAction
from bot.services.daily_quiz import CLOSED_MESSAGE
from bot.services.server_settings import ServerSettingsService
from bot.services.study import StudyServices
from bot.storage.db import Database
from bot.storage.models import Attempt
from tests.daily_helpers import ADMIN, BOB, CAROL, configure, daily_quiz_service, utc
from tests.study_helpers import build_study
from tests.study_helpers import choice_action as action

CAPITAL = Typed(
    id="capital-of-france",
    question="What is the capital of France?",
    answers=["Paris"],
    explanation="Paris has been the capital since 987.",
    hint="City of light.",
    image="eiffel.png",
    difficulty="easy",
)
SLOPE = Typed(
    id="backprop-computes",
    question="What does backpropagation compute for every weight?",
    answers=["gradient", "the gradient of the loss"],
    difficulty="hard",
)
ANSWERS = {CAPITAL.question: "Paris", SLOPE.question: "gradient"}
TRIVIA = Deck(deck="trivia", title="Trivia", items=[CAPITAL, SLOPE])


@pytest_asyncio.fixture
async def study(db: Database, clock: FakeClock) -> AsyncIterator[StudyServices]:
    """The study services over a deck of typed questions only."""
    services = build_study(db, clock)
    await services.decks.sync_content(DeckLibrary(decks=[TRIVIA]))
    yield services
    await services.close()


async def attempts(db: Database) -> list[Attempt]:
    async with db.session() as session:
        return list((await session.exec(select(Attempt).order_by(col(Attempt.id)))).all())


async def test_review_asks_a_typed_question_and_grades_the_answer(
    study: StudyServices, alice: Learner, db: Database
) -> None:
    question = await study.review.review(alice)
    answer = question.choice_for("answer")
    assert answer is not None and answer.needs_text and answer.short_text
    right = ANSWERS[question.text]
    feedback = await study.actions.act(alice, answer.action, f"  {right.upper()} ")
    assert feedback.title == "✅ Correct" and f"**{right}**" in feedback.text
    assert [c.label for c in feedback.choices] == ["Next card"]
    [attempt] = await attempts(db)
    assert (attempt.mode, attempt.answer, attempt.correct, attempt.rating) == (
        "review",
        right.upper(),
        True,
        3,
    )
    with pytest.raises(AlreadyAnswered, match=f"“{right.upper()}” \\(correct\\)"):
        await study.actions.act(alice, answer.action, "something else")


async def test_a_close_answer_counts_and_a_wrong_one_does_not(
    study: StudyServices, alice: Learner, bob: Learner, db: Database
) -> None:
    first = await study.review.review(alice)
    right = ANSWERS[first.text]
    close = right[:-1] + right[-1] * 2  # one letter too many
    graded = await study.actions.act(alice, action(first, "answer"), close)
    assert graded.title == f"✅ Close enough: *{right}*"
    second = await study.review.review(bob)
    wrong = await study.actions.act(bob, action(second, "answer"), "no idea")
    assert wrong.title == "❌ Not quite"
    assert f"The answer is **{ANSWERS[second.text]}**" in wrong.text
    assert [(a.correct, a.rating) for a in await attempts(db)] == [(True, 3), (False, 1)]


async def test_an_empty_answer_is_refused_and_nothing_is_stored(
    study: StudyServices, alice: Learner, db: Database
) -> None:
    question = await study.review.review(alice)
    with pytest.raises(BadInput, match="type your answer"):
        await study.actions.act(alice, action(question, "answer"), "   ")
    assert await attempts(db) == []


async def test_the_hint_and_the_picture_come_with_the_question(
    study: StudyServices, alice: Learner
) -> None:
    by_text: dict[str, Reply] = {}
    for _ in range(2):
        question = await study.review.review(alice)
        by_text[question.text] = question
        await study.actions.act(alice, action(question, "answer"), "pass")
    capital, slope = by_text[CAPITAL.question], by_text[SLOPE.question]
    assert capital.media == "eiffel.png" and slope.media == ""
    hinted = await study.actions.act(alice, action(capital, "hint"))
    assert [f.value for f in hinted.fields] == ["City of light."]
    assert [c.key for c in hinted.choices] == ["answer"]
    assert slope.choice_for("hint") is None
    prompt_id = action(slope, "answer").split(":")[1]
    with pytest.raises(BadInput, match="no hint"):
        await study.actions.act(alice, f"hi:{prompt_id}")


async def test_quiz_and_test_ask_typed_questions(study: StudyServices, alice: Learner) -> None:
    quiz = await study.practice.quiz(alice, "trivia")
    assert quiz.choice_for("answer") is not None and quiz.text in ANSWERS
    feedback = await study.actions.act(alice, action(quiz, "answer"), ANSWERS[quiz.text])
    assert "Correct" in feedback.title
    assert [c.label for c in feedback.choices] == ["Another one"]
    test = await study.tests.start_test(alice, "trivia")
    assert test.title.startswith("Test · question 1 of 2")
    graded = await study.actions.act(alice, action(test, "answer"), ANSWERS[test.text])
    assert "Correct" in graded.title and graded.footer == "Question 1 of 2 done."


# -- the daily quiz -------------------------------------------------------------------------


async def test_the_daily_quiz_takes_typed_answers_in_its_window(
    study: StudyServices, db: Database, clock: FakeClock
) -> None:
    service = daily_quiz_service(db, study, clock)
    await configure(ServerSettingsService(db, clock=clock), questions=2)
    clock.set(utc(2026, 1, 5, 9))
    outcome = await service.run_schedule(4242)
    post = outcome.post
    assert post is not None
    await service.mark_open(post.quiz_id, message_id=1)
    tokens = []
    for question in post.questions:
        [answer] = question.choices  # no hint in the timed quiz
        assert answer.action.startswith(f"dt:{post.quiz_id}:") and answer.short_text
        tokens.append((answer.action, ANSWERS[question.text]))

    (first, right), (second, _) = tokens
    reply = await service.answer(BOB, first, right.lower())
    assert reply.private and reply.title == "✅ Correct"
    with pytest.raises(AlreadyAnswered):
        await service.answer(BOB, first, right)
    with pytest.raises(BadInput, match="type your answer"):
        await service.answer(CAROL, first, "")
    assert (await service.answer(CAROL, first, "not it")).title == "❌ Not quite"
    with pytest.raises(ExpiredAction):  # a shared question is answered through the quiz only
        await study.actions.act(BOB, "ex:" + second.split(":")[2], "x")
    with pytest.raises(ExpiredAction):
        await service.answer(BOB, f"dt:{post.quiz_id}:999999", right)
    clock.set(utc(2026, 1, 5, 9, 31))
    with pytest.raises(ExpiredAction, match=CLOSED_MESSAGE):
        await service.answer(BOB, second, "gradient")

    results = await service.close(post.quiz_id)
    assert results is not None
    first_field = results.reply.fields[0]
    assert first_field.value.startswith(f"**{right}**")
    assert first_field.value.endswith("✅ 1 of 2 answered correctly")

    catch_up = await service.catch_up(ADMIN, results.reply.choices[0].action)
    assert catch_up.private and catch_up.title.startswith("Daily quiz catch-up")
    graded = await study.actions.act(ADMIN, action(catch_up, "answer"), ANSWERS[catch_up.text])
    assert graded.title == "✅ Correct"
    stored = [(a.mode, a.correct) for a in await attempts(db)]
    assert stored == [("daily", True), ("daily", False), ("daily", True)]
