"""The 10-question test mix and scoring."""

from __future__ import annotations

import random
from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from bot.core.content import parse_item
from bot.core.sessions import StudyItem, TestScore, pick_test_items


def make_item(item_id: int, difficulty: str, kind: str = "mcq") -> StudyItem:
    data: dict[str, object]
    if kind == "flashcard":
        data = {"id": f"f{item_id}", "kind": "flashcard", "front": "Q?", "back": "A."}
    else:
        data = {
            "id": f"q{item_id}",
            "kind": kind,
            "question": f"Question {item_id}?",
            "options": ["yes", "no"],
            "answer": "A",
            "explanation": "Because.",
            "difficulty": difficulty,
        }
        if kind == "practice":
            data.update(hint="Think.", steps=["Step one."], mistakes=["Guessing."])
    return StudyItem(id=item_id, deck="d", content=parse_item(data))


def bank(easy: int, medium: int, hard: int) -> list[StudyItem]:
    items: list[StudyItem] = []
    for level, count in (("easy", easy), ("medium", medium), ("hard", hard)):
        for _ in range(count):
            items.append(make_item(len(items) + 1, level, "mcq" if len(items) % 2 else "practice"))
    return items


def test_full_bank_gives_3_4_3_easiest_first() -> None:
    chosen = pick_test_items(bank(10, 10, 10), random.Random(1))
    assert [i.difficulty for i in chosen] == ["easy"] * 3 + ["medium"] * 4 + ["hard"] * 3


def test_short_difficulty_is_filled_from_the_others() -> None:
    chosen = pick_test_items(bank(6, 6, 1), random.Random(1))
    counts = Counter(i.difficulty for i in chosen)
    assert len(chosen) == 10 and counts["hard"] == 1
    assert len({i.id for i in chosen}) == 10


def test_small_deck_uses_everything_it_has() -> None:
    chosen = pick_test_items(bank(2, 1, 1), random.Random(1))
    assert sorted(i.id for i in chosen) == [1, 2, 3, 4]


def test_flashcards_and_explains_are_left_out() -> None:
    items = [make_item(1, "easy", "flashcard"), make_item(2, "easy")]
    assert [i.id for i in pick_test_items(items, random.Random(1))] == [2]


def test_same_seed_same_test() -> None:
    items = bank(8, 8, 8)
    first = [i.id for i in pick_test_items(items, random.Random(3))]
    again = [i.id for i in pick_test_items(list(reversed(items)), random.Random(3))]
    assert first == again


@given(st.integers(0, 12), st.integers(0, 12), st.integers(0, 12), st.integers(0, 99))
def test_never_more_than_ten_never_duplicates(e: int, m: int, h: int, seed: int) -> None:
    chosen = pick_test_items(bank(e, m, h), random.Random(seed))
    assert len(chosen) == min(10, e + m + h)
    assert len({i.id for i in chosen}) == len(chosen)


def test_score_breakdown() -> None:
    score = TestScore()
    for level, ok in [("easy", True), ("easy", True), ("medium", False), ("hard", True)]:
        score.add(level, ok)
    assert (score.correct, score.total, score.percent) == (3, 4, 75)
    assert score.breakdown_lines() == ["Easy: 2/2", "Medium: 0/1", "Hard: 1/1"]
    assert "Good work" in score.verdict()
