"""Option parsing and validation (pure; no TensorFlow)."""

from __future__ import annotations

import re

import pytest

from bot.errors import BadInput
from bot.training.jobs import TrainRequest, TrainResult, parse_train_options


def test_defaults_follow_the_lesson() -> None:
    request = parse_train_options()
    assert request == TrainRequest("single-step", "sgd", 0.1, 1, 42)
    assert parse_train_options(preset="house-prices").steps == 100
    assert parse_train_options(optimizer="adam").learning_rate == 0.01


def test_strings_and_forgiving_names() -> None:
    request = parse_train_options(
        preset=" House_Prices ",
        optimizer="RMSProp",
        learning_rate="1e-3",
        steps="25",
        seed="7",
    )
    assert request == TrainRequest("house-prices", "rmsprop", 0.001, 25, 7)
    assert parse_train_options(steps=3.0, seed=2.0).steps == 3
    assert parse_train_options(preset="no-apply", steps=4).steps == 4


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"learning_rate": 0}, "Learning rate must be a number from 0.00001 to 10"),
        ({"learning_rate": "11"}, "Learning rate must be a number from 0.00001 to 10"),
        ({"learning_rate": "fast"}, "Learning rate must be a number from 0.00001 to 10"),
        ({"learning_rate": "nan"}, "Learning rate must be a number from 0.00001 to 10"),
        ({"learning_rate": "inf"}, "Learning rate must be a number from 0.00001 to 10"),
        ({"steps": 0}, "Steps must be a whole number from 1 to 500"),
        ({"steps": "501"}, "Steps must be a whole number from 1 to 500"),
        ({"steps": "2.5"}, "Steps must be a whole number from 1 to 500"),
        ({"steps": "many"}, "Steps must be a whole number from 1 to 500"),
        ({"seed": -1}, "Seed must be a whole number from 0 to 2147483647"),
        ({"seed": 2**31}, "Seed must be a whole number from 0 to 2147483647"),
        ({"seed": "x"}, "Seed must be a whole number from 0 to 2147483647"),
        ({"preset": "rm -rf"}, "Unknown preset 'rm -rf'. Choose one of: single-step"),
        ({"optimizer": "lbfgs"}, "Unknown optimizer 'lbfgs'. Choose one of: sgd, adam"),
        # found by the fuzzer: what was typed is echoed on one line
        ({"optimizer": "0\n0"}, "Unknown optimizer '0 0'."),
        ({"preset": "a\r\n\tb"}, "Unknown preset 'a b'."),
    ],
)
def test_bad_options_name_the_allowed_values(options: dict[str, object], expected: str) -> None:
    with pytest.raises(BadInput) as caught:
        parse_train_options(**options)  # type: ignore[arg-type]
    assert expected in str(caught.value)


def test_non_numeric_message_quotes_the_input() -> None:
    with pytest.raises(BadInput, match=r"\(got 'abc'\)"):
        parse_train_options(learning_rate="abc")


def test_request_validates_when_built_directly() -> None:
    with pytest.raises(
        BadInput, match=re.escape("Learning rate must be a number from 0.00001 to 10.")
    ):
        TrainRequest(learning_rate=20.0)
    with pytest.raises(BadInput, match="Steps"):
        TrainRequest(steps=True)
    with pytest.raises(BadInput, match="preset"):
        TrainRequest(preset="exec")


def test_round_trips() -> None:
    request = parse_train_options(preset="house-prices", steps=12, seed=9)
    assert TrainRequest.from_dict(request.to_dict()) == request
    result = TrainResult(
        preset="single-step",
        optimizer="sgd",
        lr=0.1,
        steps=1,
        seed=1,
        loss_before=2.0,
        loss_after=1.0,
        losses=[2.0, 1.0],
        weights_before={"kernel": [0.5], "bias": [0.0]},
        weights_after={"kernel": [0.7], "bias": [0.2]},
        elapsed_ms=3.0,
        note="ok",
    )
    assert TrainResult.from_dict(result.to_dict()) == result
    assert result.loss_change == -1.0
    assert result.steps_run == 1
