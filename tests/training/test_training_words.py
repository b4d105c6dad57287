"""``/train`` typed as words in the console: positional, ``name=value`` or ``name:value``."""

from __future__ import annotations

import pytest

from bot.errors import BadInput
from bot.training.jobs import parse_train_options
from bot.training.lab import parse_option_words


def test_positional_words_follow_the_option_order() -> None:
    assert parse_option_words(["house-prices", "adam", "0.01", "200", "7"]) == {
        "preset": "house-prices",
        "optimizer": "adam",
        "learning_rate": "0.01",
        "steps": "200",
        "seed": "7",
    }


def test_named_words_in_any_order_with_equals_or_colon() -> None:
    words = ["steps:5", "lr=0.05", "house-prices", "Seed:3"]
    assert parse_option_words(words) == {
        "steps": "5",
        "learning_rate": "0.05",
        "preset": "house-prices",
        "seed": "3",
    }
    request = parse_train_options(**parse_option_words(words))
    assert (request.preset, request.steps, request.learning_rate, request.seed) == (
        "house-prices",
        5,
        0.05,
        3,
    )


def test_positional_words_skip_options_already_named() -> None:
    assert parse_option_words(["preset=no-apply", "adam"]) == {
        "preset": "no-apply",
        "optimizer": "adam",
    }


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["epochs:5"], "Unknown option 'epochs'. Use preset, optimizer, lr, steps or seed."),
        (["a", "b", "c", "d", "e", "f"], "Too many options"),
    ],
)
def test_bad_words_say_what_to_type(words: list[str], message: str) -> None:
    with pytest.raises(BadInput, match=message):
        parse_option_words(words)
