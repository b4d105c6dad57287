"""Rendering replies for Discord stays within Discord's limits without losing structure."""

from __future__ import annotations

from typing import Any
from unittest.mock import AsyncMock, MagicMock

import discord
import pytest

from bot.core.replies import Choice, Image, Reply, ReplyField
from bot.errors import NotFound
from bot.exts import render as r
from bot.exts.components import TutorButton, modal_text, modal_values
from bot.exts.error_handler import friendly_message, report_error


def embed_size(embed: discord.Embed) -> int:
    return len(embed)


def test_long_text_and_fields_are_clipped_to_limits() -> None:
    reply = Reply(
        title="T" * 400,
        text="x" * 5000,
        fields=tuple(ReplyField(f"F{i}", "v" * 1500) for i in range(40)),
        footer="f" * 3000,
    )
    embed = r.build_embed(reply)
    assert len(embed.title or "") == r.MAX_TITLE
    assert len(embed.description or "") <= r.MAX_DESCRIPTION
    assert len(embed.fields) <= r.MAX_FIELDS
    assert all(len(f.value or "") <= r.MAX_FIELD_VALUE for f in embed.fields)
    assert embed_size(embed) <= r.MAX_EMBED_TOTAL


def test_a_long_field_continues_in_a_second_field() -> None:
    steps = "\n".join(f"{n}. " + "step " * 30 for n in range(1, 12))
    embed = r.build_embed(Reply(text="t", fields=(ReplyField("Solution", steps),)))
    names = [f.name for f in embed.fields]
    assert names[0] == "Solution" and names[1] == "Solution (cont.)"
    assert "".join(f.value or "" for f in embed.fields).count("step") == steps.count("step")


def test_code_goes_in_a_fenced_block_that_cannot_be_broken() -> None:
    embed = r.build_embed(Reply(text="What prints?", code="print('```')\nx = 1"))
    description = embed.description or ""
    assert description.startswith("What prints?\n```python\n")
    assert description.endswith("x = 1\n```")
    assert description.count("```") == 2


def test_buttons_five_per_row_and_at_most_25() -> None:
    choices = tuple(Choice(str(i), f"label {i}" * 20, f"an:1:{i}") for i in range(30))
    view = r.build_view(Reply(text="t", choices=choices))
    assert view is not None
    items = view.children
    assert len(items) == 25
    rows: dict[int, int] = {}
    for item in items:
        assert isinstance(item, TutorButton)
        rows[item.row or 0] = rows.get(item.row or 0, 0) + 1
        assert len(item.item.label or "") <= r.MAX_BUTTON_LABEL
    assert max(rows.values()) <= 5 and len(rows) == 5


def test_no_choices_no_view_and_edit_removes_buttons() -> None:
    message = r.render(Reply(text="done"))
    assert message.view is None
    assert message.edit_kwargs()["view"] is None


def test_image_becomes_an_attachment_shown_in_the_embed() -> None:
    message = r.render(Reply(text="curve", image=Image("loss.png", b"\x89PNG...", "loss curve")))
    assert message.files and message.files[0].filename == "loss.png"
    assert message.embed.image.url == "attachment://loss.png"


def test_split_text_keeps_everything() -> None:
    text = "word " * 1000
    pieces = r.split_text(text, 100)
    assert all(len(p) <= 100 for p in pieces)
    assert " ".join(pieces).split() == text.split()


def test_button_custom_ids_carry_the_token() -> None:
    button = TutorButton("an:42:1", label="B")
    assert button.custom_id == "t:an:42:1"
    with pytest.raises(ValueError):
        TutorButton("not a token!")


@pytest.mark.parametrize(
    "payload",
    [
        [{"type": 1, "components": [{"type": 4, "custom_id": "explanation", "value": "hi"}]}],
        [{"type": 18, "component": {"type": 4, "custom_id": "explanation", "value": "hi"}}],
    ],
)
def test_modal_text_reads_both_payload_shapes(payload: list[dict[str, Any]]) -> None:
    assert modal_text(payload) == "hi"


def test_friendly_messages() -> None:
    assert friendly_message(NotFound("No such deck.")) == "No such deck."
    command = MagicMock(spec=discord.app_commands.Command)
    command.name = "quiz"
    wrapped = discord.app_commands.CommandInvokeError(command, NotFound("Nope."))
    assert friendly_message(wrapped) == "Nope."
    assert friendly_message(RuntimeError("x")).startswith("Something went wrong (id ")


async def test_report_error_uses_followup_after_a_defer() -> None:
    interaction = MagicMock(spec=discord.Interaction)
    interaction.response = MagicMock(spec=discord.InteractionResponse)
    interaction.response.is_done.return_value = True
    interaction.followup = MagicMock(spec=discord.Webhook)
    interaction.followup.send = AsyncMock()
    await report_error(interaction, NotFound("Gone."))
    interaction.followup.send.assert_awaited_once_with("Gone.", ephemeral=True)


async def test_report_error_survives_an_expired_interaction() -> None:
    interaction = MagicMock(spec=discord.Interaction)
    interaction.response = MagicMock(spec=discord.InteractionResponse)
    interaction.response.is_done.return_value = False
    response = MagicMock(status=404, reason="Not Found")
    interaction.response.send_message = AsyncMock(
        side_effect=discord.NotFound(response, {"code": 10062, "message": "Unknown interaction"})
    )
    await report_error(interaction, NotFound("Gone."))  # logged, not raised


def test_modal_values_collects_every_text_box() -> None:
    payload = [
        {"type": 18, "component": {"type": 4, "custom_id": "question", "value": "Q?"}},
        {"type": 1, "components": [{"type": 4, "custom_id": "options", "value": "a\nb"}]},
    ]
    assert modal_values(payload) == {"question": "Q?", "options": "a\nb"}
