"""Typed questions in the core: grading, how they are shown, feedback and the daily quiz."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core import actions
from bot.core.answering import (
    MAX_EXPLANATION_CHARS,
    AnswerOutcome,
    Graded,
    PromptRow,
    already_answered_message,
    grade_action,
)
from bot.core.content import Flashcard, MultipleChoice, Typed, item_to_dict
from bot.core.daily import (
    TYPED_ANSWER_PREFIX,
    parse_answer_token,
    parse_typed_answer_token,
    typed_answer_token,
)
from bot.core.daily_replies import (
    MemberAnswer,
    daily_question,
    question_outcome,
    results_reply,
    tally_scores,
)
from bot.core.letters import DAILY_MODE
from bot.core.replies import Reply, Tone
from bot.core.scheduling import Grade, SpacedRepetition
from bot.core.sessions import StudyItem
from bot.core.study_replies import answer_feedback, question_reply, revealed_reply
from bot.errors import BadInput, ExpiredAction

NOW = datetime(2026, 1, 5, 9, tzinfo=UTC)

CAPITAL = Typed(
    id="capital-of-france",
    question="What is the capital of France?",
    answers=["Paris", "Paname"],
    explanation="Paris has been the capital since 987.",
    hint="City of light.",
    image="eiffel.png",
)
GRADIENT = Typed(id="slope", question="What does backprop compute?", answers=["gradient"])
HALF = Typed(id="half", question="Half of one?", answers=["0.5"], fractions=True)


def study_item(content: Typed | Flashcard | MultipleChoice, item_id: int = 1) -> StudyItem:
    return StudyItem(id=item_id, deck="trivia", content=content)


def prompt_row(item: StudyItem, *, mode: str = "quiz", prompt_id: int = 7) -> PromptRow:
    return PromptRow(
        id=prompt_id,
        item_id=item.id,
        user_id=1,
        guild_id=None,
        mode=mode,
        session_id=None,
        position=None,
        presented_at=NOW - timedelta(seconds=20),
        revealed_at=None,
        item_deck=item.deck,
        item_guild_id=None,
        item_payload=item_to_dict(item.content),
        item_hash="h",
    )


def grade(content: Typed, text: str | None) -> Graded:
    item = study_item(content)
    return grade_action(item, prompt_row(item), actions.SubmitExplanation(7), text)


def feedback(content: Typed, text: str) -> Reply:
    item = study_item(content)
    graded = grade(content, text)
    state = SpacedRepetition().review(None, graded.grade, NOW, 20_000)
    outcome = AnswerOutcome(prompt=prompt_row(item), item=item, graded=graded, state=state)
    return answer_feedback(outcome, NOW).build()


# -- grading --------------------------------------------------------------------------------


def test_an_exact_answer_is_good() -> None:
    graded = grade(CAPITAL, "  paris ")
    assert (graded.correct, graded.score, graded.grade) == (True, 1.0, Grade.GOOD)
    assert graded.answer == "paris"
    assert graded.typed is not None and graded.typed.exact and graded.typed.matched == "Paris"


def test_a_close_answer_is_good_and_says_what_it_matched() -> None:
    graded = grade(GRADIENT, "gradiant")
    assert (graded.correct, graded.grade) == (True, Grade.GOOD)
    assert graded.typed is not None and not graded.typed.exact
    assert graded.typed.matched == "gradient"


def test_a_wrong_answer_is_again() -> None:
    graded = grade(CAPITAL, "Lyon")
    assert (graded.correct, graded.score, graded.grade) == (False, 0.0, Grade.AGAIN)
    assert graded.typed is not None and graded.typed.matched is None


def test_the_authors_fraction_choice_is_used() -> None:
    assert grade(HALF, "1/2").correct
    strict = HALF.model_copy(update={"fractions": False})
    assert not grade(strict, "1/2").correct


@pytest.mark.parametrize("text", [None, "", "   ", "\n\t"])
def test_an_empty_answer_is_refused(text: str | None) -> None:
    with pytest.raises(BadInput, match="type your answer"):
        grade(CAPITAL, text)


def test_an_overlong_answer_is_refused() -> None:
    with pytest.raises(BadInput, match=str(MAX_EXPLANATION_CHARS)):
        grade(CAPITAL, "x" * (MAX_EXPLANATION_CHARS + 1))
    assert not grade(CAPITAL, "x" * MAX_EXPLANATION_CHARS).correct


def test_a_typed_question_takes_no_letter_or_rating() -> None:
    item = study_item(CAPITAL)
    with pytest.raises(ExpiredAction):
        grade_action(item, prompt_row(item), actions.Answer(7, 0), None)
    with pytest.raises(ExpiredAction):
        grade_action(item, prompt_row(item), actions.Rate(7, 3), None)


def test_already_answered_names_the_first_answer() -> None:
    item = study_item(CAPITAL)
    assert already_answered_message(item, ("paris", True)) == (
        "You already answered this one: “paris” (correct)."
    )
    long_answer = "lyon " * 40
    message = already_answered_message(item, (long_answer, False))
    assert "(not quite right)" in message and len(message) < 160


# -- showing --------------------------------------------------------------------------------


def test_a_typed_question_asks_for_one_line_and_offers_its_hint() -> None:
    reply = question_reply(study_item(CAPITAL), 7, private=True)
    assert reply.title == "Question · trivia · medium"
    assert reply.text == CAPITAL.question and reply.media == "eiffel.png"
    answer, hint = reply.choices
    assert (answer.key, answer.action, answer.needs_text, answer.short_text) == (
        "answer",
        "ex:7",
        True,
        True,
    )
    assert (hint.key, hint.action) == ("hint", "hi:7")
    hinted = question_reply(study_item(CAPITAL), 7, hint_shown=True, private=True)
    assert [f.name for f in hinted.fields] == ["💡 Hint"]
    assert [c.key for c in hinted.choices] == ["answer"]


def test_without_a_hint_there_is_no_hint_button_and_no_picture() -> None:
    reply = question_reply(study_item(GRADIENT), 3, heading="Test · question 1 of 10 · medium")
    assert [c.key for c in reply.choices] == ["answer"]
    assert reply.title == "Test · question 1 of 10 · medium" and reply.media == ""


def test_every_kind_shows_its_picture() -> None:
    card = Flashcard(id="card", front="Front", back="Back", image="card.jpg")
    mcq = MultipleChoice(
        id="pick", question="Q?", options=["a", "b"], answer="A", explanation="E", image="q.png"
    )
    assert question_reply(study_item(card), 1).media == "card.jpg"
    assert revealed_reply(study_item(card), 1).media == "card.jpg"
    assert question_reply(study_item(mcq), 1).media == "q.png"


# -- feedback -------------------------------------------------------------------------------


def test_exact_feedback_is_correct_with_the_explanation() -> None:
    reply = feedback(CAPITAL, "PARIS")
    assert (reply.title, reply.tone) == ("✅ Correct", Tone.SUCCESS)
    assert reply.text == "**Paris**\n\nParis has been the capital since 987."
    assert [(f.name, f.value) for f in reply.fields] == [("Also accepted", "Paname")]
    assert reply.footer.startswith("Next review")


def test_close_feedback_names_the_accepted_answer() -> None:
    reply = feedback(GRADIENT, "gradiant")
    assert (reply.title, reply.tone) == ("✅ Close enough: *gradient*", Tone.SUCCESS)
    assert reply.text == "You typed “gradiant”\nThe answer is **gradient**"
    assert reply.fields == ()


def test_wrong_feedback_shows_what_was_typed_and_the_answer() -> None:
    reply = feedback(CAPITAL, "Lyon")
    assert (reply.title, reply.tone) == ("❌ Not quite", Tone.FAILURE)
    assert reply.text.startswith("You typed “Lyon”\nThe answer is **Paris**\n\nParis has")


def test_an_alternative_answer_is_what_the_feedback_confirms() -> None:
    reply = feedback(CAPITAL, "paname")
    assert reply.text.startswith("**Paname**")
    assert [(f.name, f.value) for f in reply.fields] == [("Also accepted", "Paris")]


# -- the daily quiz -------------------------------------------------------------------------


def test_typed_answer_tokens_round_trip() -> None:
    token = typed_answer_token(12, 345)
    assert token == f"{TYPED_ANSWER_PREFIX}:12:345"
    assert parse_typed_answer_token(token) == (12, 345)
    assert parse_answer_token(token) is None
    for bad in ("dt:12", "dt:12:x", "dq:12:345", "dt:12:345:0", ""):
        assert parse_typed_answer_token(bad) is None


def test_a_daily_typed_question_answers_through_its_own_form() -> None:
    shown = question_reply(study_item(CAPITAL), 7)
    post, prompt_id = daily_question(shown, 3, 1, 2, timedelta(minutes=30))
    assert prompt_id == 7
    [answer] = post.choices  # the hint stays out of the timed quiz
    assert answer.action == "dt:3:7" and answer.needs_text and answer.short_text
    assert post.title == "🗓️ Daily quiz · question 1 of 2" and post.media == "eiffel.png"
    assert post.footer.startswith("trivia · medium · You have 30 minutes")


def test_daily_results_show_a_typed_questions_answer() -> None:
    payload = item_to_dict(CAPITAL)
    answers = [
        MemberAnswer(user_id=1, name="Alice", prompt_id=7, correct=True),
        MemberAnswer(user_id=2, name="Bob", prompt_id=7, correct=False),
    ]
    outcome = question_outcome(1, payload, 7, answers)
    assert outcome is not None
    assert (outcome.answer_letter, outcome.answer, outcome.right, outcome.answered) == (
        "",
        "Paris",
        1,
        2,
    )
    reply = results_reply(
        quiz_id=3,
        local_date="2026-01-05",
        tz_name="UTC",
        total=1,
        questions=[outcome],
        scores=tally_scores(answers),
    )
    assert reply.fields[0].name == "1. What is the capital of France?"
    assert reply.fields[0].value == (
        "**Paris**\nParis has been the capital since 987.\n✅ 1 of 2 answered correctly"
    )
    bare = question_outcome(1, item_to_dict(GRADIENT), 7, [])
    assert bare is not None and bare.explanation == ""
    plain = results_reply(
        quiz_id=3, local_date="2026-01-05", tz_name="UTC", total=1, questions=[bare], scores=[]
    )
    assert plain.fields[0].value == "**gradient**\n✅ 0 of 0 answered correctly"


def test_a_daily_mode_prompt_row_is_still_graded() -> None:
    item = study_item(CAPITAL)
    row = prompt_row(item, mode=DAILY_MODE)
    graded = grade_action(item, row, actions.SubmitExplanation(row.id), "paris")
    assert graded.correct
