"""REST plumbing of the fake: JSON responses, request bodies, routing, programmed faults.

The route *tables* live with their handlers in the ``routes_*`` modules; the assembled
``FakeDiscord`` concatenates them (see ``FakeDiscord._build_routes``) and
:meth:`RestMixin._rest` dispatches every request under ``/api/v10`` through them.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web

from .models import RequestRecord, RouteFault
from .state import API_PREFIX, FakeState

log = logging.getLogger(__name__)

APP = r"(?P<app>\d+)"
GUILD = r"(?P<guild>\d+)"
CHANNEL = r"(?P<channel>\d+)"
TOKEN = r"(?P<token>[^/]+)"
"""Regex fragments shared by the route tables."""


def json_response(data: Any, status: int = 200) -> web.Response:
    """A JSON response whose Content-Type is *exactly* ``application/json``.

    discord.py's ``json_or_text`` compares the header verbatim, so aiohttp's
    ``json_response``/``Response(text=...)`` (which append ``; charset=utf-8``) would make it
    treat the body as text.
    """
    return web.Response(
        body=json.dumps(data).encode(), status=status, content_type="application/json"
    )


def error_response(status: int, code: int, message: str) -> web.Response:
    """A Discord-style JSON error."""
    return json_response({"code": code, "message": message}, status=status)


class HTTPError(Exception):
    """Raised by handlers to answer with a Discord JSON error."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message


@dataclass
class Body:
    """A parsed request body: JSON (or ``payload_json``) plus uploaded files."""

    json: Any = None
    files: list[tuple[int, str, str | None, bytes]] = field(default_factory=list)
    """``(index, filename, content_type, data)`` for each ``files[n]`` part."""


Handler = Callable[[web.Request, "re.Match[str]", Body], Awaitable[web.StreamResponse]]
RouteSpec = tuple[str, str, Handler]
"""``(method, path regex relative to the API base, handler)``."""


def compile_routes(table: list[RouteSpec]) -> list[tuple[str, re.Pattern[str], Handler]]:
    """Compile a route table (each path also matches with a trailing slash)."""
    return [(m, re.compile(p + r"/?"), h) for m, p, h in table]


async def read_body(request: web.Request) -> Body:
    """Parse a request body: JSON, or multipart ``payload_json`` + ``files[n]``."""
    body = Body()
    if request.method in ("GET", "DELETE", "HEAD") or not request.can_read_body:
        return body
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, BodyPartReader):
                continue
            name = part.name or ""
            blob = await part.read(decode=False)
            if name == "payload_json":
                body.json = json.loads(blob.decode())
            elif m := re.fullmatch(r"files\[(\d+)\]", name):
                ctype = part.headers.get("Content-Type")
                body.files.append((int(m[1]), part.filename or f"file{m[1]}", ctype, bytes(blob)))
            else:
                log.warning("multipart: ignoring part %r", name)
        return body
    raw = await request.read()
    if raw:
        body.json = json.loads(raw.decode())
    return body


class RestMixin(FakeState):
    """REST dispatcher (auth, faults, request log) and the attachment file server."""

    _routes: list[tuple[str, re.Pattern[str], Handler]]

    # ------------------------------------------------------------------ faults

    def fail_route(
        self,
        method: str,
        path_glob: str,
        *,
        status: int = 500,
        times: int = 1,
        code: int = 0,
        message: str = "Injected failure",
        delay_s: float = 0.0,
    ) -> RouteFault:
        """Answer the next ``times`` requests matching ``method``/``path_glob`` with ``status``.

        ``path_glob`` is an fnmatch pattern relative to the API base, e.g.
        ``"/interactions/*/callback"`` or ``"/channels/*/messages"``; ``method`` may be
        ``"*"``; ``times=-1`` means forever. Note discord.py retries 500/502/504 after
        ``1 + 2*attempt`` seconds.
        """
        fault = RouteFault(
            method.upper(), path_glob, status, delay_s, times, {"code": code, "message": message}
        )
        self.faults.append(fault)
        return fault

    def slow_route(
        self, method: str, path_glob: str, delay_s: float, *, times: int = 1
    ) -> RouteFault:
        """Delay the next ``times`` matching requests by ``delay_s`` before handling them.

        The delay counts towards a callback's ``elapsed_s`` (it models a slow network).
        """
        fault = RouteFault(method.upper(), path_glob, None, delay_s, times)
        self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        """Remove all programmed faults."""
        self.faults.clear()

    def _take_fault(self, method: str, path: str) -> RouteFault | None:
        for fault in self.faults:
            if fault.times == 0:
                continue
            if fault.method not in ("*", method) or not fnmatch.fnmatchcase(path, fault.path_glob):
                continue
            fault.hits += 1
            if fault.times > 0:
                fault.times -= 1
            return fault
        return None

    # ------------------------------------------------------------------ dispatch

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith(API_PREFIX):
            path = path[len(API_PREFIX) :] or "/"
        method = request.method
        status = 500
        try:
            fault = self._take_fault(method, path)
            if fault is not None:
                if fault.delay_s:
                    await asyncio.sleep(fault.delay_s)
                if fault.status is not None:
                    body = fault.body or {"code": 0, "message": "Injected failure"}
                    log.info("fault: %s %s -> %s", method, path, fault.status)
                    status = fault.status
                    return json_response(body, status=fault.status)
            for rmethod, pattern, handler in self._routes:
                if rmethod != method:
                    continue
                match = pattern.fullmatch(path)
                if match is None:
                    continue
                if not self._authorized(request, path):
                    status = 401
                    return error_response(401, 0, "401: Unauthorized")
                try:
                    resp = await handler(request, match, await read_body(request))
                except HTTPError as exc:
                    status = exc.status
                    return error_response(exc.status, exc.code, exc.message)
                status = resp.status
                return resp
            log.warning("FakeDiscord: unhandled route %s %s", method, path)
            self.unhandled.append((method, path))
            status = 404
            return error_response(404, 0, f"404: Not Found (fake has no route {method} {path})")
        finally:
            self.requests.append(
                RequestRecord(method, path, dict(request.query), status, time.monotonic())
            )
            self._notify()

    def _authorized(self, request: web.Request, path: str) -> bool:
        if path.startswith(("/interactions/", "/webhooks/")) or self.token is None:
            return True
        return request.headers.get("Authorization") == f"Bot {self.token}"

    async def _serve_file(self, request: web.Request) -> web.StreamResponse:
        aid = int(request.match_info["attachment_id"])
        att = self.uploads.get(aid)
        if att is None:
            for stored in self._store.values():
                att = next((f for f in stored.files if f.id == aid), None)
                if att is not None:
                    break
        if att is None:
            return web.Response(status=404)
        return web.Response(
            body=att.data, content_type=att.content_type or "application/octet-stream"
        )
