"""The tutor answering questions in plain chat, on a temporary database over the seed deck."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlmodel import select

from bot.core import actions
from bot.core.clock import FakeClock
from bot.core.content import ChoiceItem
from bot.core.learners import Learner
from bot.core.question_drafts import QuestionDraft
from bot.core.replies import Reply, Tone
from bot.errors import ExpiredAction, NotFound
from bot.semantic.meaning import SentenceMeaning
from bot.services.ask import AskLimits, AskService, RateLimiter
from bot.services.question_bank import QuestionBankService
from bot.services.study import StudyServices
from bot.storage.db import Database
from bot.storage.models import Attempt, Item, ReviewState
from tests.study_helpers import build_study, choice_action, shown_item

SERVER_A = 6_000_001
SERVER_B = 6_000_002
ZORB = "What colour is the Zorblax nebula in the Quentaris sector?"


class Ticker:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def member(server: int | None, external_id: str = "7") -> Learner:
    return Learner("discord", external_id, "Sam", guild_id=server, guild_name=f"Server {server}")


@pytest.fixture(scope="module")
def meaning() -> SentenceMeaning:
    """One sentence model for the module (it loads once)."""
    return SentenceMeaning()


@pytest.fixture
def ticker() -> Ticker:
    return Ticker()


@pytest_asyncio.fixture
async def ask(
    study: StudyServices, meaning: SentenceMeaning, ticker: Ticker
) -> AsyncIterator[AskService]:
    yield AskService(study.context, meaning=meaning, clock=ticker)


async def item_row(db: Database, item_id: int) -> Item:
    async with db.session() as session:
        row = await session.get(Item, item_id)
        assert row is not None
        return row


async def bundled_id(db: Database, slug: str) -> int:
    async with db.session() as session:
        found = (await session.exec(select(Item.id).where(Item.slug == slug))).first()
        assert found is not None
        return found


def answered_item_id(reply: Reply) -> int:
    """The item id a chat answer's "Quiz me on this" asks."""
    action = actions.parse_action(choice_action(reply, "quiz"))
    assert isinstance(action, actions.QuizItem)
    return action.item_id


# -- answers --------------------------------------------------------------------------------


async def test_a_seed_question_is_answered_from_its_item(
    ask: AskService, alice: Learner, db: Database
) -> None:
    reply = await ask.ask(alice, "What role does the loss play in training?", conversation="c")
    row = await item_row(db, answered_item_id(reply))
    assert row.slug == "role-of-loss-function"
    assert reply.title == "From tensorflow-training-basics"
    assert reply.text.startswith("It measures how wrong the model's predictions are.")
    assert [(f.name, f.value) for f in reply.fields] == [
        ("The question this comes from", "What role does the loss function play in training?")
    ]
    assert [c.label for c in reply.choices] == ["Quiz me on this", "Show a worked problem"]
    assert reply.tone is Tone.INFO and not reply.private


async def test_a_multiple_choice_item_gives_its_right_option_and_explanation(
    ask: AskService, alice: Learner
) -> None:
    reply = await ask.ask(
        alice, "is stopping training early part of the optimizer's job?", conversation="c"
    )
    assert reply.text.startswith("**Change weights to reduce loss**\nThe optimizer takes")
    assert "What is the optimizer's job during training?" in reply.fields[0].value


async def test_quiz_me_asks_that_item_and_grades_and_schedules_the_answer(
    ask: AskService, study: StudyServices, alice: Learner, db: Database
) -> None:
    reply = await ask.ask(
        alice, "Which function tells us how bad the model's predictions are?", conversation="c"
    )
    item_id = answered_item_id(reply)
    question = await study.actions.act(alice, choice_action(reply, "quiz"))
    assert (await shown_item(study, question)).id == item_id
    assert question.tone is Tone.QUESTION and question.private
    async with db.session() as session:
        item = await study.context.load_item(session, item_id)
    assert isinstance(item.content, ChoiceItem)
    feedback = await study.actions.act(alice, choice_action(question, item.content.answer))
    assert "Correct" in feedback.title
    async with db.session() as session:
        attempts = (await session.exec(select(Attempt))).all()
        cards = (
            await session.exec(select(ReviewState).where(ReviewState.item_id == item_id))
        ).all()
    assert [(a.item_id, a.mode, a.correct) for a in attempts] == [(item_id, "quiz", True)]
    assert len(cards) == 1


async def test_quiz_me_on_a_flashcard_reviews_it(
    ask: AskService, study: StudyServices, alice: Learner
) -> None:
    reply = await ask.ask(alice, "whats the main goal of training a model?", conversation="c")
    card = await study.actions.act(alice, choice_action(reply, "quiz"))
    assert card.title.startswith("Flashcard") and card.choice_for("reveal") is not None
    revealed = await study.actions.act(alice, choice_action(card, "reveal"))
    rated = await study.actions.act(alice, choice_action(revealed, "good"))
    assert "Good" in rated.text + rated.title + "".join(f.value for f in rated.fields)


async def test_a_worked_problem_is_a_practice_item_with_a_hint(
    ask: AskService, study: StudyServices, alice: Learner, db: Database
) -> None:
    reply = await ask.ask(alice, "why do we need an optimizer?", conversation="c")
    problem = await study.actions.act(alice, choice_action(reply, "worked"))
    shown = await shown_item(study, problem)
    assert shown.kind == "practice" and shown.id != answered_item_id(reply)
    assert problem.title.startswith("Practice") and problem.choice_for("hint") is not None
    hinted = await study.actions.act(alice, choice_action(problem, "hint"))
    assert any(f.name.endswith("Hint") for f in hinted.fields)
    right = shown.payload["answer"]
    feedback = await study.actions.act(alice, choice_action(hinted, right))
    assert "Correct" in feedback.title
    async with db.session() as session:
        modes = (await session.exec(select(Attempt.mode))).all()
    assert list(modes) == ["practice"]


async def test_without_a_practice_item_to_offer_the_answer_says_so(
    ask: AskService, study: StudyServices, alice: Learner, db: Database
) -> None:
    async with db.session() as session:
        for row in (await session.exec(select(Item).where(Item.kind == "practice"))).all():
            row.active = False
            session.add(row)
        await session.commit()
    reply = await ask.ask(alice, "What role does the loss play in training?", conversation="c")
    assert [c.key for c in reply.choices] == ["quiz"]
    assert "no worked problem on this yet" in reply.footer and "/practice" in reply.footer


# -- nothing matches, bad questions, too many questions ---------------------------------------


@pytest.mark.parametrize(
    "question", ["how do I bake sourdough bread?", "what's the capital of Australia?"]
)
async def test_a_question_the_decks_do_not_cover_gets_no_made_up_answer(
    ask: AskService, alice: Learner, question: str
) -> None:
    reply = await ask.ask(alice, question, conversation="c")
    assert "I couldn't find that" in reply.text and "/decks" in reply.text
    assert not reply.choices and not reply.fields


@pytest.mark.parametrize("question", ["", "   ", "\u200b"])
async def test_an_empty_question_asks_for_one(
    ask: AskService, alice: Learner, question: str
) -> None:
    reply = await ask.ask(alice, question, conversation="c")
    assert reply.tone is Tone.WARNING and "Ask me a question" in reply.text


async def test_an_overlong_question_is_refused(ask: AskService, alice: Learner) -> None:
    reply = await ask.ask(alice, "loss " * 101, conversation="c")
    assert reply.tone is Tone.WARNING and "under 500 characters" in reply.text
    fits = await ask.ask(
        alice, "What role does the loss play in training? " + " " * 600, conversation="c"
    )
    assert fits.choices


async def test_a_member_asking_too_fast_is_slowed_down(
    ask: AskService, alice: Learner, bob: Learner, ticker: Ticker
) -> None:
    for _ in range(6):
        assert (await ask.ask(alice, "why do we need an optimizer?", conversation="c")).choices
        ticker.now += 1
    slowed = await ask.ask(alice, "why do we need an optimizer?", conversation="c")
    assert slowed.tone is Tone.WARNING and not slowed.choices
    assert slowed.text == "Slow down a little — you can ask me again in 54 s."
    assert (await ask.ask(bob, "why do we need an optimizer?", conversation="d")).choices
    ticker.now += 54
    assert (await ask.ask(alice, "why do we need an optimizer?", conversation="c")).choices


def test_the_rate_limiter_forgets_old_events_and_members() -> None:
    ticker = Ticker()
    limiter = RateLimiter(2, 10.0, max_keys=2, clock=ticker)
    assert limiter.wait("a") == 0 and limiter.wait("a") == 0
    assert limiter.wait("a") == pytest.approx(10.0)
    ticker.now += 10
    assert limiter.wait("a") == 0
    limiter.wait("b")
    limiter.wait("c")  # "a" is forgotten: only two members are kept
    assert limiter.wait("a") == 0 and limiter.wait("a") == 0


# -- follow-ups -----------------------------------------------------------------------------


async def test_a_follow_up_continues_the_topic_of_its_conversation(
    ask: AskService, alice: Learner
) -> None:
    first = await ask.ask(alice, "What role does the loss play in training?", conversation="c")
    assert "loss" in first.fields[0].value
    follow_up = await ask.ask(alice, "and why does it go down?", conversation="c")
    assert follow_up.choices and "loss" in (follow_up.text + follow_up.fields[0].value).casefold()
    # On its own (another conversation) the same words find nothing.
    alone = await ask.ask(alice, "and why does it go down?", conversation="elsewhere")
    assert "I couldn't find that" in alone.text


async def test_what_about_the_gradients_stays_with_the_optimizer(
    ask: AskService, alice: Learner, db: Database
) -> None:
    await ask.ask(alice, "why do we need an optimizer?", conversation="c")
    follow_up = await ask.ask(alice, "what about the gradients?", conversation="c")
    shown = (follow_up.text + follow_up.fields[0].value).casefold()
    assert "gradient" in shown and "optimizer" in shown


async def test_the_optimizer_follow_up_asks_how_it_knows_the_way(
    ask: AskService, alice: Learner
) -> None:
    await ask.ask(alice, "what does the optimizer do?", conversation="c")
    reply = await ask.ask(alice, "and how does it know which way to change them?", conversation="c")
    assert "gradient" in reply.text.casefold()


@pytest.mark.parametrize("question", ["how do I bake sourdough bread?", "and what about pizza?"])
async def test_an_unrelated_question_does_not_get_the_old_topic(
    ask: AskService, alice: Learner, question: str
) -> None:
    await ask.ask(alice, "What role does the loss play in training?", conversation="c")
    reply = await ask.ask(alice, question, conversation="c")
    assert "I couldn't find that" in reply.text


async def test_a_topic_is_forgotten_after_half_an_hour(
    ask: AskService, alice: Learner, ticker: Ticker
) -> None:
    await ask.ask(alice, "What role does the loss play in training?", conversation="c")
    ticker.now += 31 * 60
    later = await ask.ask(alice, "and why does it go down?", conversation="c")
    assert "I couldn't find that" in later.text


async def test_a_new_question_is_not_bent_towards_the_old_topic(
    ask: AskService, alice: Learner, db: Database
) -> None:
    await ask.ask(alice, "why do we need an optimizer?", conversation="c")
    reply = await ask.ask(
        alice, "can a mean squared error loss ever be negative?", conversation="c"
    )
    assert (await item_row(db, answered_item_id(reply))).slug == "loss-after-first-step"


# -- servers are kept apart -------------------------------------------------------------------


async def test_a_servers_own_question_is_found_only_in_that_server(
    ask: AskService, study: StudyServices, db: Database, clock: FakeClock, ticker: Ticker
) -> None:
    sam_a, sam_b = member(SERVER_A), member(SERVER_B)
    before = await ask.ask(sam_a, ZORB, conversation="a")  # loads server A's items
    assert "I couldn't find that" in before.text
    bank = QuestionBankService(db, clock=clock)
    draft = QuestionDraft(
        deck="space",
        kind="mcq",
        difficulty="easy",
        question=ZORB,
        options="Teal\nCrimson",
        answer="Teal",
        explanation="The Zorblax nebula glows teal because of its ionised neon.",
    )
    await bank.add(member(SERVER_A, "1"), draft)
    ticker.now += AskLimits().corpus_ttl_s  # a new question shows up within a minute
    found = await ask.ask(sam_a, "why is the zorblax nebula teal?", conversation="a")
    assert "ionised neon" in found.text and found.title == "From space"
    assert "I couldn't find that" in (await ask.ask(sam_b, ZORB, conversation="b")).text
    assert "I couldn't find that" in (await ask.ask(member(None), ZORB, conversation="d")).text
    # Server B cannot be quizzed on it through a button either.
    with pytest.raises(NotFound):
        await study.actions.act(sam_b, choice_action(found, "quiz"))
    question = await study.actions.act(sam_a, choice_action(found, "quiz"))
    assert ZORB in question.text


async def test_item_buttons_refuse_what_they_cannot_show(
    study: StudyServices, alice: Learner, db: Database
) -> None:
    with pytest.raises(ExpiredAction):
        await study.actions.act(alice, actions.QuizItem(999_999).token())
    flashcard = await bundled_id(db, "goal-of-training")
    with pytest.raises(NotFound):
        await study.actions.act(alice, actions.WorkedProblem(flashcard).token())
    practice = await bundled_id(db, "missing-apply-gradients")
    shown = await study.actions.act(alice, actions.WorkedProblem(practice).token())
    assert (await shown_item(study, shown)).id == practice


@pytest.mark.parametrize(
    "action", [actions.QuizItem(12), actions.WorkedProblem(99_999_999_999)], ids=repr
)
def test_item_tokens_round_trip_and_fit_a_custom_id(action: actions.ItemAction) -> None:
    token = action.token()
    assert len(token) <= 90 and token[:3] in ("qz:", "wp:")
    assert actions.parse_action(token) == action


# -- without the model ----------------------------------------------------------------------


async def test_without_the_model_keywords_still_answer(
    study: StudyServices, alice: Learner, db: Database
) -> None:
    ask = AskService(study.context, meaning=SentenceMeaning("off"))
    reply = await ask.ask(alice, "What role does the loss play in training?", conversation="c")
    assert (await item_row(db, answered_item_id(reply))).slug == "role-of-loss-function"
    assert reply.choice_for("worked") is not None
    nothing = await ask.ask(alice, "how do I bake sourdough bread?", conversation="c")
    assert "I couldn't find that" in nothing.text


async def test_best_item_names_the_item_or_none(ask: AskService) -> None:
    slug, score = await ask.best_item(None, "Why do we want to minimize the loss during training?")
    assert slug == "why-minimize-loss" and score > 0.3
    slug, score = await ask.best_item(None, "how do I mute a channel in discord")
    assert slug is None and score < 0.3


async def test_a_server_without_items_has_no_answers(
    db: Database, clock: FakeClock, meaning: SentenceMeaning, alice: Learner
) -> None:
    empty = build_study(db, clock)
    try:
        ask = AskService(empty.context, meaning=meaning)
        reply = await ask.ask(alice, "why do we need an optimizer?", conversation="c")
        assert "I couldn't find that" in reply.text
        assert await ask.best_item(None, "why do we need an optimizer?") == (None, 0.0)
    finally:
        await empty.close()


async def test_a_big_bank_is_searched_by_keywords_first(
    study: StudyServices, meaning: SentenceMeaning, alice: Learner, db: Database
) -> None:
    ask = AskService(study.context, meaning=meaning, limits=AskLimits(candidates=3))
    reply = await ask.ask(
        alice, "does GradientTape update the weights by itself?", conversation="c"
    )
    assert (await item_row(db, answered_item_id(reply))).slug == "missing-apply-gradients"
    assert reply.choice_for("worked") is not None
