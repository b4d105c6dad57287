"""``/review tag:…`` and ``/quiz tag:…``: only questions with that tag, and the "Next" button
keeps the tag; a tag nobody uses gets a message listing the tags in use."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.core import actions
from bot.core.clock import FakeClock
from bot.core.content import MultipleChoice
from bot.core.deck_files import load_library
from bot.core.learners import Learner
from bot.core.replies import Reply
from bot.errors import BadInput, ExpiredAction, NotFound
from bot.services.study import StudyServices
from bot.storage import crud
from bot.storage.db import Database
from bot.storage.models import Item
from bot.storage.tags import tag_in_use, tags_in_use
from tests.study_helpers import build_study, shown_item
from tests.study_helpers import choice_action as action

SERVER = 4_300_000_001

DECK = """
deck: tagged-deck
title: Tagged deck
description: Items with and without tags.
items:
  - id: cell-card
    kind: flashcard
    front: What is a cell?
    back: The unit of life.
    tags: [Bio::Cells, week-1]
  - id: plain-card
    kind: flashcard
    front: An untagged card?
    back: Yes.
    tags: [flash-only]
  - id: cell-quiz
    kind: mcq
    question: Which organelle makes energy?
    options: [Mitochondria, Nucleus, Ribosome]
    answer: A
    explanation: Mitochondria make ATP.
    difficulty: easy
    tags: [bio::cells]
  - id: atom-quiz
    kind: mcq
    question: What is in an atom's nucleus?
    options: [Electrons, Protons and neutrons]
    answer: B
    explanation: Electrons orbit the nucleus.
    difficulty: medium
    tags: [chem, week-1]
  - id: bond-quiz
    kind: mcq
    question: Which bond shares electrons?
    options: [Ionic, Covalent]
    answer: B
    explanation: Covalent bonds share electrons.
    difficulty: easy
    tags: [chem]
  - id: plain-quiz
    kind: mcq
    question: An untagged question?
    options: ["Yes", "No"]
    answer: A
    explanation: It has no tags.
    difficulty: easy
  - id: underscore-quiz
    kind: mcq
    question: Tagged with an underscore?
    options: ["Yes", "No"]
    answer: A
    explanation: Its tag is a_b.
    difficulty: hard
    tags: [a_b]
  - id: lookalike-quiz
    kind: mcq
    question: Tagged with a look-alike?
    options: ["Yes", "No"]
    answer: A
    explanation: Its tag is axb.
    difficulty: hard
    tags: [axb]
"""


@pytest_asyncio.fixture
async def tagged(db: Database, clock: FakeClock, tmp_path: Path) -> AsyncIterator[StudyServices]:
    """Study services over :data:`DECK` only."""
    folder = tmp_path / "decks"
    folder.mkdir()
    (folder / "tagged-deck.yaml").write_text(DECK, encoding="utf-8")
    services = build_study(db, clock)
    library = load_library(folder)
    assert not library.problems, library.problems
    await services.decks.sync_content(library)
    yield services
    await services.close()


def member(name: str) -> Learner:
    return Learner(platform="discord", external_id=name, display_name=name, guild_id=SERVER)


async def slug_of(study: StudyServices, reply: Reply) -> str:
    """The item id (slug) a question reply shows."""
    return (await shown_item(study, reply)).slug


async def answer(study: StudyServices, learner: Learner, reply: Reply, *, right: bool) -> Reply:
    """Answer a shown question: a multiple-choice one right or wrong, a card Good or Again."""
    if reply.choice_for("reveal") is not None:
        revealed = await study.actions.act(learner, action(reply, "reveal"))
        return await study.actions.act(learner, action(revealed, "good" if right else "again"))
    prompt_id = int(reply.choices[0].action.split(":")[1])
    async with study.context.db.session() as s:
        found = await crud.prompt_with_item(s, prompt_id=prompt_id)
    assert found is not None
    content = study.context.items.of_row(found[1]).content
    assert isinstance(content, MultipleChoice)
    index = content.correct_index if right else (content.correct_index + 1) % len(content.options)
    return await study.actions.act(learner, action(reply, "ABCDEF"[index]))


async def test_review_with_a_tag_serves_only_its_cards_and_next_keeps_the_tag(
    tagged: StudyServices, clock: FakeClock
) -> None:
    ana = member("ana")
    first = await tagged.review.review(ana, "  BIO::Cells ")
    assert await slug_of(tagged, first) == "cell-card"
    assert first.footer.startswith("New · tagged bio::cells")
    saved = await answer(tagged, ana, first, right=True)
    token = action(saved, "next")
    assert token.startswith("nx:review:")
    second = await tagged.actions.act(ana, token)
    assert await slug_of(tagged, second) == "cell-quiz"
    feedback = await answer(tagged, ana, second, right=True)
    assert action(feedback, "next") == token  # the same run, the same tag
    done = await tagged.actions.act(ana, token)
    assert done.title == "All caught up 🎉" and not done.choices
    assert "Nothing tagged 'bio::cells' is due right now." in done.text
    assert "/review without a tag" in done.text
    # Untagged, the review goes on with the deck's other new cards.
    assert await slug_of(tagged, await tagged.review.review(ana)) == "plain-card"
    clock.advance(days=30)
    due = await tagged.review.review(ana, "bio::cells")
    assert due.footer.startswith("Review · tagged bio::cells · 2 due now")


async def test_quiz_with_a_tag_asks_only_its_questions(tagged: StudyServices) -> None:
    ana = member("ana")
    seen = set()
    for _ in range(6):
        question = await tagged.practice.quiz(ana, tag="chem")
        seen.add(await slug_of(tagged, question))
    assert seen == {"atom-quiz", "bond-quiz"}
    feedback = await answer(tagged, ana, question, right=True)
    token = action(feedback, "next")
    assert token.startswith("nx:quiz:tagged-deck:-:")
    for _ in range(4):
        another = await tagged.actions.act(ana, token)
        assert await slug_of(tagged, another) in {"atom-quiz", "bond-quiz"}
    # A channel quiz (shared) is tagged too; its "Another one" is a private plain quiz.
    shared = await tagged.practice.quiz(ana, tag="bio::cells", shared=True)
    assert await slug_of(tagged, shared) == "cell-quiz" and not shared.private
    feedback = await answer(tagged, member("bea"), shared, right=True)
    assert action(feedback, "next") == "nx:quiz:tagged-deck:-"


async def test_like_wildcards_in_a_tag_are_plain_characters(tagged: StudyServices) -> None:
    ana = member("ana")
    for _ in range(3):
        assert await slug_of(tagged, await tagged.practice.quiz(ana, tag="a_b")) == (
            "underscore-quiz"
        )
    async with tagged.context.db.session() as s:
        assert await crud.count_active_items(s, guild_id=SERVER, tag="a_b") == 1
        assert await crud.count_active_items(s, guild_id=SERVER, tag="%") == 0
        assert await crud.count_active_items(s, guild_id=SERVER, tag="week-1") == 2
        assert await crud.count_active_items(s, guild_id=SERVER, tag="WEEK-1", kinds=["mcq"]) == 1


async def test_a_tag_nobody_uses_lists_the_tags_in_use(tagged: StudyServices) -> None:
    ana = member("ana")
    expected = (
        "No questions are tagged 'physics' here. Tags in use: bio::cells, chem, week-1, a_b, "
        "axb, flash-only. Pick one of those, or leave the tag out."
    )
    with pytest.raises(NotFound) as quiz:
        await tagged.practice.quiz(ana, tag="Physics")
    with pytest.raises(NotFound) as review:
        await tagged.review.review(ana, "physics")
    with pytest.raises(NotFound) as mistakes:
        await tagged.review.mistakes(ana, "physics")
    for caught in (quiz, review, mistakes):
        assert caught.value.message == expected


async def test_a_used_tag_without_quiz_questions_says_so(tagged: StudyServices) -> None:
    with pytest.raises(NotFound) as caught:
        await tagged.practice.quiz(member("ana"), tag="flash-only")
    assert caught.value.message == (
        "No quiz questions tagged 'flash-only' yet. Try another tag, deck or difficulty."
    )


async def test_without_any_tags_the_message_says_to_leave_the_tag_out(
    study: StudyServices,
) -> None:
    with pytest.raises(NotFound, match=r"none have tags yet\. Leave the tag out"):
        await study.practice.quiz(member("ana"), tag="bio")


@pytest.mark.parametrize("typed", ["two words", "x" * 61])
async def test_text_that_cannot_be_a_tag_is_refused(tagged: StudyServices, typed: str) -> None:
    with pytest.raises(BadInput):
        await tagged.review.review(member("ana"), typed)


async def test_another_members_tagged_run_cannot_be_continued(tagged: StudyServices) -> None:
    ana, bea = member("ana"), member("bea")
    first = await tagged.review.review(ana, "chem")
    token = action(await answer(tagged, ana, first, right=True), "next")
    with pytest.raises(ExpiredAction):
        await tagged.actions.act(bea, token)
    with pytest.raises(ExpiredAction):
        await tagged.actions.act(ana, "nx:mistakes:987654")


async def test_mistakes_with_a_tag(tagged: StudyServices) -> None:
    ana = member("ana")
    for tag in ("bio::cells", "chem"):
        await answer(tagged, ana, await tagged.review.review(ana, tag), right=False)
    retry = await tagged.review.mistakes(ana, "CHEM")
    assert await slug_of(tagged, retry) == "atom-quiz"
    assert retry.footer.startswith("Retry · tagged chem · 1 to go")
    token = action(await answer(tagged, ana, retry, right=True), "next")
    assert token.startswith("nx:mistakes:")
    retry = await tagged.actions.act(ana, token)
    assert await slug_of(tagged, retry) == "atom-quiz"
    feedback = await answer(tagged, ana, retry, right=True)
    done = await tagged.actions.act(ana, action(feedback, "next"))
    assert done.title == "No mistakes to retry"
    assert done.text.startswith("Nothing tagged 'chem' to retry")
    # The other mistake is still there without the tag.
    assert await slug_of(tagged, await tagged.review.mistakes(ana)) == "cell-card"


async def test_tags_in_use_are_the_servers_and_the_most_used_first(db: Database) -> None:
    async with db.session() as s:
        for server in (SERVER, SERVER + 1):
            await crud.ensure_guild(s, guild_id=server)
        rows: list[tuple[str, int | None, str]] = [
            ("bundled", None, " shared "),
            ("mine-1", SERVER, " local shared "),
            ("mine-2", SERVER, " local "),
            ("theirs", SERVER + 1, " secret "),
            ("retired", SERVER, " old "),
            *((f"many-{n}", SERVER, f" t{n:02d} ") for n in range(12)),
        ]
        for slug, guild_id, tags in rows:
            s.add(
                Item(
                    key=slug,
                    deck="deck",
                    slug=slug,
                    kind="mcq",
                    difficulty="easy",
                    guild_id=guild_id,
                    payload={},
                    content_hash="x",
                    tags=tags,
                    active=slug != "retired",
                )
            )
        await s.commit()
        assert await tags_in_use(s, guild_id=SERVER) == [
            "local",
            "shared",
            *(f"t{n:02d}" for n in range(8)),
        ]
        assert await tags_in_use(s, guild_id=None, limit=5) == ["shared"]
        assert await tag_in_use(s, guild_id=SERVER + 1, tag="Secret")
        assert not await tag_in_use(s, guild_id=SERVER, tag="secret")
        assert not await tag_in_use(s, guild_id=SERVER, tag="old")


@pytest.mark.parametrize(
    "next_action",
    [
        actions.Next("mistakes"),
        actions.Next("mistakes", session_id=31),
        actions.Next("review", session_id=987654321),
        actions.Next("quiz", session_id=12, deck="tagged-deck"),
        actions.Next("quiz", session_id=12, deck="a" * 41, difficulty="medium"),
    ],
    ids=lambda a: a.token(),
)
def test_next_tokens_of_tagged_runs_and_mistakes_round_trip(next_action: actions.Next) -> None:
    token = next_action.token()
    assert len(token) <= 90  # fits a Discord custom_id with its prefix
    assert actions.parse_action(token) == next_action


@pytest.mark.parametrize(
    "token", ["nx:mistakes:x", "nx:review:1:2", "nx:mistakes:-", "nx:quiz:-:-:one", "nx:test"]
)
def test_malformed_next_tokens_expire(token: str) -> None:
    with pytest.raises(ExpiredAction):
        actions.parse_action(token)
