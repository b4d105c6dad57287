"""Test-facing interaction drivers: dispatch INTERACTION_CREATE as a Discord user would.

``send_slash_command``/``send_autocomplete`` build the options from the *registered*
command definition, ``click_button``/``select_menu`` use a component of a stored message
and ``submit_modal`` mirrors a modal the bot opened. Each returns an
:class:`~tests.fakediscord.models.InteractionHandle` for the ``wait_for_*`` waiters.
"""

from __future__ import annotations

import enum
import logging
import secrets
import time
from collections.abc import Mapping, Sequence
from typing import Any

from .message_store import MessageStoreMixin
from .models import (
    INTERACTION_APPLICATION_COMMAND,
    INTERACTION_AUTOCOMPLETE,
    INTERACTION_COMPONENT,
    INTERACTION_MODAL_SUBMIT,
    AttachmentRecord,
    InteractionHandle,
    MessageRecord,
    ModalRecord,
)
from .payloads import ALL_PERMISSIONS, DM_APP_PERMISSIONS, snowflake
from .state import InteractionState, StoredMessage

log = logging.getLogger(__name__)

OPTION_SUB_COMMAND = 1
OPTION_SUB_COMMAND_GROUP = 2
SELECT_TYPES = (3, 5, 6, 7, 8)


class _Unset(enum.Enum):
    UNSET = enum.auto()


UNSET = _Unset.UNSET
"""Sentinel: "use the default guild/channel"."""


class InteractionDriversMixin(MessageStoreMixin):
    """Dispatching slash commands, autocomplete, component clicks and modal submits."""

    def _resolve_place(
        self, user_id: int, guild_id: int | _Unset | None, channel_id: int | None
    ) -> tuple[int | None, int]:
        gid = self.default_guild().id if guild_id is UNSET else guild_id
        if gid is None:
            return None, channel_id or self.dm_channel(user_id).id
        guild = self.guilds[gid]
        if channel_id is None:
            channel_id = guild.text_channel_ids[0]
        if channel_id not in guild.channels:
            raise ValueError(f"channel {channel_id} is not in guild {gid}")
        return gid, channel_id

    async def send_slash_command(
        self,
        name: str,
        *,
        user_id: int,
        guild_id: int | _Unset | None = UNSET,
        channel_id: int | None = None,
        options: Mapping[str, Any] | list[dict[str, Any]] | None = None,
        subcommand: str | None = None,
    ) -> InteractionHandle:
        """Dispatch an APPLICATION_COMMAND (type 2) interaction for a registered command.

        ``guild_id=None`` sends it from the user's DM; the default is the first guild.
        ``options`` maps option names to values typed by the registered definition
        (3 str, 4 int, 10 float, 5 bool, 6 user id, 7 channel id, 8 role id, 9 user/role
        id, 11 ``(filename, bytes)``); a list is used verbatim. ``subcommand`` is
        ``"sub"`` or ``"group sub"``.
        """
        return await self._command_interaction(
            INTERACTION_APPLICATION_COMMAND,
            name,
            user_id=user_id,
            guild_id=guild_id,
            channel_id=channel_id,
            options=options,
            subcommand=subcommand,
            focused=None,
        )

    async def send_autocomplete(
        self,
        name: str,
        *,
        focused: str,
        user_id: int,
        guild_id: int | _Unset | None = UNSET,
        channel_id: int | None = None,
        options: Mapping[str, Any] | None = None,
        subcommand: str | None = None,
    ) -> InteractionHandle:
        """Dispatch an APPLICATION_COMMAND_AUTOCOMPLETE (type 4) interaction.

        ``options`` holds what the user typed so far; ``focused`` names the option being
        completed (its value is sent as a string, as Discord does). Await
        :meth:`wait_for_autocomplete` for the choices.
        """
        return await self._command_interaction(
            INTERACTION_AUTOCOMPLETE,
            name,
            user_id=user_id,
            guild_id=guild_id,
            channel_id=channel_id,
            options=options,
            subcommand=subcommand,
            focused=focused,
        )

    async def _command_interaction(
        self,
        itype: int,
        name: str,
        *,
        user_id: int,
        guild_id: int | _Unset | None,
        channel_id: int | None,
        options: Mapping[str, Any] | list[dict[str, Any]] | None,
        subcommand: str | None,
        focused: str | None,
    ) -> InteractionHandle:
        gid, cid = self._resolve_place(user_id, guild_id, channel_id)
        cmd = self.find_command(name, gid)
        defs: list[dict[str, Any]] = cmd.get("options", []) or []
        path = subcommand.split() if subcommand else []
        chain: list[dict[str, Any]] = []
        for part in path:
            match = next(
                (
                    d
                    for d in defs
                    if d["name"] == part
                    and d["type"] in (OPTION_SUB_COMMAND, OPTION_SUB_COMMAND_GROUP)
                ),
                None,
            )
            if match is None:
                raise LookupError(f"/{name} has no subcommand {part!r}")
            chain.append(match)
            defs = match.get("options", []) or []
        resolved: dict[str, dict[str, Any]] = {}
        if isinstance(options, list):
            leaf = options
        else:
            leaf = self._build_options(defs, options or {}, focused, gid, resolved)
        for sub in reversed(chain):
            leaf = [{"type": sub["type"], "name": sub["name"], "options": leaf}]
        data: dict[str, Any] = {"id": cmd["id"], "name": cmd["name"], "type": 1}
        if leaf:
            data["options"] = leaf
        if resolved:
            data["resolved"] = resolved
        if cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        return await self._dispatch_interaction(
            itype, data, user_id=user_id, guild_id=gid, channel_id=cid
        )

    def _build_options(
        self,
        defs: list[dict[str, Any]],
        values: Mapping[str, Any],
        focused: str | None,
        guild_id: int | None,
        resolved: dict[str, dict[str, Any]],
    ) -> list[dict[str, Any]]:
        by_name = {d["name"]: d for d in defs}
        out: list[dict[str, Any]] = []
        for opt_name, value in values.items():
            if opt_name not in by_name:
                raise ValueError(f"unknown option {opt_name!r}; known: {sorted(by_name)}")
            otype = int(by_name[opt_name]["type"])
            option: dict[str, Any] = {"name": opt_name, "type": otype}
            if opt_name == focused:
                option["value"] = str(value)
                option["focused"] = True
            else:
                option["value"] = self._convert_option(otype, value, guild_id, resolved)
            out.append(option)
        if focused is not None and focused not in values:
            if focused not in by_name:
                raise ValueError(f"unknown focused option {focused!r}")
            out.append(
                {
                    "name": focused,
                    "type": int(by_name[focused]["type"]),
                    "value": "",
                    "focused": True,
                }
            )
        return out

    def _convert_option(
        self, otype: int, value: Any, guild_id: int | None, resolved: dict[str, dict[str, Any]]
    ) -> Any:
        if otype == 3:
            return str(value)
        if otype == 4:
            return int(value)
        if otype == 10:
            return float(value)
        if otype == 5:
            return bool(value)
        if otype in (6, 9) and int(value) in self.users:
            uid = int(value)
            resolved.setdefault("users", {})[str(uid)] = self.users[uid].payload()
            if guild_id is not None and uid in self.guilds[guild_id].members:
                guild = self.guilds[guild_id]
                member = guild.members[uid].payload(with_user=False)
                member["permissions"] = str(guild.member_permissions(uid))
                resolved.setdefault("members", {})[str(uid)] = member
            return str(uid)
        if otype in (8, 9) and guild_id is not None and int(value) in self.guilds[guild_id].roles:
            role = self.guilds[guild_id].roles[int(value)]
            resolved.setdefault("roles", {})[str(role.id)] = role.payload()
            return str(role.id)
        if otype == 7:
            chan = self.channel(int(value))
            if chan is None:
                raise ValueError(f"unknown channel {value}")
            data = {
                "id": str(chan.id),
                "name": chan.name,
                "type": chan.type,
                "permissions": str(ALL_PERMISSIONS),
                "parent_id": str(chan.parent_id) if chan.parent_id else None,
                "guild_id": str(chan.guild_id) if chan.guild_id else None,
            }
            resolved.setdefault("channels", {})[str(chan.id)] = data
            return str(chan.id)
        if otype == 11:
            filename, blob = value
            att = AttachmentRecord(snowflake(), str(filename), None, bytes(blob))
            self.uploads[att.id] = att
            resolved.setdefault("attachments", {})[str(att.id)] = self._attachment_payload(0, att)
            return str(att.id)
        raise ValueError(f"cannot convert {value!r} for option type {otype}")

    async def click_button(
        self,
        message: MessageRecord | int,
        custom_id: str,
        *,
        user_id: int,
        values: Sequence[str] | None = None,
    ) -> InteractionHandle:
        """Dispatch a MESSAGE_COMPONENT (type 3) interaction for a component of ``message``.

        Works for buttons and (with ``values``) select menus; the component must exist in
        the message's *current* state, and the interaction carries that message payload.
        """
        mid = message if isinstance(message, int) else message.id
        stored = self._store.get(mid)
        if stored is None or stored.deleted:
            raise LookupError(f"message {mid} is unknown or deleted")
        current = self._snapshot(stored, "create")
        component = current.component(custom_id)
        ctype = int(component["type"])
        if ctype == 2 and component.get("disabled"):
            raise ValueError(f"button {custom_id!r} is disabled")
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": ctype}
        if component.get("id") is not None:
            data["id"] = component["id"]
        if ctype in SELECT_TYPES:
            data["values"] = list(values or [])
        chan_id = stored.channel_id
        chan = self.channel(chan_id)
        gid = chan.guild_id if chan is not None else None
        return await self._dispatch_interaction(
            INTERACTION_COMPONENT,
            data,
            user_id=user_id,
            guild_id=gid,
            channel_id=chan_id,
            message=stored,
        )

    select_menu = click_button

    async def submit_modal(
        self,
        modal: ModalRecord | str,
        values: Mapping[str, str | Sequence[str]],
        *,
        user_id: int | None = None,
        guild_id: int | _Unset | None = UNSET,
        channel_id: int | None = None,
        message: MessageRecord | int | None = None,
    ) -> InteractionHandle:
        """Dispatch a MODAL_SUBMIT (type 5) mirroring the modal the bot opened.

        ``modal`` is a :class:`ModalRecord` or a modal custom_id (latest opened wins).
        ``values`` is keyed by input custom_id *or* label. User, guild, channel and
        message default to those of the interaction that opened the modal.
        """
        record = modal if isinstance(modal, ModalRecord) else self._latest_modal(modal)
        origin = self.interactions.get(record.interaction_id)
        if user_id is None:
            if origin is None:
                raise ValueError("user_id is required")
            user_id = origin.handle.user_id
        if guild_id is UNSET and channel_id is None and origin is not None:
            guild_id, channel_id = origin.handle.guild_id, origin.handle.channel_id
        gid, cid = self._resolve_place(user_id, guild_id, channel_id)
        if message is None and origin is not None and origin.source_message_id is not None:
            message = origin.source_message_id
        stored = None
        if message is not None:
            stored = self._store[message if isinstance(message, int) else message.id]
        remaining = dict(values)
        components = [self._mirror_component(c, remaining, None) for c in record.components]
        if remaining:
            raise ValueError(
                f"modal {record.custom_id!r} has no inputs {sorted(remaining)}; "
                f"inputs: {record.input_custom_ids}"
            )
        data = {"custom_id": record.custom_id, "components": components}
        return await self._dispatch_interaction(
            INTERACTION_MODAL_SUBMIT,
            data,
            user_id=user_id,
            guild_id=gid,
            channel_id=cid,
            message=stored,
        )

    def _latest_modal(self, custom_id: str) -> ModalRecord:
        for rec in reversed(self.modals):
            if rec.custom_id == custom_id:
                return rec
        raise LookupError(f"bot never opened a modal {custom_id!r}")

    def _mirror_component(
        self, comp: dict[str, Any], values: dict[str, str | Sequence[str]], label: str | None
    ) -> dict[str, Any]:
        ctype = int(comp["type"])
        out: dict[str, Any] = {"type": ctype}
        if comp.get("id") is not None:
            out["id"] = comp["id"]
        if ctype == 1:
            out["components"] = [
                self._mirror_component(c, values, None) for c in comp["components"]
            ]
        elif ctype == 18:
            out["component"] = self._mirror_component(comp["component"], values, comp.get("label"))
        elif "custom_id" in comp:
            cid = comp["custom_id"]
            out["custom_id"] = cid
            lbl = label or comp.get("label")
            key = cid if cid in values else (lbl if lbl in values else None)
            value = values.pop(key) if key is not None else None
            if ctype == 4:
                out["value"] = "" if value is None else str(value)
            else:
                out["values"] = (
                    [] if value is None else [value] if isinstance(value, str) else list(value)
                )
        return out

    async def _dispatch_interaction(
        self,
        itype: int,
        data: dict[str, Any],
        *,
        user_id: int,
        guild_id: int | None,
        channel_id: int,
        message: StoredMessage | None = None,
    ) -> InteractionHandle:
        iid = snowflake()
        token = f"itok.{iid}.{secrets.token_urlsafe(24)}"
        user = self.users.get(user_id) or self.add_user(user_id, f"user{user_id}")
        payload: dict[str, Any] = {
            "id": str(iid),
            "application_id": str(self.application_id),
            "type": itype,
            "data": data,
            "token": token,
            "version": 1,
            "locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": self.attachment_size_limit,
            "channel_id": str(channel_id),
        }
        if guild_id is not None:
            guild = self.guilds[guild_id]
            member = guild.members.get(user_id)
            if member is None:
                raise ValueError(f"user {user_id} is not a member of guild {guild_id}")
            # Like Discord: the member's and the bot's permissions *in this channel*.
            perms = str(guild.channel_permissions(user_id, channel_id))
            payload.update(
                guild_id=str(guild_id),
                guild_locale="en-US",
                guild={"id": str(guild_id), "locale": "en-US", "features": []},
                member={**member.payload(), "permissions": perms},
                channel={**guild.channels[channel_id].payload(), "permissions": perms},
                app_permissions=str(guild.channel_permissions(self.bot_user.id, channel_id)),
                authorizing_integration_owners={"0": str(guild_id)},
                context=0,
            )
        else:
            chan = self.channel(channel_id) or self.dm_channel(user_id)
            payload.update(
                user=user.payload(),
                channel=chan.payload(self.users),
                app_permissions=str(DM_APP_PERMISSIONS),
                authorizing_integration_owners={"0": "0"},
                context=1,
            )
        if message is not None:
            payload["message"] = message.payload
        handle = InteractionHandle(
            id=iid,
            token=token,
            type=itype,
            user_id=user_id,
            guild_id=guild_id,
            channel_id=channel_id,
            payload=payload,
        )
        self.interactions[iid] = InteractionState(
            handle=handle,
            created_at=time.monotonic(),
            source_message_id=message.id if message is not None else None,
        )
        self._by_token[token] = iid
        await self.gateway.dispatch("INTERACTION_CREATE", payload)
        log.debug("dispatched interaction %s type %s", iid, itype)
        return handle
