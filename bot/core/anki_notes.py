"""Anki notes into study items: each card a flashcard or a typed question.

A note type is recognised by its card templates, not its name (names are localised):

* a template whose front shows fields → a flashcard: the front's fields are the question,
  the fields only the back shows are the answer. Basic, "Basic (and reversed card)" and
  "Basic (optional reversed card)" are this; which cards a note has comes from the cards in
  the package (an optional reverse card exists only when Anki made it).
* a front with ``{{type:Field}}`` → a typed question; ``Field`` is the accepted answer.
* a cloze type (``{{cloze:Text}}``) → one typed question per cloze number: that number's
  deletions shown as ``[…]`` (or ``[hint]``), the others as their text. The accepted answer
  is the deletion; several deletions with one number are one answer, their texts joined by
  ", " (in order). The other field the back shows ("Back Extra") is the explanation.
* a type whose templates show no field → the first field is the front, the second the
  back, and a remark says so.

Decks: ``Biology::Cells`` becomes the server deck ``biology-cells`` (the whole path;
Anki's "Default" deck, or no deck, is ``default``; a second deck that makes the same name
gets ``-2``); a deck the moderator names replaces them all. Tags are kept (spaces removed,
at most 20). The first picture of a card's question side becomes the item's picture;
sounds, further pictures and the answer side's pictures are left out, with a remark. Every
note that cannot be used is one problem line naming the note, what is wrong and what to do.
The rules shared with text imports (deck names, keys, tags, lengths) are
:mod:`bot.core.import_rules`.

Pure: values in, values out.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from bot.core.anki_model import AnkiCard, AnkiNote, AnkiNoteType
from bot.core.anki_tutor import tutor_item
from bot.core.content import MAX_TAGS, AnyItem
from bot.core.import_rules import build_item, clean_tags, deck_slug, item_id, text_key
from bot.core.markup import Converted, cloze_card, cloze_numbers, html_to_markdown, html_to_plain
from bot.core.question_drafts import check_deck_name, question_key, short
from bot.core.question_files import ImportedQuestion, ImportParse
from bot.errors import BadInput

#: The question of a card whose question side is only a picture.
PICTURE_QUESTION = "What does the picture show?"

_FIELD_REF = re.compile(r"\{\{([^{}]*)\}\}")
_TAG = re.compile(r"<[^>]*>")


# --------------------------------------------------------------------------- templates


@dataclass(frozen=True, slots=True)
class _Side:
    """What one side of a template shows: fields (in order), a typed or cloze field, hints
    and the fields that must be filled (``{{#F}}``) or empty (``{{^F}}``) for the card."""

    fields: tuple[str, ...] = ()
    typed: str | None = None
    cloze: str | None = None
    hints: tuple[str, ...] = ()
    conditions: tuple[tuple[str, bool], ...] = ()


def _read_side(template: str, names: Sequence[str]) -> _Side:
    by_fold = {name.casefold(): name for name in names}
    shown: list[str] = []
    hints: list[str] = []
    conditions: list[tuple[str, bool]] = []
    typed = cloze = None
    for match in _FIELD_REF.finditer(template):
        ref = match[1].strip()
        if ref[:1] in "#^":
            name = by_fold.get(ref[1:].strip().casefold())
            if name is not None:
                conditions.append((name, ref[0] == "#"))
            continue
        *filters, raw_name = ref.split(":")
        name = by_fold.get(raw_name.strip().casefold())
        kinds = {part.strip().split(" ")[0].casefold() for part in filters}
        if name is None or ref[:1] in "/!" or "tts" in kinds:
            continue
        if "cloze" in kinds:
            cloze = cloze or name
        elif "type" in kinds:
            typed = typed or name
        elif "hint" in kinds:
            hints.append(name)
        elif name not in shown:
            shown.append(name)
    return _Side(tuple(shown), typed, cloze, tuple(hints), tuple(conditions))


@dataclass(frozen=True, slots=True)
class _Plan:
    """How one card becomes an item: the fields of its question, answer and explanation."""

    question: tuple[str, ...]
    answer: tuple[str, ...] = ()
    typed: str | None = None
    hints: tuple[str, ...] = ()
    by_fields: bool = False


@lru_cache(maxsize=256)
def _cloze_fields(notetype: AnkiNoteType) -> tuple[str, str | None] | None:
    """(cloze field, extra field) of a cloze note type; None for other types."""
    names = notetype.field_names
    fronts = [_read_side(t.front, names) for t in notetype.templates]
    cloze = next((side.cloze for side in fronts if side.cloze), None)
    if cloze is None and not notetype.is_cloze:
        return None
    cloze = cloze or (names[0] if names else "")
    backs = [_read_side(t.back, names) for t in notetype.templates]
    shown = [name for side in backs for name in side.fields if name != cloze]
    others = [name for name in names if name != cloze]
    extra = shown[0] if shown else (others[0] if others else None)
    return cloze, extra


@lru_cache(maxsize=1024)
def _plan(notetype: AnkiNoteType, ordinal: int) -> _Plan:
    """The plan of the card made by template ``ordinal``; by fields when it shows none."""
    names = notetype.field_names
    if ordinal < len(notetype.templates):
        template = notetype.templates[ordinal]
        front = _read_side(template.front, names)
        back = _read_side(template.back, names)
        asked = set(front.fields)
        answer = tuple(name for name in back.fields if name not in asked and name != front.typed)
        if front.fields and (answer or front.typed):
            return _Plan(front.fields, answer, front.typed, front.hints)
    return _Plan(tuple(names[:1]), tuple(names[1:2]), by_fields=True)


def _filled(html: str) -> bool:
    return "<img" in html.casefold() or bool(_TAG.sub("", html).strip())


def _made_cards(note: AnkiNote, deck: str) -> tuple[AnkiCard, ...]:
    """The cards Anki makes for ``note`` (for notes read without cards, such as text rows)."""
    kind = note.notetype
    cloze = _cloze_fields(kind)
    if cloze is not None:
        numbers = cloze_numbers(note.field(cloze[0]))
        return tuple(AnkiCard(id=0, ord=number - 1, deck=deck) for number in numbers)
    ordinals: list[int] = []
    for ordinal, template in enumerate(kind.templates):
        side = _read_side(template.front, kind.field_names)
        if all(_filled(note.field(name)) == wanted for name, wanted in side.conditions) and any(
            _filled(note.field(name)) for name in (*side.fields, *filter(None, [side.typed]))
        ):
            ordinals.append(ordinal)
    return tuple(AnkiCard(id=0, ord=ordinal, deck=deck) for ordinal in ordinals or [0])


def _cards(note: AnkiNote, cloze: tuple[str, str | None] | None) -> list[AnkiCard]:
    """The cards to convert: the note's own (or the ones Anki would make), in order.

    A cloze note has a card per number in its text (with the package's card of that
    number, when there is one); a card whose deletion was removed is left out.
    """
    if cloze is None:
        return sorted(note.cards or _made_cards(note, ""), key=lambda card: card.ord)
    present = {card.ord: card for card in note.cards}
    deck = note.cards[0].deck if note.cards else ""
    return [
        present.get(number - 1) or AnkiCard(id=0, ord=number - 1, deck=deck)
        for number in cloze_numbers(note.field(cloze[0]))
    ]


def with_made_cards(note: AnkiNote, deck: str) -> AnkiNote:
    """``note`` with the cards Anki would make for it, all in ``deck``."""
    return AnkiNote(
        id=note.id,
        guid=note.guid,
        notetype=note.notetype,
        fields=note.fields,
        tags=note.tags,
        cards=_made_cards(note, deck),
    )


# --------------------------------------------------------------------------- conversion


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _joined(parts: Sequence[Converted]) -> Converted:
    """Several fields as one text (a line each), their pictures and sounds together."""
    return Converted(
        "\n".join(part.text for part in parts if part.text),
        tuple(image for part in parts for image in part.images),
        sum(part.sounds for part in parts),
    )


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _empty(names: Sequence[str]) -> str:
    """The "field is empty" problem, naming the field(s)."""
    listed = ", ".join(f"'{name}'" for name in names)
    verb = "is" if len(names) == 1 else "are"
    return (
        f"{listed} {verb} empty; fill {'it' if len(names) == 1 else 'them'} in or delete the note"
    )


@dataclass(slots=True)
class _Run:
    """One conversion: the options, the result and what the remarks will count."""

    media: Mapping[str, str]
    deck: str | None
    label: str
    result: ImportParse = field(default_factory=ImportParse)
    decks: dict[str, str] = field(default_factory=dict)
    slugs: set[str] = field(default_factory=set)
    counts: Counter[str] = field(default_factory=Counter)
    missing: list[str] = field(default_factory=list)
    by_fields: Counter[str] = field(default_factory=Counter)
    asked: dict[tuple[str, str], str] = field(default_factory=dict)

    def deck_for(self, anki_deck: str) -> str:
        """The server deck of an Anki deck (the moderator's deck when given)."""
        if self.deck is not None:
            return self.deck
        name = anki_deck.strip() or "Default"
        folded = name.casefold()  # Anki's deck names ignore case
        if folded not in self.decks:
            base = deck_slug(name)
            slug, number = base, 2
            while slug in self.slugs:
                suffix = f"-{number}"
                slug, number = base[: 41 - len(suffix)].rstrip("-") + suffix, number + 1
            self.decks[folded] = slug
            self.slugs.add(slug)
        return self.decks[folded]

    def picture(self, where: str, question: Converted, answer_images: int) -> str | None:
        """The item's picture: the question side's first, if the package has it."""
        self.counts["answer pictures"] += answer_images > 0
        if not question.images:
            return None
        self.counts["more pictures"] += len(question.images) > 1
        first = question.images[0]
        stored = self.media.get(first) or self.media.get(unquote(first))
        if stored is None:
            self.counts["missing pictures"] += 1
            self.missing.append(f"'{short(first, 40)}' in {where}")
        return stored

    def note(self, note: AnkiNote) -> None:
        """Convert every card of ``note``; its problems become one line."""
        exported = tutor_item(note)
        if exported is not None and note.cards:
            self.exported(note, exported)
            return
        cloze = _cloze_fields(note.notetype)
        cards = _cards(note, cloze)
        name = f"{self.label} {note.id}"
        problems: list[str] = []
        sounds = False
        before = len(self.result.questions)
        tags, too_many = clean_tags(note.tags)
        self.counts["tags"] += too_many
        for card in cards:
            part = f"cloze {card.ord + 1}" if cloze else f"card {card.ord + 1}"
            where = f"{name} {part}" if len(cards) > 1 else name
            try:
                sounds = self.card(note, card, cloze, where, tags) or sounds
            except BadInput as error:
                problems.append(f"{part}: {error.message}" if len(cards) > 1 else error.message)
        self.counts["sounds"] += sounds
        if cloze and not problems and len(self.result.questions) == before:
            problems.append("the text has no cloze deletion like {{c1::answer}}; add one")
        if problems:
            # The first field as plain text, any cloze deletions shown (there is no card 0).
            first = html_to_plain(cloze_card(note.fields[0], 0)[0] if note.fields else "").text
            quoted = f" ('{short(first, 40)}')" if first else ""
            self.result.problems.append(f"{name}{quoted}: {'; '.join(problems)}")

    def exported(self, note: AnkiNote, item: AnyItem) -> None:
        """A note the bot exported and nobody edited since: the very item it was."""
        card = note.cards[0]
        tags, too_many = clean_tags(note.tags)
        self.counts["tags"] += too_many
        image = None
        if item.image:
            image = self.media.get(item.image)
            if image is None:
                self.counts["missing pictures"] += 1
                self.missing.append(f"'{short(item.image, 40)}' in {self.label} {note.id}")
        key = f"anki:{note.guid}:{card.ord}"
        update = {"id": item_id(key), "tags": tags or None, "image": image}
        self.result.questions.append(
            ImportedQuestion(
                where=f"{self.label} {note.id}",
                deck=self.deck_for(card.deck),
                item=item.model_copy(update=update),
                key=key,
                reviews=card.reviews,
            )
        )

    def card(
        self,
        note: AnkiNote,
        card: AnkiCard,
        cloze: tuple[str, str | None] | None,
        where: str,
        tags: list[str],
    ) -> bool:
        """Add the question of one card (if it has one); True when sounds were dropped."""
        made = (
            self.cloze(note, card.ord + 1, *cloze)
            if cloze is not None
            else self.standard(note, card.ord)
        )
        if made is None:
            return False
        raw, question, answer_images, sounds = made
        image = self.picture(where, question, answer_images)
        text_field = "front" if raw["kind"] == "flashcard" else "question"
        if not raw[text_field]:
            if image is None:
                raise BadInput("the question is only a picture, and the file doesn't have it")
            raw[text_field] = PICTURE_QUESTION
        prompt = str(raw[text_field])
        key = f"anki:{note.guid}:{card.ord}" if note.guid else text_key(prompt)
        deck = self.deck_for(card.deck)
        asked = (deck, question_key(prompt))
        if not note.guid and asked in self.asked:
            raise BadInput(f"same question as {self.asked[asked]}; keep one of them")
        raw.update(id=item_id(key), tags=tags or None, image=image)
        item = build_item(raw)
        if not note.guid:
            self.asked[asked] = where
        self.result.questions.append(
            ImportedQuestion(where=where, deck=deck, item=item, key=key, reviews=card.reviews)
        )
        return sounds > 0

    def standard(
        self, note: AnkiNote, ordinal: int
    ) -> tuple[dict[str, Any], Converted, int, int] | None:
        """The item fields of a flashcard or "type in the answer" card."""
        kind = note.notetype
        plan = _plan(kind, ordinal)
        if plan.by_fields:
            if ordinal > 0:
                return None  # only the first card of a type read by its fields
            if len(kind.field_names) < 2:
                name = short(kind.name, 40)
                raise BadInput(f"note type '{name}' has one field; it needs a front and a back")
            self.by_fields[kind.name] += 1
        question = _joined([html_to_markdown(note.field(name)) for name in plan.question])
        shown = _joined([html_to_markdown(note.field(name)) for name in plan.answer])
        hint = _joined([html_to_markdown(note.field(name)) for name in plan.hints])
        sounds = question.sounds + shown.sounds + hint.sounds
        if not question.text and not question.images:
            raise BadInput(_empty(plan.question))
        raw: dict[str, Any]
        if plan.typed is None:
            if not shown.text:
                raise BadInput(_empty(plan.answer))
            raw = {"kind": "flashcard", "front": question.text, "back": shown.text}
            return raw, question, len(shown.images), sounds
        typed = html_to_plain(note.field(plan.typed))
        answer = _one_line(typed.text)
        if not answer:
            raise BadInput(
                f"'{plan.typed}' (the answer to type) is empty; fill it in or delete the note"
            )
        raw = {
            "kind": "typed",
            "question": question.text,
            "answers": [answer],
            "explanation": shown.text or None,
            "hint": hint.text or None,
        }
        return raw, question, len(shown.images) + len(typed.images), sounds + typed.sounds

    def cloze(
        self, note: AnkiNote, number: int, text_field: str, extra_field: str | None
    ) -> tuple[dict[str, Any], Converted, int, int]:
        """The item fields of cloze card ``number``, its question and answer pictures, sounds."""
        text = note.field(text_field)
        if "image-occlusion:" in text:
            raise BadInput("image occlusion cards can't be imported (they need Anki's masks)")
        question_html, answers_html = cloze_card(text, number)
        question = html_to_markdown(question_html)
        answers = [html_to_plain(answer) for answer in answers_html]
        answer = ", ".join(dict.fromkeys(_one_line(part.text) for part in answers if part.text))
        if not answer:
            raise BadInput(f"cloze {number} hides no text to type; put the answer's words in it")
        extra = html_to_markdown(note.field(extra_field)) if extra_field else Converted("")
        raw = {
            "kind": "typed",
            "question": question.text,
            "answers": [answer],
            "explanation": extra.text or None,
        }
        pictures = sum(len(part.images) for part in answers) + len(extra.images)
        sounds = question.sounds + extra.sounds + sum(part.sounds for part in answers)
        return raw, question, pictures, sounds

    def remarks(self) -> list[str]:
        """The remarks of the whole conversion, one line each."""
        counts, noun = self.counts, self.label
        lines = [
            f"note type '{short(name, 40)}' was read as front/back from its first two fields "
            f"({_plural(count, noun)})"
            for name, count in self.by_fields.items()
        ]
        if counts["sounds"]:
            lines.append(f"{_plural(counts['sounds'], noun)} had sounds, which were left out")
        if counts["more pictures"]:
            lines.append(
                f"{_plural(counts['more pictures'], 'question')} showed more than one "
                "picture; only the first is kept"
            )
        if counts["answer pictures"]:
            lines.append(
                f"{_plural(counts['answer pictures'], 'card')} had pictures in the answer, "
                "which were left out (a picture is shown with the question)"
            )
        if counts["missing pictures"]:
            lines.append(
                f"{_plural(counts['missing pictures'], 'picture')} "
                f"{'was' if counts['missing pictures'] == 1 else 'were'}n't in the file "
                f"(e.g. {self.missing[0]}); those questions have no picture"
            )
        if counts["tags"]:
            lines.append(
                f"{_plural(counts['tags'], noun)} had more than {MAX_TAGS} tags; the first "
                f"{MAX_TAGS} were kept"
            )
        return lines


def convert_notes(
    notes: Iterable[AnkiNote],
    *,
    media: Mapping[str, str],
    deck: str | None = None,
    label: str = "note",
) -> ImportParse:
    """:func:`notes_to_questions` with problems naming ``f"{label} {note.id}"``.

    Notes without a guid (rows of a text file) are keyed by their question's text, and a
    question asked twice in one deck is a problem.
    """
    run = _Run(media=media, deck=deck, label=label)
    if deck is not None:
        try:
            run.deck = check_deck_name(deck)
        except BadInput as error:
            run.result.problems.append(error.message)
            return run.result
    for note in notes:
        run.note(note)
    run.result.remarks.extend(run.remarks())
    return run.result


def notes_to_questions(
    notes: Iterable[AnkiNote], *, media: Mapping[str, str], deck: str | None = None
) -> ImportParse:
    """Every good card of ``notes`` as a question, one problem line per bad note.

    ``media`` maps a picture's name in the notes to its stored name (a picture not in it was
    not kept, and is mentioned in a remark); ``deck`` puts every question in that deck.
    Each question's key is ``anki:<note guid>:<card ordinal>`` and it carries the card's
    review history.
    """
    return convert_notes(notes, media=media, deck=deck)


def _question_html(note: AnkiNote, card: AnkiCard) -> str:
    cloze = _cloze_fields(note.notetype)
    if cloze is not None:
        return cloze_card(note.field(cloze[0]), card.ord + 1)[0]
    plan = _plan(note.notetype, card.ord)
    return "".join(f"<div>{note.field(name)}</div>" for name in plan.question)


def referenced_media(notes: Iterable[AnkiNote]) -> set[str]:
    """The picture names a conversion of ``notes`` would use (each card's first question
    picture; a percent-encoded name also decoded), to copy only those out of a package."""
    names: set[str] = set()
    for note in notes:
        for card in _cards(note, _cloze_fields(note.notetype)):
            images = html_to_markdown(_question_html(note, card)).images
            if images:
                names.update((images[0], unquote(images[0])))
    return names
