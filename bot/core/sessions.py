"""Quiz-session rules: what goes into a 10-question test and how it is scored."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from bot.core.content import AnyItem

TEST_SIZE = 10
#: How a full test is split across difficulties when the deck allows it.
TEST_TARGET_MIX: dict[str, int] = {"easy": 3, "medium": 4, "hard": 3}
DIFFICULTY_ORDER = ("easy", "medium", "hard")
#: Item kinds that can be graded automatically and so can appear in a test.
TEST_KINDS = frozenset({"mcq", "practice", "typed"})


@dataclass(frozen=True, slots=True)
class StudyItem:
    """An item as the engine sees it: database id, deck and validated content."""

    id: int
    deck: str
    content: AnyItem
    guild_id: int | None = None

    @property
    def kind(self) -> str:
        """``flashcard``, ``mcq``, ``practice`` or ``explain``."""
        return self.content.kind

    @property
    def difficulty(self) -> str:
        """``easy``, ``medium`` or ``hard``."""
        return str(self.content.difficulty)


class Candidate(Protocol):
    """What choosing a test needs of an item: its id, kind and difficulty."""

    @property
    def id(self) -> int:
        """The item's database id."""
        ...

    @property
    def kind(self) -> str:
        """The question kind."""
        ...

    @property
    def difficulty(self) -> str:
        """``easy``, ``medium`` or ``hard``."""
        ...


C = TypeVar("C", bound=Candidate)


def pick_test_items(candidates: Sequence[C], rng: random.Random, size: int = TEST_SIZE) -> list[C]:
    """Choose up to ``size`` gradable items across easy/medium/hard, easiest first.

    Each difficulty gets its share of :data:`TEST_TARGET_MIX` (scaled to ``size``) as far as
    the deck allows; shortfalls are filled from the other difficulties so the test is as
    long as the deck permits.
    """
    pools: dict[str, list[C]] = {level: [] for level in DIFFICULTY_ORDER}
    for item in candidates:
        if item.kind in TEST_KINDS and item.difficulty in pools:
            pools[item.difficulty].append(item)
    for pool in pools.values():
        pool.sort(key=lambda it: it.id)
        rng.shuffle(pool)

    total_target = sum(TEST_TARGET_MIX.values())
    quota = {level: TEST_TARGET_MIX[level] * size // total_target for level in DIFFICULTY_ORDER}
    quota["medium"] += size - sum(quota.values())

    chosen: dict[str, list[C]] = {level: [] for level in DIFFICULTY_ORDER}
    for level in DIFFICULTY_ORDER:
        chosen[level] = pools[level][: quota[level]]
    # Fill any shortfall from whatever is left, preferring the middle difficulty.
    missing = size - sum(len(c) for c in chosen.values())
    for level in ("medium", "easy", "hard"):
        if missing <= 0:
            break
        spare = pools[level][len(chosen[level]) :]
        extra = spare[:missing]
        chosen[level].extend(extra)
        missing -= len(extra)
    return [item for level in DIFFICULTY_ORDER for item in chosen[level]]


@dataclass(slots=True)
class DifficultyScore:
    """Correct answers out of questions for one difficulty."""

    correct: int = 0
    total: int = 0


@dataclass(slots=True)
class TestScore:
    """A finished (or partial) test's result."""

    __test__ = False  # not a pytest test class, despite the name

    correct: int = 0
    total: int = 0
    by_difficulty: dict[str, DifficultyScore] = field(
        default_factory=lambda: {level: DifficultyScore() for level in DIFFICULTY_ORDER}
    )

    def add(self, difficulty: str, correct: bool) -> None:
        """Count one answered question."""
        self.total += 1
        bucket = self.by_difficulty.setdefault(difficulty, DifficultyScore())
        bucket.total += 1
        if correct:
            self.correct += 1
            bucket.correct += 1

    @property
    def percent(self) -> int:
        """Whole-number percentage correct (0 for an empty test)."""
        return round(100 * self.correct / self.total) if self.total else 0

    def verdict(self) -> str:
        """One encouraging line about the result."""
        if self.total == 0:
            return "No questions answered."
        if self.percent >= 90:
            return "Excellent — this topic is strong."
        if self.percent >= 70:
            return "Good work — review the ones you missed."
        if self.percent >= 50:
            return "Getting there — a /review session will help."
        return "Keep going — start with /review and the flashcards."

    def breakdown_lines(self) -> list[str]:
        """``Easy: 3/3`` lines for each difficulty that had questions."""
        return [
            f"{level.capitalize()}: {score.correct}/{score.total}"
            for level, score in self.by_difficulty.items()
            if score.total
        ]
