"""Rendering typed questions for Discord: the one-line answer button and question pictures."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from pathlib import Path

import discord
import pytest

from bot.core.replies import Choice, Image, Reply
from bot.exts import render as r
from bot.exts.components import MODAL_PREFIX, TutorButton, answer_form, form_id

ANSWER = Choice("answer", "Answer", "ex:12", needs_text=True, short_text=True)
EXPLAIN = Choice("answer", "Answer", "ex:12", needs_text=True)


def test_a_short_answer_choice_opens_its_form_from_the_button() -> None:
    asks, explains = (r.make_button(choice, row=0) for choice in (ANSWER, EXPLAIN))
    assert (asks.custom_id, asks.asks_text) == ("ta:ex:12", True)
    assert (explains.custom_id, explains.asks_text) == ("t:ex:12", False)
    daily = r.make_button(replace(ANSWER, action="dt:3:12"), 0)
    assert daily.custom_id == "ta:dt:3:12"


async def test_buttons_are_rebuilt_from_their_custom_id_after_a_restart() -> None:
    template = TutorButton.__discord_ui_compiled_template__
    for custom_id, asks in (("ta:ex:12", True), ("t:ex:12", False), ("ta:dt:3:12", True)):
        match = template.fullmatch(custom_id)
        assert match is not None
        button = await TutorButton.from_custom_id(None, None, match)  # type: ignore[arg-type]
        assert (button.custom_id, button.asks_text) == (custom_id, asks)
    assert template.fullmatch("tx:ex:12") is None


def test_the_answer_form_is_one_line_and_sent_where_its_token_is_taken() -> None:
    assert form_id("ex:12") == f"{MODAL_PREFIX}ex:12"  # a study action: the bot takes it
    assert form_id("dt:3:12") == "dt:3:12"  # a cog's own token: its form handler takes it
    form = answer_form("ex:12")
    assert form.custom_id == "tm:ex:12" and form.title == "Your answer"
    assert form.answer.style is discord.TextStyle.short and form.answer.required


def test_a_question_picture_is_attached_from_the_media_folder(tmp_path: Path) -> None:
    (tmp_path / "eiffel.png").write_bytes(b"png bytes")
    reply = Reply(text="What is this?", media="eiffel.png")
    message = r.render(reply, media_dir=tmp_path)
    [picture] = message.files
    assert picture.filename == "eiffel.png" and picture.fp.read() == b"png bytes"
    assert message.embed.image.url == "attachment://eiffel.png"
    assert message.send_kwargs(ephemeral=True)["files"] == [picture]


def test_a_chart_keeps_the_embed_image_when_there_is_a_picture_too(tmp_path: Path) -> None:
    (tmp_path / "q.png").write_bytes(b"q")
    chart = Image(filename="stats.png", data=b"chart")
    message = r.render(Reply(text="t", image=chart, media="q.png"), media_dir=tmp_path)
    assert [f.filename for f in message.files] == ["stats.png", "q.png"]
    assert message.embed.image.url == "attachment://stats.png"


@pytest.mark.parametrize("name", ["missing.png", "../secret.png", "sub/dir.png"])
def test_a_picture_that_cannot_be_read_leaves_only_the_question(
    tmp_path: Path, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "dir.png").write_bytes(b"x")
    (tmp_path.parent / "secret.png").write_bytes(b"x")
    with caplog.at_level(logging.WARNING, logger="bot.exts.render"):
        message = r.render(Reply(text="What is this?", media=name), media_dir=tmp_path)
    assert message.files == [] and message.embed.image.url is None
    assert message.embed.description == "What is this?"
    assert re.search(r"sent without it", caplog.text)


def test_without_a_media_folder_no_picture_is_looked_up() -> None:
    message = r.render(Reply(text="t", media="eiffel.png"))
    assert message.files == [] and message.embed.image.url is None
