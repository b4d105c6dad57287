"""Self-test of the fake Discord: a minimal real discord.py bot driven end to end.

Run: ``PYTHONPATH=. .venv/bin/pytest tests/fakediscord_selftest -q -p tests.fakediscord.fixtures``
"""

from __future__ import annotations

import asyncio
import io
import logging
import statistics
from collections.abc import AsyncIterator

import aiohttp
import discord
import pytest
import pytest_asyncio
from discord import app_commands
from discord.ext import commands

from tests.fakediscord import (
    EPHEMERAL_FLAG,
    FakeDiscord,
    MessageRecord,
    ModalRecord,
    running_client,
)
from tests.fakediscord.fixtures import ALICE_ID, BOB_ID, CHANNEL_ID, GUILD_ID

log = logging.getLogger(__name__)

PNG_BYTES = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
PANEL_BUTTON = "selftest:reveal"


class PanelView(discord.ui.View):
    """Persistent view: fixed custom_id, no timeout."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Reveal", style=discord.ButtonStyle.primary, custom_id=PANEL_BUTTON)
    async def reveal(
        self, interaction: discord.Interaction, button: discord.ui.Button[PanelView]
    ) -> None:
        """Reply ephemerally to whoever clicked."""
        await interaction.response.send_message(
            f"revealed for {interaction.user.name}", ephemeral=True
        )


class EchoModal(discord.ui.Modal, title="Echo"):
    """A modal with a legacy row-wrapped text input and a 2.6+ Label-wrapped one."""

    text: discord.ui.TextInput[EchoModal] = discord.ui.TextInput(
        label="Your text", custom_id="echo:text"
    )
    answer: discord.ui.Label[EchoModal] = discord.ui.Label(
        text="Answer",
        component=discord.ui.TextInput(custom_id="echo:answer", required=False),
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        """Echo both inputs back."""
        assert isinstance(self.answer.component, discord.ui.TextInput)
        await interaction.response.send_message(
            f"you said: {self.text.value} / {self.answer.component.value}", ephemeral=True
        )


class SelfTestBot(commands.Bot):
    """Minimal bot exercising every interaction path of the fake."""

    def __init__(self) -> None:
        super().__init__(command_prefix="!", intents=discord.Intents.default())
        self.errors: list[tuple[str, int, int]] = []
        """``(command, http status, discord code)`` of callbacks Discord rejected."""
        self._register_replies()
        self._register_edge_cases()

    def _register_replies(self) -> None:
        """Commands that answer in each of the usual ways."""
        tree = self.tree

        @tree.command(name="ping", description="pong")
        async def ping(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("pong", ephemeral=True)

        @tree.command(name="panel", description="post a panel with a persistent button")
        async def panel(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("Panel", view=PanelView())

        @tree.command(name="echo", description="open a modal")
        async def echo(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(EchoModal())

        @tree.command(name="slow", description="defer then follow up")
        async def slow(interaction: discord.Interaction, delay: float) -> None:
            await interaction.response.defer(thinking=True, ephemeral=True)
            await asyncio.sleep(delay)
            await interaction.followup.send(f"done after {delay}")

        @tree.command(name="chart", description="send a PNG")
        async def chart(interaction: discord.Interaction) -> None:
            await interaction.response.send_message(
                "chart", file=discord.File(io.BytesIO(PNG_BYTES), filename="chart.png")
            )

    def _register_edge_cases(self) -> None:
        """Commands that answer late, twice, elsewhere, or take options."""
        tree = self.tree

        @tree.command(name="late", description="answer after a delay")
        async def late(interaction: discord.Interaction, delay: float) -> None:
            await asyncio.sleep(delay)
            try:
                await interaction.response.send_message("too late?")
            except discord.HTTPException as exc:
                self.errors.append(("late", exc.status, exc.code))

        @tree.command(name="double", description="acknowledge twice")
        async def double(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("first")
            # Bypass discord.py's local InteractionResponded guard to hit the server again.
            interaction.response._response_type = None
            try:
                await interaction.response.send_message("second")
            except discord.HTTPException as exc:
                self.errors.append(("double", exc.status, exc.code))

        @tree.command(name="post", description="post in the channel and DM the user")
        async def post(interaction: discord.Interaction) -> None:
            await interaction.response.defer(ephemeral=True, thinking=True)
            assert isinstance(interaction.channel, discord.TextChannel)
            await interaction.channel.send("Daily quiz", view=PanelView())
            await interaction.user.send("your DM")
            await interaction.edit_original_response(content="posted")

        async def topic_autocomplete(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            topics = ["algebra", "biology", "chemistry", "calculus"]
            return [app_commands.Choice(name=t, value=t) for t in topics if t.startswith(current)]

        @tree.command(name="topic", description="pick a topic")
        @app_commands.autocomplete(name=topic_autocomplete)
        async def topic(interaction: discord.Interaction, name: str, count: int = 1) -> None:
            await interaction.response.send_message(f"{name} x{count}")

        @tree.command(
            name="whois", description="guild-only user option", guild=discord.Object(GUILD_ID)
        )
        async def whois(interaction: discord.Interaction, member: discord.Member) -> None:
            await interaction.response.send_message(f"{member.name} ({member.id})")

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Skip discord.py's 5 s sleep before a non-initial IDENTIFY (keeps tests fast)."""

    async def setup_hook(self) -> None:
        """Register the persistent view and sync global + guild commands."""
        self.add_view(PanelView())
        await self.tree.sync()
        await self.tree.sync(guild=discord.Object(GUILD_ID))


@pytest_asyncio.fixture
async def bot(fake_discord: FakeDiscord) -> AsyncIterator[SelfTestBot]:
    """A SelfTestBot logged in and READY against the fake."""
    client = SelfTestBot()
    async with running_client(client, fake_discord):
        yield client


async def test_login_ready_and_gateway(fake_discord: FakeDiscord, bot: SelfTestBot) -> None:
    assert bot.is_ready()
    assert bot.user is not None and bot.user.id == fake_discord.bot_user_id
    assert bot.application_id == fake_discord.application_id
    guild = bot.get_guild(GUILD_ID)
    assert guild is not None and guild.name == "Study Hall"
    assert guild.get_channel(CHANNEL_ID) is not None
    # Without the members intent discord.py does not cache members from GUILD_CREATE
    # (exactly like with real Discord); fetching goes through GET /guilds/{id}/members/{id}.
    alice, bob = await guild.fetch_member(ALICE_ID), await guild.fetch_member(BOB_ID)
    assert alice.guild_permissions.administrator
    assert not bob.guild_permissions.administrator
    assert guild.owner_id == ALICE_ID
    # discord.py asked for zstd-stream compression (zstandard is installed: the fake honours
    # it; without it discord.py asks for zlib-stream, which the fake honours too).
    assert fake_discord.gateway.connect_queries[-1]["compress"] == "zstd-stream"
    assert fake_discord.gateway.connect_queries[-1]["v"] == "10"
    assert fake_discord.unhandled == []


async def test_command_sync(fake_discord: FakeDiscord, bot: SelfTestBot) -> None:
    global_names = fake_discord.command_names()
    assert {
        "ping",
        "panel",
        "echo",
        "slow",
        "chart",
        "late",
        "double",
        "post",
        "topic",
    } <= global_names
    assert fake_discord.command_names(GUILD_ID) == {"whois"}
    fetched = await bot.tree.fetch_commands()
    assert {c.name for c in fetched} == global_names
    assert all(c.id for c in fetched)


async def test_ping_ephemeral(fake_discord: FakeDiscord, bot: SelfTestBot) -> None:
    handle = await fake_discord.send_slash_command("ping", user_id=ALICE_ID)
    reply = await fake_discord.wait_for_message(handle, timeout=2)
    assert reply.content == "pong"
    assert reply.ephemeral and reply.flags & EPHEMERAL_FLAG
    (cb,) = fake_discord.callbacks_for(handle)
    assert cb.type == 4 and cb.ok and cb.elapsed_s < fake_discord.ack_deadline_s


async def test_ping_in_dm(fake_discord: FakeDiscord, bot: SelfTestBot) -> None:
    handle = await fake_discord.send_slash_command("ping", user_id=BOB_ID, guild_id=None)
    reply = await fake_discord.wait_for_message(handle, timeout=2)
    assert reply.content == "pong" and reply.guild_id is None


async def test_button_round_trip(fake_discord: FakeDiscord, bot: SelfTestBot) -> None:
    handle = await fake_discord.send_slash_command("panel", user_id=ALICE_ID)
    panel = await fake_discord.wait_for_message(handle)
    assert panel.custom_ids == [PANEL_BUTTON] and not panel.ephemeral
    click = await fake_discord.click_button(panel, PANEL_BUTTON, user_id=BOB_ID)
    reply = await fake_discord.wait_for_message(click)
    assert reply.content == "revealed for Bob" and reply.ephemeral


async def test_modal_round_trip(fake_discord: FakeDiscord, bot: SelfTestBot) -> None:
    handle = await fake_discord.send_slash_command("echo", user_id=ALICE_ID)
    modal = await fake_discord.wait_for_modal(handle)
    assert isinstance(modal, ModalRecord) and modal.title == "Echo"
    assert set(modal.input_custom_ids) == {"echo:text", "echo:answer"}
    # Values may be keyed by custom_id or by label.
    submit = await fake_discord.submit_modal(modal, {"Your text": "hello", "echo:answer": "42"})
    reply = await fake_discord.wait_for_message(submit)
    assert reply.content == "you said: hello / 42"


async def test_defer_then_followup(fake_discord: FakeDiscord, bot: SelfTestBot) -> None:
    handle = await fake_discord.send_slash_command("slow", user_id=ALICE_ID, options={"delay": 0.3})
    cb = await fake_discord.wait_for_callback(handle)
    assert cb.type == 5 and cb.ok and cb.elapsed_s < 0.5
    followup = await fake_discord.wait_for_followup(handle, timeout=3)
    assert followup.content == "done after 0.3"
    assert followup.ephemeral  # the deferral was ephemeral; first followup replaces it
    assert await fake_discord.wait_for_response(handle) == followup


async def test_file_attachment(fake_discord: FakeDiscord, bot: SelfTestBot) -> None:
    handle = await fake_discord.send_slash_command("chart", user_id=ALICE_ID)
    reply = await fake_discord.wait_for_message(handle)
    (att,) = reply.attachments
    assert att.filename == "chart.png" and att.data == PNG_BYTES
    # The attachment URL is served by the fake, so bots can download what they posted.
    async with aiohttp.ClientSession() as session:
        url = f"{fake_discord.base_url}/attachments/{reply.channel_id}/{att.id}/chart.png"
        async with session.get(url) as resp:
            assert await resp.read() == PNG_BYTES


async def test_autocomplete_and_typed_options(fake_discord: FakeDiscord, bot: SelfTestBot) -> None:
    auto = await fake_discord.send_autocomplete(
        "topic", focused="name", options={"name": "c"}, user_id=ALICE_ID
    )
    choices = await fake_discord.wait_for_autocomplete(auto)
    assert choices.names == ["chemistry", "calculus"]
    handle = await fake_discord.send_slash_command(
        "topic", user_id=ALICE_ID, options={"name": "calculus", "count": 3}
    )
    assert (await fake_discord.wait_for_message(handle)).content == "calculus x3"
    whois = await fake_discord.send_slash_command(
        "whois", user_id=ALICE_ID, options={"member": BOB_ID}
    )
    assert (await fake_discord.wait_for_message(whois)).content == f"Bob ({BOB_ID})"


async def test_channel_post_dm_and_edit_original(
    fake_discord: FakeDiscord, bot: SelfTestBot
) -> None:
    handle = await fake_discord.send_slash_command("post", user_id=BOB_ID)
    edited = await fake_discord.wait_for_message(handle)
    assert edited.content == "posted" and edited.action == "edit" and edited.ephemeral
    quiz = await fake_discord.wait_for_channel_message(CHANNEL_ID)
    assert quiz.content == "Daily quiz" and quiz.kind == "channel"
    dm = await fake_discord.wait_for_channel_message(fake_discord.dm_channel(BOB_ID).id)
    assert dm.content == "your DM" and dm.kind == "dm"
    click = await fake_discord.click_button(quiz, PANEL_BUTTON, user_id=ALICE_ID)
    assert (await fake_discord.wait_for_message(click)).content == "revealed for Alice"


async def test_late_callback_gets_10062(fake_discord: FakeDiscord, bot: SelfTestBot) -> None:
    fake_discord.ack_deadline_s = 0.2
    handle = await fake_discord.send_slash_command("late", user_id=ALICE_ID, options={"delay": 0.4})
    cb = await fake_discord.wait_for_callback(handle, timeout=3)
    assert cb.status == 404 and cb.error_code == 10062 and cb.elapsed_s > 0.2
    await fake_discord.wait_for(lambda: bot.errors, timeout=2)
    assert bot.errors == [("late", 404, 10062)]
    assert fake_discord.messages_for(handle) == []


async def test_double_ack_gets_40060(fake_discord: FakeDiscord, bot: SelfTestBot) -> None:
    handle = await fake_discord.send_slash_command("double", user_id=ALICE_ID)
    await fake_discord.wait_for(lambda: bot.errors, timeout=2)
    assert bot.errors == [("double", 400, 40060)]
    first, second = fake_discord.callbacks_for(handle)
    assert first.ok and (second.status, second.error_code) == (400, 40060)
    assert [m.content for m in fake_discord.messages_for(handle)] == ["first"]


async def test_gateway_resume_keeps_bot_answering(
    fake_discord: FakeDiscord, bot: SelfTestBot
) -> None:
    resumed = asyncio.Event()

    async def on_resumed() -> None:
        resumed.set()

    bot.add_listener(on_resumed)
    await fake_discord.disconnect_gateway(resume=True)
    await asyncio.wait_for(resumed.wait(), 2)
    handle = await fake_discord.send_slash_command("ping", user_id=ALICE_ID)
    assert (await fake_discord.wait_for_message(handle)).content == "pong"

    # An interaction dispatched while the socket is down is replayed after RESUME.
    await fake_discord.gateway.drop_connection()
    handle = await fake_discord.send_slash_command("ping", user_id=BOB_ID)
    assert (await fake_discord.wait_for_message(handle, timeout=5)).content == "pong"
    assert fake_discord.gateway.resume_count == 2
    assert fake_discord.gateway.identify_count == 1


async def test_invalid_session_reidentifies(fake_discord: FakeDiscord, bot: SelfTestBot) -> None:
    await fake_discord.disconnect_gateway(resume=False)
    assert fake_discord.gateway.identify_count == 2
    handle = await fake_discord.send_slash_command("ping", user_id=ALICE_ID)
    assert (await fake_discord.wait_for_message(handle, timeout=5)).content == "pong"


async def test_restart_handles_click_on_old_message(fake_discord: FakeDiscord) -> None:
    first = SelfTestBot()
    async with running_client(first, fake_discord):
        handle = await fake_discord.send_slash_command("panel", user_id=ALICE_ID)
        panel: MessageRecord = await fake_discord.wait_for_message(handle)
    assert first.is_closed()

    second = SelfTestBot()
    async with running_client(second, fake_discord):
        click = await fake_discord.click_button(panel, PANEL_BUTTON, user_id=BOB_ID)
        reply = await fake_discord.wait_for_message(click)
        assert reply.content == "revealed for Bob"
    assert fake_discord.gateway.identify_count == 2


async def test_injected_500_is_retried(fake_discord: FakeDiscord, bot: SelfTestBot) -> None:
    fault = fake_discord.fail_route("POST", "/channels/*/messages", status=500)
    channel = bot.get_channel(CHANNEL_ID)
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("after a 500")  # discord.py sleeps 1 s, then retries
    assert fault.hits == 1
    statuses = [r.status for r in fake_discord.requests if r.path.endswith("/messages")]
    assert statuses[-2:] == [500, 200]
    assert fake_discord.get_message(sent.id).content == "after a 500"


async def test_unknown_route_is_recorded(fake_discord: FakeDiscord, bot: SelfTestBot) -> None:
    with pytest.raises(discord.NotFound) as info:
        await bot.http.request(discord.http.Route("GET", "/nonexistent/{x}", x=1))
    assert info.value.code == 0
    assert fake_discord.unhandled == [("GET", "/nonexistent/1")]
    fake_discord.unhandled.clear()


async def test_callback_latency(fake_discord: FakeDiscord, bot: SelfTestBot) -> None:
    """Measure INTERACTION_CREATE -> callback latency for a trivial command."""
    for _ in range(30):
        handle = await fake_discord.send_slash_command("ping", user_id=ALICE_ID)
        await fake_discord.wait_for_message(handle)
    elapsed = [c.elapsed_s * 1000 for c in fake_discord.callbacks]
    log.warning(
        "ping callback latency over %d runs: min %.2f ms, median %.2f ms, max %.2f ms",
        len(elapsed),
        min(elapsed),
        statistics.median(elapsed),
        max(elapsed),
    )
    assert max(elapsed) < fake_discord.ack_deadline_s * 1000


async def test_slow_route_makes_callback_late(fake_discord: FakeDiscord, bot: SelfTestBot) -> None:
    fake_discord.ack_deadline_s = 0.2
    fake_discord.slow_route("POST", "/interactions/*/callback", 0.3)
    handle = await fake_discord.send_slash_command("ping", user_id=ALICE_ID)
    cb = await fake_discord.wait_for_callback(handle, timeout=2)
    assert (cb.status, cb.error_code) == (404, 10062) and cb.elapsed_s >= 0.3
    # Next interaction is fast again (times=1).
    handle = await fake_discord.send_slash_command("ping", user_id=ALICE_ID)
    assert (await fake_discord.wait_for_message(handle)).content == "pong"
