"""REST routes for application commands (``/applications/{app}[/guilds/{guild}]/commands``)."""

from __future__ import annotations

import logging
import re
from typing import Any

from aiohttp import web

from .payloads import snowflake
from .rest import APP, GUILD, Body, HTTPError, RouteSpec, json_response
from .state import FakeState

log = logging.getLogger(__name__)

CMD = r"(?P<cmd>\d+)"


class CommandRoutesMixin(FakeState):
    """Global and guild command registration: bulk PUT, POST, GET, PATCH, DELETE."""

    def _command_routes(self) -> list[RouteSpec]:
        base = rf"/applications/{APP}"
        guild = rf"/applications/{APP}/guilds/{GUILD}"
        return [
            ("GET", rf"{base}/commands", self._h_list_commands),
            ("PUT", rf"{base}/commands", self._h_put_commands),
            ("POST", rf"{base}/commands", self._h_post_command),
            ("GET", rf"{base}/commands/{CMD}", self._h_get_command),
            ("PATCH", rf"{base}/commands/{CMD}", self._h_patch_command),
            ("DELETE", rf"{base}/commands/{CMD}", self._h_delete_command),
            ("GET", rf"{guild}/commands", self._h_list_commands),
            ("PUT", rf"{guild}/commands", self._h_put_commands),
            ("POST", rf"{guild}/commands", self._h_post_command),
            ("GET", rf"{guild}/commands/{CMD}", self._h_get_command),
            ("PATCH", rf"{guild}/commands/{CMD}", self._h_patch_command),
            ("DELETE", rf"{guild}/commands/{CMD}", self._h_delete_command),
        ]

    def _check_app(self, m: re.Match[str]) -> None:
        if int(m["app"]) != self.application_id:
            raise HTTPError(404, 10002, "Unknown Application")

    @staticmethod
    def _scope(m: re.Match[str]) -> int | None:
        guild = m.groupdict().get("guild")
        return int(guild) if guild else None

    def _command_payload(
        self, data: dict[str, Any], scope: int | None, existing: dict[str, Any] | None
    ) -> dict[str, Any]:
        cmd: dict[str, Any] = {
            "type": 1,
            "description": "",
            "options": [],
            "default_member_permissions": None,
            "dm_permission": True,
            "nsfw": False,
            "name_localizations": None,
            "description_localizations": None,
            **data,
        }
        cmd["id"] = existing["id"] if existing else str(snowflake())
        cmd["application_id"] = str(self.application_id)
        cmd["version"] = str(snowflake())
        if scope is not None:
            cmd["guild_id"] = str(scope)
        if int(cmd["type"]) != 1:
            cmd["description"] = ""
        return cmd

    async def _h_list_commands(
        self, request: web.Request, m: re.Match[str], body: Body
    ) -> web.Response:
        self._check_app(m)
        return json_response(list(self.commands.get(self._scope(m), {}).values()))

    async def _h_put_commands(
        self, request: web.Request, m: re.Match[str], body: Body
    ) -> web.Response:
        self._check_app(m)
        scope = self._scope(m)
        if scope is not None and scope not in self.guilds:
            raise HTTPError(404, 10004, "Unknown Guild")
        old = {(c["name"], int(c.get("type", 1))): c for c in self.commands.get(scope, {}).values()}
        new: dict[int, dict[str, Any]] = {}
        for data in body.json or []:
            key = (data["name"], int(data.get("type", 1)))
            cmd = self._command_payload(data, scope, old.get(key))
            new[int(cmd["id"])] = cmd
        self.commands[scope] = new
        log.info(
            "commands synced for %s: %s", scope or "global", sorted(c["name"] for c in new.values())
        )
        self._notify()
        return json_response(list(new.values()))

    async def _h_post_command(
        self, request: web.Request, m: re.Match[str], body: Body
    ) -> web.Response:
        self._check_app(m)
        scope = self._scope(m)
        cmds = self.commands.setdefault(scope, {})
        data = body.json or {}
        existing = next(
            (
                c
                for c in cmds.values()
                if c["name"] == data.get("name")
                and int(c.get("type", 1)) == int(data.get("type", 1))
            ),
            None,
        )
        cmd = self._command_payload(data, scope, existing)
        cmds[int(cmd["id"])] = cmd
        self._notify()
        return json_response(cmd, status=200 if existing else 201)

    def _get_cmd(self, m: re.Match[str]) -> tuple[dict[int, dict[str, Any]], dict[str, Any]]:
        self._check_app(m)
        cmds = self.commands.get(self._scope(m), {})
        cmd = cmds.get(int(m["cmd"]))
        if cmd is None:
            raise HTTPError(404, 10063, "Unknown application command")
        return cmds, cmd

    async def _h_get_command(
        self, request: web.Request, m: re.Match[str], body: Body
    ) -> web.Response:
        return json_response(self._get_cmd(m)[1])

    async def _h_patch_command(
        self, request: web.Request, m: re.Match[str], body: Body
    ) -> web.Response:
        _, cmd = self._get_cmd(m)
        cmd.update(body.json or {})
        self._notify()
        return json_response(cmd)

    async def _h_delete_command(
        self, request: web.Request, m: re.Match[str], body: Body
    ) -> web.Response:
        cmds, cmd = self._get_cmd(m)
        del cmds[int(cmd["id"])]
        self._notify()
        return web.Response(status=204)
