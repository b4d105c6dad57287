"""Leaderboards: the service behind ``/leaderboard`` (Discord and console).

It reads each member's figures for the period from :mod:`bot.storage.leaderboard` and ranks
them with the rules of :mod:`bot.core.leaderboard`.
"""

from __future__ import annotations

from bot.core.clock import Clock
from bot.core.leaderboard import (
    LeaderRow,
    PageRequest,
    Period,
    leaderboard_reply,
    merge_rows,
    period_start,
    rank_rows,
)
from bot.core.learners import Learner
from bot.core.replies import Reply
from bot.errors import NotFound
from bot.storage import crud
from bot.storage import leaderboard as store
from bot.storage.db import Database
from bot.storage.privacy import find_user


class LeaderboardService:
    """Builds leaderboard replies from the attempt log.

    With ``include_serverless`` a server's board also counts the answers its platform's
    members gave outside any server (the console's, from before it had a local server).
    """

    def __init__(self, db: Database, *, clock: Clock, include_serverless: bool = False) -> None:
        self.db = db
        self.clock = clock
        self.include_serverless = include_serverless

    async def show(
        self,
        learner: Learner,
        period: Period | str | None = None,
        deck: str | None = None,
        page: int = 0,
    ) -> Reply:
        """The page ``page`` (0-based) of the leaderboard where ``learner`` is asking."""
        chosen = period if isinstance(period, Period) else Period.parse(period)
        deck = (deck or "").strip() or None
        now = self.clock.now()
        async with self.db.session() as session:
            if deck is not None:
                names = await crud.deck_names(session, guild_id=learner.guild_id)
                if deck not in names:
                    listing = ", ".join(names) or "none yet"
                    raise NotFound(f"There is no deck called '{deck[:60]}'. Decks: {listing}.")
            scopes: list[int | None] = [learner.guild_id]
            if self.include_serverless and learner.guild_id is not None:
                scopes.append(None)
            rows = [
                LeaderRow(*row)
                for scope in scopes
                for row in await store.leaderboard_rows(
                    session,
                    guild_id=scope,
                    platform=learner.platform,
                    since=period_start(chosen, now),
                    deck=deck,
                )
            ]
            viewer = await find_user(
                session, platform=learner.platform, external_id=learner.external_id
            )
        ranked = rank_rows(merge_rows(rows))
        return leaderboard_reply(
            ranked,
            PageRequest(chosen, page, deck),
            viewer_id=viewer.id if viewer is not None else None,
        )

    async def act(self, learner: Learner, token: str) -> Reply:
        """A Prev/Next click: the page its token names."""
        request = PageRequest.parse(token)
        return await self.show(learner, request.period, request.deck, request.page)
