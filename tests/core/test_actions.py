"""Action tokens survive a round trip and reject anything malformed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core import actions
from bot.errors import ExpiredAction

EXAMPLES = [
    actions.Reveal(12),
    actions.Rate(12, 3),
    actions.Answer(99, 2),
    actions.Hint(5),
    actions.SubmitExplanation(7),
    actions.Next("review"),
    actions.Next("test", session_id=4),
    actions.Next("quiz", deck="tensorflow-training-basics", difficulty="hard"),
    actions.Next("practice"),
]


@pytest.mark.parametrize("action", EXAMPLES, ids=lambda a: a.token())
def test_round_trip(action: actions.Action) -> None:
    token = action.token()
    assert len(token) <= 90  # fits a Discord custom_id with a prefix
    assert actions.parse_action(token) == action


@pytest.mark.parametrize(
    "token",
    ["", "rv", "rv:x", "rt:1:5", "rt:1:0", "an:1", "nx:train", "nx:test", "zz:1", "an:-1:2"],
)
def test_malformed_tokens_are_expired(token: str) -> None:
    with pytest.raises(ExpiredAction):
        actions.parse_action(token)


@given(st.text(max_size=60))
def test_any_text_either_parses_or_raises_expired(token: str) -> None:
    try:
        parsed = actions.parse_action(token)
    except ExpiredAction:
        return
    assert parsed.token() == token.strip() or parsed.token()
