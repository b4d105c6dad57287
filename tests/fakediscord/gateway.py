"""The fake gateway websocket: HELLO, IDENTIFY/READY, GUILD_CREATE, heartbeats, RESUME.

discord.py 2.7 connects with ``?v=10&encoding=json&compress=zlib-stream``, or
``zstd-stream`` when a zstd module is importable (the bot installs ``zstandard`` for Anki
packages, so it asks for zstd).  For ``zlib-stream`` every outgoing message is compressed with
one per-connection ``zlib.compressobj`` and terminated with ``Z_SYNC_FLUSH`` (exactly what
discord.py's ``_ZlibDecompressionContext`` expects); for ``zstd-stream`` with one
per-connection zstd stream, each message ending in a flushed block (what
``_ZstdDecompressionContext`` reads).  For any other value the fake sends plain text frames,
which discord.py accepts too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
import zlib
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import zstandard
from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from .server import FakeDiscord

log = logging.getLogger(__name__)

OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_PRESENCE = 3
OP_VOICE_STATE = 4
OP_RESUME = 6
OP_RECONNECT = 7
OP_REQUEST_MEMBERS = 8
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11

REPLAY_BUFFER = 2000

GUILD_MESSAGES = 1 << 9
DIRECT_MESSAGES = 1 << 12
MESSAGE_CONTENT = 1 << 15
"""Gateway intents that decide who gets MESSAGE_CREATE, and with what."""


def message_as_seen(data: dict[str, Any], *, intents: int, bot_user_id: int) -> dict[str, Any]:
    """A MESSAGE_CREATE payload as a bot with ``intents`` receives it.

    Without MESSAGE_CONTENT, Discord empties ``content``, ``embeds``, ``attachments`` and
    ``components`` (and drops ``poll``) except in the bot's own messages, DMs to the bot and
    messages that mention it (https://support-dev.discord.com/hc/en-us/articles/4404772028055).
    """
    if intents & MESSAGE_CONTENT or "guild_id" not in data:
        return data
    if int(data["author"]["id"]) == bot_user_id:
        return data
    if any(int(user["id"]) == bot_user_id for user in data.get("mentions", [])):
        return data
    seen = {**data, "content": "", "embeds": [], "attachments": [], "components": []}
    seen.pop("poll", None)
    return seen


class GatewayConnection:
    """One websocket connection from a client."""

    def __init__(self, ws: web.WebSocketResponse, compress: str | None) -> None:
        self.ws = ws
        self.compress = compress
        self._zlib = zlib.compressobj() if compress == "zlib-stream" else None
        self._zstd = zstandard.ZstdCompressor().compressobj() if compress == "zstd-stream" else None
        self._send_lock = asyncio.Lock()
        self.heartbeats = 0

    async def send(self, payload: dict[str, Any]) -> None:
        """Send one gateway payload, compressed as the client asked (zlib or zstd stream)."""
        text = json.dumps(payload, separators=(",", ":"))
        async with self._send_lock:
            if self.ws.closed:
                return
            if self._zlib is not None:
                blob = self._zlib.compress(text.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
                await self.ws.send_bytes(blob)
            elif self._zstd is not None:
                data = text.encode()
                blob = self._zstd.compress(data) + self._zstd.flush(
                    zstandard.COMPRESSOBJ_FLUSH_BLOCK
                )
                await self.ws.send_bytes(blob)
            else:
                await self.ws.send_str(text)


@dataclass
class GatewaySession:
    """A gateway session (survives reconnects through RESUME)."""

    session_id: str
    intents: int
    shard: list[int] | None
    seq: int = 0
    conn: GatewayConnection | None = None
    closed: bool = False
    buffer: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=REPLAY_BUFFER))
    resumes: int = 0

    @property
    def connected(self) -> bool:
        """Whether a live websocket is attached."""
        return self.conn is not None and not self.conn.ws.closed


class Gateway:
    """Gateway endpoint of a :class:`FakeDiscord`."""

    def __init__(self, server: FakeDiscord) -> None:
        self.server = server
        self.sessions: dict[str, GatewaySession] = {}
        self.connections: list[GatewayConnection] = []
        self.identify_count = 0
        self.resume_count = 0
        self.connect_queries: list[dict[str, str]] = []
        self.latest: GatewaySession | None = None
        self.refused_count = 0
        """Connection attempts answered with an HTTP error (see :meth:`refuse`)."""
        self._refusals_left = 0
        self._refusal_status = 503

    # -- helpers ----------------------------------------------------------------------

    def active_session(self) -> GatewaySession:
        """The most recently identified, not closed session."""
        if self.latest is None or self.latest.closed:
            raise RuntimeError("no gateway session: is the bot connected to the fake?")
        return self.latest

    async def dispatch(
        self, event: str, data: dict[str, Any], session: GatewaySession | None = None
    ) -> int:
        """Dispatch ``event`` on ``session`` (default: the active one); returns its ``s``.

        If the session's socket is currently down the event is buffered and replayed
        on RESUME, as Discord does.
        """
        sess = session or self.active_session()
        sess.seq += 1
        payload = {"op": OP_DISPATCH, "t": event, "s": sess.seq, "d": data}
        sess.buffer.append(payload)
        if sess.connected and sess.conn is not None:
            await sess.conn.send(payload)
            if event == "INTERACTION_CREATE":
                self.server._mark_delivered(int(data["id"]))
        return sess.seq

    def sessions_for(self, guild_id: int | None) -> list[GatewaySession]:
        """The open sessions that get ``guild_id``'s events (DMs: shard 0's), newest per shard."""
        newest: dict[tuple[int, int] | None, GatewaySession] = {}
        for session in self.sessions.values():
            if session.closed:
                continue
            if session.shard is None:
                newest[None] = session
                continue
            shard_id, count = int(session.shard[0]), int(session.shard[1])
            wanted = (guild_id >> 22) % count if guild_id is not None else 0
            if shard_id == wanted:
                newest[(shard_id, count)] = session
        return list(newest.values())

    async def dispatch_message(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        """MESSAGE_CREATE ``data`` to each session whose intents let it see the message.

        A guild message needs GUILD_MESSAGES, a DM DIRECT_MESSAGES; without MESSAGE_CONTENT
        the content is emptied as Discord does (:func:`message_as_seen`). Returns the
        payloads sent, one per session.
        """
        guild_id = int(data["guild_id"]) if "guild_id" in data else None
        needed = GUILD_MESSAGES if guild_id is not None else DIRECT_MESSAGES
        sent = []
        for session in self.sessions_for(guild_id):
            if not session.intents & needed:
                continue
            seen = message_as_seen(
                data, intents=session.intents, bot_user_id=self.server.bot_user_id
            )
            await self.dispatch("MESSAGE_CREATE", seen, session)
            sent.append(seen)
        return sent

    async def close_all(self, code: int = 1001) -> None:
        """Close every open socket (server shutdown)."""
        for conn in list(self.connections):
            if not conn.ws.closed:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(conn.ws.close(code=code), timeout=2)

    async def drop_connection(self, code: int = 4000) -> GatewaySession:
        """Close the active session's socket with ``code``; the session stays resumable."""
        sess = self.active_session()
        conn = sess.conn
        sess.conn = None
        if conn is not None and not conn.ws.closed:
            await conn.ws.close(code=code)
        return sess

    async def invalidate(self) -> None:
        """Send INVALID_SESSION (not resumable): the client must IDENTIFY again."""
        sess = self.active_session()
        sess.closed = True
        if sess.conn is not None:
            await sess.conn.send({"op": OP_INVALID_SESSION, "d": False, "s": None, "t": None})

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT; discord.py closes and RESUMEs."""
        sess = self.active_session()
        if sess.conn is not None:
            await sess.conn.send({"op": OP_RECONNECT, "d": None, "s": None, "t": None})

    def refuse(self, *, times: int = 1, status: int = 503) -> None:
        """Answer the next ``times`` connection attempts with HTTP ``status`` instead of
        upgrading to a websocket (``times=-1``: until :meth:`refuse` is called again)."""
        self._refusals_left = times
        self._refusal_status = status

    # -- websocket handler -------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """aiohttp handler for the gateway websocket."""
        if self._refusals_left:
            if self._refusals_left > 0:
                self._refusals_left -= 1
            self.refused_count += 1
            log.info("gateway: refused a connection with HTTP %s", self._refusal_status)
            self.server._notify()
            return web.Response(status=self._refusal_status, text="Injected gateway failure")
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        query = dict(request.query)
        self.connect_queries.append(query)
        conn = GatewayConnection(ws, query.get("compress"))
        self.connections.append(conn)
        log.debug("gateway connection opened with %s", query)
        session: GatewaySession | None = None
        await conn.send(
            {
                "op": OP_HELLO,
                "d": {"heartbeat_interval": self.server.heartbeat_interval_ms},
                "s": None,
                "t": None,
            }
        )
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    payload = json.loads(msg.data)
                elif msg.type is WSMsgType.BINARY:
                    payload = json.loads(msg.data.decode())
                else:
                    break
                session = await self._on_payload(conn, payload, session)
        except Exception:
            log.exception("gateway handler crashed")
        finally:
            if session is not None and session.conn is conn:
                session.conn = None
            log.debug("gateway connection closed (code=%s)", ws.close_code)
            self.server._notify()
        return ws

    async def _on_payload(
        self, conn: GatewayConnection, payload: dict[str, Any], session: GatewaySession | None
    ) -> GatewaySession | None:
        op = payload.get("op")
        data = payload.get("d")
        if op == OP_HEARTBEAT:
            conn.heartbeats += 1
            await conn.send({"op": OP_HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        elif op == OP_IDENTIFY:
            session = await self._identify(conn, data or {})
        elif op == OP_RESUME:
            session = await self._resume(conn, data or {})
        elif op == OP_REQUEST_MEMBERS:
            await self._request_members(session, data or {})
        elif op in (OP_PRESENCE, OP_VOICE_STATE):
            log.debug("gateway op %s ignored", op)
        else:
            log.warning("gateway: unknown op %s: %s", op, payload)
        return session

    def _check_token(self, token: str | None) -> bool:
        expected = self.server.token
        return expected is None or token == expected

    async def _identify(self, conn: GatewayConnection, data: dict[str, Any]) -> GatewaySession:
        if not self._check_token(data.get("token")):
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            raise RuntimeError("bad token in IDENTIFY")
        shard = data.get("shard")
        session = GatewaySession(
            session_id=uuid.uuid4().hex, intents=int(data.get("intents", 0)), shard=shard
        )
        if self.latest is not None and not self.latest.connected:
            self.latest.closed = True
        self.sessions[session.session_id] = session
        self.latest = session
        session.conn = conn
        self.identify_count += 1
        guilds = self._guilds_for(shard)
        ready: dict[str, Any] = {
            "v": 10,
            "user": self.server._bot_user_payload(),
            "user_settings": {},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.server.gateway_url,
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "auth_session_id_hash": "",
            "application": {"id": str(self.server.application_id), "flags": 1 << 23},
        }
        if shard is not None:
            ready["shard"] = shard
        await self.dispatch("READY", ready, session)
        for guild in guilds:
            await self.dispatch("GUILD_CREATE", guild.payload(), session)
        log.info(
            "gateway: IDENTIFY -> READY session %s (%d guilds)", session.session_id, len(guilds)
        )
        self.server._notify()
        return session

    def _guilds_for(self, shard: list[int] | None) -> list[Any]:
        guilds = list(self.server.guilds.values())
        if shard is None:
            return guilds
        shard_id, count = int(shard[0]), int(shard[1])
        return [g for g in guilds if (g.id >> 22) % count == shard_id]

    async def _resume(self, conn: GatewayConnection, data: dict[str, Any]) -> GatewaySession | None:
        session = self.sessions.get(str(data.get("session_id")))
        if session is None or session.closed or not self._check_token(data.get("token")):
            log.info("gateway: RESUME of unknown/closed session -> INVALID_SESSION")
            await conn.send({"op": OP_INVALID_SESSION, "d": False, "s": None, "t": None})
            return None
        old = session.conn
        if old is not None and old is not conn and not old.ws.closed:
            await old.ws.close(code=4000)
        session.conn = conn
        last_seq = int(data.get("seq") or 0)
        missed = [p for p in session.buffer if p["s"] > last_seq]
        for payload in missed:
            await conn.send(payload)
            if payload["t"] == "INTERACTION_CREATE":
                self.server._mark_delivered(int(payload["d"]["id"]))
        session.resumes += 1
        self.resume_count += 1
        self.latest = session
        await self.dispatch("RESUMED", {}, session)
        log.info("gateway: RESUMED session %s, replayed %d events", session.session_id, len(missed))
        self.server._notify()
        return session

    async def _request_members(self, session: GatewaySession | None, data: dict[str, Any]) -> None:
        if session is None:
            return
        guild = self.server.guilds.get(int(data["guild_id"]))
        if guild is None:
            return
        members = list(guild.members.values())
        user_ids = data.get("user_ids")
        if user_ids:
            wanted = {int(u) for u in user_ids}
            members = [m for m in members if m.id in wanted]
        query = data.get("query")
        if query:
            members = [m for m in members if m.user.name.lower().startswith(str(query).lower())]
        limit = int(data.get("limit") or 0)
        if limit:
            members = members[:limit]
        chunk: dict[str, Any] = {
            "guild_id": str(guild.id),
            "members": [m.payload() for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        await self.dispatch("GUILD_MEMBERS_CHUNK", chunk, session)
