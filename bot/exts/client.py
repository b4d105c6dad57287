"""The Discord client: start-up, command sync, buttons, forms and replies."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import pkgutil
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.ext import commands
from discord.gateway import DiscordWebSocket
from discord.shard import Shard

from bot.core.learners import Learner
from bot.core.replies import Reply
from bot.core.sharding import owns_guild
from bot.errors import BadInput
from bot.exts.components import (
    MODAL_PREFIX,
    ExplanationModal,
    TutorButton,
    modal_text,
    modal_values,
)
from bot.exts.error_handler import on_app_command_error, report_error, send_private
from bot.exts.render import render
from bot.log import get_logger
from bot.services.container import Services
from bot.services.study import StudyServices
from bot.settings import Settings

log = get_logger(__name__)

#: A cog's handler for its own buttons: gets the interaction and the button's token.
ButtonHandler = Callable[[discord.Interaction[Any], str], Awaitable[None]]
#: A cog's handler for its own forms: the interaction, the form's custom_id, its text boxes.
FormHandler = Callable[[discord.Interaction[Any], str, dict[str, str]], Awaitable[None]]


class GatewayConnectError(Exception):
    """A shard could not open its gateway connection; the runner decides whether to retry."""

    def __init__(self, shard_id: int, reason: str) -> None:
        super().__init__(f"shard {shard_id}: {reason}")
        self.shard_id = shard_id
        self.reason = reason


def discover_extensions() -> list[str]:
    """Every module in ``bot.exts`` that defines an extension ``setup`` function."""
    import bot.exts

    names = []
    for module in pkgutil.iter_modules(bot.exts.__path__, "bot.exts."):
        if module.name.rsplit(".", 1)[-1].startswith("_"):
            continue
        if inspect.iscoroutinefunction(
            getattr(importlib.import_module(module.name), "setup", None)
        ):
            names.append(module.name)
    return sorted(names)


def learner_for(interaction: discord.Interaction[Any]) -> Learner:
    """The services' view of who clicked or typed, and in which server."""
    user = interaction.user
    guild = interaction.guild
    return Learner(
        platform="discord",
        external_id=str(user.id),
        display_name=user.display_name,
        guild_id=interaction.guild_id,
        guild_name=guild.name if guild is not None else "",
    )


UNDELIVERED = "Done — but I couldn't show the result. Your progress is saved; carry on."
#: Discord shows at most 25 autocomplete choices.
MAX_AUTOCOMPLETE = 25


async def deck_autocomplete(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """Deck names visible here that contain what the member typed so far."""
    client = interaction.client
    if not isinstance(client, TutorBot):
        return []
    names = await client.study.decks.decks(learner_for(interaction))
    typed = current.casefold().strip()
    matches = [name for name in names if typed in name.casefold()]
    return [app_commands.Choice(name=n[:100], value=n) for n in matches[:MAX_AUTOCOMPLETE]]


def is_private_message(interaction: discord.Interaction[Any]) -> bool:
    """True when the component's message is only visible to the clicker (ephemeral)."""
    message = interaction.message
    return message is not None and message.flags.ephemeral


class TutorBot(commands.AutoShardedBot):
    """The study tutor on Discord. Needs no privileged intent: ``guilds``, and
    ``guild_messages`` / ``dm_messages`` for questions that mention it or come by DM (whose
    text Discord sends without the Message Content intent; see ``tutor_chat``).

    Runs the shards in ``SHARD_IDS`` of ``SHARD_COUNT`` (default: one shard), so several
    processes can share the servers of one bot over a shared PostgreSQL database.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        open_services: Callable[[], Awaitable[Services]] | None = None,
        services: Services | None = None,
        **options: Any,
    ) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        # Members' messages (mentions and DMs carry their text); never message_content,
        # members or presences, which are privileged.
        intents.guild_messages = True
        intents.dm_messages = True
        # The tutor has no voice: skip discord.py's start-up warnings about voice libraries.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        # Nothing reads discord.py's message cache; with the message intents it would fill
        # up with every server message the bot sees (their text empty), so keep none.
        options.setdefault("max_messages", None)
        options.setdefault("shard_count", settings.shard_count or 1)
        if settings.shard_ids is not None:
            options.setdefault("shard_ids", list(settings.shard_ids))
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            help_command=None,
            **options,
        )
        self.settings = settings
        #: Cogs' own button handlers by token prefix (``lb``, ``dq``, …); see register_button.
        self._button_handlers: dict[str, ButtonHandler] = {}
        #: Cogs' own form handlers by custom_id prefix; see register_form.
        self._form_handlers: dict[str, FormHandler] = {}
        if services is None and open_services is None:
            raise ValueError("TutorBot needs its services or a way to open them")
        self._services = services
        self._open_services = open_services
        self._owns_services = services is None
        #: Set when closing starts, so a shard that is still connecting gives up.
        self._stopping = asyncio.Event()
        self.tree.error(on_app_command_error)

    @property
    def services(self) -> Services:
        """The bot's services (available once :meth:`setup_hook` ran)."""
        if self._services is None:
            raise RuntimeError("the services are opened in setup_hook")
        return self._services

    @property
    def study(self) -> StudyServices:
        """Shortcut to the study services."""
        return self.services.study

    async def setup_hook(self) -> None:
        """Open the services, register persistent buttons, load cogs and sync commands."""
        if self._services is None and self._open_services is not None:
            self._services = await self._open_services()
        self.add_dynamic_items(TutorButton)
        for extension in discover_extensions():
            await self.load_extension(extension)
        if self.settings.sync_commands:
            await self.sync_commands()

    async def sync_commands(self) -> None:
        """Register slash commands: on the dev server only when ``DEV_GUILD_ID`` is set."""
        if self.settings.dev_guild_id:
            guild = discord.Object(self.settings.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
        else:
            synced = await self.tree.sync()
        log.info("synced %d commands", len(synced))

    async def launch_shard(
        self, gateway: yarl.URL, shard_id: int, *, initial: bool = False
    ) -> None:
        """Connect one shard, unless the bot starts closing first.

        discord.py connects a process's shards one after another, 5 s apart, and retries a
        failed connection every 5 s for ever (logging a traceback each time) — also once the
        bot is closed. Here a failed connection raises :class:`GatewayConnectError` instead,
        so the runner retries the start a bounded number of times, and closing the bot
        during start-up (``docker stop``) stops the wait.
        """
        if self.is_closed():
            return
        launch = asyncio.ensure_future(self._open_shard(gateway, shard_id, initial=initial))
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({launch, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            if not launch.done():
                launch.cancel()
                await asyncio.wait({launch})
        if not launch.cancelled():
            launch.result()

    async def _open_shard(self, gateway: yarl.URL, shard_id: int, *, initial: bool) -> None:
        """Open one shard's gateway connection, once, and start reading it.

        The same steps as discord.py's ``AutoShardedClient.launch_shard`` without its
        endless retry: the shard is kept where discord.py keeps its shards.
        """
        connecting = DiscordWebSocket.from_client(
            self, initial=initial, gateway=gateway, shard_id=shard_id
        )
        try:
            ws = await asyncio.wait_for(connecting, timeout=self.shard_connect_timeout)
        except (
            OSError,
            TimeoutError,
            aiohttp.ClientError,
            discord.GatewayNotFound,
            discord.ConnectionClosed,
        ) as error:
            raise GatewayConnectError(shard_id, str(error) or type(error).__name__) from error
        shards: dict[int, Shard] = getattr(self, "_AutoShardedClient__shards")  # noqa: B009
        events: asyncio.PriorityQueue[Any] = getattr(self, "_AutoShardedClient__queue")  # noqa: B009
        shards[shard_id] = shard = Shard(ws, self, events.put_nowait)
        shard.launch()

    async def close(self) -> None:
        """Disconnect, then close the services (and database) if this bot opened them."""
        self._stopping.set()
        await super().close()
        if self._services is not None and self._owns_services:
            await self._services.close()

    def owns_guild(self, guild_id: int) -> bool:
        """True when this process runs the shard of ``guild_id`` (for scheduled jobs)."""
        return owns_guild(guild_id, self.settings.shard_count, self.settings.shard_ids)

    async def on_ready(self) -> None:
        """Log who we are once connected."""
        log.info("connected as %s to %d servers", self.user, len(self.guilds))

    async def on_message(self, message: discord.Message, /) -> None:
        """Nothing: the tutor has no prefix commands (chat is the ``tutor_chat`` cog's)."""

    # -- replying -------------------------------------------------------------------------

    async def deliver(
        self,
        interaction: discord.Interaction[Any],
        work: Awaitable[Reply],
        *,
        edit: bool = False,
        private: bool = True,
    ) -> None:
        """Answer ``interaction`` with the reply ``work`` produces.

        Replies within the acknowledgement budget go out directly; slower work is
        acknowledged first (defer) and followed up, so Discord's 3-second deadline is
        never missed. ``edit`` replaces the clicked message instead of sending a new one.
        """
        task = asyncio.ensure_future(work)
        done, _pending = await asyncio.wait({task}, timeout=self.settings.discord_ack_budget_s)
        deferred = not done
        if deferred:
            if edit:
                await interaction.response.defer()
            else:
                await interaction.response.defer(ephemeral=private, thinking=True)
        # Errors of the work itself (a bad answer, a stale button) go to the error handler.
        reply = await task
        message = render(reply, media_dir=self.settings.media_path)
        try:
            if deferred and edit:
                await interaction.edit_original_response(**message.edit_kwargs())
            elif deferred:
                await interaction.followup.send(**message.send_kwargs(ephemeral=private))
            elif edit:
                await interaction.response.edit_message(**message.edit_kwargs())
            else:
                await interaction.response.send_message(
                    **message.send_kwargs(ephemeral=reply.private)
                )
        except discord.HTTPException as error:
            # The work is done (an answer is already saved); only showing it failed.
            log.warning("could not deliver a reply: %s", error)
            await send_private(interaction, UNDELIVERED)

    def register_button(self, prefix: str, handler: ButtonHandler) -> None:
        """Route buttons whose token starts with ``prefix:`` to ``handler`` (from a cog).

        Tokens without a registered prefix are study actions for the study services.
        """
        if len(prefix) != 2 or not prefix.isalpha() or not prefix.islower():
            raise ValueError("button prefixes are two lower-case letters")
        self._button_handlers[prefix] = handler

    def register_form(self, prefix: str, handler: FormHandler) -> None:
        """Route submitted forms whose custom_id starts with ``prefix:`` to ``handler``.

        Forms are handled from their custom_id (not from the Modal object), so a form that
        was open while the bot restarted still works.
        """
        if len(prefix) != 2 or not prefix.isalpha() or not prefix.islower():
            raise ValueError("form prefixes are two lower-case letters")
        self._form_handlers[prefix] = handler

    async def handle_button(self, interaction: discord.Interaction[Any], token: str) -> None:
        """A click on one of our buttons: open the form, or ask the services and reply."""
        try:
            handler = self._button_handlers.get(token[:2])
            if handler is not None:
                await handler(interaction, token)
                return
            choice = self._needs_text(interaction, token)
            if choice is not None:
                await interaction.response.send_modal(choice)
                return
            edit = is_private_message(interaction)
            await self.deliver(
                interaction, self.study.actions.act(learner_for(interaction), token), edit=edit
            )
        except Exception as error:
            await report_error(interaction, error)

    @staticmethod
    def _needs_text(interaction: discord.Interaction[Any], token: str) -> ExplanationModal | None:
        """The form to open when this button asks for free text (explain answers)."""
        if not token.startswith("ex:"):
            return None
        return ExplanationModal(
            token,
            title="Your explanation",
            label="Explain it in your own words",
            placeholder="A sentence or two is plenty.",
        )

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """Form submissions (``tm:<token>`` and cogs' forms), handled here so they survive
        restarts."""
        if interaction.type is not discord.InteractionType.modal_submit:
            return
        data: dict[str, Any] = dict(interaction.data or {})
        custom_id = str(data.get("custom_id", ""))
        form_handler = self._form_handlers.get(custom_id[:2]) if custom_id[2:3] == ":" else None
        if form_handler is not None:
            try:
                await form_handler(interaction, custom_id, modal_values(data.get("components")))
            except Exception as error:
                await report_error(interaction, error)
            return
        if not custom_id.startswith(MODAL_PREFIX):
            return
        token = custom_id[len(MODAL_PREFIX) :]
        try:
            text = modal_text(data.get("components", []))
            if not text.strip():
                raise BadInput("Your answer is empty — type it in the box, then send.")
            edit = is_private_message(interaction)
            await self.deliver(
                interaction,
                self.study.actions.act(learner_for(interaction), token, text),
                edit=edit,
            )
        except Exception as error:
            await report_error(interaction, error)
