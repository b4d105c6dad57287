"""Decks back out as text other apps read: Quizlet, Red-DiscordBot Trivia and our CSV.

The readers are :mod:`bot.core.text_decks`. :func:`export_quizlet` writes a card a line
(term, tab, definition), :func:`export_red` a Red Trivia list and :func:`export_csv` the
CSV ``/question import`` reads, with a line per question it left out.

Pure: values in, text out.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

import yaml

from bot.core.content import AnyItem, ChoiceItem, Flashcard, Practice, Typed
from bot.core.markup import unescape_markdown
from bot.core.question_drafts import question_key, short
from bot.core.question_files import CSV_OPTIONAL, CSV_REQUIRED, LIST_SEPARATOR

# --------------------------------------------------------------------------- Quizlet


def _plain(text: str) -> str:
    """Item text as one line of plain text (for files read by other apps)."""
    return " ".join(unescape_markdown(text).split())


def _front_back(item: AnyItem) -> tuple[str, str]:
    """The two sides of ``item`` as a Quizlet card (plain text)."""
    if isinstance(item, Flashcard):
        return _plain(item.front), _plain(item.back)
    if isinstance(item, Typed):
        return _plain(item.question), " ".join(item.answers[0].split())
    if isinstance(item, ChoiceItem):
        return _plain(item.question), _plain(item.correct_option)
    return _plain(item.prompt), _plain(item.model_answer)


def export_quizlet(items: Sequence[AnyItem]) -> str:
    """``items`` as Quizlet import text: term, tab, definition; a card a line.

    Flashcards give front/back, typed questions their first answer, multiple-choice and
    practice questions the correct option, explain prompts the model answer. Tabs and line
    breaks inside a text become spaces.
    """
    return "\n".join("\t".join(_front_back(item)) for item in items)


# --------------------------------------------------------------------------- Red Trivia


def _red_answers_of(item: AnyItem) -> list[str]:
    if isinstance(item, Typed):
        return list(item.answers)
    if isinstance(item, Flashcard):
        return [_plain(item.back)]
    if isinstance(item, ChoiceItem):
        return [_plain(item.correct_option)]
    return []


def export_red(items: Sequence[AnyItem], author: str) -> str:
    """``items`` as a Red-DiscordBot Trivia list (explain prompts, which have no short
    answer, are left out; a question asked twice gets the answers of both)."""
    data: dict[str, Any] = {"AUTHOR": author.strip()} if author.strip() else {}
    for item in items:
        answers = _red_answers_of(item)
        if answers:
            known = data.setdefault(item.prompt, [])
            known.extend(answer for answer in answers if answer not in known)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)


# --------------------------------------------------------------------------- CSV


def _csv_answer(item: ChoiceItem) -> str:
    """The answer letter, or the option's text when an option is itself a letter A–F."""
    keys = {question_key(option) for option in item.options}
    return item.correct_option if keys & set("abcdef") else item.answer


def _csv_problem(item: AnyItem) -> str | None:
    """Why ``item`` can't be a row of the CSV ``/question import`` reads, if it can't."""
    if not isinstance(item, ChoiceItem):
        return f"a {item.kind}: CSV files carry only multiple-choice and practice questions"
    lists = [*item.options]
    if isinstance(item, Practice):
        lists += [*item.steps, *item.mistakes]
    if any(LIST_SEPARATOR in entry for entry in lists):
        return f"an option, step or mistake has '{LIST_SEPARATOR}', which CSV puts between them"
    if item.code and item.code != item.code.lstrip():
        return "its code starts indented, which a CSV cell doesn't keep"
    return None


def export_csv(items: Sequence[AnyItem], deck: str) -> tuple[str, list[str]]:
    """``items`` as the CSV ``/question import`` reads, and a line per item left out.

    Only multiple-choice and practice questions fit CSV's columns; tags and pictures have
    no column (a last line says how many lost theirs).
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*CSV_REQUIRED, *CSV_OPTIONAL])
    skipped: list[str] = []
    lost = 0
    for item in items:
        problem = _csv_problem(item)
        if problem is not None or not isinstance(item, ChoiceItem):
            skipped.append(f"'{short(item.prompt, 50)}' was left out: {problem}")
            continue
        lost += bool(item.tags or item.image)
        practice = item if isinstance(item, Practice) else None
        writer.writerow(
            [
                deck,
                item.kind,
                item.question,
                LIST_SEPARATOR.join(item.options),
                _csv_answer(item),
                item.explanation,
                item.difficulty,
                item.code or "",
                practice.hint if practice else "",
                LIST_SEPARATOR.join(practice.steps) if practice else "",
                LIST_SEPARATOR.join(practice.mistakes) if practice else "",
            ]
        )
    if lost:
        skipped.append(
            f"{lost} question(s) lost their tags or picture (CSV has no column for them)"
        )
    return out.getvalue(), skipped
