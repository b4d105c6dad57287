"""The study engine over a temporary database and the shipped deck, with a fake clock."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from bot.core.clock import FakeClock
from bot.core.deck_files import DeckLibrary
from bot.core.learners import Learner
from bot.core.replies import Reply
from bot.errors import AlreadyAnswered, BadInput, ExpiredAction, NotFound, NotYourQuestion
from bot.services.server_settings import ServerSettingsService
from bot.services.study import StudyServices
from bot.storage.db import Database
from bot.storage.models import Attempt, ReviewState
from tests.study_helpers import build_study

DECK = "tensorflow-training-basics"


def choice(reply: Reply, key: str) -> str:
    found = reply.choice_for(key)
    assert found is not None, f"no {key!r} in {[c.key for c in reply.choices]}"
    return found.action


async def attempts(db: Database) -> list[Attempt]:
    async with db.session() as s:
        return list((await s.exec(select(Attempt).order_by(col(Attempt.id)))).all())


def correct_letter(study: StudyServices, reply: Reply) -> str:
    """Find the right option of a shown question via the item cache (the test knows the key)."""
    prompt_id = int(reply.choices[0].action.split(":")[1])
    for item in study.context.items._items.values():
        if reply.text.startswith(item.content.prompt):
            return "ABCDEF"[item.content.correct_index]  # type: ignore[union-attr]
    raise AssertionError(f"unknown question for prompt {prompt_id}")


async def test_review_flashcard_reveal_then_rate(
    study: StudyServices, alice: Learner, db: Database
) -> None:
    card = await study.review.review(alice)
    assert card.private and [c.key for c in card.choices] == ["reveal"]
    revealed = await study.actions.act(alice, choice(card, "reveal"))
    assert [c.key for c in revealed.choices] == ["again", "hard", "good", "easy"]
    saved = await study.actions.act(alice, choice(revealed, "good"))
    assert "Saved: Good" in saved.title and "10 minutes" in saved.footer
    [attempt] = await attempts(db)
    assert (attempt.rating, attempt.correct, attempt.mode) == (3, True, "review")


async def test_rating_before_reveal_is_refused(study: StudyServices, alice: Learner) -> None:
    card = await study.review.review(alice)
    prompt_id = choice(card, "reveal").split(":")[1]
    with pytest.raises(BadInput):
        await study.actions.act(alice, f"rt:{prompt_id}:3")


async def test_wrong_answer_is_again_and_right_answer_is_good(
    study: StudyServices, alice: Learner, db: Database
) -> None:
    question = await study.practice.quiz(alice, DECK)
    right = correct_letter(study, question)
    wrong = next(c.key for c in question.choices if c.key != right)
    feedback = await study.actions.act(alice, choice(question, wrong))
    assert "Not quite" in feedback.title and "The answer is" in feedback.text
    question = await study.practice.quiz(alice, DECK)
    feedback = await study.actions.act(alice, choice(question, correct_letter(study, question)))
    assert "Correct" in feedback.title
    ratings = [(a.correct, a.rating) for a in await attempts(db)]
    assert ratings == [(False, 1), (True, 3)]


async def test_same_answer_twice_is_recorded_once(
    study: StudyServices, alice: Learner, db: Database
) -> None:
    question = await study.practice.quiz(alice)
    token = choice(question, "A")
    await study.actions.act(alice, token)
    with pytest.raises(AlreadyAnswered) as caught:
        await study.actions.act(alice, token)
    assert "already answered" in caught.value.message
    assert len(await attempts(db)) == 1


async def test_someone_elses_button(study: StudyServices, alice: Learner, bob: Learner) -> None:
    question = await study.practice.quiz(alice)
    with pytest.raises(NotYourQuestion):
        await study.actions.act(bob, choice(question, "A"))


async def test_shared_question_takes_one_answer_per_member(
    study: StudyServices, alice: Learner, bob: Learner, db: Database
) -> None:
    question = await study.practice.quiz(alice, shared=True)
    await study.actions.act(alice, choice(question, "A"))
    await study.actions.act(bob, choice(question, "B"))
    with pytest.raises(AlreadyAnswered):
        await study.actions.act(bob, choice(question, "C"))
    assert len(await attempts(db)) == 2


async def test_practice_hint_then_solution(study: StudyServices, alice: Learner) -> None:
    problem = await study.practice.practice(alice, DECK, "hard")
    assert "hard" in problem.title
    hinted = await study.actions.act(alice, choice(problem, "hint"))
    assert any("Hint" in f.name for f in hinted.fields)
    assert hinted.choice_for("hint") is None
    done = await study.actions.act(alice, choice(hinted, "B"))
    names = [f.name for f in done.fields]
    assert names == ["Solution", "Common mistakes"]
    assert "Correct" in done.title  # house prices: B is the final answer


async def test_explain_coverage_names_missed_concepts(
    study: StudyServices, alice: Learner, db: Database
) -> None:
    prompt = await study.practice.explain(alice)
    answer = choice(prompt, "answer")
    with pytest.raises(BadInput):
        await study.actions.act(alice, answer, "   ")
    result = await study.actions.act(alice, answer, "The optimizer changes things.")
    assert "/3 concepts" in result.title and "Missed" in result.text
    [attempt] = await attempts(db)
    assert attempt.score < 1 and attempt.answer == "The optimizer changes things."


async def test_bad_filters_have_clear_messages(study: StudyServices, alice: Learner) -> None:
    with pytest.raises(NotFound, match="no deck called 'nope'"):
        await study.practice.quiz(alice, "nope")
    with pytest.raises(BadInput, match="easy, medium or hard"):
        await study.practice.quiz(alice, None, "impossible")
    with pytest.raises(NotFound, match="No quiz questions at hard level"):
        await study.practice.quiz(alice, DECK, "hard")


@pytest.mark.parametrize("token", ["rv:999999", "xx", "an:1", "nx:test:424242"])
async def test_stale_or_forged_buttons_expire(
    study: StudyServices, alice: Learner, token: str
) -> None:
    with pytest.raises(ExpiredAction):
        await study.actions.act(alice, token)


async def test_full_test_run_gives_a_breakdown(
    study: StudyServices, alice: Learner, db: Database
) -> None:
    reply = await study.tests.start_test(alice, DECK)
    difficulties = []
    for n in range(10):
        assert f"question {n + 1} of 10" in reply.title
        difficulties.append(reply.title.rsplit("·", 1)[1].strip())
        feedback = await study.actions.act(alice, choice(reply, correct_letter(study, reply)))
        if n < 9:
            reply = await study.actions.act(alice, choice(feedback, "next"))
    assert difficulties == sorted(difficulties, key=["easy", "medium", "hard"].index)
    assert set(difficulties) == {"easy", "medium", "hard"}
    assert "Test finished — 10/10" in feedback.footer
    assert [f.name for f in feedback.fields][-1] == "By difficulty"
    stored = await attempts(db)
    assert len(stored) == 10 and all(a.mode == "test" for a in stored)


async def test_next_twice_in_a_test_does_not_skip_a_question(
    study: StudyServices, alice: Learner
) -> None:
    first = await study.tests.start_test(alice)
    feedback = await study.actions.act(alice, choice(first, "A"))
    second = await study.actions.act(alice, choice(feedback, "next"))
    again = await study.actions.act(alice, choice(feedback, "next"))
    assert second.title == again.title and second.choices == again.choices


async def test_daily_new_limit_and_day_rollover(db: Database, library: DeckLibrary) -> None:
    clock = FakeClock()
    study = build_study(db, clock, new_items_per_day=2, seed=1)
    await study.decks.sync_content(library)
    me = Learner("local", "limit", "Limit")
    for _ in range(2):
        card = await study.review.review(me)
        revealed = await study.actions.act(me, choice(card, "reveal"))
        await study.actions.act(me, choice(revealed, "easy"))
    done = await study.review.review(me)
    assert "caught up" in done.title and "15 more unlock from tomorrow" in done.text
    clock.advance(days=1)
    fresh = await study.review.review(me)
    await study.close()
    assert fresh.choice_for("reveal") is not None and "New" in fresh.footer


async def test_again_card_comes_back_after_its_interval(
    study: StudyServices, clock: FakeClock
) -> None:
    me = Learner("local", "again", "Again")
    card = await study.review.review(me)
    front = card.text
    revealed = await study.actions.act(me, choice(card, "reveal"))
    await study.actions.act(me, choice(revealed, "again"))
    clock.advance(minutes=2)
    due = await study.review.review(me)
    assert due.text == front and "Review" in due.footer


async def test_stats_accuracy_streak_and_due(
    study: StudyServices, clock: FakeClock, alice: Learner
) -> None:
    for _day in range(3):
        question = await study.practice.quiz(alice)
        await study.actions.act(alice, choice(question, correct_letter(study, question)))
        clock.advance(days=1)
    # Day 4, before answering anything: yesterday's study keeps the streak alive.
    summary = await study.stats.stats_summary(alice)
    assert summary.answered == 3 and summary.accuracy_percent == 100
    assert summary.streak_days == 3
    assert summary.due_now >= 1
    reply = await study.stats.stats(alice)
    assert reply.private and any(f.name == "Mastery" for f in reply.fields)


async def test_streak_breaks_after_a_missed_day(
    study: StudyServices, clock: FakeClock, alice: Learner
) -> None:
    question = await study.practice.quiz(alice)
    await study.actions.act(alice, choice(question, "A"))
    clock.advance(days=2)
    assert (await study.stats.stats_summary(alice)).streak_days == 0


async def test_answer_duration_is_stored(
    study: StudyServices, clock: FakeClock, alice: Learner, db: Database
) -> None:
    question = await study.practice.quiz(alice)
    clock.advance(seconds=12)
    await study.actions.act(alice, choice(question, "A"))
    [attempt] = await attempts(db)
    assert attempt.duration_ms == 12_000


async def test_review_state_is_written_per_answer(
    study: StudyServices, alice: Learner, db: Database
) -> None:
    question = await study.practice.quiz(alice)
    await study.actions.act(alice, choice(question, "A"))
    async with db.session() as s:
        states = (await s.exec(select(ReviewState))).all()
    assert len(states) == 1 and states[0].reps == 1


async def test_present_a_specific_item_privately(
    study: StudyServices, alice: Learner, bob: Learner
) -> None:
    question = await study.practice.quiz(alice)
    item_id = next(iter(study.context.items._items.values())).id
    shown = await study.practice.present_item(bob, item_id, "daily")
    assert shown.private and shown.choices
    with pytest.raises(NotFound):
        await study.practice.present_item(bob, 999_999, "daily")
    assert question.choices


async def test_shared_daily_questions_only_take_windowed_answers(
    study: StudyServices, alice: Learner
) -> None:
    question = await study.practice.quiz(alice)
    item_id = next(iter(study.context.items._items.values())).id
    daily = await study.practice.present_item(alice, item_id, "daily", shared=True)
    with pytest.raises(ExpiredAction, match="daily quiz"):
        await study.actions.act(alice, choice(daily, "A"))
    answered = await study.actions.act(alice, choice(daily, "A"), window_checked=True)
    assert "Correct" in answered.title or "Not quite" in answered.title
    assert question.choices


async def test_a_servers_own_new_card_cap_and_time_zone_rule_its_reviews(
    db: Database, clock: FakeClock, library: DeckLibrary
) -> None:
    study = build_study(db, clock, new_items_per_day=20)
    await study.decks.sync_content(library)
    settings = ServerSettingsService(db, clock=clock)
    admin = Learner("discord", "1", "Admin", guild_id=500, guild_name="Capped")
    member = Learner("discord", "2", "Member", guild_id=500, guild_name="Capped")
    elsewhere = Learner("discord", "2", "Member", guild_id=600, guild_name="Open")
    await settings.set_new_per_day(admin, 1)
    # Monday 09:00 UTC is already Monday 18:00 in Tokyo: "today" ends at 15:00 UTC there.
    await settings.set_timezone(admin, "Asia/Tokyo")
    card = await study.review.review(member)
    revealed = await study.actions.act(member, choice(card, "reveal"))
    await study.actions.act(member, choice(revealed, "easy"))
    done = await study.review.review(member)
    assert "caught up" in done.title and "today's 1 new cards" in done.text
    summary = await study.stats.stats_summary(member)
    assert summary.new_available == 0
    # Another server keeps the bot's default cap for the same member.
    other = await study.review.review(elsewhere)
    assert other.choice_for("reveal") is not None or other.choices
    clock.advance(hours=6)  # 15:00 UTC: midnight in Tokyo, a new day on that server
    fresh = await study.review.review(member)
    await study.close()
    assert "New" in fresh.footer


async def test_explain_is_graded_by_meaning_with_evidence_and_misconceptions(
    study: StudyServices, alice: Learner, db: Database
) -> None:
    prompt = await study.practice.explain(alice)
    answer = choice(prompt, "answer")
    if "loss function and the optimizer" in prompt.text + prompt.title:
        text = (
            "The optimizer measures the error. Also the optimiser nudges every weight "
            "a little, and the whole idea is to bring the error down."
        )
        wrong = "the optimizer measures the error"
    else:
        text = (
            "Training changes the data. Each step nudges the weights a little so the "
            "mistakes shrink, and the guesses get closer to the truth."
        )
        wrong = "training changes the data"
    result = await study.actions.act(alice, answer, text)
    fields = {f.name: f.value for f in result.fields}
    assert "✅" in fields["Concepts"]
    assert "“" in fields["Concepts"]  # the words that earned a concept are quoted
    assert wrong.casefold() in fields["Careful"].casefold()
    assert "but" in fields["Careful"]
    [attempt] = await attempts(db)
    assert attempt.score > 0
