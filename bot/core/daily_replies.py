"""How the daily quiz reads: question posts, results messages and run times.

Pure functions building neutral :class:`~bot.core.replies.Reply` objects from plain data
(no database, no Discord), so the wording is tested without either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.content import MultipleChoice, Practice, Typed, parse_item
from bot.core.daily import (
    MemberScore,
    ScheduledRun,
    answer_token,
    catch_up_token,
    rank_scores,
    typed_answer_token,
)
from bot.core.letters import letter
from bot.core.replies import Choice, ChoiceStyle, Reply, ReplyBuilder, Tone

MEDALS = {1: "🥇", 2: "🥈", 3: "🥉"}
MAX_EXPLANATION = 700


def clip(text: str, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def describe_window(window: timedelta) -> str:
    """``"30 minutes"``, ``"1 minute"``, ``"45 seconds"``."""
    minutes = int(window.total_seconds() // 60)
    if minutes < 1:
        return f"{int(window.total_seconds())} seconds"
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def describe_run(run: ScheduledRun, tz_name: str) -> str:
    """A run in the server's local time: ``"Mon 05 Jan, 09:00 (Europe/Berlin)"``."""
    local = run.at.astimezone(ZoneInfo(tz_name))
    return f"{local:%a %d %b, %H:%M} ({tz_name})"


def daily_question(
    shown: Reply, quiz_id: int, number: int, total: int, window: timedelta
) -> tuple[Reply, int]:
    """Turn a shared question into a daily-quiz post with window-checked buttons.

    Lettered answers become ``dq:`` buttons; a typed question's **Answer** becomes a ``dt:``
    button whose form the daily quiz takes (it still asks for text). Returns the post and
    the question's prompt id (0 when it has no answer buttons).
    """
    choices: list[Choice] = []
    prompt_id = 0
    for choice in shown.choices:
        parts = choice.action.split(":")
        if parts[0] == "an" and len(parts) == 3:
            prompt_id, option = int(parts[1]), int(parts[2])
            choices.append(replace(choice, action=answer_token(quiz_id, prompt_id, option)))
        elif parts[0] == "ex" and len(parts) == 2 and choice.needs_text:
            prompt_id = int(parts[1])
            choices.append(replace(choice, action=typed_answer_token(quiz_id, prompt_id)))
        # hints stay out of the timed quiz
    title = "🗓️ Daily quiz" if total == 1 else f"🗓️ Daily quiz · question {number} of {total}"
    subject = shown.title.split(" · ", 1)[1] if " · " in shown.title else ""
    footer = (
        f"{subject + ' · ' if subject else ''}You have {describe_window(window)} · "
        "one answer each · your feedback is private"
    )
    return replace(shown, title=title, choices=tuple(choices), footer=footer), prompt_id


#: The catch-up of a member who answered every question.
ALL_DONE = Reply(
    title="All done 🎉",
    text="You've answered every question of this daily quiz. See you tomorrow!",
    tone=Tone.SUCCESS,
    private=True,
)


def catch_up_question(shown: Reply, total: int, remaining: int) -> Reply:
    """A private catch-up question: the first of ``remaining`` unanswered of ``total``."""
    position = total - remaining + 1
    title = "Daily quiz catch-up" + (f" · question {position} of {total}" if total > 1 else "")
    footer = shown.footer
    if remaining > 1:
        footer = f"{footer} Then press Catch up again for the next one."
    return replace(shown, title=title, footer=footer.strip(), private=True)


@dataclass(frozen=True, slots=True)
class MemberAnswer:
    """One member's answer to one question of a quiz."""

    user_id: int
    name: str
    prompt_id: int
    correct: bool


@dataclass(frozen=True, slots=True)
class QuestionOutcome:
    """One question of a closed quiz: what was right, and how many got it."""

    number: int
    question: str
    #: The correct option's letter; empty for a typed question.
    answer_letter: str
    answer: str
    explanation: str
    right: int
    answered: int


def question_outcome(
    number: int, payload: Mapping[str, Any], prompt_id: int, answers: Sequence[MemberAnswer]
) -> QuestionOutcome | None:
    """How question ``number`` (a stored item's ``payload``) went; None if it is neither a
    choice nor a typed question."""
    content = parse_item(payload)
    these = [a for a in answers if a.prompt_id == prompt_id]
    right = sum(1 for a in these if a.correct)
    if isinstance(content, Typed):
        return QuestionOutcome(
            number=number,
            question=content.question,
            answer_letter="",
            answer=content.answers[0],
            explanation=content.explanation or "",
            right=right,
            answered=len(these),
        )
    if not isinstance(content, MultipleChoice | Practice):
        return None
    return QuestionOutcome(
        number=number,
        question=content.question,
        answer_letter=letter(content.correct_index),
        answer=content.correct_option,
        explanation=content.explanation,
        right=right,
        answered=len(these),
    )


def tally_scores(answers: Sequence[MemberAnswer]) -> list[MemberScore]:
    """Each member's correct and total answers, in order of their first answer."""
    scores: dict[int, MemberScore] = {}
    for answer in answers:
        before = scores.get(
            answer.user_id,
            MemberScore(user_id=answer.user_id, name=answer.name, correct=0, answered=0),
        )
        scores[answer.user_id] = MemberScore(
            user_id=answer.user_id,
            name=before.name,
            correct=before.correct + int(answer.correct),
            answered=before.answered + 1,
        )
    return list(scores.values())


def results_reply(
    *,
    quiz_id: int,
    local_date: str,
    tz_name: str,
    total: int,
    questions: Sequence[QuestionOutcome],
    scores: Sequence[MemberScore],
) -> Reply:
    """The results message of a closed quiz, with its **Catch up** button."""
    out = ReplyBuilder(title=f"📊 Daily quiz results · {local_date}", tone=Tone.SUCCESS)
    answered = len(scores)
    perfect = sum(1 for s in scores if s.correct == total)
    if answered == 0:
        out.text = "Nobody answered this time."
    else:
        people = "member" if answered == 1 else "members"
        everything = "everything" if total > 1 else "it"
        out.text = f"{answered} {people} answered · {perfect} got {everything} right."
    for outcome in questions:
        lettered = f"{outcome.answer_letter}. " if outcome.answer_letter else ""
        explanation = clip(outcome.explanation, MAX_EXPLANATION)
        value = (
            f"**{lettered}{clip(outcome.answer, 200)}**\n"
            + (f"{explanation}\n" if explanation else "")
            + f"✅ {outcome.right} of {outcome.answered} answered correctly"
        )
        out.add_field(f"{outcome.number}. {clip(outcome.question, 200)}", value)
    placings = rank_scores(scores)
    if placings:
        lines = []
        for placing in placings:
            names = ", ".join(m.name for m in placing.members)
            medal = MEDALS.get(placing.place, f"{placing.place}.")
            lines.append(f"{medal} {names} — {placing.correct}/{total}")
        out.add_field("Top scorers", "\n".join(lines))
    elif answered:
        out.add_field("Top scorers", "No correct answers this time — try the catch-up!")
    out.choices.append(
        Choice("catchup", "Catch up", catch_up_token(quiz_id), style=ChoiceStyle.PRIMARY)
    )
    out.footer = f"Missed it? Press Catch up to take it privately until midnight ({tz_name})."
    return out.build()
