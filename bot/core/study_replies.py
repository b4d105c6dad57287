"""Neutral replies of studying: how an item, its feedback and a test's results look.

Pure functions from values to :class:`~bot.core.replies.Reply`; the study services decide
*what* to show and call these to say it. Adapters render the replies.
"""

from __future__ import annotations

from datetime import datetime

from bot.core import actions
from bot.core.answering import AnswerOutcome
from bot.core.content import Explain, Flashcard, MultipleChoice, Practice, Typed
from bot.core.letters import letter, letter_range
from bot.core.replies import Choice, ChoiceStyle, Reply, ReplyBuilder, Tone
from bot.core.scheduling import CardState, Grade, describe_interval
from bot.core.sessions import StudyItem, TestScore

#: The modes a member asks for one question at a time, and the kinds each shows.
MODE_KINDS: dict[str, tuple[str, ...]] = {
    "quiz": ("mcq", "typed"),
    "practice": ("practice",),
    "explain": ("explain",),
}
MODE_NOUNS = {
    "quiz": "quiz questions",
    "practice": "practice problems",
    "explain": "explain prompts",
}
#: How many other accepted answers a typed question's feedback lists.
MAX_OTHER_ANSWERS = 5
_RATING_STYLES = {
    Grade.AGAIN: ChoiceStyle.DANGER,
    Grade.HARD: ChoiceStyle.SECONDARY,
    Grade.GOOD: ChoiceStyle.SUCCESS,
    Grade.EASY: ChoiceStyle.PRIMARY,
}


def short_line(text: str, limit: int = 90) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def question_reply(
    item: StudyItem,
    prompt_id: int,
    *,
    heading: str = "",
    hint_shown: bool = False,
    private: bool = False,
) -> Reply:
    """Show an item as a question (flashcard front, options, explain or typed prompt).

    The item's picture, if it has one, goes along as the reply's ``media``.
    """
    content = item.content
    out = ReplyBuilder(tone=Tone.QUESTION, private=private, media=content.image or "")
    if isinstance(content, Flashcard):
        out.title = heading or f"Flashcard · {item.deck}"
        out.text = content.front
        out.footer = "Think of the answer, then reveal it."
        reveal = actions.Reveal(prompt_id).token()
        out.choices.append(Choice("reveal", "Reveal", reveal, style=ChoiceStyle.PRIMARY))
    elif isinstance(content, MultipleChoice | Practice):
        kind = "Practice" if isinstance(content, Practice) else "Question"
        out.title = heading or f"{kind} · {item.deck} · {content.difficulty}"
        options = "\n".join(
            f"**{letter(i)}.** {option}" for i, option in enumerate(content.options)
        )
        out.text = f"{content.question}\n\n{options}"
        out.code = content.code or ""
        for i, _option in enumerate(content.options):
            out.choices.append(Choice(letter(i), letter(i), actions.Answer(prompt_id, i).token()))
        if isinstance(content, Practice):
            if hint_shown:
                out.add_field("💡 Hint", content.hint)
            else:
                out.choices.append(Choice("hint", "Hint", actions.Hint(prompt_id).token()))
        out.footer = f"Pick {letter_range(len(content.options))}."
    elif isinstance(content, Explain):
        out.title = heading or f"Explain · {item.deck}"
        out.text = content.prompt
        if hint_shown:
            out.add_field("💡 Hint", content.hint)
        out.choices.append(
            _answer_choice(
                prompt_id, "Your explanation", "Explain it in your own words, in a sentence or two."
            )
        )
        if not hint_shown:
            out.choices.append(Choice("hint", "Hint", actions.Hint(prompt_id).token()))
        out.footer = "Answer in your own words."
    elif isinstance(content, Typed):
        _typed_question(out, content, item, prompt_id, heading=heading, hint_shown=hint_shown)
    return out.build()


def _answer_choice(prompt_id: int, label: str, placeholder: str, *, short: bool = False) -> Choice:
    """The **Answer** choice of a question answered in words (a form on Discord)."""
    return Choice(
        "answer",
        "Answer",
        actions.SubmitExplanation(prompt_id).token(),
        style=ChoiceStyle.PRIMARY,
        needs_text=True,
        text_label=label,
        text_placeholder=placeholder,
        short_text=short,
    )


def _typed_question(
    out: ReplyBuilder,
    content: Typed,
    item: StudyItem,
    prompt_id: int,
    *,
    heading: str,
    hint_shown: bool,
) -> None:
    """A typed question: its text, an **Answer** that asks for one line, and a hint if any."""
    out.title = heading or f"Question · {item.deck} · {content.difficulty}"
    out.text = content.question
    if hint_shown and content.hint:
        out.add_field("💡 Hint", content.hint)
    out.choices.append(
        _answer_choice(prompt_id, "Your answer", "A word, a name or a number.", short=True)
    )
    if content.hint and not hint_shown:
        out.choices.append(Choice("hint", "Hint", actions.Hint(prompt_id).token()))
    out.footer = "Type your answer — small typos are fine."


def revealed_reply(item: StudyItem, prompt_id: int) -> Reply:
    """A flashcard's back with the four self-rating buttons."""
    out = ReplyBuilder(
        title=f"Flashcard · {item.deck}",
        text=item.content.prompt,
        tone=Tone.QUESTION,
        private=True,
        media=item.content.image or "",
    )
    if isinstance(item.content, Flashcard):
        out.text = item.content.front
        out.add_field("Answer", item.content.back)
    for grade in Grade:
        token = actions.Rate(prompt_id, int(grade)).token()
        out.choices.append(
            Choice(grade.label.lower(), grade.label, token, style=_RATING_STYLES[grade])
        )
    out.footer = "How well did you remember it?"
    return out.build()


def next_choice(mode: str, *, session_id: int | None, deck: str) -> Choice | None:
    """The "move on" button after an answer, matching how the item was asked.

    ``session_id`` is the prompt's: a test's, or a tagged run's (the next one keeps the tag).
    """
    if mode in actions.QUEUE_MODES:
        token = actions.Next(mode, session_id=session_id).token()
        label = "Next card" if mode == "review" else "Next mistake"
        return Choice("next", label, token, style=ChoiceStyle.PRIMARY)
    if mode == "test":
        token = actions.Next("test", session_id=session_id).token()
        return Choice("next", "Next question", token, style=ChoiceStyle.PRIMARY)
    if mode in MODE_KINDS:
        token = actions.Next(mode, session_id=session_id, deck=deck).token()
        return Choice("next", "Another one", token, style=ChoiceStyle.PRIMARY)
    return None


def schedule_note(state: CardState, now: datetime) -> str:
    """When the card comes back, in words."""
    return f"Next review {describe_interval(state.due - now)}."


def answer_feedback(outcome: AnswerOutcome, now: datetime) -> ReplyBuilder:
    """What the member sees after answering (before the "what next" part)."""
    content = outcome.item.content
    graded = outcome.graded
    out = ReplyBuilder(private=True)
    if isinstance(content, Flashcard):
        out.title = f"Saved: {graded.grade.label}"
        out.text = f"{content.front}\n\n**{content.back}**"
        out.tone = Tone.SUCCESS if graded.correct else Tone.INFO
    elif isinstance(content, MultipleChoice | Practice):
        right = f"{letter(content.correct_index)}. {content.correct_option}"
        if graded.correct:
            out.title, out.tone = "✅ Correct", Tone.SUCCESS
            out.text = f"**{right}**\n\n{content.explanation}"
        else:
            out.title, out.tone = "❌ Not quite", Tone.FAILURE
            picked = graded.option if graded.option is not None else -1
            chosen = (
                f"{letter(picked)}. {content.options[picked]}"
                if 0 <= picked < len(content.options)
                else graded.answer
            )
            out.text = f"You picked {chosen}\nThe answer is **{right}**\n\n{content.explanation}"
        if isinstance(content, Practice):
            steps = "\n".join(f"{n}. {step}" for n, step in enumerate(content.steps, 1))
            out.add_field("Solution", steps)
            out.add_field("Common mistakes", "\n".join(f"• {m}" for m in content.mistakes))
    elif isinstance(content, Explain) and graded.coverage is not None:
        coverage = graded.coverage
        out.title = f"{len(coverage.covered)}/{coverage.total} concepts"
        out.text = coverage.summary()
        out.tone = Tone.SUCCESS if not coverage.missed else Tone.INFO
        if coverage.concepts:
            lines = [
                f"✅ **{r.name}**: “{short_line(r.evidence, 120)}”"
                if r.hit and r.evidence
                else f"▫️ {r.name}"
                for r in coverage.concepts
            ]
            out.add_field("Concepts", "\n".join(lines))
        else:
            out.add_field("Covered", ", ".join(coverage.covered) or "none yet")
        if coverage.misconceptions:
            out.tone = Tone.WARNING
            out.add_field(
                "Careful",
                "\n".join(
                    f"You wrote “{short_line(m.evidence, 120)}”, but {_lower_first(m.correction)}"
                    for m in coverage.misconceptions
                ),
            )
        out.add_field("A strong answer", content.model_answer)
    elif isinstance(content, Typed):
        _typed_feedback(out, content, outcome)
    out.footer = schedule_note(outcome.state, now)
    return out


def _lower_first(text: str) -> str:
    """``"The loss …"`` → ``"the loss …"`` (to follow "but"), leaving acronyms alone."""
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


def _typed_feedback(out: ReplyBuilder, content: Typed, outcome: AnswerOutcome) -> None:
    """Correct, close enough (naming the accepted answer) or not quite, and the explanation."""
    graded = outcome.graded
    check = graded.typed
    matched = check.matched if check is not None and check.matched else content.answers[0]
    if graded.correct and (check is None or check.exact):
        out.title, out.tone = "✅ Correct", Tone.SUCCESS
        out.text = f"**{matched}**"
    elif graded.correct:
        out.title, out.tone = f"✅ Close enough: *{short_line(matched, 200)}*", Tone.SUCCESS
        out.text = f"You typed “{short_line(graded.answer, 200)}”\nThe answer is **{matched}**"
    else:
        out.title, out.tone = "❌ Not quite", Tone.FAILURE
        typed = short_line(graded.answer, 200)
        out.text = f"You typed “{typed}”\nThe answer is **{content.answers[0]}**"
    if content.explanation:
        out.text += f"\n\n{content.explanation}"
    others = [answer for answer in content.answers if answer != matched]
    if others:
        out.add_field("Also accepted", ", ".join(others[:MAX_OTHER_ANSWERS]))


def test_results_reply(items: list[StudyItem], answered: list[tuple[int, bool]]) -> Reply:
    """A finished test: score, breakdown by difficulty, what to review.

    ``answered`` holds ``(item id, correct)`` for each answered question, in order.
    """
    by_id = {item.id: item for item in items}
    score = TestScore()
    for item_id, correct in answered:
        score.add(by_id[item_id].difficulty, correct)
    out = ReplyBuilder(
        title=f"Test finished — {score.correct}/{score.total} ({score.percent}%)",
        text=score.verdict(),
        tone=Tone.SUCCESS if score.percent >= 70 else Tone.INFO,
        private=True,
    )
    out.add_field("By difficulty", "\n".join(score.breakdown_lines()))
    missed = [
        f"• {short_line(by_id[item_id].content.prompt)}"
        for item_id, correct in answered
        if not correct
    ]
    out.add_field("To review", "\n".join(missed[:10]))
    out.footer = "Missed questions come back in /review. Start another with /test."
    return out.build()


def caught_up_reply(*, next_in: str | None, unseen: int, new_per_day: int) -> Reply:
    """Nothing due and no new card left today; ``next_in`` says when the next review is."""
    parts = ["Nothing is due right now."]
    if next_in is not None:
        parts.append(f"Your next review is {next_in}.")
    if unseen:
        parts.append(f"That's today's {new_per_day} new cards; {unseen} more unlock from tomorrow.")
    elif next_in is None:
        parts.append("You've seen every card.")
    return Reply(
        title="All caught up 🎉",
        text=" ".join(parts) + "\nTry /quiz, /practice or /test meanwhile.",
        tone=Tone.SUCCESS,
        private=True,
    )


def deck_listing_reply(sizes: dict[str, int]) -> Reply:
    """The decks and how many items each has."""
    if not sizes:
        return Reply(text="No decks are loaded yet.", tone=Tone.WARNING, private=True)
    lines = [f"• {deck} — {count} items" for deck, count in sorted(sizes.items())]
    return Reply(title="Decks", text="\n".join(lines), private=True)


def help_reply() -> Reply:
    """What the tutor does and how to start."""
    text = (
        "I help you study with flashcards, quizzes and worked problems, and I remember "
        "what you know so reviews come back at the right time (spaced repetition)."
    )
    out = ReplyBuilder(title="Study tutor — how to start", text=text, private=True)
    out.add_field(
        "Study",
        "\n".join(
            [
                "/review — your due flashcards and questions",
                "/review mistakes — retry what you got wrong in the last 14 days",
                "/quiz [deck] [difficulty] — one multiple-choice question",
                "/review, /quiz … tag:bio::cells — only questions with that tag",
                "/practice [deck] [difficulty] — a worked problem with a hint",
                "/explain [deck] — explain a concept in your own words",
                "/test [deck] — 10 questions across easy, medium and hard",
                "/train — run a real TensorFlow training step",
                "Ask me anything about your decks: mention me or DM me (console: /ask)",
            ]
        ),
    )
    out.add_field(
        "You and your server",
        "\n".join(
            [
                "/stats [member] — progress, streak and a 30-day chart",
                "/forecast — reviews due in the next 30 days, recall now, cards at risk",
                "/exam set|show|clear — an exam date, its countdown and a study plan",
                "/leaderboard [week|month|all] [deck] — this server's ranking",
                "/decks — the decks you can study",
                "/remind on|off — a DM when reviews are due (Discord)",
                "/export-me, /forget-me — your data: a copy, or deleted",
                "/me retention [70–97|reset] — how well you want to remember (workload shown)",
            ]
        ),
    )
    out.add_field(
        "Moderators and admins (Discord)",
        "/question add|import|edit|remove|list|export|stats — the server's own questions "
        "(add kind:explain for an explain-it-yourself prompt)\n"
        "/settings daily-quiz|timezone|new-per-day|retention|show|moderator-role — server "
        "settings\n"
        "/dailyquiz now|skip — post or skip today's quiz",
    )
    out.footer = "New here? Start with /review."
    return out.build()
