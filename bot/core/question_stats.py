"""How members answer one of a server's questions, and when its answer key looks broken.

Pure value types and counting: no I/O, no database, no discord.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.core.content import ANSWER_LETTERS, ChoiceItem
from bot.core.question_drafts import short
from bot.core.replies import Reply, ReplyBuilder, Tone

#: Questions with at least this many answers and under this share right get flagged.
FLAG_MIN_ANSWERS = 5
FLAG_BELOW_PERCENT = 25


@dataclass(frozen=True, slots=True)
class OptionCount:
    """How often one option (by its text) was chosen."""

    label: str
    text: str
    count: int
    correct: bool


@dataclass(frozen=True, slots=True)
class QuestionStats:
    """Answers to one question on one server."""

    total: int
    correct: int
    options: tuple[OptionCount, ...]

    @property
    def percent(self) -> int:
        """Share of right answers, rounded (0 without answers)."""
        return round(100 * self.correct / self.total) if self.total else 0

    @property
    def flagged(self) -> bool:
        """Almost everyone gets it wrong: the answer key may be broken."""
        return (
            self.total >= FLAG_MIN_ANSWERS and 100 * self.correct < FLAG_BELOW_PERCENT * self.total
        )

    @property
    def wrong_choices(self) -> tuple[OptionCount, ...]:
        """Wrong options that were picked, most picked first."""
        picked = [o for o in self.options if not o.correct and o.count]
        return tuple(sorted(picked, key=lambda o: -o.count))


def question_stats(
    options: Sequence[str], correct_index: int, answers: Iterable[tuple[str, bool, int]]
) -> QuestionStats:
    """Count answers (``(chosen option text, correct, count)``) against the options.

    Answers whose text is no longer an option (the question was edited) are listed as
    "earlier option".
    """
    counts = [0] * len(options)
    older: dict[str, int] = {}
    total = correct = 0
    index_of = {text: i for i, text in enumerate(options)}
    for text, was_correct, count in answers:
        total += count
        correct += count if was_correct else 0
        if text in index_of:
            counts[index_of[text]] += count
        elif not was_correct:
            older[text] = older.get(text, 0) + count
    rows = [
        OptionCount(ANSWER_LETTERS[i], text, counts[i], i == correct_index)
        for i, text in enumerate(options)
    ]
    rows += [OptionCount("earlier option", text, n, False) for text, n in older.items()]
    return QuestionStats(total=total, correct=correct, options=tuple(rows))


def stats_reply(
    item_id: int, deck: str, item: ChoiceItem, figures: QuestionStats, *, active: bool
) -> Reply:
    """The private ``/question stats`` reply: totals, wrong choices, a broken-key warning."""
    out = ReplyBuilder(
        title=f"Stats · #{item_id} · {deck}",
        text=short(item.question, 300) + ("" if active else "\n(removed)"),
        private=True,
    )
    if figures.total == 0:
        out.text += "\n\nNo answers on this server yet."
        return out.build()
    out.add_field("Answers", str(figures.total), inline=True)
    out.add_field("Correct", f"{figures.correct} ({figures.percent}%)", inline=True)
    out.add_field("Right answer", f"{item.answer}. {short(item.correct_option, 100)}", inline=True)
    wrong = [
        f"{o.label}. {short(o.text, 80)} — {o.count}×"
        if len(o.label) == 1
        else f"{o.label} '{short(o.text, 70)}' — {o.count}×"
        for o in figures.wrong_choices
    ]
    out.add_field("Wrong answers chosen", "\n".join(wrong) or "none")
    if figures.flagged:
        out.tone = Tone.WARNING
        out.add_field(
            "⚠️ Check the answer key",
            f"Only {figures.percent}% of {figures.total} answers are right — often a "
            f"broken answer key. Check it with /question edit id:{item_id}.",
        )
    return out.build()
