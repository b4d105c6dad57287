"""Rendering results, the loss curve and the cooldown bookkeeping (no TensorFlow)."""

from __future__ import annotations

import struct

import pytest

from bot.core.replies import Tone
from bot.training.errors import TrainingCooldown
from bot.training.jobs import TrainResult
from bot.training.render import loss_curve_png, render_train_result, warming_up_text
from bot.training.timing import Cooldowns

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _result(**changes: object) -> TrainResult:
    base: dict[str, object] = {
        "preset": "single-step",
        "optimizer": "sgd",
        "lr": 0.1,
        "steps": 1,
        "seed": 42,
        "loss_before": 0.5764,
        "loss_after": 0.2075,
        "losses": [0.5764, 0.2075],
        "weights_before": {"kernel": [1.2408], "bias": [0.0]},
        "weights_after": {"kernel": [1.3926], "bias": [0.1518]},
        "elapsed_ms": 3.4,
        "note": "The loss dropped because apply_gradients moved ...",
    }
    base.update(changes)
    return TrainResult(**base)  # type: ignore[arg-type]


def _fields(reply: object) -> dict[str, str]:
    return {f.name: f.value for f in reply.fields}  # type: ignore[attr-defined]


def test_single_step_reply() -> None:
    reply = render_train_result(_result())
    assert reply.title == "Training: single-step (SGD, lr 0.1)"
    assert reply.tone is Tone.SUCCESS
    fields = _fields(reply)
    assert fields["Loss before"] == "0.5764"
    assert fields["Loss after"] == "0.2075"
    assert fields["Change"].startswith("-0.3689")
    assert fields["Weights before"] == "kernel = 1.241, bias = 0"
    assert fields["Weights after"] == "kernel = 1.393, bias = 0.1518"
    assert fields["Time"] == "3 ms"
    assert reply.image is None  # one step: no curve


def test_no_apply_reply_says_weights_did_not_move() -> None:
    weights = {"kernel": [1.2408], "bias": [0.0]}
    reply = render_train_result(
        _result(
            preset="no-apply",
            loss_after=0.5764,
            losses=[0.5764, 0.5764],
            weights_after=weights,
            weights_before=weights,
            note="The gradients were computed but optimizer.apply_gradients was never called.",
        )
    )
    assert "apply_gradients was never called" in reply.text
    assert _fields(reply)["Weights after"].endswith("(unchanged)")


def test_diverged_reply() -> None:
    reply = render_train_result(
        _result(
            preset="house-prices",
            lr=10.0,
            steps=100,
            loss_after=None,
            losses=[1.0, 50.0, 9e9],
            weights_before=None,
            weights_after=None,
            diverged=True,
            diverged_at_step=3,
        )
    )
    assert reply.tone is Tone.WARNING
    assert "diverged — try a smaller learning rate" in reply.text.lower()
    assert "step 3" in reply.text
    assert "Weights before" not in _fields(reply)


def test_a_job_that_waited_for_the_lab_to_start_says_so() -> None:
    assert "Warm-up" not in _fields(render_train_result(_result()))
    fields = _fields(render_train_result(_result(warm_up_s=4.96)))
    assert fields["Warm-up"] == "5.0 s (the lab started first)"
    assert fields["Time"] == "3 ms"
    assert warming_up_text(8) == "Warming up the lab — about 8 s…"
    assert warming_up_text(0) == "Warming up the lab — about 1 s…"


def test_multi_step_reply_attaches_a_png() -> None:
    reply = render_train_result(_result(steps=3, losses=[1.0, 0.5, 0.25, 0.1], loss_after=0.1))
    assert reply.image is not None
    assert reply.image.filename == "loss_curve.png"
    assert reply.image.data.startswith(PNG_SIGNATURE)


def test_loss_curve_is_a_valid_png() -> None:
    data = loss_curve_png([10.0, 1.0, 0.1, 0.001])  # spans decades: log scale
    assert data.startswith(PNG_SIGNATURE)
    length, kind = struct.unpack(">I4s", data[8:16])
    assert (length, kind) == (13, b"IHDR")
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (500, 300)
    assert data.endswith(b"IEND\xaeB`\x82")


def test_cooldowns_say_how_long_to_wait() -> None:
    now = [100.0]
    cooldowns = Cooldowns(10.0, clock=lambda: now[0])
    cooldowns.check("ada")
    cooldowns.note("ada")
    now[0] += 2.5
    with pytest.raises(TrainingCooldown) as caught:
        cooldowns.check("ada")
    assert caught.value.retry_after_s == 8
    assert "wait 8 seconds" in str(caught.value)
    cooldowns.check("bob")
    now[0] += 7.6
    cooldowns.check("ada")
    cooldowns.note("ada")
    cooldowns.forget("ada")
    cooldowns.check("ada")
