"""REST routes for users, the application, gateway discovery and ``/guilds/{guild}``."""

from __future__ import annotations

import re

from aiohttp import web

from .payloads import GuildState, UserState, application_payload
from .rest import GUILD, Body, HTTPError, RouteSpec, json_response
from .state import FakeState


class GuildRoutesMixin(FakeState):
    """``/users``, ``/applications/@me``, ``/gateway[/bot]`` and read-only guild routes."""

    def _identity_routes(self) -> list[RouteSpec]:
        """Users, DMs, application and gateway discovery (matched first)."""
        return [
            ("GET", r"/users/@me", self._h_me),
            ("GET", r"/users/(?P<user>\d+)", self._h_user),
            ("POST", r"/users/@me/channels", self._h_open_dm),
            ("GET", r"/oauth2/applications/@me", self._h_app),
            ("GET", r"/applications/@me", self._h_app),
            ("GET", r"/gateway", self._h_gateway),
            ("GET", r"/gateway/bot", self._h_gateway_bot),
        ]

    def _guild_routes(self) -> list[RouteSpec]:
        """Read-only guild routes (matched last)."""
        guild = rf"/guilds/{GUILD}"
        return [
            ("GET", guild, self._h_get_guild),
            ("GET", rf"{guild}/channels", self._h_guild_channels),
            ("GET", rf"{guild}/roles", self._h_guild_roles),
            ("GET", rf"{guild}/members/(?P<user>\d+)", self._h_get_member),
        ]

    # -- users, application, gateway -------------------------------------------------------

    async def _h_me(self, request: web.Request, m: re.Match[str], body: Body) -> web.Response:
        return json_response(self._bot_user_payload())

    async def _h_user(self, request: web.Request, m: re.Match[str], body: Body) -> web.Response:
        user = self.users.get(int(m["user"]))
        if user is None:
            raise HTTPError(404, 10013, "Unknown User")
        return json_response(user.payload())

    async def _h_app(self, request: web.Request, m: re.Match[str], body: Body) -> web.Response:
        owner = (
            self.users[self.default_guild().owner_id]
            if self.guilds
            else UserState(id=self.application_id + 1, name="owner")
        )
        return json_response(application_payload(self.application_id, self.bot_user, owner))

    async def _h_gateway(self, request: web.Request, m: re.Match[str], body: Body) -> web.Response:
        return json_response({"url": self.gateway_url})

    async def _h_gateway_bot(
        self, request: web.Request, m: re.Match[str], body: Body
    ) -> web.Response:
        return json_response(
            {
                "url": self.gateway_url,
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 1000,
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            }
        )

    async def _h_open_dm(self, request: web.Request, m: re.Match[str], body: Body) -> web.Response:
        data = body.json or {}
        uid = int(data["recipient_id"])
        return json_response(self.dm_channel(uid).payload(self.users))

    # -- guilds ---------------------------------------------------------------------------

    def _require_guild(self, m: re.Match[str]) -> GuildState:
        guild = self.guilds.get(int(m["guild"]))
        if guild is None:
            raise HTTPError(404, 10004, "Unknown Guild")
        return guild

    async def _h_get_guild(
        self, request: web.Request, m: re.Match[str], body: Body
    ) -> web.Response:
        data = self._require_guild(m).payload()
        for key in ("channels", "members", "threads", "presences", "voice_states"):
            data.pop(key, None)
        return json_response(data)

    async def _h_guild_channels(
        self, request: web.Request, m: re.Match[str], body: Body
    ) -> web.Response:
        channels = self._require_guild(m).channels.values()
        return json_response([c.payload() for c in channels if not c.is_thread])

    async def _h_guild_roles(
        self, request: web.Request, m: re.Match[str], body: Body
    ) -> web.Response:
        return json_response([r.payload() for r in self._require_guild(m).roles.values()])

    async def _h_get_member(
        self, request: web.Request, m: re.Match[str], body: Body
    ) -> web.Response:
        member = self._require_guild(m).members.get(int(m["user"]))
        if member is None:
            raise HTTPError(404, 10007, "Unknown Member")
        return json_response(member.payload())
